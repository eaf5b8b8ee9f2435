"""The analysis pass: copy the views of analysis.sql onto the queued claims, in order.

Statuses, ratings and review states are computed by the views of ``analysis.sql`` for
the claims listed in ``analysis_queue``. ``refresh_claims`` writes them onto ``claims``
and empties the queue; ``recount_sources`` recounts the track records of the sources in
``source_queue`` (or of every source). The build calls both, once, after the seed rows
and the review events are in (``build.py``); the trigger that applies a review event as
it is written runs the same ``REFRESH_CLAIMS`` statements (``database.py`` makes it from
them).
"""

# First the decisions: a neighbour's evidence depends on whether this claim is rejected.
# Only rows that change are written (on a first build nothing here has a review).
APPLY_DECISIONS = """
UPDATE claims
SET review_decision = r.review_decision,
    review_state = r.review_state,
    credibility_override = r.credibility_override
FROM claim_review r
-- (the IN makes the queue drive the update: the join alone scans every claim)
WHERE claims.id IN (SELECT claim_id FROM analysis_queue) AND r.claim_id = claims.id
  AND (claims.review_decision IS NOT r.review_decision
       OR claims.review_state IS NOT r.review_state
       OR claims.credibility_override IS NOT r.credibility_override)
"""

# Then what follows from the evidence and the decisions: status, rating, queue.
APPLY_STATUSES = """
UPDATE claims
SET first_seen = r.first_seen,
    appearances = r.appearances,
    status = r.status,
    support_groups = r.support_groups,
    opposition_groups = r.opposition_groups,
    support_appearances = r.support_appearances,
    best_reliability = r.best_reliability,
    rules_credibility = r.rules_credibility,
    credibility = r.credibility,
    credibility_by = r.credibility_by,
    admiralty = r.admiralty,
    queue_reason = r.queue_reason,
    queue_rank = r.queue_rank,
    -- the queue's order as one sortable key: rank, then the newest first possible day
    -- of first_seen ('2024' is 2024-01-01), then id
    queue_order = CASE WHEN r.queue_reason IS NOT NULL THEN printf('%d-%08d-%s', r.queue_rank,
        99999999 - CAST(substr(replace(coalesce(r.first_seen, '0000') || '-01-01', '-', ''), 1, 8) AS INTEGER),
        r.claim_id) END
FROM claim_queue r
WHERE r.claim_id = claims.id
"""

EMPTY_ANALYSIS_QUEUE = "DELETE FROM analysis_queue"

# Then the ranking of circular reporting (the table circular_claims), for the same claims.
CIRCULAR_REFRESH = (
    "DELETE FROM circular_claims WHERE claim_id IN (SELECT claim_id FROM analysis_queue)",
    "INSERT INTO circular_claims (claim_id, outlets, documents, first_seen) SELECT * FROM circular_claim_counts",
)

REFRESH_CLAIMS = (APPLY_DECISIONS, APPLY_STATUSES, *CIRCULAR_REFRESH, EMPTY_ANALYSIS_QUEUE)

# Every circular claim, for publish (which copies the claims with their statuses).
QUEUE_CIRCULAR = "INSERT OR IGNORE INTO analysis_queue (claim_id) SELECT id FROM claims WHERE status = 'circular'"

# Track records counted afresh for the queued sources (their appearances changed, or a
# bulk build wrote every claim with the delta trigger claims_source_records absent);
# every other source follows its claims by those deltas.
RECOUNT_SOURCES = (
    "DELETE FROM source_records WHERE source_id IN (SELECT source_id FROM source_queue)",
    """
    INSERT INTO source_records
    SELECT source_id, claims, corroborated, contested, circular, uncorroborated, rejected
    FROM source_record_counts
    """,
    "DELETE FROM source_queue",
)

# Every source's track record, for a build that rewrote every claim and for publish:
# source_record_counts' counts in one pass over the claims (their table in order, each
# claim's appearances from their covering index), where the view, driven by the queued
# sources, looks a claim up for each of their appearances and keeps six sets of
# distinct ids per source (1M claims: 5.9-7.6 -> 3.4 s, the same rows).
RECOUNT_ALL_SOURCES = (
    "DELETE FROM source_records",
    """
    INSERT INTO source_records
    SELECT source_id, count(*), sum(status = 'corroborated'), sum(status = 'contested'), sum(status = 'circular'),
           sum(status = 'uncorroborated'), sum(rejected)
    FROM (
        SELECT a.source_id, a.claim_id, c.status, c.review_decision IS 'reject' AS rejected
        FROM claims c NOT INDEXED
        CROSS JOIN appearances a ON a.claim_id = c.id
        GROUP BY a.source_id, a.claim_id
    )
    GROUP BY source_id
    """,
    "DELETE FROM source_queue",
)

