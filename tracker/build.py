"""Check a seed tree and write it into the database (SPEC sections 3, 4 and 7).

1. The seed cache (``cache.py``) parses the files that changed since it last saw them;
   ``checks.py`` checks the whole tree in SQL. Any problem: SeedError, nothing written.
2. One write transaction, in this order: it replaces the rows of the documents whose
   files changed since this database was built (all of them on a first build, or when
   sources.yml changed), recomputes the evidence fingerprints of the claims they touch,
   adds the events of reviews.yml it lacks, runs one analysis pass (analysis.py) over
   every claim whose analysis can come out otherwise and their neighbours, and then
   counts the sources' track records. Readers see the old state until it commits.

``review_events`` is never rewritten: events already in the database are kept.
"""

import contextlib
import dataclasses
import gc
import hashlib
import json
import os
import pathlib
import sqlite3
import tempfile

from . import analysis, cache, checks, listing
from .database import (BUSY_TIMEOUT_MS, DERIVED_VERSION, REINDEX_AND_RECOUNT, TABLES_VERSION, open_connection,
                       suspended, write_transaction)
from .vocabulary import SOURCE_TYPE_MEANINGS
from .seeds import SeedError

SEED_TABLES = ("document_texts", "links", "appearances", "claims", "documents")


# Documents those files held before and hold now (a file may change its document id).
CHANGED_DOCUMENTS = """
INSERT OR IGNORE INTO temp.changed_documents (id)
SELECT id FROM documents WHERE seed_file IN (SELECT path FROM temp.changed_files)
UNION
SELECT id FROM cache.documents WHERE seed_file IN (SELECT path FROM temp.changed_files)
"""

# Claims whose evidence the changed documents touch, before and after the change.
TOUCHED_CLAIMS = """
INSERT OR IGNORE INTO temp.touched (claim_id)
SELECT claim_id FROM appearances WHERE document_id IN (SELECT id FROM temp.changed_documents)
UNION SELECT id FROM claims WHERE document_id IN (SELECT id FROM temp.changed_documents)
UNION SELECT from_claim_id FROM links WHERE document_id IN (SELECT id FROM temp.changed_documents)
UNION SELECT to_claim_id FROM links WHERE document_id IN (SELECT id FROM temp.changed_documents)
"""

# The sources' track records count each source's claims. Which claims a source stands
# behind moves only where the changed documents' (source, claim) pairs before and after
# differ: those sources are counted afresh, after the analysis. Every other source keeps
# its record through the deltas of the trigger claims_source_records: an incremental
# build keeps the row of every claim that is still in the tree (UPDATE_CLAIMS), so the
# trigger sees each status change, and a source with the same claims as before counts
# them the same. (A title edit of the other generator's tree, whose 120 sources each
# appear some 700 times, recounted the dozen sources of its document: 0.05 s of 0.3.)
SOURCE_CLAIMS_BEFORE = """
INSERT INTO temp.source_claims_before (source_id, claim_id)
SELECT DISTINCT source_id, claim_id FROM appearances
WHERE document_id IN (SELECT id FROM temp.changed_documents)
"""

SOURCES_OF_CHANGED = """
INSERT OR IGNORE INTO source_queue (source_id)
SELECT source_id FROM (
    SELECT source_id, claim_id FROM temp.source_claims_before
    EXCEPT
    SELECT source_id, claim_id FROM appearances WHERE document_id IN (SELECT id FROM temp.changed_documents)
)
UNION
SELECT source_id FROM (
    SELECT source_id, claim_id FROM appearances WHERE document_id IN (SELECT id FROM temp.changed_documents)
    EXCEPT
    SELECT source_id, claim_id FROM temp.source_claims_before
)
"""

# An incremental build keeps the claims rows of the changed documents that are still in
# the tree (their derived columns are recomputed: they are all touched) and updates
# their seed columns only where these changed; deleting and inserting them again would
# hide their old statuses from the track records' deltas (and cost a recount of every
# source they appear under: 1.1 of 2.7 s of a one-file rebuild at 100,000 claims).
STAGE_CLAIMS = """
INSERT INTO temp.new_claims (id, text, kind, occurred, tags, document_id, origin_id, origin_type)
SELECT c.id, c.text, c.kind, c.occurred, c.tags, c.document_id, c.origin_id, s.type
FROM cache.claims c JOIN cache.sources s ON s.id = c.origin_id
WHERE c.seed_file IN (SELECT path FROM temp.changed_files) AND NOT c.draft
"""

DELETE_GONE_CLAIMS = """
DELETE FROM claims WHERE document_id IN (SELECT id FROM temp.changed_documents)
AND id NOT IN (SELECT id FROM temp.new_claims)
"""

UPDATE_CLAIMS = """
UPDATE claims
SET text = n.text, kind = n.kind, occurred = n.occurred, tags = n.tags, document_id = n.document_id,
    origin_id = n.origin_id, origin_type = n.origin_type
FROM temp.new_claims n
-- (the IN makes the staged claims drive the update: a join alone scans every claim)
WHERE claims.id IN (SELECT id FROM temp.new_claims) AND n.id = claims.id
  AND (claims.text IS NOT n.text OR claims.kind IS NOT n.kind OR claims.occurred IS NOT n.occurred
       OR claims.tags IS NOT n.tags OR claims.document_id IS NOT n.document_id
       OR claims.origin_id IS NOT n.origin_id OR claims.origin_type IS NOT n.origin_type)
"""

INSERT_NEW_CLAIMS = """
INSERT INTO claims (id, text, kind, occurred, tags, document_id, origin_id, origin_type, evidence)
SELECT id, text, kind, occurred, tags, document_id, origin_id, origin_type, ''
FROM temp.new_claims WHERE id NOT IN (SELECT id FROM claims)
ORDER BY id
"""

