-- Status and rating (SPEC sections 4 to 6), as views over the evidence.
--
-- The views compute for the claims listed in analysis_queue, driving every join from
-- that table (CROSS JOIN fixes the order), so refreshing one claim costs a few index
-- lookups and refreshing all of them is a few set-based passes. The statements of
-- tracker/analysis.py copy the results onto claims and empty the queue: the build
-- queues every claim (or, after a small edit, the claims it touched) and runs them once;
-- a review event queues its claim and the claims linked to it, and its trigger runs
-- them. So a decision takes effect at once, from the terminal or from Datasette.

-- review_events is append-only, and names existing claims when written.
CREATE TRIGGER review_events_no_update BEFORE UPDATE ON review_events
BEGIN
    SELECT RAISE(ABORT, 'review_events is append-only: record a new review event instead of changing one');
END;

CREATE TRIGGER review_events_no_delete BEFORE DELETE ON review_events
BEGIN
    SELECT RAISE(ABORT, 'review_events is append-only: review events are never deleted');
END;

-- INSERT OR REPLACE with an existing id would delete the old event without firing the
-- DELETE trigger: an id already present is never written again (the event stays as it
-- was). RAISE(IGNORE), not ABORT, so that the build's INSERT OR IGNORE of reviews.yml
-- still skips the events the database already holds.
CREATE TRIGGER review_events_no_replace BEFORE INSERT ON review_events
WHEN EXISTS (SELECT 1 FROM review_events WHERE id = NEW.id)
BEGIN
    SELECT RAISE(IGNORE);
END;

CREATE TRIGGER review_events_known_claim BEFORE INSERT ON review_events
WHEN NOT EXISTS (SELECT 1 FROM claims WHERE id = NEW.claim_id)
BEGIN
    SELECT RAISE(ABORT, 'unknown claim: review events must name an existing claim id');
END;

-- The table's CHECKs hold the same rules, but an API client posting a canned query would
-- get SQLite's "CHECK constraint failed: ..." back: say what a good value is instead.
-- A column's affinity is applied before BEFORE triggers run, so the canned queries pass
-- :credibility as it comes: '3' arrives as 3, while '3.5' or 'abc' stay and are refused
-- (a CAST would have made them 3 and 0).
CREATE TRIGGER review_events_values BEFORE INSERT ON review_events
BEGIN
    SELECT RAISE(ABORT, 'unknown action: a review event is one of flag, accept, reject, note, link, unlink, dismiss')
    WHERE NEW.action NOT IN ('flag', 'accept', 'reject', 'note', 'link', 'unlink', 'dismiss');
    SELECT RAISE(ABORT, 'a review event says who decided: the actor must not be blank')
    WHERE NEW.actor IS NULL OR length(trim(NEW.actor)) = 0;
    SELECT RAISE(ABORT, 'credibility is a whole number from 1 (confirmed) to 6 (cannot be judged), or left empty')
    WHERE NEW.credibility IS NOT NULL
      AND NOT (typeof(NEW.credibility) = 'integer' AND NEW.credibility BETWEEN 1 AND 6);
    SELECT RAISE(ABORT, 'a link, unlink or dismissal rates neither claim: leave credibility empty')
    WHERE NEW.other_claim_id IS NOT NULL AND NEW.credibility IS NOT NULL;
END;

CREATE TRIGGER claims_fts_insert AFTER INSERT ON claims
BEGIN
    INSERT INTO claims_fts (rowid, text) VALUES (NEW.rowid, NEW.text);
END;

CREATE TRIGGER claims_fts_delete AFTER DELETE ON claims
BEGIN
    INSERT INTO claims_fts (claims_fts, rowid, text) VALUES ('delete', OLD.rowid, OLD.text);
END;

CREATE TRIGGER claims_fts_update AFTER UPDATE OF text ON claims
BEGIN
    INSERT INTO claims_fts (claims_fts, rowid, text) VALUES ('delete', OLD.rowid, OLD.text);
    INSERT INTO claims_fts (rowid, text) VALUES (NEW.rowid, NEW.text);
END;

CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents
BEGIN
    INSERT INTO documents_fts (rowid, title) VALUES (NEW.rowid, NEW.title);
END;

CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents
BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, title) VALUES ('delete', OLD.rowid, OLD.title);
END;

