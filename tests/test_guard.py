"""No 500s and bounded resources on the anonymous surface (issue 9, item 8): unknown sort
columns, bad page tokens, POSTs to tables and FTS syntax answer 400 (or 200 with the
search escaped) with a sentence and no traceback in the log; oversized values are
refused within seconds by SQLite's length limit, the server's memory stays bounded."""

import html
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import write_seeds
from tracker.build import build
from tracker.publish import publish
from tracker.serve import make_datasette


@pytest.fixture(scope="module")
def public_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guard")
    full = tmp / "tracker.db"
    build(write_seeds(tmp / "seeds"), full)
    out = tmp / "public.db"
    publish(full, out)
    return out


@pytest.mark.parametrize("method, url, sentence", [
    ("GET", "/tracker/claims?_sort=nope", "There is no column 'nope' to sort by"),
    ("GET", "/tracker/claims?_sort_desc=nope", "There is no column 'nope' to sort by"),
    ("GET", "/tracker/review_queue?_sort=nope", "There is no column 'nope' to sort by"),
    ("GET", "/tracker/review_queue.json?_sort_desc=nope", "There is no column 'nope' to sort by"),
    ("GET", "/tracker/review_queue?_next=zzz", "That page token (_next) is not one this page gave out"),
    ("GET", "/tracker/claim_provenance.json?_next=zzz", "That page token (_next) is not one this page gave out"),
    ("POST", "/tracker/claims", "Tables and views cannot be written to here"),
    ("POST", "/tracker/review_queue", "Tables and views cannot be written to here"),
    ("POST", "/tracker/claims.json", "Tables and views cannot be written to here"),
])
async def test_bad_requests_answer_400_with_a_sentence(public_db, capfd, method, url, sentence):
    ds = make_datasette(public_db, public=True)
    response = await (ds.client.get(url) if method == "GET" else ds.client.post(url, data={"x": "1"}))
    assert response.status_code == 400, response.text[:300]
    assert sentence in html.unescape(response.text)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "╭" not in out + err  # no traceback in the log


@pytest.mark.parametrize("search", ['"', '""', '"villa', "villa OR", "NEAR(", "a:b", "*", "villa^"])
@pytest.mark.parametrize("table", ["claims", "review_queue"])
async def test_searches_are_escaped(public_db, table, search):
    ds = make_datasette(public_db, public=True)
    for mode in ("", "&_searchmode=raw"):
        response = await ds.client.get(f"/tracker/{table}.json?_search={urllib.parse.quote(search)}{mode}")
        assert response.status_code == 200, response.text[:300]
    if search.strip("\"^") == "villa":
        rows = (await ds.client.get(f"/tracker/{table}.json?_shape=array&_search={urllib.parse.quote(search)}")).json()
        assert [r["id"] for r in rows] == ["villa-rumour"]


async def test_printf_keeps_working_for_sane_widths(public_db):
    ds = make_datasette(public_db, public=True)
    sql = "select printf('%5d|%-3s|%.2f', 42, 'a', 3.14159) as p, format('%s', 'x') as f, length(printf('%.*c', 1000, 'y')) as n"
    response = await ds.client.get("/tracker.json?_shape=array&sql=" + urllib.parse.quote(sql))
    assert response.json() == [{"p": "   42|a  |3.14", "f": "x", "n": 1000}]


OVERSIZED = [
    "select randomblob(1000000000)",
    "select zeroblob(1500000000)",
    "select hex(randomblob(3000000))",
    "select printf('%.*c', 1000000000, 'x')",
    "select printf('%1000000000d', 1)",
    "select format('%.*c', 2000000000, 'x')",
    "select replace(hex(zeroblob(2000000)), '0', '0000000000')",
    "with recursive r(i) as (select 1 union all select i + 1 from r limit 100000000) select group_concat(i) from r",
    "select length(group_concat(hex(zeroblob(1000)))) from (with recursive r(i) as "
    "(select 1 union all select i + 1 from r limit 100000) select i from r)",
    "select substr(printf('%.*c', 500000, 'x'), 1, 10) || zeroblob(4900000) || zeroblob(4900000)",
]


def peak_memory_mb(pid) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc to read the server's memory")
def test_oversized_values_are_refused_quickly_with_bounded_memory(public_db, tmp_path):
    from test_browser import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "DATASETTE_"))}
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "serve", "--db", str(public_db), "--public", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and proc.poll() is None, "tracker serve did not start"
                time.sleep(0.1)
        timings = {}
        for sql in OVERSIZED:
            start = time.monotonic()
            try:
                with urllib.request.urlopen(f"{base}/tracker.json?sql={urllib.parse.quote(sql)}", timeout=30) as r:
                    status, body = r.status, r.read(2_000_000)
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read(2_000_000)
            timings[sql] = time.monotonic() - start
            assert status == 400, (sql, status, body[:300])
            assert timings[sql] < 10, (sql, timings[sql])
            assert len(body) < 1_000_000, sql  # the answer is an error, not the value
        peak = peak_memory_mb(proc.pid)
        assert peak < 1536, f"the server's peak resident memory was {peak:.0f} MB"
        print(f"\npeak resident memory {peak:.0f} MB; slowest refusal {max(timings.values()):.2f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
