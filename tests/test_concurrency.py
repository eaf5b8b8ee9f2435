"""Reviews written while `tracker build` runs are never lost and never fail with
"database is locked" (issue 4, item 4; SPEC section 6).

Eight processes write 50 reviews each (six through tracker.review.record, two through
Datasette's writable canned queries as a signed-in reviewer) while two other processes
rebuild the same database again and again (one of them first holding the write lock
longer than the default 5 s busy timeout, as a large build does). At the end the database holds exactly the
400 events, each once, and is consistent.
"""

import asyncio
import json
import multiprocessing
import os
import random
import sqlite3
import time
import traceback


from conftest import DOCUMENTS, SOURCES, write_seeds

WRITERS_RECORD = 6
WRITERS_DATASETTE = 2
REVIEWS_EACH = 50
BUILDERS = 2
MIN_BUILDS_EACH = 2
BULK_DOCUMENTS = 300  # enough claims that a rebuild takes a noticeable time
TIMEOUT = 150
LONG_LOCK = 6  # seconds: more than the 5 s default busy timeout of sqlite3 and Datasette

CLAIMS = ["hardship-provinces", "villa-rumour", "kim-plan-failed", "sanctions-biting", "market-crackdown",
          "rations-cut", "bulk-0-0", "bulk-1-0", "bulk-2-1", "bulk-150-3", "bulk-299-9"]
ACTIONS = ["flag", "accept", "reject", "note"]


def bulk_documents(count, variant=""):
    """The fixture world plus ``count`` documents of ten claims, with refs and links.

    Variants differ in titles and quotes only (not in any claim's evidence), so that two
    builders alternating between them make every rebuild rewrite every bulk document.
    """
    documents = dict(DOCUMENTS)
    origins = ["dnk-hyesan", "prof-lee", "nis", "dailynk", "defector-kim", "kcna"]
    for i in range(count):
        claims = [
            {"id": f"bulk-{i}-{j}", "text": f"Bulk claim {i}.{j}.", "kind": "event",
             "source": origins[(i + j) % len(origins)], "quote": f"quote {i} {j}{variant}"}
            for j in range(10)
        ]
        links = []
        if i:
            claims.append({"ref": f"bulk-{i - 1}-0", "source": origins[i % len(origins)], "quote": "again"})
            links.append({"from": f"bulk-{i}-0", "to": f"bulk-{i - 1}-1", "relation": "corroborates"})
            links.append({"from": f"bulk-{i}-2", "to": f"bulk-{i - 1}-3", "relation": "contradicts"})
        documents[f"bulk-{i}"] = {"id": f"bulk-{i}", "title": f"Bulk {i}{variant}", "publisher": "wire",
                                  "published": f"2022-{i % 12 + 1:02d}", "claims": claims, "links": links}
    return documents


HAND_WRITTEN = [
    {"claim": "villa-rumour", "action": "flag", "actor": "seed-file", "at": "2024-01-01T00:00:00Z"},
    {"claim": "rations-cut", "action": "note", "actor": "seed-file", "note": "from git",
     "at": "2024-01-02T00:00:00Z"},
]


# ------------------------------------------------------------------- the processes


class Start:
    """Every process says it is ready (even when its set-up failed), then all start at once."""

    def __init__(self, ready, go):
        self.ready, self.go, self.said = ready, go, False

    def say_ready(self):
        if not self.said:
            self.said = True
            self.ready.release()

    def wait(self):
        self.say_ready()
        self.go.wait(60)


def record_writer(index, db_path, ready, go, results):
    start = Start(ready, go)
    errors, written = [], 0
    try:
        from tracker.database import connect
        from tracker.review import record

        rng = random.Random(index)
        db = connect(db_path)
        start.wait()
        for n in range(REVIEWS_EACH):
            try:
                record(db, rng.choice(CLAIMS), rng.choice(ACTIONS), f"writer-{index}", f"review {n}",
                       rng.choice([None, None, rng.randint(1, 6)]))
                written += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported to the test
                errors.append(f"{type(e).__name__}: {e}")
            time.sleep(rng.uniform(0, 0.02))
        db.close()
    except Exception:  # noqa: BLE001
        errors.append(traceback.format_exc())
    start.say_ready()
    results.put({"who": f"writer-{index}", "written": written, "errors": errors})


