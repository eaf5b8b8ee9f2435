"""Benchmark of `tracker ingest` and the build that follows (issue 10).

Ingests the 20,305-article KCNA 2011-2012 corpus into an empty seed tree (the project's
sources.yml), measures it against a floor measured in the same run, builds the tree,
then ingests one more day of articles (the busiest day of the 2024 corpus) and rebuilds.
Every step is a subprocess measured from outside (wall, CPU, peak memory: bench/run.py's
``run_measured``). Results: bench/ingest-results.json and the block between the
``ingest-results`` markers in bench/README.md.

    .venv/bin/python bench/ingest.py [--repeats N] [--work DIR]

The floor (``--floor`` mode of this script, in its own process): read and decompress the
corpus and parse every line as JSON, then write the very bytes the ingest wrote (its
text files and document files, loaded into memory beforehand, untimed) to new files with
plain ``open``/``write``: no normalising, hashing, duplicate checks, atomic renames or
index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import pathlib
import re
import shutil
import statistics
import sys
import time

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from run import machine, run_measured  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
CORPUS = CORPORA / "kcna-2011-2012.jsonl.gz"
EXTRA = CORPORA / "kcna-2024.json"
RESULTS = BENCH / "ingest-results.json"
README = BENCH / "README.md"
MARK_BEGIN, MARK_END = "<!-- ingest-results -->", "<!-- /ingest-results -->"
TRACKER = [sys.executable, "-m", "tracker.cli"]


def floor(corpus: pathlib.Path, seeds: pathlib.Path, texts: pathlib.Path, out: pathlib.Path):
    """Read the corpus, write the same bytes as the ingest did; print the timed part as JSON."""
    payload = []
    for folder, source in (("documents", seeds / "documents"), ("texts", texts)):
        for entry in sorted(os.scandir(source), key=lambda e: e.name):
            if entry.is_file() and not entry.name.startswith("."):
                with open(entry.path, "rb") as handle:
                    payload.append((folder, entry.name, handle.read()))
    for folder in ("documents", "texts"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    cpu_times = os.times()[:2]
    with gzip.open(corpus, "rb") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    for folder, name, data in payload:
        with open(out / folder / name, "wb") as handle:
            handle.write(data)
    times = os.times()
    print(json.dumps({"wall_s": round(time.perf_counter() - started, 3), "cpu_s": round(time.process_time() - cpu, 3),
                      "user_s": round(times.user - cpu_times[0], 3), "sys_s": round(times.system - cpu_times[1], 3),
                      "records": len(records), "files": len(payload), "bytes": sum(len(p[2]) for p in payload)}))


def busiest_day(path: pathlib.Path, out: pathlib.Path) -> tuple[str, int]:
    """The 2024 corpus's day with the most articles with text, as a kcna-json file."""
    records = [r for r in json.loads(path.read_text(encoding="utf-8")) if (r.get("story_text") or "").strip()]
    days = {}
    for record in records:
        days.setdefault(record["date_str"], []).append(record)
    day = max(sorted(days), key=lambda d: len(days[d]))
    out.write_text(json.dumps(days[day]), encoding="utf-8")
    return day, len(days[day])


def summary_counts(stdout: str) -> dict:
    text = " ".join(stdout.split())
    counts = {}
    for key, pattern in [("taken", r"(\d+) taken"), ("unchanged", r"(\d+) already there"),
                         ("duplicates", r"(\d+) duplicate"), ("changed", r"(\d+) changed"), ("refused", r"(\d+) refused")]:
        match = re.search(pattern, text)
        counts[key] = int(match.group(1)) if match else None
    return counts


def build_counts(stdout: str) -> dict:
    text = " ".join(stdout.split())
    match = re.search(r"\((\d+) file\(s\) parsed, (\d+) document\(s\) rewritten", text)
    return {"files_parsed": int(match.group(1)), "documents_rewritten": int(match.group(2))} if match else {}


