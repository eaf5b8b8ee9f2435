#!/usr/bin/env python3
"""Benchmark runner for issue 5: the tracker at 10k, 100k and 1M claims, against the floor.

Usage (from the project folder)::

    .venv/bin/python bench/run.py [--sizes 10000,100000,1000000] [--work bench/work]

At each size, in one run:

1. generate a synthetic seed tree (``bench/generate.py``, seed 0) into ``WORK/<size>/seeds``;
2. the FLOOR (``bench/floor.py``, in a subprocess): CSafeLoader + bare ``executemany``
   of the same rows into plain tables of a new SQLite file;
3. COLD BUILD: ``tracker build`` on a new database with no ``<db>.cache``: wall time,
   CPU time, peak memory (largest single process from ``wait4``, as ``/usr/bin/time -v``
   reports it, and the sampled total PSS of the whole process tree, build workers
   included);
4. ONE-FILE REBUILD: one document gets one more ``ref`` appearance (of the most
   repeated claim), then ``tracker build`` again on the same database; plus a no-change
   rebuild for reference;
5. DATASETTE: a real ``tracker serve`` on 127.0.0.1 and a free port; per page one
   warm-up then ``--requests`` timed requests (median, p90), the HTTP status, and
   whether any facet timed out (``facets_timed_out`` of the ``.json`` variant, and
   "timed out" in the HTML).

Then, once, the smallest and the largest database are served at once and each page is
timed on both, requests alternating: the page goals' ratios (``step_paired_pages``).

Writes ``bench/results.json`` after every size (so a failed run keeps what it measured)
and regenerates the results block of ``bench/README.md`` between its markers.
``--readme-only`` re-renders the README from an existing results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import pathlib
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results.json"
README = BENCH / "README.md"
MARK_BEGIN = "<!-- results -->"
MARK_END = "<!-- /results -->"
# The seed-tree generator (--generator): generate.py, or generate_other.py, a tree of
# another shape (its results go to results-other.json and a block of their own).
GENERATOR = "generate.py"

# Goals of issue 14 (issue 5's were 2x, 1/4 and 3x).
GOAL_COLD_VS_FLOOR = 1.5
GOAL_REBUILD_VS_COLD = 0.05  # one document file changed, at 100k and 1M
GOAL_NOOP_VS_COLD = 0.03  # nothing changed, at 100k ...
GOAL_NOOP_S = 1.0  # ... and at most a second
EDIT_GOAL_SIZES = (100_000, 1_000_000)
NOOP_GOAL_SIZES = (100_000,)
GOAL_PEAK_BYTES = 2 * 1024**3
GOAL_PAGE_GROWTH = 3.0
GOAL_SEARCH_GROWTH = 2.0  # the search pages (issue 14)
SEARCH_PAGES = ("claims_search", "queue_search")
MEMORY_GOAL_SIZE = 1_000_000
# issue 14's check on the other generator's tree: cold, no change and a title edit in one run
OTHER_GENERATOR = "generate_other.py"
OTHER_SHAPE_GOALS = {"noop_rebuild": ("no-change rebuild", 0.04), "title_rebuild": ("one-file rebuild (title)", 0.05)}
STARTUP_RUNS = 5

SUMMARY = re.compile(
    r"Built .*?: (?P<claims>\d+) claims, (?P<appearances>\d+) appearances, (?P<links>\d+) links, "
    r"(?P<documents>\d+) documents, (?P<sources>\d+) sources \((?P<files_parsed>\d+) file\(s\) parsed, "
    r"(?P<documents_rewritten>\d+) document\(s\) rewritten, (?P<claims_recomputed>\d+) claim\(s\) recomputed\)"
)
NOTHING_CHANGED = re.compile(
    r"Nothing changed since the last build: .*? is up to date \((?P<claims>\d+) claims, (?P<documents>\d+) "
    r"documents, (?P<sources>\d+) sources\)"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- processes


def _children(pid: int) -> list[int]:
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    kids += [int(k) for k in fh.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def _tree(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _memory_of(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in bytes; (0, 0) when it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
    except OSError:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                pss = rss
        except OSError:
            pass
    return pss, rss


def run_measured(cmd, timeout: float, log_path: pathlib.Path, env=None, sample: bool = True, cwd=None) -> dict:
    """Run ``cmd`` and measure it from outside: wall, CPU (user+sys, reaped children
    included), maxrss of the largest single process (``wait4``, what ``/usr/bin/time -v``
    shows) and, sampled every 0.2 s, the peak total PSS/RSS of the process tree."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_path.with_suffix(".out")
    err_path = log_path.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd or ROOT, start_new_session=True)
    box = {}

    def reap():
        _, status, usage = os.wait4(proc.pid, 0)
        box["ended"] = time.perf_counter()
        box["status"] = status
        box["usage"] = usage

    waiter = threading.Thread(target=reap, daemon=True)
    waiter.start()
    peak_pss = peak_rss = peak_procs = 0
    deadline = started + timeout
    timed_out = False
    while waiter.is_alive():
        if time.perf_counter() > deadline:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            waiter.join(30)
            break
        if sample:
            pids = _tree(proc.pid)
            pss = rss = 0
            for p in pids:
                a, b = _memory_of(p)
                pss += a
                rss += b
            peak_pss, peak_rss, peak_procs = max(peak_pss, pss), max(peak_rss, rss), max(peak_procs, len(pids))
        waiter.join(0.2)
    proc.returncode = os.waitstatus_to_exitcode(box["status"]) if "status" in box else -9
    usage = box.get("usage")
    result = {
        "command": " ".join(shlex.quote(str(c)) for c in cmd),
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "wall_s": round(box.get("ended", time.perf_counter()) - started, 3),
        "user_s": round(usage.ru_utime, 3) if usage else None,
        "sys_s": round(usage.ru_stime, 3) if usage else None,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3) if usage else None,
        "maxrss_bytes": usage.ru_maxrss * 1024 if usage else None,  # Linux: KiB
        "tree_peak_pss_bytes": peak_pss or None,
        "tree_peak_rss_bytes": peak_rss or None,
        "tree_peak_processes": peak_procs or None,
        "stdout": out_path.read_text(errors="replace"),
        "stderr_tail": err_path.read_text(errors="replace")[-3000:],
        "stderr_full": err_path.read_text(errors="replace"),
    }
    if timed_out:
        raise RuntimeError(f"timed out after {timeout:.0f} s: {result['command']}")
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {result['command']}\n{result['stderr_tail']}")
    return result


