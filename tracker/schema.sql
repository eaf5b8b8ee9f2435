-- The tracker's tables (SPEC section 7). Created with IF NOT EXISTS so that opening an
-- existing database never touches review_events, the one table a build must not rebuild.
-- Views and triggers live in analysis.sql and views.sql and are recreated whenever
-- their text changes (database.py).

CREATE TABLE IF NOT EXISTS source_types (
    code TEXT PRIMARY KEY,
    meaning TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL REFERENCES source_types(code),
    reliability TEXT NOT NULL CHECK (reliability IN ('A', 'B', 'C', 'D', 'E', 'F')),
    group_id TEXT,
    outlet_id TEXT REFERENCES sources(id),
    independence_group TEXT NOT NULL,
    url TEXT,
    notes TEXT,
    sensitivity TEXT NOT NULL CHECK (sensitivity IN ('public', 'protected')),
    aliases TEXT  -- JSON list of other names texts use for it (null in the public file for protected sources)
);

CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    publisher_id TEXT NOT NULL REFERENCES sources(id),
    authors TEXT NOT NULL,           -- JSON list
    published TEXT NOT NULL,         -- as written: YYYY, YYYY-MM or YYYY-MM-DD
    published_from TEXT NOT NULL,    -- its first possible day, for sorting
    url TEXT,
    text_file TEXT,
    sha256 TEXT,
    notes TEXT,
    seed_file TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS claims (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    kind TEXT,
    occurred TEXT,
    tags TEXT NOT NULL,              -- JSON list
    document_id TEXT NOT NULL REFERENCES documents(id),
    origin_id TEXT NOT NULL REFERENCES sources(id),
    origin_type TEXT NOT NULL REFERENCES source_types(code),
    first_seen TEXT,
    appearances INTEGER NOT NULL DEFAULT 0,
    evidence TEXT NOT NULL,          -- fingerprint of appearances and links (SPEC 6)
    status TEXT,
    support_groups INTEGER,
    opposition_groups INTEGER,
    support_appearances INTEGER,
    best_reliability TEXT,
    rules_credibility INTEGER,
    credibility INTEGER,
    credibility_by TEXT,
    admiralty TEXT,
    review_decision TEXT,             -- latest flag/accept/reject, or null
    review_state TEXT,               -- review_decision, with ' (stale)' when evidence moved on
    credibility_override INTEGER,
    queue_reason TEXT,               -- why it is in the review queue; null when it is not
    queue_rank INTEGER,              -- order of work in the queue: 1 flagged ... 5 other (analysis.sql claim_queue)
    queue_order TEXT                 -- the queue's sort key: rank, then newest first_seen, then id (analysis.py)
);

-- Keyed by (document, position in its claims list): the same seeds give the same keys,
-- whether a build starts afresh or updates only the files that changed.
CREATE TABLE IF NOT EXISTS appearances (
    document_id TEXT NOT NULL REFERENCES documents(id),
    position INTEGER NOT NULL,
    claim_id TEXT NOT NULL REFERENCES claims(id),
    source_id TEXT NOT NULL REFERENCES sources(id),
    via TEXT NOT NULL,               -- JSON list of source ids, origin side first
    quote TEXT,
    stance TEXT NOT NULL CHECK (stance IN ('asserts', 'denies')),
    quote_start INTEGER,
    quote_end INTEGER,
    verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
    PRIMARY KEY (document_id, position)
);

-- A link of the seeds, or one a reviewer made (a review event of action `link`, SPEC
-- section 6): both count the same. A reviewer's link has no file and no position; it
-- goes when an `unlink` follows, and a build makes the set again from review_events.
CREATE TABLE IF NOT EXISTS links (
    document_id TEXT REFERENCES documents(id),  -- the file that records it; null for a reviewer's link
    position INTEGER,                           -- index in its links list; null for a reviewer's link
    from_claim_id TEXT NOT NULL REFERENCES claims(id),
    to_claim_id TEXT NOT NULL REFERENCES claims(id),
    relation TEXT NOT NULL CHECK (relation IN ('corroborates', 'contradicts')),
    note TEXT,
    review_event_id TEXT,                       -- the `link` event that made it; null for a link of the seeds
    UNIQUE (document_id, position),
    CHECK ((document_id IS NULL) = (review_event_id IS NOT NULL) AND (document_id IS NULL) = (position IS NULL))
);

