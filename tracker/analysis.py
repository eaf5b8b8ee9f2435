"""Status, rating and review state of every claim: set-based SQL over the whole graph.

The rules themselves are the views and triggers in ``analysis.sql``; this module only
queues claims and asks the database to refresh them.
"""

import hashlib
import importlib.resources

ANALYSIS_SQL = importlib.resources.files("tracker").joinpath("analysis.sql").read_text()

QUEUE_ALL = "INSERT OR IGNORE INTO analysis_queue (claim_id) SELECT id FROM claims"
RUN = "INSERT INTO analysis_refresh VALUES (1)"


def refresh_all(conn):
    """Recompute every claim's derived columns (status, rating, review state, first_seen)."""
    conn.execute(QUEUE_ALL)
    conn.execute(RUN)


def refresh(conn, claim_ids):
    """Recompute the given claims only."""
    conn.executemany("INSERT OR IGNORE INTO analysis_queue (claim_id) VALUES (?)", ((c,) for c in claim_ids))
    conn.execute(RUN)


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