def measured(name, cmd, logs, timeout=1800):
    print(f"  {name} ...", flush=True)
    result = run_measured(cmd, timeout, logs / f"{name}.log")
    peak = max(result["maxrss_bytes"] or 0, result["tree_peak_pss_bytes"] or 0)
    print(f"    {result['wall_s']} s wall, {result['cpu_s']} s CPU, {peak / 2**20:.0f} MB peak", flush=True)
    return {k: result[k] for k in ("command", "wall_s", "cpu_s", "user_s", "sys_s", "maxrss_bytes",
                                   "tree_peak_pss_bytes")} | {
        "peak_mb": round(peak / 2**20, 1), "stdout": " ".join(result["stdout"].split())[-600:]}


def median_run(runs):
    runs = sorted(runs, key=lambda r: r["wall_s"])
    chosen = dict(runs[len(runs) // 2])
    chosen["all_wall_s"] = [r["wall_s"] for r in runs]
    return chosen


def size_mb(path: pathlib.Path) -> float:
    """The SQLite file with its -wal and -shm, if any (not the .cache beside it)."""
    files = [path, *path.parent.glob(path.name + "-*")]
    return round(sum(p.stat().st_size for p in files if p.is_file()) / 2**20, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=pathlib.Path, default=BENCH / "work" / "ingest")
    parser.add_argument("--repeats", type=int, default=1, help="ingest and floor runs, each into a fresh tree")
    parser.add_argument("--floor", nargs=4, type=pathlib.Path, metavar=("CORPUS", "SEEDS", "TEXTS", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--readme-only", action="store_true")
    args = parser.parse_args()
    if args.floor:
        floor(*args.floor)
        return
    if args.readme_only:
        render(json.loads(RESULTS.read_text()))
        return
    if not CORPUS.is_file() or not EXTRA.is_file():
        sys.exit(f"the corpora are not in {CORPORA}")

    started = time.time()
    work = args.work
    logs = work / "logs"
    out = {"run_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "command": " ".join([".venv/bin/python", "bench/ingest.py", *sys.argv[1:]]), "machine": machine(),
           "corpus": str(CORPUS.relative_to(ROOT.parent)), "repeats": args.repeats,
           "load_average_start": round(os.getloadavg()[0], 2)}
    ingests, floors = [], []
    for attempt in range(args.repeats):
        print(f"ingest and floor, run {attempt + 1} of {args.repeats}", flush=True)
        if work.exists():
            shutil.rmtree(work)
        seeds, texts = work / "seeds", work / "texts"
        (seeds / "documents").mkdir(parents=True)
        shutil.copy(ROOT / "seeds" / "sources.yml", seeds / "sources.yml")
        ingests.append(measured("ingest", TRACKER + ["ingest", "kcna-jsonl", CORPUS, "--seeds", seeds, "--texts",
                                                     texts, "--quiet"], logs))
        run = measured("floor", [sys.executable, __file__, "--floor", CORPUS, seeds, texts, work / "floor"], logs)
        timed = json.loads(run["stdout"])
        run.update({"wall_s": timed["wall_s"], "cpu_s": timed["cpu_s"], "user_s": timed["user_s"],
                    "sys_s": timed["sys_s"], "process_wall_s": run["wall_s"],
                    "files": timed["files"], "bytes": timed["bytes"], "records": timed["records"]})
        floors.append(run)
        shutil.rmtree(work / "floor")
    ingest, floor_run = median_run(ingests), median_run(floors)
    out["ingest"] = ingest | {"counts": summary_counts(ingest["stdout"])}
    out["floor"] = floor_run
    out["ingest_over_floor"] = round(ingest["wall_s"] / floor_run["wall_s"], 2)
    out["ingest_cpu_over_floor_cpu"] = round(ingest["cpu_s"] / max(floor_run["cpu_s"], 0.001), 2)
    out["ingest_user_over_floor_user"] = round(ingest["user_s"] / max(floor_run["user_s"], 0.001), 2)
    out["ratios_per_repeat"] = [round(i["wall_s"] / f["wall_s"], 2) for i, f in zip(ingests, floors)]

    print("second ingest of the same corpus (idempotence)", flush=True)
    again = measured("ingest-again", TRACKER + ["ingest", "kcna-jsonl", CORPUS, "--seeds", seeds, "--texts", texts,
                                                "--quiet"], logs)
    out["ingest_again"] = again | {"counts": summary_counts(again["stdout"])}

    db = work / "db" / "tracker.db"
    print("builds", flush=True)
    cold = measured("build-cold", TRACKER + ["build", seeds, "--db", db, "--texts", texts], logs)
    out["build_cold"] = cold | build_counts(cold["stdout"]) | {"db_mb": size_mb(db), "cache_mb": size_mb(
        pathlib.Path(str(db) + ".cache"))}
    out["check"] = measured("check", TRACKER + ["check", seeds, "--texts", texts], logs)
    nochange = measured("build-no-change", TRACKER + ["build", seeds, "--db", db, "--texts", texts], logs)
    out["build_no_change"] = nochange | build_counts(nochange["stdout"])

    day_file = work / "one-day.json"
    day, day_articles = busiest_day(EXTRA, day_file)
    print(f"one more day: {day_articles} articles of {day}", flush=True)
    day_ingest = measured("ingest-day", TRACKER + ["ingest", "kcna-json", day_file, "--seeds", seeds, "--texts",
                                                   texts, "--quiet"], logs)
    out["day"] = {"date": day, "articles": day_articles, "ingest": day_ingest | {
        "counts": summary_counts(day_ingest["stdout"])}}
    rebuild = measured("build-after-day", TRACKER + ["build", seeds, "--db", db, "--texts", texts], logs)
    out["day"]["rebuild"] = rebuild | build_counts(rebuild["stdout"])
    documents = out["build_cold"]["files_parsed"]
    taken = out["day"]["ingest"]["counts"]["taken"] or 0
    share = taken / max(documents, 1)
    out["day"]["proportional_share_of_cold_s"] = round(cold["wall_s"] * share, 3)
    out["day"]["rebuild_minus_no_change_s"] = round(rebuild["wall_s"] - nochange["wall_s"], 3)

    print("publish and scan the public file for text", flush=True)
    public = work / "db" / "public.db"
    out["publish"] = measured("publish", TRACKER + ["publish", "--db", db, "--out", public], logs)
    out["publish"]["texts_found_in_public_file"] = scan_for_texts(public, texts)
    out["total_minutes"] = round((time.time() - started) / 60, 1)
    out["load_average_end"] = round(os.getloadavg()[0], 2)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    render(out)
    print(f"wrote {RESULTS.relative_to(ROOT)} and the README block", flush=True)


def scan_for_texts(public: pathlib.Path, texts: pathlib.Path, samples: int = 500) -> dict:
    """Look for passages of the texts (60 characters from the middle of each of ``samples``
    texts) in the public file's bytes."""
    raw = public.read_bytes()
    names = sorted(p.name for p in texts.iterdir())
    step = max(len(names) // samples, 1)
    found = checked = 0
    for name in names[::step][:samples]:
        text = (texts / name).read_text(encoding="utf-8")
        middle = len(text) // 2
        passage = text[middle:middle + 60]
        if len(passage) < 60:
            continue
        checked += 1
        found += passage.encode("utf-8") in raw
    return {"passages_checked": checked, "found": found}


def render(out: dict):
    ingest, floor_run, cold, day = out["ingest"], out["floor"], out["build_cold"], out["day"]
    counts = ingest["counts"]
    m = out["machine"]
    lines = [MARK_BEGIN, "<!-- generated by bench/ingest.py from bench/ingest-results.json; do not edit by hand -->", "",
             f"**Run:** {out['run_at']} &nbsp; **Command:** `{out['command']}` &nbsp; **Total:** "
             f"{out['total_minutes']} min &nbsp; **Machine:** {m.get('cpu', '?')}, {m.get('cores', '?')} cores; "
             f"load average (1 min) at start {out['load_average_start']}, at end {out['load_average_end']} (six "
             "engineers share this machine)", "",
             "| step | wall s | CPU s | peak MB | notes |", "|---|---:|---:|---:|---|",
             f"| floor: read corpus, write the same {floor_run['files']:,} files ({floor_run['bytes'] / 2**20:.0f} MB) "
             f"| {floor_run['wall_s']} | {floor_run['cpu_s']} | {floor_run['peak_mb']} | no checks, plain writes |",
             f"| ingest of {CORPUS.name} | {ingest['wall_s']} | {ingest['cpu_s']} | {ingest['peak_mb']} | "
             f"{counts['taken']:,} taken, {counts['duplicates']} duplicates, {counts['refused']} refused; "
             f"**{out['ingest_over_floor']}x the floor** (goal 3x; per repeat "
             f"{', '.join(f'{r}x' for r in out['ratios_per_repeat'])}; CPU {out['ingest_cpu_over_floor_cpu']}x, "
             f"user CPU {out['ingest_user_over_floor_user']}x; user/sys s: ingest {ingest['user_s']}/{ingest['sys_s']}, "
             f"floor {floor_run['user_s']}/{floor_run['sys_s']}) |",
             f"| the same ingest again | {out['ingest_again']['wall_s']} | {out['ingest_again']['cpu_s']} | "
             f"{out['ingest_again']['peak_mb']} | {out['ingest_again']['counts']['taken']} taken, "
             f"{out['ingest_again']['counts']['unchanged']:,} unchanged |",
             f"| cold build (`--texts`) | {cold['wall_s']} | {cold['cpu_s']} | {cold['peak_mb']} | "
             f"{cold.get('files_parsed', 0):,} unread documents; db {cold['db_mb']} MB (+ cache {cold['cache_mb']} MB); "
             f"goal under 60 s |",
             f"| `tracker check` | {out['check']['wall_s']} | {out['check']['cpu_s']} | {out['check']['peak_mb']} | |",
             f"| rebuild, nothing changed | {out['build_no_change']['wall_s']} | {out['build_no_change']['cpu_s']} | "
             f"{out['build_no_change']['peak_mb']} | the fixed cost: start-up, a stat of every seed file and every text "
             "(unchanged texts are not read), the whole-tree checks |",
             f"| ingest one more day ({day['date']}, {day['articles']} articles) | {day['ingest']['wall_s']} | "
             f"{day['ingest']['cpu_s']} | {day['ingest']['peak_mb']} | {day['ingest']['counts']['taken']} taken, "
             f"{day['ingest']['counts']['duplicates']} duplicates |",
             f"| rebuild after that day | {day['rebuild']['wall_s']} | {day['rebuild']['cpu_s']} | "
             f"{day['rebuild']['peak_mb']} | {day['rebuild'].get('files_parsed')} parsed, "
             f"{day['rebuild'].get('documents_rewritten')} rewritten; minus the no-change rebuild: "
             f"{day['rebuild_minus_no_change_s']} s (noise: the day's own work is below what this machine can "
             f"resolve), against the cold build's proportional share of {day['proportional_share_of_cold_s']} s |",
             f"| publish | {out['publish']['wall_s']} | {out['publish']['cpu_s']} | {out['publish']['peak_mb']} | "
             f"{out['publish']['texts_found_in_public_file']['found']} of "
             f"{out['publish']['texts_found_in_public_file']['passages_checked']} text passages found in the public "
             "file's bytes |", "", MARK_END]
    block = "\n".join(lines)
    text = README.read_text()
    if MARK_BEGIN in text:
        text = text[:text.index(MARK_BEGIN)] + block + text[text.index(MARK_END) + len(MARK_END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text)


if __name__ == "__main__":
    main()
