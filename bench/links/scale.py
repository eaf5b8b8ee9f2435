"""Time `suggest-links` on a large database: a full run, and a run for a few claims.

    python bench/generate.py /tmp/seeds100k --claims 100000
    tracker build /tmp/seeds100k --db /tmp/big.db
    nice .venv/bin/python bench/links/scale.py /tmp/big.db [--write]

The database is copied first (the run writes its suggestions into the copy).
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=pathlib.Path)
    parser.add_argument("--some", type=int, default=10, help="claims in the partial run")
    parser.add_argument("--sample", type=int, default=0,
                        help="instead of a full run, time a run for this many claims (after indexing all)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    model()  # loaded once, outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "copy.db"
        shutil.copy(args.db, path)
        conn = sqlite3.connect(path, isolation_level=None)
        claims = conn.execute("SELECT count(*) FROM claims").fetchone()[0]
        ids = [r[0] for r in conn.execute("SELECT id FROM claims")]
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        if args.sample:
            suggest.refresh(conn, ids[:1])  # indexes every claim
            conn.execute("COMMIT")
            index_seconds = time.perf_counter() - started
            sample = random.Random(1).sample(ids, args.sample)
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            rows = suggest.refresh(conn, sample)
        else:
            rows = suggest.refresh(conn)
        conn.execute("COMMIT")
        full = time.perf_counter() - started
        some = random.Random(0).sample(ids, args.some)
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        suggest.refresh(conn, some)
        conn.execute("COMMIT")
        partial = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        suggest.refresh(conn, some[:1])
        conn.execute("COMMIT")
        one = time.perf_counter() - started
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT * FROM link_suggestions WHERE other_claim_id = ?",
                            ["x"]).fetchall()
    measured = args.sample or claims
    result = {
        "claims": claims, "suggestions": rows,
        "timed_claims": measured,
        "seconds": round(full, 1), "ms_per_claim": round(1000 * full / measured, 2),
        "full_run_seconds" + ("_extrapolated" if args.sample else ""): round(full * claims / measured, 1),
        f"run_for_{args.some}_claims_seconds": round(partial, 2), "run_for_1_claim_seconds": round(one, 2),
        "claim_page_query_plan": [r[-1] for r in plan],
        "indexing_every_claim_seconds": round(index_seconds, 1) if args.sample else None,
        "note": "2 shared cores, load from other jobs; wall-clock seconds",
    }
    print(json.dumps(result, indent=2))
    if args.write:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