CREATE TRIGGER documents_fts_update AFTER UPDATE OF title ON documents
BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, title) VALUES ('delete', OLD.rowid, OLD.title);
    INSERT INTO documents_fts (rowid, title) VALUES (NEW.rowid, NEW.title);
END;

-- Links are symmetric: each link seen from both of its ends (a reviewer's link has no
-- document_id, and the review event that made it).
CREATE VIEW claim_links AS
SELECT from_claim_id AS claim_id, to_claim_id AS other_claim_id, relation, note, document_id, review_event_id
FROM links
UNION ALL
SELECT to_claim_id, from_claim_id, relation, note, document_id, review_event_id FROM links;

-- Reviewers' decisions about a pair of claims (SPEC section 6), checked as they are
-- written (a build reading reviews.yml takes them as history instead: build.py):
-- the other claim exists and is another claim; a link joins claims not linked yet; an
-- unlink withdraws a reviewer's link; a dismissal is of a pair that is not linked.
CREATE TRIGGER review_events_pair BEFORE INSERT ON review_events
WHEN NEW.other_claim_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a claim cannot be linked to itself: name two different claims')
    WHERE NEW.other_claim_id = NEW.claim_id;
    SELECT RAISE(ABORT, 'unknown claim: the other claim must be an existing claim id')
    WHERE NOT EXISTS (SELECT 1 FROM claims WHERE id = NEW.other_claim_id);
    SELECT RAISE(ABORT, 'a link says how the claims relate: relation corroborates or contradicts')
    WHERE NEW.action = 'link' AND NEW.relation IS NOT 'corroborates' AND NEW.relation IS NOT 'contradicts';
    SELECT RAISE(ABORT, 'these claims are linked already: unlink a reviewer''s link before recording another')
    WHERE NEW.action = 'link'
      AND EXISTS (SELECT 1 FROM claim_links WHERE claim_id = NEW.claim_id AND other_claim_id = NEW.other_claim_id);
    SELECT RAISE(ABORT, 'these claims are linked: there is no suggestion to dismiss')
    WHERE NEW.action = 'dismiss'
      AND EXISTS (SELECT 1 FROM claim_links WHERE claim_id = NEW.claim_id AND other_claim_id = NEW.other_claim_id);
    SELECT RAISE(ABORT, 'no reviewer''s link joins these claims: unlink withdraws links made by reviewers (a link of the seeds is changed in its seed file)')
    WHERE NEW.action = 'unlink'
      AND NOT EXISTS (SELECT 1 FROM claim_links WHERE claim_id = NEW.claim_id AND other_claim_id = NEW.other_claim_id
                      AND review_event_id IS NOT NULL);
END;

-- A queued claim's own appearances, with the side each is on and the publication date
-- of its document.
CREATE VIEW claim_own_evidence AS
SELECT q.claim_id,
       CASE a.stance WHEN 'asserts' THEN 'support' ELSE 'opposition' END AS side,
       s.independence_group,
       s.reliability,
       1 AS appearances,
       -- published_from has a fixed width, so the minimum of the pair picks the earliest
       -- first possible day, then the less precise date ('2024' before '2024-01-01')
       d.published_from || d.published AS published
FROM analysis_queue q
CROSS JOIN appearances a ON a.claim_id = q.claim_id
JOIN sources s ON s.id = a.source_id
JOIN documents d ON d.id = a.document_id;

-- What the claim's own appearances alone give of claim_analysis (below): the build asks
-- it which touched claims moved (build.CHANGED_CLAIMS) without grouping the appearances
-- of every claim linked to them, which claim_evidence does.
CREATE VIEW claim_appearance_summary AS
SELECT claim_id, substr(min(published), 11) AS first_seen, count(*) AS appearances
FROM claim_own_evidence
GROUP BY claim_id;

