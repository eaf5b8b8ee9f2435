#!/usr/bin/env python3
"""Export benchmark (issue 13): `tracker export` in each format on synthetic seed trees,
and one Datasette page export, with wall time and peak memory.

Usage (from the project folder)::

    .venv/bin/python bench/export.py [--sizes 10000,100000] [--formats claimreview,csv,prov-json,prov-o]
                                     [--work bench/work/export] [--out bench/export-results.json]

At each size: generate seeds (bench/generate.py, seed 0), build, then run each export
in a subprocess (`tracker export FORMAT --db ... --out ...`), measuring wall time and
the subprocess's peak resident memory (wait4). Then time the page export
/tracker/review_queue.claimreview (first 100 claims of the queue) and one claim's
/tracker/claims/<id>.provjson through Datasette's client on the full database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import sqlite3
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRACKER = str(pathlib.Path(sys.executable).with_name("tracker"))


def measured(command):
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def size_of(path: pathlib.Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size


async def page_exports(db):
    sys.path.insert(0, str(ROOT))
    from tracker.serve import make_datasette

    ds = make_datasette(db)
    claim = sqlite3.connect(db).execute("SELECT id FROM claims ORDER BY appearances DESC LIMIT 1").fetchone()[0]
    results = {}
    for name, path in (("review_queue.claimreview (100 claims)", "/tracker/review_queue.claimreview?_size=100"),
                       ("most repeated claim .provjson", f"/tracker/claims/{claim}.provjson")):
        start = time.perf_counter()
        response = await ds.client.get(path)
        assert response.status_code == 200, response.text[:200]
        results[name] = {"seconds": round(time.perf_counter() - start, 2), "bytes": len(response.content)}
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--formats", default="claimreview,csv,prov-json,prov-o")
    parser.add_argument("--work", type=pathlib.Path, default=ROOT / "bench" / "work" / "export")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "export-results.json")
    args = parser.parse_args()
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    for size in (int(s) for s in args.sizes.split(",")):
        work = args.work / str(size)
        seeds, db = work / "seeds", work / "tracker.db"
        if not db.exists():
            subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(seeds), "--claims", str(size),
                            "--force"], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([TRACKER, "build", str(seeds), "--db", str(db)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        entry = results.setdefault(str(size), {})
        entry["claims"] = sqlite3.connect(db).execute("SELECT count(*) FROM claims").fetchone()[0]
        for fmt in args.formats.split(","):
            out = work / ("csv" if fmt == "csv" else f"export.{fmt}")
            entry[fmt] = measured([TRACKER, "export", fmt, "--db", str(db), "--out", str(out)])
            entry[fmt]["output_mb"] = round(size_of(out) / 1e6, 1)
            print(size, fmt, entry[fmt], flush=True)
        entry["pages"] = asyncio.run(page_exports(db))
        print(size, "pages", entry["pages"], flush=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
