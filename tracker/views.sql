-- The views SQL users and the Datasette pages rely on (SPEC section 7).

-- Claims waiting for a reviewer, in the order of work (SPEC section 6): flagged,
-- contested, circular, uncorroborated, then anything else; newest first_seen first
-- within each: metadata.yml sorts it by claims.queue_order (index claims_queue_order);
-- no ORDER BY here, so that counts and facets over a filtered queue stay cheap.
-- `reason` is claims.queue_reason (it starts with the status); queue_words says the rest.
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
       o.name AS origin_name,
       c.review_state,
       c.appearances,
       c.queue_rank,
       c.queue_order,
       c.rowid AS fts_rowid  -- lets Datasette search the queue through claims_fts
FROM claims c
JOIN sources o ON o.id = c.origin_id
WHERE c.queue_reason IS NOT NULL;

-- What a queued claim's status does not say, in names: who the one origin is and how
-- many outlets repeat it, who denies it, who flagged it. Computed when read, from this
-- file's own rows (so the public file shows its pseudonyms), a few index lookups per
-- claim: ask for the claims shown (the queue page does, by id), not for the whole queue.
CREATE VIEW queue_words AS
SELECT c.id,
       CASE
           WHEN c.review_decision = 'flag' THEN
               'flagged by ' || coalesce(
                   (SELECT coalesce(e.actor, 'a reviewer') || coalesce(': "' || substr(e.note, 1, 200) || '"', '')
                    FROM review_events e WHERE e.claim_id = c.id AND e.action = 'flag'
                    ORDER BY e.created_at DESC, e.rowid DESC LIMIT 1), 'a reviewer')
           WHEN c.status = 'contested' THEN
               coalesce('denied by ' || (
                   SELECT group_concat(name, ', ') FROM (
                       SELECT DISTINCT s.name FROM appearances a JOIN sources s ON s.id = a.source_id
                       WHERE a.claim_id = c.id AND a.stance = 'denies' LIMIT 3)), '')
               || (SELECT CASE WHEN count(*) = 0 THEN ''
                               ELSE CASE WHEN EXISTS (SELECT 1 FROM appearances a
                                                      WHERE a.claim_id = c.id AND a.stance = 'denies')
                                         THEN '; ' ELSE '' END
                                    || 'contradicted by ' || count(*) || ' linked claim(s)'
                          END
                   FROM (SELECT 1 FROM links WHERE from_claim_id = c.id AND relation = 'contradicts'
                         UNION ALL
                         SELECT 1 FROM links WHERE to_claim_id = c.id AND relation = 'contradicts'))
               || '; supported by ' || c.support_groups || ' independent group(s) against '
               || c.opposition_groups || ' opposing'
           WHEN c.status = 'circular' THEN
               'one origin'
               || CASE WHEN (SELECT count(DISTINCT a.source_id) FROM appearances a
                             WHERE a.claim_id = c.id AND a.stance = 'asserts') > 1 THEN ' group' ELSE '' END
               || ': ' || coalesce((
                   SELECT group_concat(name, ', ') FROM (
                       SELECT DISTINCT s.name FROM appearances a JOIN sources s ON s.id = a.source_id
                       WHERE a.claim_id = c.id AND a.stance = 'asserts' LIMIT 3)), 'a linked claim''s origin')
               || '; ' || (SELECT CASE
                               WHEN count(DISTINCT d.publisher_id) > 1
                               THEN count(DISTINCT d.publisher_id) || ' outlets repeat it'
                               WHEN count(DISTINCT a.document_id) > 1
                               THEN count(DISTINCT a.document_id) || ' documents of one outlet repeat it'
                               ELSE 'repeated within one document'
                           END
                           FROM appearances a JOIN documents d ON d.id = a.document_id
                           WHERE a.claim_id = c.id AND a.stance = 'asserts')
               || '; needs an independent origin'
           WHEN c.status = 'uncorroborated' THEN
               coalesce((SELECT 'only ' || s.name || CASE WHEN p.id = s.id THEN ', in its own publication' ELSE ' in ' || p.name END
                         FROM appearances a JOIN sources s ON s.id = a.source_id
                         JOIN documents d ON d.id = a.document_id JOIN sources p ON p.id = d.publisher_id
                         WHERE a.claim_id = c.id AND a.stance = 'asserts' LIMIT 1), 'no supporting appearance')
               || '; needs a second, independent origin'
           ELSE c.queue_reason
       END
       || CASE WHEN instr(c.queue_reason, '; the evidence changed') > 0
               THEN substr(c.queue_reason, instr(c.queue_reason, '; the evidence changed')) ELSE '' END
       AS missing
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
WHERE NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = e.claim_id)
   OR (e.other_claim_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = e.other_claim_id));

-- Draft entries waiting for an analyst to confirm (remove `draft: true`) or delete them.
CREATE VIEW drafts AS
SELECT d.document_id,
       doc.title AS document_title,
       d.position,
       d.claim_id,
       CASE d.is_ref WHEN 1 THEN 'ref' ELSE 'new claim' END AS entry,
       d.claim_text,
       d.source_id,
       s.name AS source_name,
       s.type AS source_type,
       d.via,
       d.quote,
       d.quote_start,
       d.quote_end,
       d.verified
FROM draft_entries d
LEFT JOIN documents doc ON doc.id = d.document_id
LEFT JOIN sources s ON s.id = d.source_id;

-- Ingest (issue 10): documents nobody has recorded a claim from yet, newest first in
-- metadata.yml. It names no column of document_texts, which the public file lacks.
CREATE VIEW unread_documents AS
SELECT d.id, d.title, d.publisher_id, d.published, substr(d.published_from, 1, 7) AS month, d.published_from,
       d.url, d.text_file
FROM documents d
WHERE NOT EXISTS (SELECT 1 FROM appearances a WHERE a.document_id = d.id);