-- Every appearance that bears on a queued claim, with the side it is on: the claim's own
-- appearances, and the asserting appearances of directly linked claims (from either end
-- of the link). A claim whose latest decision is 'reject' lends nothing to others.
-- A linked claim's appearances come counted by independence group (linked_groups:
-- how many, and the best reliability among them), each claim once however many links
-- lead to it: a claim of a thousand appearances linked to from a hundred claims is read
-- once, not a hundred times (at 50,000 claims of bench/generate_other.py, 823,000 rows
-- of evidence became 346,000, and a full pass 1.1 -> 0.75 s). Only the claims linked to
-- a queued claim are grouped, so refreshing one claim still costs a few index lookups.
-- The queued claims' link ends are found once (linked), and joined to the groups in one
-- branch; the rejected claims are one set, read once (through the index on
-- review_decision; on a first build, whose claims' indexes come after the analysis, by
-- one scan of the claims: 0.3-0.45 s at a million), not a lookup of every linked claim's
-- row: a full pass at a million claims 20.3 -> 13.7 s, 50,000 of the other generator
-- 1.3 -> 0.9 s (bench/README.md).
CREATE VIEW claim_evidence AS
WITH linked AS (
    SELECT l.from_claim_id AS claim_id, l.to_claim_id AS other_claim_id, l.relation
    FROM analysis_queue q CROSS JOIN links l ON l.from_claim_id = q.claim_id
    UNION ALL
    SELECT l.to_claim_id, l.from_claim_id, l.relation
    FROM analysis_queue q CROSS JOIN links l ON l.to_claim_id = q.claim_id
),
linked_groups AS (
    SELECT a.claim_id, s.independence_group, count(*) AS appearances, min(s.reliability) AS reliability
    FROM appearances a
    JOIN sources s ON s.id = a.source_id
    WHERE a.stance = 'asserts'
      AND a.claim_id IN (SELECT other_claim_id FROM linked)
      AND a.claim_id NOT IN (SELECT id FROM claims WHERE review_decision = 'reject')
    GROUP BY a.claim_id, s.independence_group
)
SELECT * FROM claim_own_evidence
UNION ALL
SELECT k.claim_id,
       CASE k.relation WHEN 'corroborates' THEN 'support' ELSE 'opposition' END,
       g.independence_group,
       g.reliability,
       g.appearances,
       NULL
FROM linked k
CROSS JOIN linked_groups g ON g.claim_id = k.other_claim_id;

-- Each queued claim's evidence counted, its own appearances summed up (the first day it
-- was seen, how many: one pass over them, not a second one joined back by claim), and
-- the claim's review columns, read once here for the views below (the rating and the
-- queue each looked the claim up again: at a million claims a lookup by id costs about
-- 3.5 us). A full pass at a million claims 36.8 -> 34.0 s, with the evidence's change above.
CREATE VIEW claim_analysis AS
SELECT e.*, c.review_decision, c.review_state, c.credibility_override
FROM (
    SELECT claim_id,
           count(DISTINCT CASE side WHEN 'support' THEN independence_group END) AS support_groups,
           count(DISTINCT CASE side WHEN 'opposition' THEN independence_group END) AS opposition_groups,
           sum(CASE side WHEN 'support' THEN appearances ELSE 0 END) AS support_appearances,
           coalesce(min(CASE side WHEN 'support' THEN reliability END), 'F') AS best_reliability,
           -- as claim_appearance_summary: the link branch has no publication date
           substr(min(published), 11) AS first_seen,
           count(published) AS appearances
    FROM claim_evidence
    GROUP BY claim_id
) e
CROSS JOIN claims c ON c.id = e.claim_id;

-- The queued claims that are circular and carried by at least two documents, counted
-- for the table circular_claims (schema.sql).
CREATE VIEW circular_claim_counts AS
SELECT c.id AS claim_id,
       count(DISTINCT d.publisher_id) AS outlets,
       count(DISTINCT a.document_id) AS documents,
       c.first_seen
FROM analysis_queue q
CROSS JOIN claims c ON c.id = q.claim_id
CROSS JOIN appearances a ON a.claim_id = c.id AND a.stance = 'asserts'
JOIN documents d ON d.id = a.document_id
WHERE c.status = 'circular'
GROUP BY c.id
HAVING count(DISTINCT a.document_id) >= 2;

CREATE VIEW claim_status AS
SELECT *,
       CASE
           WHEN opposition_groups >= 1 THEN 'contested'
           WHEN support_groups >= 2 THEN 'corroborated'
           WHEN support_appearances >= 2 THEN 'circular'
           ELSE 'uncorroborated'
       END AS status
FROM claim_analysis;

CREATE VIEW claim_rating AS
SELECT r.*,
       coalesce(r.credibility_override, r.rules_credibility) AS credibility,
       CASE WHEN r.credibility_override IS NULL THEN 'rules' ELSE 'reviewer' END AS credibility_by,
       r.best_reliability || coalesce(r.credibility_override, r.rules_credibility) AS admiralty