DELETE_CHANGED = {
    "document_texts": "DELETE FROM document_texts WHERE document_id IN (SELECT id FROM temp.changed_documents)",
    "links": "DELETE FROM links WHERE document_id IN (SELECT id FROM temp.changed_documents)",
    "appearances": "DELETE FROM appearances WHERE document_id IN (SELECT id FROM temp.changed_documents)",
    "claims": "DELETE FROM claims WHERE document_id IN (SELECT id FROM temp.changed_documents)",
    "documents": "DELETE FROM documents WHERE id IN (SELECT id FROM temp.changed_documents)",
}

INSERT_CHANGED = {
    # ingest: the texts read to anchor quotes, for the team's full-text search
    "document_texts": """
        INSERT INTO document_texts (document_id, text)
        SELECT document_id, text FROM cache.document_texts
        WHERE seed_file IN (SELECT path FROM temp.changed_files)
        ORDER BY seed_file
    """,
    "documents": """
        INSERT INTO documents (id, title, publisher_id, authors, published, published_from, url, text_file,
                               sha256, notes, seed_file)
        SELECT id, title, publisher_id, authors, published, published_from, url, text_file, sha256, notes, seed_file
        FROM cache.documents WHERE seed_file IN (SELECT path FROM temp.changed_files)
        ORDER BY seed_file
    """,
    "claims": """
        INSERT INTO claims (id, text, kind, occurred, tags, document_id, origin_id, origin_type, evidence)
        SELECT c.id, c.text, c.kind, c.occurred, c.tags, c.document_id, c.origin_id, s.type, ''
        FROM cache.claims c JOIN cache.sources s ON s.id = c.origin_id
        WHERE c.seed_file IN (SELECT path FROM temp.changed_files) AND NOT c.draft
        ORDER BY c.id
    """,
    "appearances": """
        INSERT INTO appearances (document_id, position, claim_id, source_id, via, quote, stance, quote_start,
                                 quote_end, verified)
        SELECT document_id, position, claim_id, source_id, via, quote, stance, quote_start, quote_end, verified
        FROM cache.appearances WHERE seed_file IN (SELECT path FROM temp.changed_files) AND NOT draft
        ORDER BY seed_file, position
    """,
    "links": """
        INSERT INTO links (document_id, position, from_claim_id, to_claim_id, relation, note)
        SELECT document_id, position, from_claim_id, to_claim_id, relation, note
        FROM cache.links WHERE seed_file IN (SELECT path FROM temp.changed_files)
        ORDER BY seed_file, position
    """,
}

# Draft entries (`draft: true`, SPEC section 3) count for nothing: they never reach
# claims or appearances, so no status, queue or track record sees them; they are kept in
# draft_entries for the team's `drafts` view, and publish leaves that table empty.
DELETE_DRAFTS = "DELETE FROM draft_entries WHERE document_id IN (SELECT id FROM temp.changed_documents)"
INSERT_DRAFTS = """
INSERT INTO draft_entries (document_id, position, claim_id, is_ref, claim_text, source_id, via, quote, stance,
                           quote_start, quote_end, verified)
SELECT a.document_id, a.position, a.claim_id, a.is_ref,
       (SELECT c.text FROM cache.claims c WHERE c.id = a.claim_id ORDER BY c.draft LIMIT 1),
       a.source_id, a.via, a.quote, a.stance, a.quote_start, a.quote_end, a.verified
FROM cache.appearances a
WHERE a.seed_file IN (SELECT path FROM temp.changed_files) AND a.draft
ORDER BY a.seed_file, a.position
"""

REINDEX_DOCUMENT_TEXTS = "INSERT INTO document_texts_fts (document_texts_fts) VALUES ('rebuild')"

REPLACE_SOURCES = (
    "DELETE FROM sources",
    "DELETE FROM source_types",
    """
    INSERT INTO sources (id, name, type, reliability, group_id, outlet_id, independence_group, url, notes, sensitivity,
                         aliases)
    SELECT id, name, type, reliability, group_id, outlet_id, independence_group, url, notes, sensitivity, aliases
    FROM cache.sources ORDER BY position
    """,
)

# An incremental build analyses again only the claims whose analysis can come out
# otherwise: the touched claims whose evidence fingerprint, first day seen or count of
# appearances moved, and the claims linked to those (a linked claim's appearances are
# part of their support). A title edit, a note or a reworded claim text moves none of
# these, and recomputes nothing (a title edit once recomputed 661 claims of the other
# generator's tree, 14% of a cold build). The touched claims are put in analysis_queue
# for the comparison, so that first_seen comes from the same view the analysis uses.
EVIDENCE_BEFORE = """
INSERT INTO temp.evidence_before (claim_id, evidence)
SELECT id, evidence FROM claims WHERE id IN (SELECT claim_id FROM temp.touched)
"""

# What ranks circular reporting can move without a claim's evidence moving (a changed
# document can have another publisher), or go with the claim: the touched claims that
# left the tree leave the ranking, and those the analysis did not refresh (not
# affected) are counted again; the refreshed ones were, by REFRESH_CLAIMS.
CIRCULAR_OF_GONE = """
DELETE FROM circular_claims
WHERE claim_id IN (SELECT claim_id FROM temp.touched) AND claim_id NOT IN (SELECT id FROM claims)
"""
QUEUE_TOUCHED_UNREFRESHED = """
INSERT OR IGNORE INTO analysis_queue (claim_id)
SELECT id FROM claims
WHERE id IN (SELECT claim_id FROM temp.touched) AND id NOT IN (SELECT claim_id FROM temp.affected)
"""

QUEUE_TOUCHED = "INSERT OR IGNORE INTO analysis_queue (claim_id) SELECT id FROM claims WHERE id IN (SELECT claim_id FROM temp.touched)"