def datasette_writer(index, db_path, ready, go, results):
    start = Start(ready, go)
    errors, written = [], 0
    try:
        from tracker.serve import make_datasette

        from conftest import TEAM_HASH
        from tracker.serve import hash_variable

        rng = random.Random(100 + index)
        actor = f"dsw-{index}"
        # (a process of its own: this writer is a reviewer account of its Datasette)
        os.environ["TRACKER_REVIEWERS"] = actor
        os.environ[hash_variable(actor)] = TEAM_HASH
        ds = make_datasette(db_path)
        cookies = {"ds_actor": ds.sign({"a": {"id": actor, "reviewer": True}}, "actor")}

        async def write_all():
            nonlocal written
            page = await ds.client.get("/tracker/flag_claim", cookies=cookies)
            assert page.status_code == 200, page.status_code
            cookies["ds_csrftoken"] = page.cookies["ds_csrftoken"]
            start.wait()
            for n in range(REVIEWS_EACH):
                action = rng.choice(ACTIONS)
                credibility = rng.choice(["", "", str(rng.randint(1, 6))])
                body = {"claim_id": rng.choice(CLAIMS), "note": f"review {n}", "credibility": credibility}
                response = await ds.client.post(
                    f"/tracker/{action}_claim", content=json.dumps(body), cookies=cookies,
                    headers={"content-type": "application/json", "accept": "application/json",
                             "x-csrftoken": cookies["ds_csrftoken"]},
                )
                if response.status_code == 200 and response.json().get("ok"):
                    written += 1
                else:
                    errors.append(f"HTTP {response.status_code}: {response.text[:300]}")
                await asyncio.sleep(rng.uniform(0, 0.02))

        asyncio.run(write_all())
        ds.databases["tracker"].close()
    except Exception:  # noqa: BLE001
        errors.append(traceback.format_exc())
    start.say_ready()
    results.put({"who": f"dsw-{index}", "written": written, "errors": errors})


def builder(index, seeds, db_path, ready, go, writers_left, results):
    start = Start(ready, go)
    errors, builds = [], 0
    try:
        from tracker.build import build

        start.wait()
        if index == 0:
            # First, a write transaction longer than SQLite's and Python's default busy
            # timeout (5 s), as a build of a large corpus holds: writers must wait, not fail.
            from tracker.database import connect, write_transaction

            db = connect(db_path)
            with write_transaction(db):
                db.execute("UPDATE claims SET text = text WHERE id = 'villa-rumour'")
                time.sleep(LONG_LOCK)
            db.close()
        deadline = time.monotonic() + 90
        # Keep rebuilding while any writer is still at work, and at least twice.
        while (builds < MIN_BUILDS_EACH or writers_left.value > 0) and time.monotonic() < deadline:
            try:
                build(seeds, db_path)
                builds += 1
            except Exception as e:  # noqa: BLE001
                errors.append(f"{type(e).__name__}: {e}")
                break
    except Exception:  # noqa: BLE001
        errors.append(traceback.format_exc())
    start.say_ready()
    results.put({"who": f"builder-{index}", "builds": builds, "errors": errors})


# ------------------------------------------------------------------------- the test