-- Append-only. No foreign key to claims: an event outlives a claim removed from seeds.
CREATE TABLE IF NOT EXISTS review_events (
    id TEXT PRIMARY KEY,
    claim_id TEXT NOT NULL,
    actor TEXT NOT NULL CHECK (length(trim(actor)) > 0),
    action TEXT NOT NULL CHECK (action IN ('flag', 'accept', 'reject', 'note', 'link', 'unlink', 'dismiss')),
    note TEXT,
    credibility INTEGER CHECK (credibility IS NULL OR credibility BETWEEN 1 AND 6),
    evidence TEXT,
    created_at TEXT NOT NULL
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z'),
    -- link, unlink, dismiss: the other claim of the pair; link: the relation it records
    other_claim_id TEXT CHECK (other_claim_id IS NOT claim_id),
    relation TEXT CHECK (relation IS NULL OR relation IN ('corroborates', 'contradicts')),
    CHECK ((action IN ('link', 'unlink', 'dismiss')) = (other_claim_id IS NOT NULL)),
    CHECK ((action = 'link') = (relation IS NOT NULL)),
    CHECK (other_claim_id IS NULL OR credibility IS NULL)  -- a pair decision rates neither claim
);

-- Pseudonyms for protected sources in the public database; kept across builds so a
-- pseudonym never changes once published.
CREATE TABLE IF NOT EXISTS source_pseudonyms (
    source_id TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL UNIQUE
);

-- Claims whose status, rating and review state are to be recomputed (analysis.sql).
CREATE TABLE IF NOT EXISTS analysis_queue (
    claim_id TEXT PRIMARY KEY
);