CHANGED_CLAIMS = """
INSERT OR IGNORE INTO temp.affected (claim_id)
SELECT c.id
FROM claim_appearance_summary s
JOIN claims c ON c.id = s.claim_id
JOIN temp.evidence_before b ON b.claim_id = c.id
WHERE b.evidence IS NOT c.evidence OR s.first_seen IS NOT c.first_seen OR s.appearances IS NOT c.appearances
"""

LINKED_TO_CHANGED = """
INSERT OR IGNORE INTO temp.affected (claim_id)
SELECT l.to_claim_id FROM temp.affected t CROSS JOIN links l ON l.from_claim_id = t.claim_id
UNION SELECT l.from_claim_id FROM temp.affected t CROSS JOIN links l ON l.to_claim_id = t.claim_id
"""

# The evidence fingerprint (SPEC section 6): the claim's appearances (document, origin,
# stance) and the links of the seeds touching it (other claim, relation). The function
# sorts the lines itself, so the order group_concat meets them in does not matter.
# Reviewers' links follow in plain SQL (REVIEWER_EVIDENCE, analysis.WITH_REVIEWER_LINKS).
FINGERPRINTS = """
UPDATE claims SET evidence = f.fingerprint
FROM (
    SELECT claim_id, evidence_fingerprint(group_concat(line, char(10))) AS fingerprint
    FROM (
        SELECT t.claim_id, 'appearance' || char(9) || a.document_id || char(9) || a.source_id || char(9) || a.stance AS line
        FROM temp.touched t CROSS JOIN appearances a ON a.claim_id = t.claim_id
        UNION ALL
        SELECT t.claim_id, 'link' || char(9) || l.to_claim_id || char(9) || l.relation
        FROM temp.touched t CROSS JOIN links l ON l.from_claim_id = t.claim_id AND l.review_event_id IS NULL
        UNION ALL
        SELECT t.claim_id, 'link' || char(9) || l.from_claim_id || char(9) || l.relation
        FROM temp.touched t CROSS JOIN links l ON l.to_claim_id = t.claim_id AND l.review_event_id IS NULL
    )
    GROUP BY claim_id
) f
WHERE f.claim_id = claims.id
"""

# ...then the reviewers' links of the touched claims that have some: found from the
# reviewers' links (their partial index), not by probing the links of every touched
# claim (two million probes, 0.9 s, in a first build of a million claims).
REVIEWER_EVIDENCE = f"""
UPDATE claims SET evidence = {analysis.WITH_REVIEWER_LINKS.strip()}
WHERE id IN (SELECT from_claim_id FROM links WHERE review_event_id IS NOT NULL
             UNION SELECT to_claim_id FROM links WHERE review_event_id IS NOT NULL)
  AND id IN (SELECT claim_id FROM temp.touched)
"""

# Reviewers' links (SPEC section 6) are made again from the review events, new ones of
# reviews.yml included, whenever the seed rows change: for each pair, its latest `link`
# or `unlink` (by created_at, then order of writing) decides, and a link is made when it
# is a `link`, both claims are in the seeds and the seeds do not link them themselves.
# That keeps a reviewer's link through any rebuild, brings it back with its claim, and
# gives way to a link an analyst then records in a seed file.
REVIEWER_LINKS_WANTED = """
INSERT INTO temp.reviewer_links (review_event_id, from_claim_id, to_claim_id, relation, note)
SELECT e.id, e.claim_id, e.other_claim_id, e.relation, e.note
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY min(claim_id, other_claim_id), max(claim_id, other_claim_id)
        ORDER BY created_at DESC, batch DESC, written DESC) AS latest
    FROM (
        SELECT id, claim_id, other_claim_id, action, relation, note, created_at, 0 AS batch, rowid AS written
        FROM review_events WHERE other_claim_id IS NOT NULL AND action IN ('link', 'unlink')
        UNION ALL
        SELECT id, claim_id, other_claim_id, action, relation, note, created_at, 1, position
        FROM temp.staged_reviews WHERE other_claim_id IS NOT NULL AND action IN ('link', 'unlink')
    )
) e
WHERE e.latest = 1 AND e.action = 'link'
  AND e.claim_id IN (SELECT id FROM claims) AND e.other_claim_id IN (SELECT id FROM claims)
  AND NOT EXISTS (SELECT 1 FROM claim_links l
                  WHERE l.claim_id = e.claim_id AND l.other_claim_id = e.other_claim_id AND l.review_event_id IS NULL)
ORDER BY e.created_at, e.batch, e.written
"""

REVIEWER_LINKS_SYNC = (
    # both ends of every reviewer's link that goes or comes: their evidence changes
    """
    INSERT OR IGNORE INTO temp.touched (claim_id)
    SELECT from_claim_id FROM links
    WHERE review_event_id IS NOT NULL AND review_event_id NOT IN (SELECT review_event_id FROM temp.reviewer_links)
    UNION SELECT to_claim_id FROM links
    WHERE review_event_id IS NOT NULL AND review_event_id NOT IN (SELECT review_event_id FROM temp.reviewer_links)
    UNION SELECT from_claim_id FROM temp.reviewer_links
    WHERE review_event_id NOT IN (SELECT review_event_id FROM links WHERE review_event_id IS NOT NULL)
    UNION SELECT to_claim_id FROM temp.reviewer_links
    WHERE review_event_id NOT IN (SELECT review_event_id FROM links WHERE review_event_id IS NOT NULL)
    """,
    """
    DELETE FROM links
    WHERE review_event_id IS NOT NULL AND review_event_id NOT IN (SELECT review_event_id FROM temp.reviewer_links)
    """,
    """
    INSERT INTO links (from_claim_id, to_claim_id, relation, note, review_event_id)
    SELECT from_claim_id, to_claim_id, relation, note, review_event_id FROM temp.reviewer_links
    WHERE review_event_id NOT IN (SELECT review_event_id FROM links WHERE review_event_id IS NOT NULL)
    ORDER BY position
    """,
)

