#!/usr/bin/env python3
"""Measure the Datasette pages of bench/run.py (step_datasette: a real `tracker serve`,
signed in through its one-time link, one warm-up then N timed requests per page) on
databases built earlier, and print each page's median at the first and the last
database with their ratio. For working on a page between full runs; run.py's figures
stay the record.

Usage::

    .venv/bin/python bench/measure_pages.py SMALL.db LARGE.db [--requests 20] [--word Hyesan]
        [--code-root DIR] [--out results.json]

``--code-root DIR``: run the tracker from a snapshot of DIR/tracker (e.g. an older
commit's, from ``git archive``), as run.py's ``--code snapshot`` does; by default the
installed ``tracker`` command.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dbs", nargs="+", type=pathlib.Path)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--word", default="Hyesan")
    ap.add_argument("--code-root", type=pathlib.Path)
    ap.add_argument("--out", type=pathlib.Path)
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="measure-pages-"))
    if args.code_root:
        run.ROOT = args.code_root.resolve()
        run.CODE = run.Code("snapshot", work)
    else:
        run.CODE = run.Code("live", work)
    out = {"load_before": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), "dbs": {}}
    for db in args.dbs:
        claim_id, _ = run.most_repeated_claim(db)
        typical = run.typical_claim(db)["id"]
        out["dbs"][str(db)] = run.step_datasette(db, work / db.stem / "logs", claim_id, typical, args.word,
                                                 args.requests)
    out["load_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))
    first, last = (out["dbs"][str(d)]["pages"] for d in (args.dbs[0], args.dbs[-1]))
    for name in first:
        a, b = first[name], last[name]
        print(f"{name:26s} {a['median_ms']:8.1f} {b['median_ms']:8.1f} ms  x{b['median_ms'] / a['median_ms']:.2f}  "
              f"{a['bytes'] // 1024} / {b['bytes'] // 1024} KB  timed out: {a['timed_out']} / {b['timed_out']}")
    print("load before:", out["load_before"])
    print("load after: ", out["load_after"])


if __name__ == "__main__":
    main()