def test_reviews_written_during_rebuilds_are_never_lost(tmp_path):
    from tracker.build import build
    from tracker.database import connect
    from tracker.review import export

    trees = [
        write_seeds(tmp_path / f"seeds-{i}", sources=SOURCES, documents=bulk_documents(BULK_DOCUMENTS, f" v{i}"),
                    reviews=HAND_WRITTEN)
        for i in range(BUILDERS)
    ]
    seeds = trees[0]
    db_path = tmp_path / "db" / "tracker.db"
    build(seeds, db_path)

    context = multiprocessing.get_context("spawn")  # no sqlite handles or threads inherited
    writers = WRITERS_RECORD + WRITERS_DATASETTE
    ready = context.Semaphore(0)
    go = context.Event()
    results = context.Queue()
    writers_left = context.Value("i", writers)
    processes = [
        context.Process(target=record_writer, args=(i, str(db_path), ready, go, results))
        for i in range(WRITERS_RECORD)
    ] + [
        context.Process(target=datasette_writer, args=(i, str(db_path), ready, go, results))
        for i in range(WRITERS_DATASETTE)
    ]
    builders = [
        context.Process(target=builder, args=(i, str(trees[i]), str(db_path), ready, go, writers_left, results))
        for i in range(BUILDERS)
    ]
    for process in processes + builders:
        process.start()
    try:
        for _ in processes + builders:
            assert ready.acquire(timeout=60), "a process did not start in time"
        go.set()
        reports = {}
        deadline = time.monotonic() + TIMEOUT
        while len(reports) < len(processes) + len(builders):
            report = results.get(timeout=max(1, deadline - time.monotonic()))
            reports[report["who"]] = report
            if not report["who"].startswith("builder"):
                with writers_left.get_lock():
                    writers_left.value -= 1
        for process in processes + builders:
            process.join(30)
            assert process.exitcode == 0, f"{process.name} exited with {process.exitcode}"
    finally:
        for process in processes + builders:
            if process.is_alive():
                process.kill()

    problems = {who: r["errors"] for who, r in reports.items() if r["errors"]}
    assert not problems, problems
    assert not any("locked" in e for r in reports.values() for e in r["errors"])
    builds = {who: r["builds"] for who, r in reports.items() if who.startswith("builder")}
    assert all(n >= MIN_BUILDS_EACH for n in builds.values()), builds
    assert all(r["written"] == REVIEWS_EACH for who, r in reports.items() if not who.startswith("builder"))

    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        by_actor = dict(conn.execute(
            "SELECT actor, count(*) FROM review_events GROUP BY actor").fetchall())
        expected = {f"writer-{i}": REVIEWS_EACH for i in range(WRITERS_RECORD)}
        expected |= {f"dsw-{i}": REVIEWS_EACH for i in range(WRITERS_DATASETTE)}
        expected["seed-file"] = len(HAND_WRITTEN)  # read by every build, stored once
        assert by_actor == expected
        writer_events = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM review_events WHERE actor != 'seed-file'").fetchone()
        assert tuple(writer_events) == (400, 400)
        # each writer's notes 0..49 are all there, once
        for actor in expected:
            if actor != "seed-file":
                notes = [r[0] for r in conn.execute(
                    "SELECT note FROM review_events WHERE actor = ? ORDER BY rowid", [actor])]
                assert notes == [f"review {n}" for n in range(REVIEWS_EACH)], actor
        bad_times = conn.execute(
            "SELECT count(*) FROM review_events WHERE created_at NOT GLOB "
            "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'").fetchone()[0]
        assert bad_times == 0
        # every event carries the fingerprint of its claim (the seeds did not change)
        assert conn.execute(
            "SELECT count(*) FROM review_events e JOIN claims c ON c.id = e.claim_id "
            "WHERE e.evidence IS NOT c.evidence").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM claims").fetchone()[0] == 6 + 10 * BULK_DOCUMENTS
        state = [dict(r) for r in conn.execute("SELECT * FROM claims ORDER BY id")]
    finally:
        conn.close()

    # What the triggers left equals what a cold build of the same seeds and events computes,
    # and one more rebuild reading all the events back from reviews.yml adds none.
    export(connect(db_path), seeds / "reviews.yml")
    cold = tmp_path / "cold" / "tracker.db"
    build(seeds, cold)
    build(seeds, db_path)
    for path in (cold, db_path):
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        try:
            assert [dict(r) for r in conn.execute("SELECT * FROM claims ORDER BY id")] == state, path
            assert conn.execute("SELECT count(*) FROM review_events").fetchone()[0] == 400 + len(HAND_WRITTEN)
        finally:
            conn.close()
