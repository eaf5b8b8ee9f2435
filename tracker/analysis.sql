-- Status and rating (SPEC sections 4 to 6), as views over the evidence.
-- The build refreshes every claim from them in one set-based UPDATE; a review event
-- refreshes just the claims it touches (trigger at the end), so a decision takes
-- effect at once, from the terminal or from Datasette, without a rebuild.

-- review_events is append-only, and names existing claims when written.
CREATE TRIGGER review_events_no_update BEFORE UPDATE ON review_events
BEGIN
    SELECT RAISE(ABORT, 'review_events is append-only: record a new review event instead of changing one');
END;

CREATE TRIGGER review_events_no_delete BEFORE DELETE ON review_events
BEGIN
    SELECT RAISE(ABORT, 'review_events is append-only: review events are never deleted');
END;

CREATE TRIGGER review_events_known_claim BEFORE INSERT ON review_events
WHEN NOT EXISTS (SELECT 1 FROM claims WHERE id = NEW.claim_id)
BEGIN
    SELECT RAISE(ABORT, 'unknown claim: review events must name an existing claim id');
END;

-- Links are symmetric: each link seen from both of its ends.
CREATE VIEW claim_links AS
SELECT from_claim_id AS claim_id, to_claim_id AS other_claim_id, relation, id AS link_id FROM links
UNION ALL
SELECT to_claim_id, from_claim_id, relation, id FROM links;

-- Every appearance that bears on a claim, with the side it is on: the claim's own
-- appearances, and the asserting appearances of directly linked claims. A claim whose
-- latest decision is 'reject' lends nothing to the claims linked to it.
CREATE VIEW claim_evidence AS
SELECT a.claim_id,
       CASE a.stance WHEN 'asserts' THEN 'support' ELSE 'opposition' END AS side,
       a.id AS appearance_id,
       s.independence_group,
       s.reliability
FROM appearances a
JOIN sources s ON s.id = a.source_id
UNION ALL
SELECT l.claim_id,
       CASE l.relation WHEN 'corroborates' THEN 'support' ELSE 'opposition' END,
       a.id,
       s.independence_group,
       s.reliability
FROM claim_links l
JOIN claims other ON other.id = l.other_claim_id AND other.review_decision IS NOT 'reject'
JOIN appearances a ON a.claim_id = l.other_claim_id AND a.stance = 'asserts'
JOIN sources s ON s.id = a.source_id;

CREATE VIEW claim_analysis AS
SELECT claim_id,
       count(DISTINCT CASE side WHEN 'support' THEN independence_group END) AS support_groups,
       count(DISTINCT CASE side WHEN 'opposition' THEN independence_group END) AS opposition_groups,
       sum(side = 'support') AS support_appearances,
       coalesce(min(CASE side WHEN 'support' THEN reliability END), 'F') AS best_reliability
FROM claim_evidence
GROUP BY claim_id;

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
       coalesce(c.credibility_override, r.rules_credibility) AS credibility,
       CASE WHEN c.credibility_override IS NULL THEN 'rules' ELSE 'reviewer' END AS credibility_by,
       r.best_reliability || coalesce(c.credibility_override, r.rules_credibility) AS admiralty
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
) r
JOIN claims c ON c.id = r.claim_id;

-- A claim's latest decision (flag, accept or reject; latest by created_at, then by
-- order of writing), whether the evidence has moved on since, and the latest override.
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
FROM claims c
LEFT JOIN review_events d ON d.rowid = (
    SELECT e.rowid FROM review_events e
    WHERE e.claim_id = c.id AND e.action IN ('flag', 'accept', 'reject')
    ORDER BY e.created_at DESC, e.rowid DESC LIMIT 1
);

CREATE TRIGGER review_events_apply AFTER INSERT ON review_events
BEGIN
    UPDATE claims
    SET (review_decision, review_state, credibility_override) = (
        SELECT review_decision, review_state, credibility_override
        FROM claim_review WHERE claim_review.claim_id = claims.id
    )
    WHERE id = NEW.claim_id;

    -- The claim itself (its rating may carry the override) and, since a reject
    -- withdraws it as evidence and a later decision may restore it, its neighbours.
    UPDATE claims
    SET (status, support_groups, opposition_groups, support_appearances, best_reliability,
         rules_credibility, credibility, credibility_by, admiralty) = (
        SELECT status, support_groups, opposition_groups, support_appearances, best_reliability,
               rules_credibility, credibility, credibility_by, admiralty
        FROM claim_rating WHERE claim_rating.claim_id = claims.id
    )
    WHERE id = NEW.claim_id
       OR id IN (SELECT other_claim_id FROM claim_links WHERE claim_id = NEW.claim_id);
END;

CREATE VIEW claim_appearance_summary AS
SELECT a.claim_id,
       -- published_from has a fixed width, so the minimum of the pair picks the earliest
       -- first possible day, then the less precise date ('2024' before '2024-01-01')
       substr(min(d.published_from || d.published), 11) AS first_seen,
       count(*) AS appearances
FROM appearances a
JOIN documents d ON d.id = a.document_id
GROUP BY a.claim_id;