class Code:
    """How the runner starts the tracker: the installed ``tracker`` command (``live``), or
    ``python -m tracker`` from a copy of tracker/ and metadata.yml taken when the run
    starts (``snapshot``, the default), so that edits made to the project while the
    benchmark runs cannot mix two versions of the code into one set of figures."""

    def __init__(self, mode: str, work: pathlib.Path):
        self.mode = mode
        self.dir = None
        self.info = {"mode": mode}
        if mode == "snapshot":
            import hashlib

            self.dir = work / "code"
            if self.dir.exists():
                shutil.rmtree(self.dir)
            self.dir.mkdir(parents=True)
            shutil.copytree(ROOT / "tracker", self.dir / "tracker",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            digest = hashlib.sha256()
            for f in sorted(p for p in self.dir.rglob("*") if p.is_file()):
                digest.update(str(f.relative_to(self.dir)).encode() + b"\0" + f.read_bytes())
            self.info["sha256"] = digest.hexdigest()[:16]
            self.info["dir"] = str(self.dir)
            # as an installed package (and scripts/setup.sh) is: byte-compiled, so that no
            # timed command compiles the tracker's modules again (PYTHONDONTWRITEBYTECODE
            # is set for every command, which only stops Python writing .pyc files)
            import compileall

            compileall.compile_dir(str(self.dir / "tracker"), quiet=1)
            where = subprocess.run([sys.executable, "-c", "import tracker.cli, tracker.plugin; print(tracker.__file__)"],
                                   cwd=self.dir, env=self.env(), capture_output=True, text=True, timeout=120)
            if where.returncode != 0 or not where.stdout.strip().startswith(str(self.dir)):
                raise SystemExit(f"the code snapshot in {self.dir} does not import: {where.stdout} {where.stderr}")

    def command(self) -> list:
        if self.dir is not None:
            return [sys.executable, "-m", "tracker"]
        for candidate in (pathlib.Path(sys.executable).parent / "tracker", ROOT / ".venv" / "bin" / "tracker"):
            if candidate.exists():
                return [str(candidate)]
        found = shutil.which("tracker")
        if not found:
            raise SystemExit("the tracker command is not installed (run from the project venv)")
        return [found]

    @property
    def cwd(self):
        return self.dir or ROOT

    def env(self) -> dict:
        env = dict(os.environ)
        # rich wraps at 80 columns without a terminal: keep the summary on one line.
        env.update(COLUMNS="1000", NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
        # no team accounts: the server prints its one-time sign-in link, which sign_in follows
        for name in ("TRACKER_READERS", "TRACKER_REVIEWERS"):
            env.pop(name, None)
        if self.dir is not None:
            env["PYTHONPATH"] = str(self.dir) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        return env


CODE: Code | None = None


def parse_summary(stdout: str) -> dict:
    match = SUMMARY.search(" ".join(stdout.split()))
    nothing = NOTHING_CHANGED.search(" ".join(stdout.split()))
    if nothing and not match:
        return {**{k: int(v) for k, v in nothing.groupdict().items()}, "files_parsed": 0,
                "documents_rewritten": 0, "claims_recomputed": 0, "nothing_changed": True}
    if not match:
        raise RuntimeError(f"no build summary in the output: {stdout[-500:]!r}")
    return {k: int(v) for k, v in match.groupdict().items()}


def remove_db(db: pathlib.Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", ".cache", ".cache-wal", ".cache-shm", ".cache.lock"):
        p = pathlib.Path(str(db) + suffix)
        if p.exists():
            p.unlink()


def file_size(path: pathlib.Path) -> int:
    return sum(pathlib.Path(str(path) + s).stat().st_size for s in ("", "-wal")
               if pathlib.Path(str(path) + s).exists())


# --------------------------------------------------------------------------- steps


def step_generate(size: int, tree: pathlib.Path, logs: pathlib.Path, reuse: bool) -> dict:
    stamp = tree / ".generated.json"
    if reuse and stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("claims") == size and saved.get("seed") == 0 and saved.get("generator", "generate.py") == GENERATOR:
            restore_edit(tree)
            log(f"  reusing the tree in {tree} (--reuse-trees)")
            return dict(saved, reused=True)
    # Removing the previous tree (160k files at 1M) can take longer than writing a new
    # one: it is done, and timed, apart from the generation itself.
    t0 = time.perf_counter()
    if tree.exists():
        shutil.rmtree(tree)
    removed_s = round(time.perf_counter() - t0, 3)
    cmd = [sys.executable, BENCH / GENERATOR, tree, "--claims", size, "--seed", 0]
    run = run_measured(cmd, 60 + size * 0.0006, logs / "generate", sample=False)
    counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)\b", run["stdout"]) if k != "seconds"}
    result = {"claims": size, "seed": 0, "generator": GENERATOR, "counts": counts, "wall_s": run["wall_s"],
              "reused": False,
              "old_tree_removed_s": removed_s}
    stamp.write_text(json.dumps(result))
    return result


def step_floor(tree: pathlib.Path, db: pathlib.Path, logs: pathlib.Path, size: int) -> dict:
    remove_db(db)
    run = run_measured([sys.executable, BENCH / "floor.py", tree, db], 120 + size * 0.0015, logs / "floor")
    inner = json.loads(run["stdout"].strip().splitlines()[-1])
    return {
        "wall_s": run["wall_s"], "cpu_s": run["cpu_s"], "maxrss_bytes": run["maxrss_bytes"],
        "inner_s": inner["seconds"], "files": inner["files"], "rows": inner["rows"],
        "db_bytes": file_size(db),
    }


def step_build(tree: pathlib.Path, db: pathlib.Path, logs: pathlib.Path, name: str, timeout: float) -> dict:
    run = run_measured([*CODE.command(), "build", tree, "--db", db], timeout, logs / name, env=CODE.env(),
                       cwd=CODE.cwd)
    peak = max(run["maxrss_bytes"] or 0, run["tree_peak_pss_bytes"] or 0)
    return {
        "wall_s": run["wall_s"], "user_s": run["user_s"], "sys_s": run["sys_s"], "cpu_s": run["cpu_s"],
        "maxrss_bytes": run["maxrss_bytes"],
        "tree_peak_pss_bytes": run["tree_peak_pss_bytes"],
        "tree_peak_rss_bytes": run["tree_peak_rss_bytes"],
        "tree_peak_processes": run["tree_peak_processes"],
        "peak_memory_bytes": peak,
        "summary": parse_summary(run["stdout"]),
        # what the build printed besides its summary: a few lines of warnings, never thousands
        "stderr_lines": len(run["stderr_full"].splitlines()),
        "db_bytes": file_size(db),
        "cache_bytes": file_size(pathlib.Path(str(db) + ".cache")),
    }


def lower_median(items: list, key=None):
    """The median item (the lower middle one for an even count): always one that was measured."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def median_run(runs: list) -> dict:
    """The run with the median wall time (lower_median), plus every run's wall time."""
    chosen = dict(lower_median(runs, key=lambda r: r["wall_s"]))
    if len(runs) > 1:
        chosen["runs_wall_s"] = [r["wall_s"] for r in runs]
    return chosen


def cold_vs_floor(r: dict) -> float:
    """The cold build's wall time over the floor's: the median of the alternating pairs'
    ratios where there are several (results of runs that had none: the medians' ratio)."""
    pairs = r.get("cold_vs_floor_pairs") or []
    if len(pairs) > 1:
        return round(lower_median(pairs), 2)
    return round(r["cold_build"]["wall_s"] / r["floor"]["wall_s"], 2)


def runs_note(runs: list) -> str:
    return "" if len(runs) < 2 else "; runs: " + ", ".join(f"{r['wall_s']}" for r in runs) + " s"


def most_repeated_claim(db: pathlib.Path) -> tuple[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return tuple(conn.execute(
            "SELECT claim_id, count(*) AS n FROM appearances GROUP BY claim_id ORDER BY n DESC, claim_id LIMIT 1"
        ).fetchone())
    finally:
        conn.close()


def typical_claim(db: pathlib.Path) -> dict:
    """A claim page of ordinary weight: the first claim (by id) with 3 appearances and a link."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            """SELECT a.claim_id, count(*) FROM appearances a GROUP BY a.claim_id
               HAVING count(*) = 3 AND EXISTS (SELECT 1 FROM links l WHERE l.from_claim_id = a.claim_id
                                                                      OR l.to_claim_id = a.claim_id)
               ORDER BY a.claim_id LIMIT 1""").fetchone()
        return {"id": row[0], "appearances": row[1]}
    finally:
        conn.close()


def edit_one_document(tree: pathlib.Path, claim_id: str) -> dict:
    """Append one ``ref`` appearance of ``claim_id`` to a document that lacks it.

    Deterministic: the document files sorted by name, starting at the middle one. A
    careful text edit (the new entry goes at the end of ``claims:``) keeps every other
    byte as generated; the result is parsed back to prove it is valid YAML.
    """
    import yaml

    files = sorted(p for p in (tree / "documents").iterdir() if p.suffix in (".yml", ".yaml"))
    backup = tree / "EDITED_ORIGINAL"
    start = len(files) // 2
    for path in files[start:] + files[:start]:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=yaml.CSafeLoader)
        if any(claim_id in (a.get("id"), a.get("ref")) for a in data.get("claims") or ()):
            continue
        entry = f"  - ref: {claim_id}\n    source: {data['publisher']}\n"
        marker = "\nlinks:\n"
        at = text.find(marker)
        edited = text[: at + 1] + entry + text[at + 1:] if at >= 0 else text.rstrip("\n") + "\n" + entry
        check = yaml.load(edited, Loader=yaml.CSafeLoader)
        assert check["claims"][-1] == {"ref": claim_id, "source": data["publisher"]}, "edit went wrong"
        assert len(check["claims"]) == len(data["claims"]) + 1
        assert check.get("links") == data.get("links")
        backup.write_text(json.dumps({"path": path.name, "text": text}), encoding="utf-8")
        path.write_text(edited, encoding="utf-8")
        return {"file": path.name, "added": f"ref {claim_id} (source {data['publisher']})",
                "appearances_before": len(data["claims"])}
    raise RuntimeError(f"every document already mentions {claim_id}")


TITLE_BACKUP = "TITLE_ORIGINAL"


def edit_title(tree: pathlib.Path) -> dict:
    """Change the title of one document (the first by name after the middle one, not the
    file edit_one_document touches): a one-line text edit."""
    files = sorted(p for p in (tree / "documents").iterdir() if p.suffix in (".yml", ".yaml"))
    path = files[len(files) // 2 + 7]
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    title = f"Edited title {int(time.time() * 1000) % 1_000_000}"
    lines[at] = f"title: {title}"
    (tree / TITLE_BACKUP).write_text(json.dumps({"path": path.name, "text": text}), encoding="utf-8")
    path.write_text("\n".join(lines), encoding="utf-8")
    return {"file": path.name, "title": title}


def restore_title(tree: pathlib.Path) -> None:
    backup = tree / TITLE_BACKUP
    if backup.exists():
        saved = json.loads(backup.read_text(encoding="utf-8"))
        (tree / "documents" / saved["path"]).write_text(saved["text"], encoding="utf-8")
        backup.unlink()


def document_title(db: pathlib.Path, seed_file: str) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT title FROM documents WHERE seed_file = ?", [f"documents/{seed_file}"]).fetchone()
    finally:
        conn.close()
    return row and row[0]


def step_startup(logs: pathlib.Path) -> dict:
    """Start-up of ``tracker build``: the wall time of ``build --help`` (interpreter,
    imports, command registration), and what ``-X importtime`` says the imports cost."""
    runs = [run_measured([*CODE.command(), "build", "--help"], 120, logs / "startup", env=CODE.env(),
                         cwd=CODE.cwd, sample=False)["wall_s"] for _ in range(STARTUP_RUNS)]
    env = CODE.env()
    timed = subprocess.run([sys.executable, "-X", "importtime", "-m", "tracker", "build", "--help"],
                           cwd=CODE.cwd, env=env, capture_output=True, text=True, timeout=120)
    imports = {}
    for line in timed.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) == 1:  # what the command imports itself (it runs as __main__)
            imports[m.group(4)] = int(m.group(2)) / 1e6
    heavy = [name for name in ("datasette", "rapidfuzz", "sklearn", "numpy", "trafilatura", "rdflib", "pyld",
                               "prov", "pycrfsuite", "lxml") if re.search(rf"\| +{re.escape(name)}(\.|$)",
                                                                           timed.stderr, re.M)]
    return {"build_help_wall_s": statistics.median(runs), "runs_wall_s": runs,
            "imports_s": round(sum(imports.values()), 3),
            "largest_imports_s": dict(sorted(imports.items(), key=lambda kv: -kv[1])[:8]),
            "heavy_modules_loaded": heavy}


def restore_edit(tree: pathlib.Path) -> None:
    backup = tree / "EDITED_ORIGINAL"
    if backup.exists():
        saved = json.loads(backup.read_text(encoding="utf-8"))
        (tree / "documents" / saved["path"]).write_text(saved["text"], encoding="utf-8")
        backup.unlink()


# --------------------------------------------------------------------------- datasette


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# The full database is for signed-in team members (anonymous requests get 403): the
# pages are fetched with the cookie the server's one-time sign-in link sets.
def sign_in(log_path: pathlib.Path, deadline: float) -> str:
    """Follow the one-time link `tracker serve` prints (no accounts configured): the
    ds_actor cookie it sets, for every request after."""
    while True:
        found = re.search(r"(http://\S+/-/sign-in\?token=\S+)", log_path.read_text(errors="replace"))
        if found:
            break
        if time.perf_counter() > deadline:
            raise RuntimeError("tracker serve printed no sign-in link")
        time.sleep(0.2)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response = opener.open(found.group(1), timeout=30)
        headers = response.headers
    except urllib.error.HTTPError as e:  # the redirect after signing in
        headers = e.headers
    cookies = [c.split(";")[0] for c in headers.get_all("Set-Cookie") or [] if c.startswith("ds_actor=")]
    if not cookies:
        raise RuntimeError("the sign-in link set no ds_actor cookie")
    return cookies[0]


def fetch(url: str, cookie: str | None = None, timeout: float = 60.0) -> tuple[int, bytes]:
    headers = {"Accept-Encoding": "identity"}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def json_variant(path: str) -> str:
    base, _, query = path.partition("?")
    return base + ".json" + ("?" + query if query else "")


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def search_word_count(db: pathlib.Path, word: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM claims_fts WHERE claims_fts MATCH ?", [word]).fetchone()[0]
    finally:
        conn.close()


def pages_for(claim_id: str, typical_id: str, word: str) -> dict:
    q = urllib.parse.quote
    return {
        "review_queue": "/tracker/review_queue",
        "claim_row": f"/tracker/claims/{q(claim_id, safe='')}",
        "claim_row_typical": f"/tracker/claims/{q(typical_id, safe='')}",
        "claims_facet_status": "/tracker/claims?_facet=status",
        "claims_facet_origin_type": "/tracker/claims?_facet=origin_type",
        "claims_search": f"/tracker/claims?_search={q(word)}",
        "queue_search": f"/tracker/review_queue?_search={q(word)}",
        "circular_reporting": "/tracker/circular_reporting",
    }


def expected_facets(path: str) -> list:
    """The facets a table page should show: metadata.yml's for the table plus ``_facet``."""
    import yaml

    base, _, query = path.partition("?")
    parts = base.strip("/").split("/")
    if len(parts) != 2:  # a row page, not a table page
        return []
    tables = yaml.safe_load((ROOT / "tracker" / "metadata.yml").read_text(encoding="utf-8"))["databases"]["tracker"]["tables"]
    facets = list((tables.get(parts[1]) or {}).get("facets") or [])
    for key, value in urllib.parse.parse_qsl(query):
        if key == "_facet" and value not in facets:
            facets.append(value)
    return facets


class Server:
    """`tracker serve` on a free port, signed in: ``get(path)`` fetches a page of it."""

    def __init__(self, base: str, cookie: str, startup_s: float):
        self.base, self.cookie, self.startup_s = base, cookie, startup_s

    def get(self, path: str) -> tuple[int, bytes]:
        return fetch(self.base + path, self.cookie)

    def timed(self, path: str) -> tuple[float, int, bytes]:
        t0 = time.perf_counter()
        status, body = self.get(path)
        return (time.perf_counter() - t0) * 1000, status, body


@contextlib.contextmanager
def serving(db: pathlib.Path, logs: pathlib.Path):
    """A Server for ``db`` while the block runs (its log in ``logs``/serve.log)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs.mkdir(parents=True, exist_ok=True)
    server_log = open(logs / "serve.log", "wb")
    started = time.perf_counter()
    proc = subprocess.Popen([*CODE.command(), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=server_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=CODE.env(), cwd=CODE.cwd, start_new_session=True)
    try:
        deadline = time.perf_counter() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"tracker serve exited with {proc.returncode}: "
                                   + (logs / "serve.log").read_text(errors="replace")[-2000:])
            try:
                status, _ = fetch(base + "/-/versions.json", timeout=5)
                if status in (200, 403):  # up (403: not signed in yet)
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError("tracker serve did not answer within 180 s")
            time.sleep(0.2)
        cookie = sign_in(logs / "serve.log", deadline)
        server = Server(base, cookie, round(time.perf_counter() - started, 2))
        log(f"  server for {db} up on port {port} after {server.startup_s} s")
        yield server
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)
        server_log.close()


def page_facts(server: Server, path: str) -> dict:
    """What the page's JSON says of its facets and counts (a facet that timed out is missing)."""
    j_status, j_body = server.get(json_variant(path))
    facts = {"json_status": j_status, "facets_timed_out": None}
    expected = expected_facets(path)
    if j_status == 200:
        try:
            data = json.loads(j_body)
        except ValueError:
            return facts
        # Datasette 0.65 leaves facets_timed_out out of the JSON; a facet that timed out
        # is then simply missing from facet_results.
        facts["facets_timed_out"] = data.get("facets_timed_out")
        present = sorted({f.get("name") for f in (data.get("facet_results") or {}).values()})
        if expected or present:
            facts["facets_expected"] = expected
            facts["facets_present"] = present
            facts["facets_missing"] = [f for f in expected if f not in present]
        for key in ("filtered_table_rows_count", "count"):
            if data.get(key) is not None:
                facts[key] = data[key]
        if data.get("rows") is not None:
            facts["rows_on_page"] = len(data["rows"])
    return facts


def step_datasette(db: pathlib.Path, logs: pathlib.Path, claim_id: str, typical_id: str, word: str,
                   requests: int) -> dict:
    result = {"search_word": word, "search_matches": search_word_count(db, word),
              "claim_id": claim_id, "typical_claim_id": typical_id, "requests": requests, "pages": {}}
    with serving(db, logs) as server:
        result["startup_s"] = server.startup_s
        for name, path in pages_for(claim_id, typical_id, word).items():
            _, _, body = server.timed(path)  # warm-up
            times, statuses, html_timed_out = [], set(), False
            size = len(body)
            for _ in range(requests):
                ms, status, body = server.timed(path)
                times.append(ms)
                statuses.add(status)
                html_timed_out = html_timed_out or b"timed out" in body
            facts = page_facts(server, path)
            page = {
                "path": path,
                "status": sorted(statuses)[0] if len(statuses) == 1 else sorted(statuses),
                "median_ms": round(statistics.median(times), 1),
                "p90_ms": round(percentile(times, 0.9), 1),
                "min_ms": round(min(times), 1),
                "max_ms": round(max(times), 1),
                "bytes": size,
                "html_says_timed_out": html_timed_out,
                **facts,
            }
            page["timed_out"] = bool(facts["facets_timed_out"]) or html_timed_out or bool(page.get("facets_missing"))
            result["pages"][name] = page
            log(f"  {name:26s} status {page['status']}  median {page['median_ms']:8.1f} ms  "
                f"p90 {page['p90_ms']:8.1f} ms" + ("  TIMED OUT" if page["timed_out"] else ""))
    return result


# Each of Datasette's connections keeps a page cache of its own: a page is warmed on
# every one of them (3 readers) before it is timed side by side.
PAIRED_WARMUPS = 5


def step_paired_pages(work: pathlib.Path, small: dict, large: dict, requests: int) -> dict:
    """The page goals' ratios from the smallest and the largest database served at once,
    their requests alternating (small, large, small, ...): a host whose speed moves
    during the run moves both sides alike. Measured a size at a time, ten minutes apart,
    the same code's search pages gave 0.8x in one run and 2.2x in the next."""
    result = {"sizes": [small["claims"], large["claims"]], "requests": requests, "pages": {}}
    paths = [pages_for(r["datasette"]["claim_id"], r["datasette"]["typical_claim_id"], r["datasette"]["search_word"])
             for r in (small, large)]
    with serving(work / str(small["claims"]) / "tracker.db", work / "paired" / "small") as a, \
            serving(work / str(large["claims"]) / "tracker.db", work / "paired" / "large") as b:
        for name in paths[0]:
            for _ in range(PAIRED_WARMUPS):
                a.get(paths[0][name])
                b.get(paths[1][name])
            times, statuses = ([], []), set()
            for _ in range(requests):
                for side, server in enumerate((a, b)):
                    ms, status, _ = server.timed(paths[side][name])
                    times[side].append(ms)
                    statuses.add(status)
            small_ms, large_ms = (round(statistics.median(t), 1) for t in times)
            result["pages"][name] = {"small_median_ms": small_ms, "large_median_ms": large_ms,
                                     "ratio": round(large_ms / small_ms, 2), "statuses": sorted(statuses),
                                     "small_runs_ms": [round(t, 1) for t in times[0]],
                                     "large_runs_ms": [round(t, 1) for t in times[1]]}
            log(f"  {name:26s} {small_ms:7.1f} ms vs {large_ms:7.1f} ms ({large_ms / small_ms:.2f}x)")
    return result


# --------------------------------------------------------------------------- one size


SMALL_PAIRS, SMALL_PAIRS_MAX = 5, 100_000  # floor / cold pairs at the smaller sizes


def run_size(size: int, work: pathlib.Path, args, out: dict) -> dict:
    """Fill ``out`` step by step (what was measured survives a failure later on)."""
    folder = work / str(size)
    tree, logs = folder / "seeds", folder / "logs"
    floor_db, db = folder / "floor.db", folder / "tracker.db"
    folder.mkdir(parents=True, exist_ok=True)
    out.update(claims=size, load_before=os.getloadavg()[0])
    build_timeout = 180 + size * 0.003

    log(f"[{size:,}] generating the seed tree")
    out["generate"] = step_generate(size, tree, logs, args.reuse_trees)
    log(f"  {out['generate'].get('counts')} in {out['generate']['wall_s']} s"
        + (f" (old tree removed first in {out['generate']['old_tree_removed_s']} s)"
           if out["generate"].get("old_tree_removed_s") else ""))

    reps = args.repeats if size <= args.repeat_max else 1
    out["repeats"] = reps

    # Floor and cold build alternate (floor, cold, floor, cold, ...): a host whose speed
    # drifts during the run (another tenant, a turbo clock) then moves both sides of each
    # pair alike, and the verdict is the median of the pairs' ratios (cold_vs_floor_pairs).
    # Run as two blocks, the ratio moved by up to 0.2 between runs of the same code.
    # Up to 100,000 claims a pair costs under half a minute, and its ratio moves most
    # (a 7 s floor: 1.04 to 1.62 in one session): more pairs there, for a steadier median.
    pairs = max(reps, SMALL_PAIRS) if reps > 1 and size <= SMALL_PAIRS_MAX else reps
    out["pairs"] = pairs
    log(f"[{size:,}] floor (CSafeLoader + executemany), then a cold build (new database, no cache)"
        + (f", alternately, {pairs} times each (medians)" if pairs > 1 else ""))
    floors, runs = [], []
    for _ in range(pairs):
        floors.append(step_floor(tree, floor_db, logs, size))
        remove_db(db)
        assert not pathlib.Path(str(db) + ".cache").exists()
        runs.append(step_build(tree, db, logs, "cold_build", build_timeout))
    out["floor"] = median_run(floors)
    out["cold_build"] = cold = median_run(runs)
    out["cold_vs_floor_pairs"] = [round(c["wall_s"] / f["wall_s"], 3) for f, c in zip(floors, runs)]
    log(f"  floor {out['floor']['wall_s']} s wall, {out['floor']['cpu_s']} s CPU, "
        f"{mb(out['floor']['maxrss_bytes'])} MB maxrss" + runs_note(floors))
    log(f"  cold build {cold['wall_s']} s wall ({cold_vs_floor(out)}x floor"
        + (f"; pairs {', '.join(map(str, out['cold_vs_floor_pairs']))}" if pairs > 1 else "") + "), "
        f"{cold['cpu_s']} s CPU, peak {mb(cold['peak_memory_bytes'])} MB "
        f"(largest process {mb(cold['maxrss_bytes'])} MB, tree PSS {mb(cold['tree_peak_pss_bytes'])} MB)"
        + runs_note(runs))
    expected = out["generate"].get("counts") or {}
    mismatch = {k: (expected[k], cold["summary"][k]) for k in ("claims", "appearances", "links", "documents",
                                                              "sources") if k in expected
                and expected[k] != cold["summary"][k]}
    if mismatch:
        raise RuntimeError(f"the build's counts differ from the generator's: {mismatch}")

    claim_id, repeats = most_repeated_claim(db)
    out["most_repeated_claim"] = {"id": claim_id, "appearances": repeats}
    out["typical_claim"] = typical_claim(db)

    # One-file rebuilds: add the appearance; with repeats, alternately take it out again
    # (also a one-file change) and put it back.
    log(f"[{size:,}] one-file rebuild" + (f" (median of {reps}: edit, undo, edit)" if reps > 1 else ""))
    runs = []
    for i in range(reps):
        if i % 2 == 0:
            out["edit"] = edit_one_document(tree, claim_id)
            change, want = f"+ {out['edit']['added']}", cold["summary"]["appearances"] + 1
        else:
            restore_edit(tree)
            change, want = "undo", cold["summary"]["appearances"]
        run = step_build(tree, db, logs, "rebuild", build_timeout)
        run["change"] = f"{out['edit']['file']}: {change}"
        runs.append(run)
        if run["summary"]["appearances"] != want:
            raise RuntimeError(f"the rebuild did not pick up the change ({change})")
        log(f"  {out['edit']['file']}: {change}: {run['wall_s']} s wall, {run['summary']['files_parsed']} "
            f"file(s) parsed, {run['summary']['documents_rewritten']} document(s) rewritten, "
            f"{run['summary']['claims_recomputed']} claim(s) recomputed")
    out["rebuild"] = rb = median_run(runs)
    log(f"  rebuild {rb['wall_s']} s wall ({ratio(rb['wall_s'], cold['wall_s'])}x cold)")

    log(f"[{size:,}] title edit rebuild" + (f" (median of {reps}: edit, undo, edit)" if reps > 1 else ""))
    runs = []
    for i in range(reps):
        if i % 2 == 0:
            out["title_edit"] = edit = edit_title(tree)
            want = edit["title"]
        else:
            saved = json.loads((tree / TITLE_BACKUP).read_text(encoding="utf-8"))
            restore_title(tree)
            import yaml

            want = yaml.load(saved["text"], Loader=yaml.CSafeLoader)["title"]
        run = step_build(tree, db, logs, "title_rebuild", build_timeout)
        got = document_title(db, out["title_edit"]["file"])
        if got != want:
            raise RuntimeError(f"the rebuild did not pick up the title ({got!r}, not {want!r})")
        runs.append(run)
        log(f"  {out['title_edit']['file']}: title {want!r}: {run['wall_s']} s wall")
    out["title_rebuild"] = tb = median_run(runs)
    restore_title(tree)
    # leave the tree as the ref edit left it, and the database built from it
    step_build(tree, db, logs, "title_restored", build_timeout)
    log(f"  title rebuild {tb['wall_s']} s wall ({ratio(tb['wall_s'], cold['wall_s'])}x cold)")

    log(f"[{size:,}] no-change rebuild" + (f" (median of {reps})" if reps > 1 else ""))
    runs = [step_build(tree, db, logs, "noop_rebuild", build_timeout) for _ in range(reps)]
    out["noop_rebuild"] = nb = median_run(runs)
    if not nb["summary"].get("nothing_changed"):
        raise RuntimeError(f"the no-change rebuild did not say nothing changed: {nb['summary']}")
    log(f"  {nb['wall_s']} s wall ({ratio(nb['wall_s'], cold['wall_s'])}x cold), "
        f"{nb['stderr_lines']} line(s) on stderr" + runs_note(runs))

    if "startup" not in out:
        log(f"[{size:,}] start-up: tracker build --help (median of {STARTUP_RUNS}), -X importtime")
        out["startup"] = step_startup(logs)
        log(f"  {out['startup']['build_help_wall_s']} s wall, imports {out['startup']['imports_s']} s, "
            f"heavy modules loaded: {out['startup']['heavy_modules_loaded'] or 'none'}")

    log(f"[{size:,}] Datasette")
    out["datasette"] = step_datasette(db, logs, claim_id, out["typical_claim"]["id"], args.search_word,
                                      args.requests)
    # The tree goes back to as generated, the database stays built from the edited tree:
    # a `tracker build` after a run has that one file's change to apply (not a stale cache).
    restore_edit(tree)
    out["load_after"] = os.getloadavg()[0]
    if not args.keep:
        for p in (floor_db,):
            p.unlink(missing_ok=True)
    return out


# --------------------------------------------------------------------------- results


def mb(n) -> str:
    return "-" if not n else f"{n / 1024**2:,.0f}"


def ratio(a, b) -> str:
    return "-" if not a or not b else f"{a / b:.2f}"


def git_state() -> dict:
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "dirty_code": bool(git("status", "--porcelain", "--", "tracker", "metadata.yml", "pyproject.toml"))}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    versions = {}
    for module in ("yaml", "datasette", "pydantic", "sqlite_utils"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - informational only
            pass
    try:
        import yaml

        versions["libyaml"] = bool(yaml.__with_libyaml__)
    except ImportError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_bytes": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
    }


def goals(results: dict, paired: dict | None = None) -> list:
    sizes = sorted(results, key=int)
    out = []
    for s in sizes:
        r = results[s]
        if "floor" in r and "cold_build" in r:
            v = cold_vs_floor(r)
            pairs = r.get("cold_vs_floor_pairs") or []
            out.append({"goal": f"cold build <= {GOAL_COLD_VS_FLOOR}x floor", "claims": int(s), "ratio": v,
                        "limit": GOAL_COLD_VS_FLOOR, "pass": v <= GOAL_COLD_VS_FLOOR,
                        "detail": f"{r['cold_build']['wall_s']:.1f} s vs {r['floor']['wall_s']:.1f} s"
                                  + (f" (medians); median of {len(pairs)} alternating pairs' ratios"
                                     f" {', '.join(map(str, pairs))}" if len(pairs) > 1 else "")})
    def vs_cold(s, key, goal, limit):
        r = results[s]
        v = r[key]["wall_s"] / r["cold_build"]["wall_s"]
        return {"goal": goal, "claims": int(s), "ratio": round(v, 3), "limit": limit, "pass": v <= limit,
                "detail": f"{r[key]['wall_s']:.2f} s vs {r['cold_build']['wall_s']:.1f} s"}

    for s in sizes:
        r = results[s]
        for key, what in (("rebuild", "one-file rebuild (+1 appearance)"), ("title_rebuild", "one-file rebuild (title)")):
            if key in r and "cold_build" in r and int(s) in EDIT_GOAL_SIZES:
                out.append(vs_cold(s, key, f"{what} <= {GOAL_REBUILD_VS_COLD:.0%} of cold build",
                                   GOAL_REBUILD_VS_COLD))
    for s in sizes:
        r = results[s]
        if "noop_rebuild" in r and "cold_build" in r and int(s) in NOOP_GOAL_SIZES:
            n = r["noop_rebuild"]["wall_s"]
            out.append(vs_cold(s, "noop_rebuild", f"no-change rebuild <= {GOAL_NOOP_VS_COLD:.0%} of cold build",
                               GOAL_NOOP_VS_COLD))
            out.append({"goal": f"no-change rebuild <= {GOAL_NOOP_S:.0f} s", "claims": int(s),
                        "ratio": round(n / GOAL_NOOP_S, 3), "limit": 1.0, "pass": n <= GOAL_NOOP_S,
                        "detail": f"{n:.2f} s, {r['noop_rebuild'].get('stderr_lines', '-')} line(s) on stderr"})
    for s in sizes:
        r = results[s]
        if r.get("generate", {}).get("generator") != OTHER_GENERATOR or "cold_build" not in r:
            continue
        for key, (what, limit) in OTHER_SHAPE_GOALS.items():
            if key in r:
                out.append(vs_cold(s, key, f"{what} <= {limit:.0%} of cold build (other shape)", limit))
    mem_sizes = [s for s in sizes if int(s) == MEMORY_GOAL_SIZE] or sizes[-1:]
    for s in mem_sizes:
        r = results[s]
        if "cold_build" in r:
            peak = r["cold_build"]["peak_memory_bytes"]
            out.append({"goal": "cold build peak memory <= 2 GB" + ("" if int(s) == MEMORY_GOAL_SIZE
                                                                   else " (1M not run: largest size)"),
                        "claims": int(s), "ratio": round(peak / GOAL_PEAK_BYTES, 3), "limit": 1.0,
                        "pass": peak <= GOAL_PEAK_BYTES, "detail": f"{mb(peak)} MB"})
    with_pages = [s for s in sizes if "datasette" in results[s]]
    if len(with_pages) >= 2:
        small, large = with_pages[0], with_pages[-1]
        # the two databases served at once, requests alternating (step_paired_pages);
        # the sizes' own runs, ten minutes apart, when a run has no paired step
        paired = paired or {}
        side_by_side = paired.get("pages", {}) if paired.get("sizes") == [int(small), int(large)] else {}
        for name, page in results[large]["datasette"]["pages"].items():
            base = results[small]["datasette"]["pages"].get(name)
            if not base:
                continue
            limit = GOAL_SEARCH_GROWTH if name in SEARCH_PAGES else GOAL_PAGE_GROWTH
            both = side_by_side.get(name)
            if both:
                v, large_ms, small_ms, how = both["ratio"], both["large_median_ms"], both["small_median_ms"], "side by side"
                answered = both["statuses"] == [200]
            else:
                large_ms, small_ms, how = page["median_ms"], base["median_ms"], "each size in its own step"
                v, answered = large_ms / small_ms, page["status"] == 200
            ok = answered and v <= limit
            out.append({"goal": f"page {name} at {int(large):,} <= {limit:g}x at {int(small):,}", "claims": int(large),
                        "ratio": round(v, 2), "limit": limit, "pass": ok,
                        "detail": f"median {large_ms} ms vs {small_ms} ms ({how}), "
                                  f"HTTP {page['status']}, page {page['bytes'] / 1024:,.0f} KB vs "
                                  f"{base['bytes'] / 1024:,.0f} KB"})
    timed = [(s, n) for s in with_pages for n, p in results[s]["datasette"]["pages"].items() if p["timed_out"]]
    if with_pages:
        out.append({"goal": "no facet timed out", "claims": None, "ratio": None, "limit": None,
                    "pass": not timed, "detail": ", ".join(f"{n} at {int(s):,}" for s, n in timed) or "none"})
    return out


def code_note(doc: dict) -> str:
    start, end = doc.get("git_start") or {}, doc.get("git_end")
    code = doc.get("code") or {}
    note = f"Code: commit `{start.get('commit')}`" + (" with uncommitted changes" if start.get("dirty_code") else "")
    if code.get("mode") == "snapshot":
        note += f", run from a snapshot of tracker/ and metadata.yml taken at the start (sha256 `{code['sha256']}`)"
        end = None  # edits made meanwhile do not reach a snapshot run
    if end and end != start:
        note += f"; **the code changed during the run** (ended at `{end.get('commit')}`" + (
            " with uncommitted changes" if end.get("dirty_code") else "") + ")"
    return note + "."


def render(doc: dict) -> str:
    results = doc["results"]
    sizes = sorted(results, key=int)
    m = doc["machine"]
    lines = [
        MARK_BEGIN,
        "<!-- generated by bench/run.py from bench/results.json; do not edit by hand -->",
        "",
        f"**Run:** {doc['date']} &nbsp; **Command:** `{doc['command']}` &nbsp; "
        f"**Total:** {doc.get('total_s', 0) / 60:.1f} min" + ("" if doc.get("complete") else " (incomplete run)"),
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_bytes'] / 1024**3:.1f} GB RAM; "
        f"Python {m['python']}, SQLite {m['sqlite']}, PyYAML {m['packages'].get('yaml')} "
        f"(libyaml {m['packages'].get('libyaml')}), Datasette {m['packages'].get('datasette')}; {m['os']}. "
        f"Load average (1 min) at start {doc.get('load_start', 0):.2f}"
        + (f", at end {doc['load_end']:.2f}" if "load_end" in doc else "") + ". "
        + code_note(doc),
        "",
        "### Builds",
        "",
        "| claims | documents | appearances | links | generate s | floor s | cold build s | cold / floor "
        "| cold CPU s (floor CPU s) | peak memory MB | one-file rebuild s | rebuild / cold "
        "| rebuild: parsed / rewritten / recomputed | title edit rebuild s (/ cold) | no-change rebuild s (/ cold) "
        "| db MB (+ cache MB) |",
        "|" + "---:|" * 16,
    ]
    for s in sizes:
        r = results[s]
        if "error" in r and "cold_build" not in r:
            lines.append(f"| {int(s):,} | error: {r['error'][:200]} |" + " |" * 13)
            continue
        c = r.get("generate", {}).get("counts", {})
        f, cb, rb, nb = r.get("floor", {}), r.get("cold_build", {}), r.get("rebuild", {}), r.get("noop_rebuild", {})
        rs = rb.get("summary", {})
        lines.append(
            f"| {int(s):,} | {c.get('documents', 0):,} | {c.get('appearances', 0):,} | {c.get('links', 0):,} "
            f"| {r.get('generate', {}).get('wall_s', '-')}{' (reused)' if r.get('generate', {}).get('reused') else ''} "
            f"| {f.get('wall_s', '-')} | {cb.get('wall_s', '-')} "
            f"| {cold_vs_floor(r) if f and cb else '-'} | {cb.get('cpu_s', '-')} ({f.get('cpu_s', '-')}) "
            f"| {mb(cb.get('peak_memory_bytes'))} | {rb.get('wall_s', '-')} "
            f"| {ratio(rb.get('wall_s'), cb.get('wall_s'))} "
            f"| {rs.get('files_parsed', '-')} / {rs.get('documents_rewritten', '-')} / "
            f"{rs.get('claims_recomputed', '-')} "
            f"| {r.get('title_rebuild', {}).get('wall_s', '-')} ({ratio(r.get('title_rebuild', {}).get('wall_s'), cb.get('wall_s'))}) "
            f"| {nb.get('wall_s', '-')} ({ratio(nb.get('wall_s'), cb.get('wall_s'))}) "
            f"| {mb(rb.get('db_bytes'))} (+ {mb(rb.get('cache_bytes'))}) |"
        )
    reps = ", ".join(f"{int(s):,}: {results[s].get('repeats', 1)}" for s in sizes)
    pairs = ", ".join(f"{int(s):,}: {results[s].get('pairs', results[s].get('repeats', 1))}" for s in sizes)
    spread = []
    for s in sizes:
        parts = []
        for key, label in (("floor", "floor"), ("cold_build", "cold"), ("rebuild", "+1 appearance"),
                           ("title_rebuild", "title"), ("noop_rebuild", "no change")):
            runs = results[s].get(key, {}).get("runs_wall_s")
            if runs:
                parts.append(f"{label} {min(runs)}-{max(runs)} s")
        if parts:
            spread.append(f"{int(s):,}: " + ", ".join(parts))
    startup = next((results[s]["startup"] for s in sizes if "startup" in results[s]), None)
    lines += [
        "",
        "Repeat spread (fastest-slowest of the runs): " + ("; ".join(spread) or "single runs") + ".",
        "",
    ]
    if startup:
        lines += [
            f"Start-up: `tracker build --help` {startup['build_help_wall_s']} s wall (median of "
            f"{len(startup['runs_wall_s'])}: {', '.join(map(str, startup['runs_wall_s']))}); `-X importtime`: "
            f"imports {startup['imports_s']} s, largest " + ", ".join(
                f"{k} {v:.3f} s" for k, v in list(startup['largest_imports_s'].items())[:6])
            + "; heavy modules loaded: " + (", ".join(startup["heavy_modules_loaded"]) or "none") + ".",
            "",
        ]
    lines += [
        "",
        f"Runs per figure (floor, cold build, one-file rebuild; the median is shown, every run is in "
        f"results.json): {reps}; floor / cold build pairs: {pairs}. "
        "Peak memory is the larger of the biggest single process's maxrss (`wait4`, as "
        "`/usr/bin/time -v` shows it) and the sampled total PSS of the build's whole process tree "
        "(its parse workers included). Floor and builds read a seed tree that is in the page cache.",
        "",
        "### Datasette (median / p90 ms over "
        + str(next((results[s]["datasette"]["requests"] for s in sizes if "datasette" in results[s]), "-"))
        + " requests after one warm-up)",
        "",
    ]
    with_pages = [s for s in sizes if "datasette" in results[s]]
    if with_pages:
        header = "| page | " + " | ".join(f"{int(s):,}" for s in with_pages)
        if len(with_pages) >= 2:
            header += f" | {int(with_pages[-1]):,} / {int(with_pages[0]):,} (median)"
        lines += [header + " |", "|---|" + "---:|" * (len(with_pages) + (len(with_pages) >= 2))]
        for name, last in results[with_pages[-1]]["datasette"]["pages"].items():
            label = {"claim_row": "/claims/<most repeated claim>",
                     "claim_row_typical": "/claims/<claim with 3 appearances>"}.get(
                name, last["path"].removeprefix("/tracker"))
            cells = []
            for s in with_pages:
                p = results[s]["datasette"]["pages"].get(name)
                if not p:
                    cells.append("-")
                    continue
                cell = f"{p['median_ms']:.0f} / {p['p90_ms']:.0f}"
                if p["status"] != 200:
                    cell += f" (HTTP {p['status']})"
                if p["timed_out"]:
                    cell += " **timed out**"
                cells.append(cell)
            row = f"| `{label}` | " + " | ".join(cells)
            if len(with_pages) >= 2:
                a = results[with_pages[-1]]["datasette"]["pages"].get(name)
                b = results[with_pages[0]]["datasette"]["pages"].get(name)
                row += f" | {ratio(a and a['median_ms'], b and b['median_ms'])}"
            lines.append(row + " |")
        d = results[with_pages[-1]]["datasette"]
        lines += ["", f"Search word `{d['search_word']}` (matches per size: "
                  + ", ".join(f"{int(s):,}: {results[s]['datasette']['search_matches']:,}" for s in with_pages)
                  + "); claim page: the most repeated claim (" + ", ".join(
                      f"{int(s):,}: `{results[s]['datasette']['claim_id']}` with "
                      f"{results[s]['most_repeated_claim']['appearances']} appearances" for s in with_pages)
                  + "; page size " + ", ".join(
                      f"{results[s]['datasette']['pages']['claim_row']['bytes'] / 1024:,.0f} KB" for s in with_pages)
                  + "); typical claim page: the first claim by id with 3 appearances and a link ("
                  + ", ".join(f"`{results[s]['typical_claim']['id']}`" for s in with_pages) + ")."]
    paired = doc.get("paired_pages") or {}
    if paired.get("pages"):
        small, large = paired["sizes"]
        lines += ["", f"The page goals compare {small:,} and {large:,} claims served at once, their requests "
                  f"alternating ({paired['requests']} each, after {PAIRED_WARMUPS} warm-ups of each; median ms): "
                  + "; ".join(f"`{name}` {p['small_median_ms']:.0f} / {p['large_median_ms']:.0f} ({p['ratio']}x)"
                              for name, p in paired["pages"].items()) + "."]
    elif paired.get("error"):
        lines += ["", f"The side-by-side page step failed (`{paired['error'][:300]}`): the page goals compare "
                  "each size's own step."]
    lines += ["", "### Goals", "", "| goal | claims | measured | ratio | limit | verdict |", "|---|---:|---|---:|---:|---|"]
    for g in doc["goals"]:
        lines.append(f"| {g['goal']} | {'' if g['claims'] is None else format(g['claims'], ',')} | {g['detail']} "
                     f"| {'' if g['ratio'] is None else g['ratio']} | {'' if g['limit'] is None else g['limit']} "
                     f"| {'PASS' if g['pass'] else '**MISS**'} |")
    errors = [(s, results[s]["error"]) for s in sizes if results[s].get("error")]
    for s, e in errors:
        lines += ["", f"Error at {int(s):,} claims: `{e[:500]}`"]
    lines += ["", MARK_END]
    return "\n".join(lines)


README_TEMPLATE = """# Benchmarks

{begin}
(no results yet: run the command below)
{end}
"""


def write_readme(doc: dict) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else README_TEMPLATE.format(
        begin=MARK_BEGIN, end=MARK_END)
    if MARK_BEGIN not in text or MARK_END not in text:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + MARK_BEGIN + "\n" + MARK_END + "\n"
    head, rest = text.split(MARK_BEGIN, 1)
    _, tail = rest.split(MARK_END, 1)
    README.write_text(head + render(doc) + tail, encoding="utf-8")


def save(doc: dict) -> None:
    doc["goals"] = goals(doc["results"], doc.get("paired_pages"))
    RESULTS.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_readme(doc)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated claim counts")
    ap.add_argument("--work", type=pathlib.Path, default=BENCH / "work", help="scratch folder (git-ignored)")
    ap.add_argument("--requests", type=int, default=20, help="timed requests per page (after one warm-up)")
    ap.add_argument("--search-word", default="Hyesan", help="word searched in claim texts")
    ap.add_argument("--reuse-trees", action="store_true",
                    help="development: reuse a tree generated earlier for the same size instead of regenerating")
    ap.add_argument("--repeats", type=int, default=3,
                    help="run floor, cold build and one-file rebuild this many times and keep the median "
                         "(only at sizes up to --repeat-max; default 3)")
    # (1M too: its one floor / cold pair gave 1.32x to 1.52x across runs of the same code,
    # as the host's speed moved; three pairs cost about seven minutes more)
    ap.add_argument("--repeat-max", type=int, default=1_000_000,
                    help="largest size that gets --repeats (larger sizes run once; default 1000000)")
    ap.add_argument("--code", choices=("snapshot", "live"), default="snapshot",
                    help="snapshot (default): run a copy of tracker/ and metadata.yml taken at the start, so "
                         "concurrent edits cannot leak into the run; live: the installed tracker command")
    ap.add_argument("--keep", action="store_true", help="keep the floor databases")
    ap.add_argument("--readme-only", action="store_true", help="re-render README.md from results.json and stop")
    ap.add_argument("--generator", choices=("generate", "other"), default="generate",
                    help="generate (default): bench/generate.py; other: bench/generate_other.py, a tree of "
                         "another shape, recorded in results-other.json and its own README block")
    args = ap.parse_args(argv)
    if args.generator == "other":
        global GENERATOR, RESULTS, MARK_BEGIN, MARK_END
        GENERATOR, RESULTS = "generate_other.py", BENCH / "results-other.json"
        MARK_BEGIN, MARK_END = "<!-- results-other -->", "<!-- /results-other -->"

    if args.readme_only:
        write_readme(json.loads(RESULTS.read_text(encoding="utf-8")))
        print(f"rewrote {README}")
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    work = args.work if args.work.is_absolute() else (pathlib.Path.cwd() / args.work)
    exe = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    doc = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": shlex.join([exe, "bench/run.py", *argv]),
        "machine": machine(),
        "load_start": os.getloadavg()[0],
        "git_start": git_state(),
        "sizes": sizes,
        "complete": False,
        "results": {},
    }
    global CODE
    CODE = Code(args.code, work)
    doc["code"] = CODE.info
    started = time.perf_counter()
    log(f"benchmark: code {CODE.info}")
    log(f"benchmark: sizes {sizes}, work {work}, machine {doc['machine']['cpu']} x{doc['machine']['cores']}")
    failed = False
    for size in sizes:
        t0 = time.perf_counter()
        out = doc["results"][str(size)] = {"claims": size}
        try:
            run_size(size, work, args, out)
        except Exception as e:  # noqa: BLE001 - record it and go on with the next size
            failed = True
            log(f"[{size:,}] FAILED: {e}")
            out["error"] = f"{type(e).__name__}: {e}"
        doc["results"][str(size)]["step_total_s"] = round(time.perf_counter() - t0, 1)
        doc["total_s"] = round(time.perf_counter() - started, 1)
        save(doc)
        log(f"[{size:,}] done in {doc['results'][str(size)]['step_total_s']} s; wrote {RESULTS.name}, {README.name}")
    with_pages = [str(size) for size in sizes if "datasette" in doc["results"][str(size)]]
    if len(with_pages) >= 2:
        log(f"[pages] {int(with_pages[0]):,} and {int(with_pages[-1]):,} served at once, requests alternating")
        try:
            doc["paired_pages"] = step_paired_pages(work, doc["results"][with_pages[0]], doc["results"][with_pages[-1]],
                                                    args.requests)
        except Exception as e:  # noqa: BLE001 - the goals then fall back on each size's own step
            failed = True
            log(f"[pages] FAILED: {e}")
            doc["paired_pages"] = {"error": f"{type(e).__name__}: {e}"}
    doc["complete"] = not failed
    doc["load_end"] = os.getloadavg()[0]
    doc["git_end"] = git_state()
    if doc["git_end"] != doc["git_start"]:
        log(f"note: the project's code changed during the run ({doc['git_start']} -> {doc['git_end']})"
            + ("; this run used the snapshot taken at its start" if CODE.dir else
               "; WARNING: the figures may mix two versions (use --code snapshot)"))
    doc["total_s"] = round(time.perf_counter() - started, 1)
    save(doc)
    log(f"finished in {doc['total_s'] / 60:.1f} min")
    for g in doc["goals"]:
        where = "" if g["claims"] is None else " @ {:,}".format(g["claims"])
        how = "" if g["ratio"] is None else " (ratio {}, limit {})".format(g["ratio"], g["limit"])
        log(f"  {'PASS' if g['pass'] else 'MISS'}  {g['goal']}{where}: {g['detail']}{how}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