FROM (
    SELECT *,
           CASE
               WHEN status = 'contested' AND opposition_groups > support_groups THEN 5
               WHEN status = 'contested' THEN 4
               WHEN status != 'corroborated' AND best_reliability IN ('D', 'E') THEN 4
               WHEN status = 'corroborated' AND best_reliability IN ('A', 'B') THEN 1
               WHEN status = 'corroborated' THEN 2
               WHEN best_reliability = 'F' THEN 6
               ELSE 3
           END AS rules_credibility
    FROM claim_status
) r;

-- The review queue (SPEC section 6): every claim whose latest decision is a flag, and
-- every uncorroborated, circular or contested claim unless its latest decision is a
-- current (not stale) accept or reject. Null when the claim is not in the queue.
CREATE VIEW claim_queue AS
SELECT r.*,
       CASE
           WHEN r.review_decision = 'flag' THEN 'flagged by a reviewer'
           WHEN r.status = 'corroborated' THEN NULL
           WHEN r.review_decision IN ('accept', 'reject') AND r.review_state = r.review_decision THEN NULL
           WHEN r.status = 'contested' THEN
               'contested: opposed by ' || r.opposition_groups || ' independent origin(s), supported by '
               || r.support_groups
           WHEN r.status = 'circular' THEN
               'circular: ' || r.support_appearances || ' supporting appearances all trace to one origin'
           ELSE 'uncorroborated: rests on a single appearance'
       END
       || CASE
           WHEN r.review_decision IN ('accept', 'reject') AND r.review_state != r.review_decision
           THEN '; the evidence changed since it was last ' || r.review_decision || 'ed'
           ELSE ''
       END AS queue_reason,
       -- the order of work (SPEC section 6): flagged, contested, circular, uncorroborated, other
       CASE
           WHEN r.review_decision = 'flag' THEN 1
           WHEN r.status = 'contested' THEN 2
           WHEN r.status = 'circular' THEN 3
           WHEN r.status = 'uncorroborated' THEN 4
           ELSE 5
       END AS queue_rank
FROM claim_rating r;

-- A queued claim's latest decision (flag, accept or reject; latest by created_at, then
-- by order of writing), whether its evidence has moved on since, and the latest override.
CREATE VIEW claim_review AS
SELECT c.id AS claim_id,
       d.action AS review_decision,
       CASE
           WHEN d.action IS NULL THEN NULL
           WHEN d.evidence IS NOT c.evidence THEN d.action || ' (stale)'
           ELSE d.action
       END AS review_state,
       (SELECT o.credibility FROM review_events o
        WHERE o.claim_id = c.id AND o.credibility IS NOT NULL
        ORDER BY o.created_at DESC, o.rowid DESC LIMIT 1) AS credibility_override
FROM analysis_queue q
CROSS JOIN claims c ON c.id = q.claim_id
LEFT JOIN review_events d ON d.rowid = (
    SELECT e.rowid FROM review_events e
    WHERE e.claim_id = c.id AND e.action IN ('flag', 'accept', 'reject')
    ORDER BY e.created_at DESC, e.rowid DESC LIMIT 1
);

-- How the claims of each queued source fare, counting each claim once. (A build that
-- rewrote every claim, and publish, count every source in one pass over the claims
-- instead: analysis.RECOUNT_ALL_SOURCES, the same counts.)
CREATE VIEW source_record_counts AS
SELECT q.source_id,
       count(DISTINCT a.claim_id) AS claims,
       count(DISTINCT CASE WHEN c.status = 'corroborated' THEN c.id END) AS corroborated,
       count(DISTINCT CASE WHEN c.status = 'contested' THEN c.id END) AS contested,
       count(DISTINCT CASE WHEN c.status = 'circular' THEN c.id END) AS circular,
       count(DISTINCT CASE WHEN c.status = 'uncorroborated' THEN c.id END) AS uncorroborated,
       count(DISTINCT CASE WHEN c.review_decision = 'reject' THEN c.id END) AS rejected
FROM source_queue q
CROSS JOIN appearances a ON a.source_id = q.source_id
JOIN claims c ON c.id = a.claim_id
GROUP BY q.source_id;