# The same fingerprints for every claim (a rewrite of everything), in one grouped pass
# over appearances and links instead of three index probes per claim (about 40% less).
FINGERPRINTS_ALL = """
UPDATE claims SET evidence = f.fingerprint
FROM (
    SELECT claim_id, evidence_fingerprint(group_concat(line, char(10))) AS fingerprint
    FROM (
        SELECT claim_id, 'appearance' || char(9) || document_id || char(9) || source_id || char(9) || stance AS line
        FROM appearances
        UNION ALL
        SELECT from_claim_id, 'link' || char(9) || to_claim_id || char(9) || relation FROM links
        WHERE review_event_id IS NULL
        UNION ALL
        SELECT to_claim_id, 'link' || char(9) || from_claim_id || char(9) || relation FROM links
        WHERE review_event_id IS NULL
    )
    GROUP BY claim_id
) f
WHERE f.claim_id = claims.id
"""

# The events of reviews.yml go through a temporary table, so that the build knows which
# are new (their claims, and the claims linked to them, are analysed with the rest) and
# writes them in file order, which is their order of writing.
STAGE_REVIEW = """
INSERT INTO temp.staged_reviews (id, claim_id, actor, action, note, credibility, evidence, created_at,
                                 other_claim_id, relation)
VALUES (:id, :claim, :actor, :action, :note, :credibility, :evidence, :at, :other, :relation)
"""

NEW_REVIEWS = "DELETE FROM temp.staged_reviews WHERE id IN (SELECT id FROM review_events)"

REVIEWED_CLAIMS = """
INSERT OR IGNORE INTO temp.affected (claim_id)
SELECT r.claim_id FROM temp.staged_reviews r WHERE r.claim_id IN (SELECT id FROM claims)
UNION SELECT l.to_claim_id FROM temp.staged_reviews r CROSS JOIN links l ON l.from_claim_id = r.claim_id
UNION SELECT l.from_claim_id FROM temp.staged_reviews r CROSS JOIN links l ON l.to_claim_id = r.claim_id
UNION SELECT r.other_claim_id FROM temp.staged_reviews r WHERE r.other_claim_id IN (SELECT id FROM claims)
"""

# A hand-written entry without a fingerprint gets the claim's current one; an entry
# whose claim is gone from the seeds is kept all the same (orphaned, SPEC section 3).
INSERT_REVIEWS = """
INSERT OR IGNORE INTO review_events (id, claim_id, actor, action, note, credibility, evidence, created_at,
                                     other_claim_id, relation)
SELECT r.id, r.claim_id, r.actor, r.action, r.note, r.credibility,
       coalesce(r.evidence, (SELECT evidence FROM claims WHERE id = r.claim_id)), r.created_at,
       r.other_claim_id, r.relation
FROM temp.staged_reviews r
ORDER BY r.position
"""

# While the build writes the events of reviews.yml it works out their consequences
# itself (one analysis pass for everything; the reviewers' links made above): the
# trigger that would apply each event as it is inserted, and those that refuse events
# of unknown claims or pairs that no longer fit, stand aside: history is kept as it was.
REVIEW_TRIGGERS_BUILD_HANDLES = ("review_events_apply", "review_events_known_claim", "review_events_pair")

TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS current_files (path TEXT PRIMARY KEY, content_key TEXT NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS changed_files (path TEXT PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS changed_documents (id TEXT PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS touched (claim_id TEXT PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS affected (claim_id TEXT PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS evidence_before (claim_id TEXT PRIMARY KEY, evidence TEXT);
CREATE TEMP TABLE IF NOT EXISTS source_claims_before (source_id TEXT, claim_id TEXT, PRIMARY KEY (source_id, claim_id));
CREATE TEMP TABLE IF NOT EXISTS new_claims (
    id TEXT PRIMARY KEY, text TEXT, kind TEXT, occurred TEXT, tags TEXT, document_id TEXT, origin_id TEXT,
    origin_type TEXT
);
CREATE TEMP TABLE IF NOT EXISTS staged_reviews (
    position INTEGER PRIMARY KEY, id TEXT, claim_id TEXT, actor TEXT, action TEXT, note TEXT,
    credibility INTEGER, evidence TEXT, created_at TEXT, other_claim_id TEXT, relation TEXT
);
CREATE TEMP TABLE IF NOT EXISTS reviewer_links (
    position INTEGER PRIMARY KEY, review_event_id TEXT UNIQUE, from_claim_id TEXT, to_claim_id TEXT, relation TEXT,
    note TEXT
);
"""


@dataclasses.dataclass
class BuildReport:
    sources: int
    documents: int
    claims: int
    appearances: int
    links: int
    reviews_added: int
    files_parsed: int
    documents_rewritten: int
    claims_refreshed: int
    warnings: list


def evidence_fingerprint(lines: str) -> str:
    """The sha256 of the claim's evidence lines (newline-separated), sorted, shortened."""
    return hashlib.sha256("\n".join(sorted(lines.split("\n"))).encode()).hexdigest()[:analysis.FINGERPRINT_LENGTH]


def cache_path_for(db_path) -> pathlib.Path:
    return pathlib.Path(str(db_path) + ".cache")


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector stands aside while a check or build runs. A cold build
    makes millions of short-lived objects (YAML nodes, models, rows) beside hundreds of
    thousands that stay (the rows of a batch, every file's key), so the collector keeps
    walking the ones that stay: 0.1-0.45 s of CPU, 0.1-0.3 s of wall time, of a 4.8 s cold
    build of 50,000 claims of bench/generate_other.py. The seed data hold no reference cycles;
    what cycles a build makes (an exception's traceback) are collected when it ends. The
    parse workers and the exposure check's process are forked while it is paused, and
    stay so until they end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check(seeds_dir, texts_dir=None, cache_path=None, progress=lambda *args: None,
          defer_exposures=False, defer_queries=False, parser=None, listed=None) -> cache.CacheUpdate:
    """Check a seed tree; raise SeedError listing every problem. Writes only the cache.

    ``defer_exposures``: the exposure warnings are computed beside what follows
    (``update.pending_exposures``), for the build to collect before it commits;
    ``defer_queries``: so are the SQL checks of the whole tree (``update.
    pending_problems``), for a first build to collect before its database is put in
    place (``write_new``); ``parser``: a parser_process.ParserProcess for the changed files;
    ``listed``: listing.document_files of the tree, when the caller has it already."""
    with collector_paused():
        return _check(seeds_dir, texts_dir, cache_path, progress, defer_exposures, defer_queries, parser, listed)


def _check(seeds_dir, texts_dir, cache_path, progress, defer_exposures, defer_queries=False,
           parser=None, listed=None) -> cache.CacheUpdate:
    if cache_path is None:
        with tempfile.TemporaryDirectory() as folder:
            return check(seeds_dir, texts_dir, pathlib.Path(folder) / "seeds.cache", progress, parser=parser)
    seeds_dir = pathlib.Path(seeds_dir)
    update = cache.update(seeds_dir, cache_path, texts_dir, progress, parser, listed)
    problems = list(update.problems)
    if (seeds_dir / cache.SOURCES_FILE).exists():
        progress("checking what changed against the whole tree")
        conn = cache.open_cache(cache_path)
        try:
            sources_key = cache.sha256_of(seeds_dir / cache.SOURCES_FILE)
            found, warnings = checks.whole_tree(conn, seeds_dir, update, sources_key, defer_exposures,
                                                defer_queries=defer_queries and not problems)
        finally:
            conn.close()
        problems += found
        update.warnings += warnings
    if problems:
        raise SeedError(problems)
    return update


def build(seeds_dir, db_path, texts_dir=None, progress=lambda *args: None, warning_lines=0,
          parser=None) -> BuildReport:
    """Check ``seeds_dir``; if it is sound, bring the database up to date with it.

    Raises SeedError (and writes nothing to the database) on bad input. The first
    ``warning_lines`` warnings of the report come with their lines (those shown);
    ``parser``: a parser_process.ParserProcess for the changed files.

    A tree listed exactly as when the database was last built from it (``listing``)
    is reported unchanged at once: nothing else is read but the database's counts and
    warnings.
    """
    cache_path = cache_path_for(db_path)
    db_path, seeds_dir = pathlib.Path(db_path), pathlib.Path(seeds_dir)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with cache.locked(cache_path), collector_paused():
        # (each read once, for the listing's stamp and then the tree's digest; a missing
        # sources.yml is the check's problem to report)
        sources_path, reviews_path = seeds_dir / cache.SOURCES_FILE, seeds_dir / cache.REVIEWS_FILE
        sources_key = cache.sha256_of(sources_path) if sources_path.is_file() else None
        reviews_key = cache.sha256_of(reviews_path) if reviews_path.is_file() else ""
        listed = listing.document_files(seeds_dir)
        stamp = listing_stamp(seeds_dir, listed, texts_dir, sources_key, reviews_key)
        report = unchanged(db_path, cache_path, seeds_dir, stamp, warning_lines)
        if report is not None:
            progress("nothing changed")
            return report
        first = not db_path.exists()
        update = check(seeds_dir, texts_dir, cache_path, progress, defer_exposures=True, defer_queries=first,
                       parser=parser, listed=listed)
        del listed  # (a stat result a file, 160,000 at a million claims: not kept through the write)
        report = write(update, db_path, cache_path, sources_key, progress, reviews_key, stamp)
        conn = cache.open_cache(cache_path)
        try:
            if update.pending_exposures is not None:
                # the database has them: keep them in the cache, and the tree is checked
                update.pending_exposures.finish(conn)
            report.warnings = checks.with_lines(conn, report.warnings, seeds_dir, warning_lines)
        finally:
            conn.close()
        return report


def listing_stamp(seeds_dir, listed, texts_dir, sources_key, reviews_key):
    """The stamp of the tree as listed (listing.stamp), or None where a listing cannot say
    that nothing changed: with --texts (the texts are outside the tree, found through the
    cache), or entries the build must report (a bad link, a name in capitals)."""
    files, problems = listed
    if texts_dir is not None or problems:
        return None
    return listing.stamp(seeds_dir, files, cache.CACHE_VERSION, sources_key, reviews_key)


KEPT_WARNINGS = "SELECT kind, file, line, entry, field, message, loc FROM warnings ORDER BY rowid"


def unchanged(db_path, cache_path, seeds_dir, stamp, warning_lines):
    """The report of a rebuild with nothing changed, when the database was last built from
    a tree with this very ``stamp``: its counts and warnings as that build kept them (the
    files shown under ``seeds_dir`` as named now), the first ``warning_lines`` with their
    lines. None otherwise: the whole path then finds out what changed."""
    if stamp is None or not db_path.is_file():
        return None
    conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        # (tables or views made by another version since: the whole path upgrades them)
        made_by = [conn.execute(f"PRAGMA {version}").fetchone()[0] for version in ("application_id", "user_version")]
        if made_by != [TABLES_VERSION, DERIVED_VERSION]:
            return None
        state = dict(conn.execute("SELECT key, value FROM build_state"))
        if state.get("listing") != stamp or "counts" not in state or "warnings_under" not in state:
            return None
        rows = conn.execute(KEPT_WARNINGS).fetchall()
    except sqlite3.OperationalError:  # no such table: a database of another version
        return None
    finally:
        conn.close()
    before, under = state["warnings_under"], cache.shown_under(seeds_dir)
    warnings = [cache.BuildWarning(under + file[len(before):] if file.startswith(before) else file, message, line,
                                   entry, field, kind, None if loc is None else tuple(json.loads(loc)))
                for kind, file, line, entry, field, message, loc in rows]
    if warning_lines and warnings:
        conn = cache.open_cache(cache_path)
        try:
            warnings = checks.with_lines(conn, warnings, seeds_dir, warning_lines)
        finally:
            conn.close()
    return BuildReport(**json.loads(state["counts"]), reviews_added=0, files_parsed=0, documents_rewritten=0,
                       claims_refreshed=0, warnings=warnings)


COUNTED_TABLES = ("sources", "documents", "claims", "appearances", "links")


def tree_digest(files, sources_key, reviews_key) -> str:
    """What a build is made from, in one key: every document file's content key (its YAML
    and, with --texts, its text), sources.yml and reviews.yml."""
    digest = hashlib.sha256(f"{sources_key}\n{reviews_key}\n".encode())
    for path in sorted(files):
        digest.update(f"{path}\t{files[path]}\n".encode())
    return digest.hexdigest()


def write(update, db_path, cache_path, sources_key, progress=lambda *args: None, reviews_key=None,
          stamp=None) -> BuildReport:
    """Bring the database up to date, in this order, in one transaction: the seed rows of
    the changed documents, their evidence fingerprints, the new events of reviews.yml,
    one analysis pass over every claim they touch, then the sources' track records.

    With ``reviews_key`` (the sha256 of reviews.yml, '' without one): when the database
    was last built from this very tree, nothing is written but the tree's listing
    ``stamp`` (listing.stamp), kept for the next rebuild."""
    db_path = pathlib.Path(db_path)
    if not db_path.exists():
        return write_new(update, db_path, cache_path, sources_key, progress, reviews_key, stamp)
    conn = open_connection(db_path, for_build=True)
    try:
        digest = None if reviews_key is None else tree_digest(update.files, sources_key, reviews_key)
        state = dict(conn.execute("SELECT key, value FROM build_state"))
        if digest is not None and state.get("tree") == digest:
            progress("nothing changed")
            if update.pending_exposures is not None:
                update.warnings += update.pending_exposures.warnings()
            if stamp is not None and state.get("listing") != stamp:  # touched, copied or checked out again
                with write_transaction(conn):
                    conn.execute("INSERT OR REPLACE INTO build_state (key, value) VALUES ('listing', ?)", [stamp])
            return BuildReport(**json.loads(state["counts"]), reviews_added=0, files_parsed=update.parsed,
                               documents_rewritten=0, claims_refreshed=0, warnings=update.warnings)
        return write_changes(conn, update, cache_path, sources_key, progress, digest, stamp)
    finally:
        conn.close()


def write_new(update, db_path, cache_path, sources_key, progress, reviews_key, stamp=None) -> BuildReport:
    """A first build: written into a new file beside the database without a journal
    (nobody reads it yet, and a failure just deletes it), then renamed into place, in
    WAL mode like every database of the tracker. The journal would write every page
    twice (about 1 s of a 100,000-claim build)."""
    building = db_path.with_name(f".{db_path.name}.building-{os.getpid()}")
    for stale in (building, *(db_path.with_name(db_path.name + end) for end in ("-wal", "-shm", "-journal"))):
        stale.unlink(missing_ok=True)  # a log left without its database must not meet the new one
    for left in db_path.parent.glob(f".{db_path.name}.building-*"):
        if not process_alive(left.name.rsplit("-", 1)[-1]):
            left.unlink(missing_ok=True)  # a build killed outright (no except clause ran) left it
    conn = open_connection(building, for_build=True)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        digest = None if reviews_key is None else tree_digest(update.files, sources_key, reviews_key)
        report = write_changes(conn, update, cache_path, sources_key, progress, digest, stamp)
        problems = pending_problems(update, progress)
        if problems:
            raise SeedError(problems)
        conn.execute("DETACH DATABASE cache")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
        os.replace(building, db_path)
        return report
    except BaseException as error:
        conn.close()
        building.unlink(missing_ok=True)
        # rows of a tree the checks refuse may break the write itself: the problems say why
        if not isinstance(error, SeedError):
            problems = pending_problems(update, progress)
            if problems:
                raise SeedError(problems) from None
        raise


def pending_problems(update, progress, wait=True) -> list:
    """The problems of the SQL checks run beside a first build (once; [] after). Without
    ``wait``, only if they are in already: the write asks between its steps, so that a
    tree they refuse stops the build early instead of after a whole write."""
    pending = update.pending_problems
    if pending is None or not (wait or pending.ready()):
        return []
    if wait:
        progress("waiting for the checks of the whole tree")
    update.pending_problems = None
    return pending.result()


def stop_if_refused(update, progress):
    refused = pending_problems(update, progress, wait=False)
    if refused:
        raise SeedError(refused)


def process_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ValueError:
        return True  # not one of ours: leave it
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A build reads and writes the whole database: SQLite's default page cache of 2 MB
# turned that into system calls, a sixth of a cold build's CPU time. At most this much
# memory, as needed. (Sorts stay in temporary files: in memory, a 1M-claim build's grew
# past 2 GB.)
BUILD_PRAGMAS = ("PRAGMA main.cache_size = -262144", "PRAGMA cache.cache_size = -131072")


def write_changes(conn, update, cache_path, sources_key, progress, digest, stamp=None) -> BuildReport:
    conn.create_function("evidence_fingerprint", 1, evidence_fingerprint, deterministic=True)
    conn.execute("ATTACH DATABASE ? AS cache", [str(cache_path)])
    for pragma in BUILD_PRAGMAS:
        conn.execute(pragma)
    conn.executescript(TEMP_TABLES)
    with write_transaction(conn):
        progress("finding what changed")
        for table in ("current_files", "changed_files", "changed_documents", "touched", "affected",
                      "evidence_before", "source_claims_before", "new_claims", "staged_reviews", "reviewer_links"):
            conn.execute(f"DELETE FROM temp.{table}")
        everything, changed, current = changed_files(conn, update.files, sources_key)
        conn.executemany("INSERT INTO temp.current_files VALUES (?, ?)",
                         [(path, current[path]) for path in changed if path in current])
        conn.executemany("INSERT INTO temp.changed_files VALUES (?)", [(path,) for path in changed])
        conn.execute(CHANGED_DOCUMENTS)
        if not everything:
            conn.execute(TOUCHED_CLAIMS)

        # A rewrite of everything drops the seed tables' indexes and the triggers that
        # keep search and counts in step, and makes each again in one pass.
        bulk = SEED_TABLES if everything else ()
        # The claims' own indexes (status, credibility, queue order ...) wait until the
        # analysis has written those columns: every claim row is updated twice after
        # its insert, and an index made once costs less than two updates of it (at
        # 100,000 claims about 0.8 s against 0.4 s). The analysis uses only their primary
        # key, and the indexes of appearances and links, made again before it.
        claims_later = tuple(table for table in bulk if table == "claims")
        with suspended(conn, "trigger", bulk), suspended(conn, "index", claims_later):
            progress("writing rows")
            with suspended(conn, "index", tuple(table for table in bulk if table != "claims")):
                appearances_added = write_rows(conn, everything)
            stop_if_refused(update, progress)
            new_reviews = stage_reviews(conn, update.reviews)
            progress("making the reviewers' links")
            write_reviewer_links(conn)
            progress("fingerprinting evidence")
            if everything:
                # every claim is touched and analysed: no need to work out which
                conn.execute("INSERT OR IGNORE INTO temp.touched (claim_id) SELECT id FROM claims")
                conn.execute("INSERT OR IGNORE INTO temp.affected (claim_id) SELECT id FROM claims")
                conn.execute(FINGERPRINTS_ALL)
                conn.execute(REVIEWER_EVIDENCE)
            else:
                conn.execute(EVIDENCE_BEFORE)
                conn.execute(FINGERPRINTS)
                conn.execute(REVIEWER_EVIDENCE)
                conn.execute(QUEUE_TOUCHED)
                conn.execute(CHANGED_CLAIMS)
                conn.execute(analysis.EMPTY_ANALYSIS_QUEUE)
                conn.execute(LINKED_TO_CHANGED)

            progress("adding reviews from reviews.yml")
            reviews_added = write_reviews(conn) if new_reviews else 0

            progress("computing statuses and ratings")
            if everything:
                conn.execute("DELETE FROM circular_claims")
            conn.execute("INSERT OR IGNORE INTO analysis_queue (claim_id) SELECT claim_id FROM temp.affected")
            refreshed = analysis.refresh_claims(conn)
            if not everything:
                for statement in (CIRCULAR_OF_GONE, QUEUE_TOUCHED_UNREFRESHED, *analysis.CIRCULAR_REFRESH,
                                  analysis.EMPTY_ANALYSIS_QUEUE):
                    conn.execute(statement)
            stop_if_refused(update, progress)

            # Suggested links (tracker/links): recomputed for the claims this build
            # touched, once `tracker suggest-links` has been run on the database.
            progress("suggesting links")
            from .links.suggest import refresh_after_build
            refresh_after_build(conn)

            progress("counting the sources' track records")
            analysis.recount_sources(conn, every_source=everything)
        if everything:
            progress("indexing text and counting")
            for statement in REINDEX_AND_RECOUNT:
                conn.execute(statement)
            # ingest: the texts' search index (not in REINDEX_AND_RECOUNT: publish,
            # which also runs those, has no texts)
            conn.execute(REINDEX_DOCUMENT_TEXTS)

        # No PRAGMA foreign_key_check here: the whole-tree checks already refuse every
        # name that does not exist, and a full check costs a scan of every table (18 s
        # at a million claims). The tests run it after every kind of build.
        rewritten = conn.execute("SELECT count(*) FROM temp.changed_documents").fetchone()[0]
        if update.pending_exposures is not None:
            progress("waiting for the exposure check")
            update.warnings += update.pending_exposures.warnings()
        progress("keeping the warnings")
        write_warnings(conn, update.warnings)
        counts = table_counts(conn, everything, appearances_added)
        conn.execute("DELETE FROM build_state")
        if digest is not None:
            # (the stamp of the listing this tree was read from, and how its files were
            # named then, for the warnings kept above: see unchanged)
            kept = {"tree": digest, "counts": json.dumps(counts), "warnings_under": update.under,
                    **({"listing": stamp} if stamp is not None else {})}
            conn.executemany("INSERT INTO build_state (key, value) VALUES (?, ?)", kept.items())
    return BuildReport(
        **counts,
        reviews_added=reviews_added,
        files_parsed=update.parsed,
        documents_rewritten=rewritten,
        claims_refreshed=refreshed,
        warnings=update.warnings,
    )


def table_counts(conn, everything, appearances_added):
    """The rows of COUNTED_TABLES, for the report and the next no-change rebuild. Only a
    build writes appearances: a rebuild counts them as the last build did plus what it
    added (counting them is a scan of the largest seed table: 5-8 ms of a one-file
    rebuild at 100,000 claims); the other tables are counted."""
    counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
              for table in COUNTED_TABLES if table != "appearances"}
    stored = conn.execute("SELECT value FROM build_state WHERE key = 'counts'").fetchone()
    before = json.loads(stored[0]).get("appearances") if stored else None
    if everything or before is None:
        counts["appearances"] = conn.execute("SELECT count(*) FROM appearances").fetchone()[0]
    else:
        counts["appearances"] = before + appearances_added
    return {table: counts[table] for table in COUNTED_TABLES}


# The document files whose content key differs from the one this database was built
# with, and those gone: one pass in SQL over the seed cache's files (brought up to date
# with the tree just before) and seed_files. Reading both into Python dicts to compare
# them cost 30-60 ms of every rebuild at 16,000 files.
CHANGED_FILES = """
SELECT f.path FROM cache.files f LEFT JOIN seed_files s ON s.path = f.path
WHERE s.content_key IS NOT f.content_key
UNION ALL
SELECT path FROM seed_files WHERE path != :sources AND path NOT IN (SELECT path FROM cache.files)
"""


def changed_files(conn, files, sources_key):
    """(everything, the seed files whose rows are to be rewritten, every current file ->
    its content key): the files that changed since this database was built (CHANGED_FILES:
    ``files``, every valid file of the tree, is what the cache's files table holds now), and
    all of them when sources.yml changed (sources decide every claim's independence groups)."""
    current = {cache.SOURCES_FILE: sources_key, **files}
    stored = conn.execute("SELECT content_key FROM seed_files WHERE path = ?", [cache.SOURCES_FILE]).fetchone()
    everything = stored is None or stored[0] != sources_key
    if everything:
        changed = set(current) | {path for (path,) in conn.execute("SELECT path FROM seed_files")}
    else:
        changed = {path for (path,) in conn.execute(CHANGED_FILES, {"sources": cache.SOURCES_FILE})}
    return everything, sorted(changed), current


def write_rows(conn, everything) -> int:
    """Replace the rows of the changed documents (of all, and the sources, if everything);
    return how many appearances that added (fewer than none: removed)."""
    # which claims the sources of the changed documents stood behind, before the change
    if not everything:  # (everything: every source is counted afresh)
        conn.execute(SOURCE_CLAIMS_BEFORE)
        conn.execute(STAGE_CLAIMS)
    appearances_added = 0
    for table in SEED_TABLES:
        deleted = conn.execute(DELETE_CHANGED[table] if everything or table != "claims" else DELETE_GONE_CLAIMS)
        if table == "appearances":
            appearances_added -= deleted.rowcount
    if everything:
        for statement in REPLACE_SOURCES:
            conn.execute(statement)
        conn.execute("DELETE FROM source_records")
        conn.executemany("INSERT INTO source_types (code, meaning) VALUES (?, ?)", SOURCE_TYPE_MEANINGS.items())
    for table in reversed(SEED_TABLES):
        if table == "claims" and not everything:
            conn.execute(UPDATE_CLAIMS)
            conn.execute(INSERT_NEW_CLAIMS)
        else:
            inserted = conn.execute(INSERT_CHANGED[table])
            if table == "appearances":
                appearances_added += inserted.rowcount
    conn.execute(DELETE_DRAFTS)
    conn.execute(INSERT_DRAFTS)
    if not everything:
        conn.execute(TOUCHED_CLAIMS)
        conn.execute(SOURCES_OF_CHANGED)
    conn.execute("DELETE FROM seed_files WHERE path IN (SELECT path FROM temp.changed_files)")
    conn.execute("""INSERT INTO seed_files (path, content_key) SELECT path, content_key FROM temp.current_files
                    WHERE path IN (SELECT path FROM temp.changed_files)""")
    return appearances_added


# The build's warnings, for the team to browse (tracker check --warnings lists them too).
WRITE_WARNINGS = "INSERT INTO warnings (kind, file, line, entry, field, message, loc) VALUES (?, ?, ?, ?, ?, ?, ?)"


def write_warnings(conn, warnings):
    """Replace the warnings table with this build's warnings (a few thousand rows at most)."""
    conn.execute("DELETE FROM warnings")
    conn.executemany(WRITE_WARNINGS, [(cache.warning_kind(w), w.file, w.line, w.entry, w.field, w.message,
                                       json.dumps(w.loc) if getattr(w, "loc", None) is not None else None)
                                      for w in warnings])


def stage_reviews(conn, reviews) -> bool:
    """Stage the events of reviews.yml the database lacks; say whether there are any."""
    conn.executemany(STAGE_REVIEW, [review_row(review) for _, review in reviews])
    conn.execute(NEW_REVIEWS)
    return bool(conn.execute("SELECT 1 FROM temp.staged_reviews").fetchone())


def write_reviewer_links(conn):
    """Make the reviewers' links the review events call for (staged ones included)."""
    conn.execute(REVIEWER_LINKS_WANTED)
    for statement in REVIEWER_LINKS_SYNC:
        conn.execute(statement)


def write_reviews(conn) -> int:
    """Add the staged events of reviews.yml; queue the claims they touch."""
    conn.execute(REVIEWED_CLAIMS)
    with suspended(conn, "trigger", names=REVIEW_TRIGGERS_BUILD_HANDLES):
        return conn.execute(INSERT_REVIEWS).rowcount


def review_id(review) -> str:
    """A stable id for a hand-written review entry: a hash of its content."""
    fields = [review.claim, review.action, review.actor, review.note, review.credibility, review.at]
    if review.other is not None:  # a pair decision (the ids of the others stay as they were)
        fields += [review.other, review.relation]
    content = json.dumps(fields, ensure_ascii=False)
    return "h" + hashlib.sha256(content.encode()).hexdigest()[:25]


def review_row(review) -> dict:
    return {
        "id": review.id or review_id(review),
        "claim": review.claim,
        "actor": review.actor,
        "action": review.action,
        "note": review.note,
        "credibility": review.credibility,
        "evidence": review.evidence,
        "at": review.at,
        "other": review.other,
        "relation": review.relation,
    }
