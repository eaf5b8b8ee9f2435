"""Time `suggest-links` on a large database: full runs, and runs for some claims.

    python bench/generate.py /tmp/seeds100k --claims 100000
    tracker build /tmp/seeds100k --db /tmp/big.db
    nice .venv/bin/python bench/links/scale.py /tmp/big.db [--sample 2000] [--write]

Every figure is measured, none extrapolated, on a copy of the database (the runs write
their suggestions into it):
- a full run on a database never indexed (it writes every search row first), then a
  full run again (the search rows are there: only changed ones are rewritten);
- indexing alone: a run for one claim on a fresh copy (it indexes every claim);
- runs for --sample claims (set-based retrieval when more than SET_BASED_FROM), for
  --some claims and for one (FTS5 queries), after the full runs.
"""

import argparse
import json
import pathlib
import random
import shutil
import sqlite3
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tracker.links import suggest  # noqa: E402
from tracker.links.stance import model  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "scale.json"


def timed(conn, claim_ids):
    """Seconds and rows of one refresh in its own transaction."""
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    rows = suggest.refresh(conn, claim_ids)
    conn.execute("COMMIT")
    return time.perf_counter() - started, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=pathlib.Path)
    parser.add_argument("--some", type=int, default=10, help="claims in the small partial run")
    parser.add_argument("--sample", type=int, default=2000, help="claims in the large partial run")
    parser.add_argument("--write", action="store_true", help=f"Record the results in {RESULTS.name}.")
    args = parser.parse_args()
    model()  # loaded once, outside the timings
    import numpy  # noqa: F401  imported once, outside the timings (as a long-lived process would)
    import scipy.sparse  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "copy.db"
        shutil.copy(args.db, path)
        conn = sqlite3.connect(path, isolation_level=None)
        claims = conn.execute("SELECT count(*) FROM claims").fetchone()[0]
        ids = [r[0] for r in conn.execute("SELECT id FROM claims")]
        full, rows = timed(conn, None)
        again, _ = timed(conn, None)
        sample = random.Random(1).sample(ids, min(args.sample, claims))
        sampled, _ = timed(conn, sample)
        some = random.Random(0).sample(ids, min(args.some, claims))
        partial, _ = timed(conn, some)
        one, _ = timed(conn, some[:1])
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT * FROM link_suggestions WHERE other_claim_id = ?",
                            ["x"]).fetchall()
        conn.close()
        path.unlink()
        shutil.copy(args.db, path)
        conn = sqlite3.connect(path, isolation_level=None)
        index_seconds, _ = timed(conn, ids[:1])  # indexes every claim
        conn.close()
    result = {
        "claims": claims, "suggestions": rows,
        "full_run_seconds": round(full, 1), "ms_per_claim": round(1000 * full / claims, 3),
        "full_run_again_seconds": round(again, 1),
        f"run_for_{len(sample)}_claims_seconds": round(sampled, 2),
        f"run_for_{len(some)}_claims_seconds": round(partial, 2), "run_for_1_claim_seconds": round(one, 2),
        "indexing_every_claim_seconds": round(index_seconds, 1),
        "set_based_from": suggest.SET_BASED_FROM,
        "claim_page_query_plan": [r[-1] for r in plan],
        "note": "2 shared cores, load from other jobs; wall-clock seconds, nice 19, one thread",
    }
    print(json.dumps(result, indent=2))
    if args.write:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