-- A decision changes the claim's own review state and rating and, since a reject
-- withdraws it as evidence (and a later decision may restore it), its neighbours': the
-- event queues them, and the refresh of tracker/analysis.py (REFRESH_CLAIMS, the same
-- statements the build runs) follows in this trigger's body, which database.py appends
-- below. Canned queries in Datasette write events with plain SQL, so the trigger is what
-- makes their decisions take effect at once. A build drops it while it writes the
-- events of reviews.yml and then runs one analysis pass of its own.
-- Counts for Datasette's unfiltered pages (the plugin's COUNTED_FACETS lists the same facets). Each change to a claim inserts its old
-- values with sign -1 and its new ones with +1 into claim_count_changes, whose trigger
-- spreads them over facet_counts; null values are not counted (Datasette's facets
-- skip them too).
CREATE VIEW claim_count_changes AS
SELECT NULL AS sign, NULL AS status, NULL AS kind, NULL AS origin_type, NULL AS credibility, NULL AS queued;

CREATE TRIGGER claim_count_changes_apply INSTEAD OF INSERT ON claim_count_changes
BEGIN
    INSERT INTO facet_counts (name, facet, value, count)
    SELECT name, facet, value, NEW.sign FROM (
        SELECT 'claims' AS name, '' AS facet, '' AS value
        UNION ALL SELECT 'claims', 'status', NEW.status
        UNION ALL SELECT 'claims', 'kind', NEW.kind
        UNION ALL SELECT 'claims', 'origin_type', NEW.origin_type
        UNION ALL SELECT 'claims', 'credibility', NEW.credibility
        UNION ALL SELECT 'review_queue', '', '' WHERE NEW.queued
        UNION ALL SELECT 'review_queue', 'status', NEW.status WHERE NEW.queued
        UNION ALL SELECT 'review_queue', 'kind', NEW.kind WHERE NEW.queued
        UNION ALL SELECT 'review_queue', 'origin_type', NEW.origin_type WHERE NEW.queued
    )
    WHERE value IS NOT NULL
    ON CONFLICT (name, facet, value) DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER claims_count_insert AFTER INSERT ON claims
BEGIN
    INSERT INTO claim_count_changes
    VALUES (1, NEW.status, NEW.kind, NEW.origin_type, NEW.credibility, NEW.queue_reason IS NOT NULL);
END;

CREATE TRIGGER claims_count_delete AFTER DELETE ON claims
BEGIN
    INSERT INTO claim_count_changes
    VALUES (-1, OLD.status, OLD.kind, OLD.origin_type, OLD.credibility, OLD.queue_reason IS NOT NULL);
END;

CREATE TRIGGER claims_count_update AFTER UPDATE OF status, kind, origin_type, credibility, queue_reason ON claims
WHEN OLD.status IS NOT NEW.status OR OLD.kind IS NOT NEW.kind OR OLD.origin_type IS NOT NEW.origin_type
     OR OLD.credibility IS NOT NEW.credibility OR (OLD.queue_reason IS NULL) != (NEW.queue_reason IS NULL)
BEGIN
    INSERT INTO claim_count_changes
    VALUES (-1, OLD.status, OLD.kind, OLD.origin_type, OLD.credibility, OLD.queue_reason IS NOT NULL);
    INSERT INTO claim_count_changes
    VALUES (1, NEW.status, NEW.kind, NEW.origin_type, NEW.credibility, NEW.queue_reason IS NOT NULL);
END;

-- A claim's change of status (or of being rejected) moves it between the columns of the
-- record of every source it appears under: each source counts the claim once.
CREATE TRIGGER claims_source_records AFTER UPDATE OF status, review_decision ON claims
WHEN OLD.status IS NOT NEW.status OR (OLD.review_decision IS 'reject') != (NEW.review_decision IS 'reject')
BEGIN
    UPDATE source_records
    SET corroborated = corroborated + (NEW.status IS 'corroborated') - (OLD.status IS 'corroborated'),
        contested = contested + (NEW.status IS 'contested') - (OLD.status IS 'contested'),
        circular = circular + (NEW.status IS 'circular') - (OLD.status IS 'circular'),
        uncorroborated = uncorroborated + (NEW.status IS 'uncorroborated') - (OLD.status IS 'uncorroborated'),
        rejected = rejected + (NEW.review_decision IS 'reject') - (OLD.review_decision IS 'reject')
    WHERE source_id IN (SELECT source_id FROM appearances WHERE claim_id = NEW.id);
END;
