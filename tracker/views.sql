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

-- How each source's claims have fared, as origin of an appearance (counts kept in
-- source_records by analysis.sql).
CREATE VIEW source_track_record AS
SELECT s.id AS source_id,
       s.name,
       s.type,
       s.reliability,
       s.independence_group,
       coalesce(r.claims, 0) AS claims,
       coalesce(r.corroborated, 0) AS corroborated,
       coalesce(r.contested, 0) AS contested,
       coalesce(r.circular, 0) AS circular,
       coalesce(r.uncorroborated, 0) AS uncorroborated,
       coalesce(r.rejected, 0) AS rejected
FROM sources s
LEFT JOIN source_records r ON r.source_id = s.id;

-- Review events whose claim is no longer in the seeds: kept (history is never lost),
-- counting for nothing until a claim of that id comes back (SPEC section 3).
CREATE VIEW orphaned_review_events AS
SELECT e.*
FROM review_events e
WHERE NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = e.claim_id);

-- Ingest (issue 10): documents nobody has recorded a claim from yet, newest first in
-- metadata.yml. It names no column of document_texts, which the public file lacks.
CREATE VIEW unread_documents AS
SELECT d.id, d.title, d.publisher_id, d.published, substr(d.published_from, 1, 7) AS month, d.published_from,
       d.url, d.text_file
FROM documents d
WHERE NOT EXISTS (SELECT 1 FROM appearances a WHERE a.document_id = d.id);
