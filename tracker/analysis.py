"""Status, rating and review state of every claim: set-based SQL over the whole graph.

The rules themselves are the views in ``analysis.sql``; this module only runs the
statements that copy their results onto ``claims``.
"""

import hashlib
import importlib.resources

ANALYSIS_SQL = importlib.resources.files("tracker").joinpath("analysis.sql").read_text()

# Each statement below reads one view once (UPDATE ... FROM materialises it), so the
# cost is a few passes over appearances and links, never a query per claim.
REFRESH_APPEARANCE_SUMMARY = """
UPDATE claims SET first_seen = s.first_seen, appearances = s.appearances
FROM claim_appearance_summary s
WHERE s.claim_id = claims.id
"""

REFRESH_REVIEW_STATE = """
UPDATE claims
SET review_decision = r.review_decision,
    review_state = r.review_state,
    credibility_override = r.credibility_override
FROM claim_review r
WHERE r.claim_id = claims.id
  AND r.claim_id IN (SELECT claim_id FROM review_events)
"""

REFRESH_RATING = """
UPDATE claims
SET status = r.status,
    support_groups = r.support_groups,
    opposition_groups = r.opposition_groups,
    support_appearances = r.support_appearances,
    best_reliability = r.best_reliability,
    rules_credibility = r.rules_credibility,
    credibility = r.credibility,
    credibility_by = r.credibility_by,
    admiralty = r.admiralty
FROM claim_rating r
WHERE r.claim_id = claims.id
"""


def refresh_all(conn):
    """Recompute every claim's derived columns, in the order they depend on each other."""
    conn.execute(REFRESH_APPEARANCE_SUMMARY)
    conn.execute(REFRESH_REVIEW_STATE)
    conn.execute(REFRESH_RATING)


def evidence_fingerprints(appearances, links):
    """claim id -> fingerprint of its raw evidence (SPEC section 6).

    ``appearances``: (claim_id, document_id, source_id, stance) tuples;
    ``links``: (from_claim_id, to_claim_id, relation) tuples. Reviews play no part, so
    a decision goes stale exactly when the seeds change what the claim rests on.
    """
    parts = {}
    for claim_id, document_id, source_id, stance in appearances:
        parts.setdefault(claim_id, []).append(f"appearance\t{document_id}\t{source_id}\t{stance}")
    for from_id, to_id, relation in links:
        parts.setdefault(from_id, []).append(f"link\t{to_id}\t{relation}")
        parts.setdefault(to_id, []).append(f"link\t{from_id}\t{relation}")
    return {
        claim_id: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:20]
        for claim_id, lines in parts.items()
    }
