-- The views SQL users and the Datasette pages rely on (SPEC section 7).

-- Claims waiting for a reviewer, and why (claims.queue_reason, kept by analysis.sql).
CREATE VIEW review_queue AS
SELECT c.id,
       c.text,
       c.status,
       c.queue_reason AS reason,
       c.first_seen,
       c.admiralty,
       c.credibility,
       c.kind,
       c.origin_type,
       c.origin_id,
       c.review_state,
       c.appearances,
       c.rowid AS fts_rowid  -- lets Datasette search the queue through claims_fts
FROM claims c
WHERE c.queue_reason IS NOT NULL;

-- One row per appearance: who asserted the claim, where, and through whom.
CREATE VIEW claim_provenance AS
SELECT a.claim_id,
       c.text AS claim_text,
       a.document_id,
       d.title,
       d.published,
       d.publisher_id,
       a.source_id,
       s.name AS source_name,
       s.type AS source_type,
       s.independence_group,
       a.via,
       a.quote,
       a.stance,
       a.verified,
       a.quote_start,
       a.quote_end,
       a.position
FROM appearances a
JOIN claims c ON c.id = a.claim_id
JOIN documents d ON d.id = a.document_id
JOIN sources s ON s.id = a.source_id;

-- How each source's claims have fared, as origin of an appearance.
CREATE VIEW source_track_record AS
SELECT s.id AS source_id,
       s.name,
       s.type,
       s.reliability,
       s.independence_group,
       count(DISTINCT a.claim_id) AS claims,
       count(DISTINCT CASE WHEN c.status = 'corroborated' THEN c.id END) AS corroborated,
       count(DISTINCT CASE WHEN c.status = 'contested' THEN c.id END) AS contested,
       count(DISTINCT CASE WHEN c.status = 'circular' THEN c.id END) AS circular,
       count(DISTINCT CASE WHEN c.status = 'uncorroborated' THEN c.id END) AS uncorroborated,
       count(DISTINCT CASE WHEN c.review_decision = 'reject' THEN c.id END) AS rejected
FROM sources s
LEFT JOIN appearances a ON a.source_id = s.id
LEFT JOIN claims c ON c.id = a.claim_id
GROUP BY s.id;