-- Per source: how many claims it is an origin of, by status (the view
-- source_track_record); recomputed for the sources of every claim the analysis
-- refreshes, and for those in source_queue.
CREATE TABLE IF NOT EXISTS source_records (
    source_id TEXT PRIMARY KEY,
    claims INTEGER NOT NULL,
    corroborated INTEGER NOT NULL,
    contested INTEGER NOT NULL,
    circular INTEGER NOT NULL,
    uncorroborated INTEGER NOT NULL,
    rejected INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS source_queue (
    source_id TEXT PRIMARY KEY
);

-- The circular claims carried by at least two documents, ranked by how many outlets
-- (publishers) repeat them (the canned query circular_reporting): counted when the
-- analysis refreshes a claim (analysis.CIRCULAR_REFRESH), so the page reads the first
-- 500 of an index instead of grouping the appearances of every circular claim
-- (at a million claims 560 ms, 13 times its cost at 10,000).
CREATE TABLE IF NOT EXISTS circular_claims (
    claim_id TEXT PRIMARY KEY,
    outlets INTEGER NOT NULL,        -- distinct publishers of the documents asserting it
    documents INTEGER NOT NULL,      -- distinct documents asserting it
    first_seen TEXT
);
CREATE INDEX IF NOT EXISTS circular_claims_rank ON circular_claims(outlets DESC, documents DESC, first_seen DESC, claim_id);

-- Row counts and facet counts of claims and of the review queue, kept by triggers
-- (analysis.sql), so that Datasette's unfiltered pages count without scanning
-- (plugin/__init__.py). facet '' holds the total.
CREATE TABLE IF NOT EXISTS facet_counts (
    name TEXT NOT NULL,
    facet TEXT NOT NULL,
    value NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (name, facet, value)
);

-- The seed files this database was built from, with their content keys, so that a
-- rebuild rewrites only the documents whose files changed.
CREATE TABLE IF NOT EXISTS seed_files (
    path TEXT PRIMARY KEY,
    content_key TEXT NOT NULL
);

-- Full-text search over claim texts and document titles, kept in step by triggers
-- (analysis.sql) that fire only when a text changes, not on every status update.
CREATE VIRTUAL TABLE IF NOT EXISTS claims_fts USING FTS5 (text, content=[claims]);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING FTS5 (title, content=[documents]);

-- Covering the analysis (claim_own_evidence, claim_evidence, the fingerprints) and
-- the track records (source_record_counts): each claim's or source's appearances are
-- read from the index alone, not looked up row by row in the table (at 100,000 claims
-- the statuses 3.3 -> 2.7 s and the track records 0.9 -> 0.5 s of a first build).
CREATE INDEX IF NOT EXISTS appearances_claim ON appearances(claim_id, stance, source_id, document_id);
CREATE INDEX IF NOT EXISTS appearances_source ON appearances(source_id, claim_id);
CREATE INDEX IF NOT EXISTS links_from ON links(from_claim_id, relation);
CREATE INDEX IF NOT EXISTS links_to ON links(to_claim_id, relation);
CREATE INDEX IF NOT EXISTS claims_status ON claims(status);
CREATE INDEX IF NOT EXISTS claims_kind ON claims(kind);
CREATE INDEX IF NOT EXISTS claims_origin_type ON claims(origin_type);
CREATE INDEX IF NOT EXISTS claims_origin ON claims(origin_id);
CREATE INDEX IF NOT EXISTS claims_credibility ON claims(credibility);
CREATE INDEX IF NOT EXISTS claims_document ON claims(document_id);
CREATE INDEX IF NOT EXISTS claims_first_seen ON claims(first_seen);
CREATE INDEX IF NOT EXISTS claims_review_decision ON claims(review_decision);
CREATE INDEX IF NOT EXISTS claims_queued ON claims(first_seen, id) WHERE queue_reason IS NOT NULL;
-- The review queue's default order (metadata.yml sorts review_queue by queue_order).
CREATE INDEX IF NOT EXISTS claims_queue_order ON claims(queue_order) WHERE queue_reason IS NOT NULL;
CREATE INDEX IF NOT EXISTS documents_publisher ON documents(publisher_id);
-- a rebuild finds the documents of its changed files by them (build.CHANGED_DOCUMENTS)
CREATE INDEX IF NOT EXISTS documents_seed_file ON documents(seed_file);
CREATE INDEX IF NOT EXISTS documents_published ON documents(published_from);
CREATE INDEX IF NOT EXISTS sources_type ON sources(type);
CREATE INDEX IF NOT EXISTS sources_outlet ON sources(outlet_id);
CREATE INDEX IF NOT EXISTS review_events_claim ON review_events(claim_id, created_at);
-- the events about pairs (link, unlink, dismiss), by either claim
CREATE INDEX IF NOT EXISTS review_events_pairs ON review_events(claim_id, other_claim_id)
    WHERE other_claim_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS review_events_other ON review_events(other_claim_id, created_at)
    WHERE other_claim_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS links_review_event ON links(review_event_id) WHERE review_event_id IS NOT NULL;

-- The warnings of the last build (quotes found more than once, protected quotes rendered
-- near-verbatim, orphaned review events): tracker build shows a summary, tracker check
-- --warnings lists them all. Rewritten by every build; never published.
CREATE TABLE IF NOT EXISTS warnings (
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER,
    entry TEXT,
    field TEXT,
    message TEXT NOT NULL,
    loc TEXT  -- where in the file (a JSON path), for its line when a rebuild shows it
);

-- Entries marked `draft: true` (proposed by `tracker draft`): checked like any other but
-- kept out of claims and appearances, so they count for nothing until confirmed. Keyed
-- like appearances; the `drafts` view lists them for the team; never published.
CREATE TABLE IF NOT EXISTS draft_entries (
    document_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    claim_id TEXT NOT NULL,          -- the drafted claim, or the existing claim a draft ref repeats
    is_ref INTEGER NOT NULL CHECK (is_ref IN (0, 1)),
    claim_text TEXT,
    source_id TEXT NOT NULL,
    via TEXT NOT NULL,
    quote TEXT,
    stance TEXT NOT NULL,
    quote_start INTEGER,
    quote_end INTEGER,
    verified INTEGER NOT NULL,
    PRIMARY KEY (document_id, position)
);

-- Ingest (issue 10): the documents' texts, for full-text search by the team. Written by
-- the build from the texts it reads to anchor quotes (--texts); never published
-- (publish.py NOT_PUBLISHED): they are the publishers' words. text_id is an INTEGER
-- PRIMARY KEY so that the search index's rowids survive a VACUUM.
CREATE TABLE IF NOT EXISTS document_texts (
    text_id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL UNIQUE REFERENCES documents(id),
    text TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS document_texts_fts USING FTS5 (text, content=[document_texts], content_rowid=[text_id]);
CREATE TRIGGER IF NOT EXISTS document_texts_fts_insert AFTER INSERT ON document_texts BEGIN
    INSERT INTO document_texts_fts (rowid, text) VALUES (new.text_id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS document_texts_fts_delete AFTER DELETE ON document_texts BEGIN
    INSERT INTO document_texts_fts (document_texts_fts, rowid, text) VALUES ('delete', old.text_id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS document_texts_fts_update AFTER UPDATE ON document_texts BEGIN
    INSERT INTO document_texts_fts (document_texts_fts, rowid, text) VALUES ('delete', old.text_id, old.text);
    INSERT INTO document_texts_fts (rowid, text) VALUES (new.text_id, new.text);
END;

-- Suggested links (tracker/links/suggest.py; SPEC section 7): a pair at most once, as
-- (smaller id, larger id). Made here, empty, so that a reviewer's link or dismissal can
-- drop its pair at once (analysis.py); filled by `tracker suggest-links`, recomputed by
-- builds after that. No REFERENCES: the claim page would then list them to anyone who
-- can see it; the build drops the suggestions of removed claims itself. Never published.
CREATE TABLE IF NOT EXISTS link_suggestions (
    claim_id TEXT NOT NULL,
    other_claim_id TEXT NOT NULL,
    relation TEXT NOT NULL CHECK (relation IN ('corroborates', 'contradicts')),
    score REAL NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (claim_id, other_claim_id),
    CHECK (claim_id < other_claim_id)
);
CREATE INDEX IF NOT EXISTS link_suggestions_other ON link_suggestions(other_claim_id);

-- What the last build wrote (issue 14): the digest of the seed tree it was built from
-- (every document file's content key, sources.yml and reviews.yml), the stamp of the
-- tree's listing (tracker/listing.py), how its files were named in the warnings, and the
-- counts it reported, so that a rebuild with nothing changed learns it from a few rows.
-- Rewritten by every build that writes; never published.
CREATE TABLE IF NOT EXISTS build_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
