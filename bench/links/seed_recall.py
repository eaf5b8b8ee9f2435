"""How many of the seed corpus's links `suggest-links` finds again, with the links set aside.

Builds seeds/ (texts from ../shared/seeds when present) into a temporary database,
computes every claim's top 5 suggestions ignoring the recorded links, and counts the
links found among either end's top 5, and those found with the right relation.

    .venv/bin/python bench/links/seed_recall.py [--limit 5] [--write]
"""

import argparse
import json
import pathlib
import sqlite3
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tracker.build import build  # noqa: E402
from tracker.links import suggest  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "seed_recall.json"
TEXTS = ROOT.parent / "shared" / "seeds"


def measure(limit=5):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "seed.db"
        build(ROOT / "seeds", path, TEXTS if TEXTS.is_dir() else None)
        conn = sqlite3.connect(path, isolation_level=None)
        links = conn.execute("SELECT from_claim_id, to_claim_id, relation FROM links").fetchall()
        started = time.perf_counter()
        suggest.refresh(conn, None, limit, set_aside_links=True)
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT claim_id, other_claim_id, relation FROM link_suggestions").fetchall()
        claims = conn.execute("SELECT count(*) FROM claims").fetchone()[0]
    suggested = {(a, b) if a < b else (b, a): r for a, b, r in rows}
    found, right, missed = 0, 0, []
    for a, b, relation in links:
        key = (a, b) if a < b else (b, a)
        if key in suggested:
            found += 1
            right += suggested[key] == relation
        else:
            missed.append(f"{a} {relation} {b}")
    return {
        "links": len(links), "claims": claims, "limit": limit,
        "found": found, "found_share": round(found / len(links), 4),
        "right_relation": right, "right_relation_share": round(right / found, 4) if found else None,
        "suggestions": len(rows),
        "contradicts_suggested": sum(1 for r in rows if r[2] == "contradicts"),
        "seconds": round(seconds, 2), "missed": missed,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"Record the results in {RESULTS.name}.")
    args = parser.parse_args()
    result = measure(args.limit)
    result["weights"] = {k: getattr(suggest, k) for k in (
        "DEPTH", "QUERY_TERMS", "W_TAG", "W_RELATED_TAGS", "W_PERIOD", "W_NAMES", "W_OTHER_ORIGIN", "CONTRADICTS_AT")}
    print(json.dumps(result, indent=2))
    if args.write:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