# The evidence fingerprint (SPEC section 6) is the build's hash of a claim's appearances
# and seed links (build.FINGERPRINTS, this many characters), then one " +other relation"
# per reviewer's link, in order. That part is plain SQL, so that a link written by a
# canned query changes the fingerprint at once, as a cold build would compute it.
FINGERPRINT_LENGTH = 20
WITH_REVIEWER_LINKS = f"""
substr(claims.evidence, 1, {FINGERPRINT_LENGTH}) || coalesce((
    SELECT ' +' || group_concat(line, ' +') FROM (
        SELECT r.other_claim_id || ' ' || r.relation AS line FROM claim_links r
        WHERE r.claim_id = claims.id AND r.review_event_id IS NOT NULL
        ORDER BY line)), '')
"""

# What a reviewer's pair decision does to the links, before the claims are refreshed:
# a link is added (the trigger review_events_pair checked it), an unlink removes the
# reviewer's link, and a link or a dismissal drops the pair's suggestion.
APPLY_PAIR_DECISION = (
    """
    INSERT INTO links (from_claim_id, to_claim_id, relation, note, review_event_id)
    SELECT NEW.claim_id, NEW.other_claim_id, NEW.relation, NEW.note, NEW.id WHERE NEW.action = 'link'
    """,
    """
    DELETE FROM links
    WHERE NEW.action = 'unlink' AND review_event_id IS NOT NULL
      AND ((from_claim_id = NEW.claim_id AND to_claim_id = NEW.other_claim_id)
           OR (from_claim_id = NEW.other_claim_id AND to_claim_id = NEW.claim_id))
    """,
    """
    DELETE FROM link_suggestions
    WHERE NEW.action IN ('link', 'dismiss')
      AND claim_id = min(NEW.claim_id, NEW.other_claim_id) AND other_claim_id = max(NEW.claim_id, NEW.other_claim_id)
    """,
    f"""
    UPDATE claims SET evidence = {WITH_REVIEWER_LINKS.strip()}
    WHERE NEW.action IN ('link', 'unlink') AND id IN (NEW.claim_id, NEW.other_claim_id)
    """,
)

# The trigger that applies a review event as it is written: the pair decision's links,
# then queue the claim (and the other claim of a pair) and its linked claims, then the
# same refresh the build runs.
REVIEW_TRIGGER = """
CREATE TRIGGER review_events_apply AFTER INSERT ON review_events
BEGIN
%s
    INSERT OR IGNORE INTO analysis_queue (claim_id)
    SELECT NEW.claim_id WHERE EXISTS (SELECT 1 FROM claims WHERE id = NEW.claim_id)
    UNION SELECT NEW.other_claim_id WHERE EXISTS (SELECT 1 FROM claims WHERE id = NEW.other_claim_id)
    UNION SELECT to_claim_id FROM links WHERE from_claim_id = NEW.claim_id
    UNION SELECT from_claim_id FROM links WHERE to_claim_id = NEW.claim_id;
%s
END;
""" % ("".join(f"    {statement.strip()};\n" for statement in APPLY_PAIR_DECISION),
       "".join(f"    {statement.strip()};\n" for statement in REFRESH_CLAIMS))


def refresh_claims(conn) -> int:
    """Recompute every queued claim; return how many there were."""
    queued = conn.execute("SELECT count(*) FROM analysis_queue").fetchone()[0]
    # Only a review event sets a claim's decision columns, and events are never deleted:
    # with none at all (a first build without reviews.yml), every claim's are still null,
    # and the decisions step would look up nothing for each queued claim.
    reviewed = conn.execute("SELECT 1 FROM review_events LIMIT 1").fetchone() is not None
    for statement in REFRESH_CLAIMS:
        if statement is APPLY_DECISIONS and not reviewed:
            continue
        conn.execute(statement)
    return queued


def recount_sources(conn, every_source=False):
    """Recount the track records of the queued sources (``every_source``: of all)."""
    for statement in RECOUNT_ALL_SOURCES if every_source else RECOUNT_SOURCES:
        conn.execute(statement)
