"""End to end in a real browser (issue 4 item 6, issue 9): headless Debian chromium driven
by playwright against a real `tracker serve`.

A reviewer signs in from a claim page and returns to it, flags the claim and finds it in
the queue; a bad value comes back as a sentence; markup in texts renders as text; an
anonymous visitor of the full database gets the sign-in page. On the project's seed
corpus (full database signed in, published file anonymously, same layout): the queue's
order and page height, the columns visible at 1280 px, the legend, the trail diagram
naming every origin, relay and publisher. Screenshots at 1280x900 and 390 px go to
/tmp/tracker-screenshots/.

Skips with the reason when playwright is not importable or /usr/bin/chromium is absent
or cannot start (scripts/test.sh installs Debian's chromium where it can; never run
`playwright install`).
"""

import copy
import os
import pathlib
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import DOCUMENTS, ROOT, SHARED_SEEDS, team_environment, write_seeds
from tracker.build import build
from tracker.publish import publish

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (python) is not importable: pip install the test extras"
)

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="/usr/bin/chromium is absent: apt-get install -y chromium (scripts/test.sh does it when it can)",
)

PASSWORD = "correct horse battery staple"
CORROBORATED = "hardship-provinces"  # informant (outlet:dailynk) + defector: corroborated, not queued
HOSTILE = "villa-rumour"
HOSTILE_TEXT = "Kim is building a villa <script>alert(1)</script> with <b>bold</b> walls."
HOSTILE_NOTE = "Odd <b>bold</b> claim <script>alert(2)</script>"
LINKED = "rations-cut"  # contradicts HOSTILE, so its page shows HOSTILE_TEXT in its links table
SCREENSHOT = pathlib.Path("/tmp/claim-page.png")
TIMEOUT_MS = 10_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp, db, *extra, env_extra=None):
    """A `tracker serve` subprocess on a free loopback port; returns (process, base url, log)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "DATASETTE_"))}
    env.update(env_extra or {})
    log = open(tmp / f"serve-{port}.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
         *extra],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"tracker serve exited with {proc.returncode}:\n{log.read()}")
        try:
            with urllib.request.urlopen(base + "/-/static/app.css", timeout=1) as response:
                if response.status == 200:
                    return proc, base, log
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"tracker serve did not answer on {base} within 20 s:\n{log.read()}")
        time.sleep(0.1)


def stop_server(proc, log):
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    log.close()


ENV = {
    # Few iterations: the login checks the hash, and the test should stay fast.
    "DATASETTE_SECRET": "browser-test-secret",
    # The accounts the pages are read as (a signed cookie counts only for a configured account).
    **team_environment(),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The small world of conftest, served in full; yields (base url, db path)."""
    from datasette_auth_passwords.utils import hash_password

    tmp = tmp_path_factory.mktemp("browser")
    documents = copy.deepcopy(DOCUMENTS)
    hostile = next(c for c in documents["dailynk-report"]["claims"] if c.get("id") == HOSTILE)
    hostile["text"] = HOSTILE_TEXT
    # The plugin's own tables render the text too: a link to the claim, with a marked-up note.
    documents["wire-story"]["links"].append(
        {"from": LINKED, "to": HOSTILE, "relation": "contradicts", "note": HOSTILE_NOTE}
    )
    db = tmp / "tracker.db"
    build(write_seeds(tmp / "seeds", documents=documents), db)
    proc, base, log = start_server(tmp, db, env_extra={
        **ENV, "TRACKER_REVIEWER_PASSWORD_HASH": hash_password(PASSWORD, iterations=1000)})
    try:
        yield base, db
    finally:
        stop_server(proc, log)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The project's seed corpus: the full database and the published file, each served;
    yields {"full": base url, "public": base url}."""
    tmp = tmp_path_factory.mktemp("corpus")
    db = tmp / "tracker.db"
    texts = {"texts_dir": SHARED_SEEDS} if SHARED_SEEDS.is_dir() else {}
    build(ROOT / "seeds", db, **texts)
    public = tmp / "public.db"
    publish(db, public)
    full = start_server(tmp, db, env_extra=ENV)
    open_ = start_server(tmp, public, "--public", env_extra=ENV)
    try:
        yield {"full": full[1], "public": open_[1]}
    finally:
        stop_server(full[0], full[2])
        stop_server(open_[0], open_[2])


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        except Exception as e:  # noqa: BLE001 - any launch failure means "no usable browser here"
            pytest.skip(f"/usr/bin/chromium cannot be launched by playwright: {str(e).splitlines()[0]}")
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(context, dialogs: list):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


@pytest.fixture(scope="module")
def reviewer(server, browser):
    """A logged-in reviewer's browser context."""
    base, _ = server
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    page = new_page(context, [])
    page.goto("/-/login")
    page.fill("#id_username", "reviewer")
    page.fill("#id_password", PASSWORD)
    page.click("form.password-login input[type=submit]")
    page.wait_for_load_state()
    assert "Invalid username or password" not in page.content()
    assert any(c["name"] == "ds_actor" for c in context.cookies()), "login set no ds_actor cookie"
    page.close()
    yield context
    context.close()


def events(db, claim_id):
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT actor, action, note FROM review_events WHERE claim_id = ? ORDER BY created_at", (claim_id,)
        ).fetchall()


def history_rows(page):
    """The claim page's review history table as a list of {header: cell text}."""
    table = page.locator("section.tracker-provenance h2:has-text('Review history') + table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    return [dict(zip(headers, (c.strip() for c in row.locator("td").all_inner_texts())))
            for row in table.locator("tbody tr").all()]


def test_reviewer_flags_a_claim_from_its_page(server, reviewer):
    base, db = server
    dialogs = []
    page = new_page(reviewer, dialogs)

    # The claim's page: its provenance and the review forms.
    response = page.goto(f"/tracker/claims/{CORROBORATED}")
    assert response.status == 200
    provenance = page.locator("section.tracker-provenance")
    assert provenance.locator("h2").first.inner_text().strip() == "Provenance: 2 appearances"
    chain = provenance.locator("table").first.inner_text()
    for expected in ("Hard times in the provinces", "Secret Pyongyang Informant", "Daily NK",
                     "Kim Defector Witness", "A Wire", "anonymous sources of Daily NK", "things are worse than ever",
                     "we starved"):
        assert expected in chain, f"{expected!r} missing from the provenance table"
    assert "No review events yet." in provenance.inner_text()
    for action in ("flag", "accept", "reject", "note"):
        assert page.locator(f"form.review-form button.review-{action}").count() == 1, f"no {action} button"
    assert page.locator("form.review-form").get_attribute("action") == "/-/review"
    # buttons large enough to tap
    for action in ("flag", "accept", "reject", "note"):
        box = page.locator(f"button.review-{action}").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (action, box)

    # Flag it from the page: back on the claim's page, with a message naming it.
    note = "Check the defector's timeline"
    page.fill("form.review-form textarea[name=note]", note)
    with page.expect_navigation():
        page.click("button.review-flag")
    assert page.url == f"{base}/tracker/claims/{CORROBORATED}"
    assert f"Flag recorded for claim {CORROBORATED}" in page.locator(".message-info").inner_text()
    assert events(db, CORROBORATED) == [("reviewer", "flag", note)]
    page.goto("/tracker/review_queue")
    row = page.locator("tr.queue-row", has=page.locator(f"a[href='/tracker/claims/{CORROBORATED}']"))
    assert row.count() == 1, f"{CORROBORATED} is not listed in the review queue"
    assert row.locator("td.col-reason").inner_text().strip() == f"flagged by reviewer: \"{note}\""
    assert page.locator("tr.queue-row").first.get_attribute("data-claim") == CORROBORATED  # flagged first

    # On the claim page, the flag is in its review history.
    page.goto(f"/tracker/claims/{CORROBORATED}")
    history = history_rows(page)
    assert len(history) == 1
    assert history[0]["who"] == "reviewer"
    assert history[0]["action"] == "flag"
    assert history[0]["note"] == note
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert dialogs == []
    page.close()


def test_reviewer_accepts_a_suggested_link_and_withdraws_it(server, reviewer):
    """Issue 12: Link on a claim page's suggestion counts at once, for both claims."""
    base, db = server
    circular, other = "kim-plan-failed", "market-crackdown"
    with sqlite3.connect(db) as conn:  # a suggestion as `tracker suggest-links` stores it
        conn.execute("INSERT INTO link_suggestions VALUES (?, ?, 'contradicts', 1.5, 'shared words: plan')",
                     (circular, other))
    dialogs = []
    page = new_page(reviewer, dialogs)
    page.goto(f"/tracker/claims/{circular}")
    assert page.locator("dl.summary .status").first.inner_text().strip() == "circular"
    suggestion = page.locator("table.tracker-suggestions tr", has=page.locator(f"a[href='/tracker/claims/{other}']"))
    assert suggestion.count() == 1
    suggestion.locator("select[name=relation]").select_option("corroborates")  # the analyst knows better
    with page.expect_navigation():
        suggestion.locator("button.suggestion-link").click()

    assert page.url == f"{base}/tracker/claims/{circular}"
    message = page.locator(".message-info").inner_text()
    assert f"Link recorded: {circular} corroborates {other}." in message
    assert f"{circular} corroborated" in message
    assert page.locator("dl.summary .status").first.inner_text().strip() == "corroborated"
    assert page.locator("table.tracker-suggestions").count() == 0  # the pair's suggestion is gone
    assert history_rows(page)[0]["action"] == f"link (corroborates) with {other}"

    with page.expect_navigation():
        page.locator("form.unlink-form button.link-unlink").click()
    assert f"Link withdrawn between {circular} and {other}." in page.locator(".message-info").inner_text()
    assert page.locator("dl.summary .status").first.inner_text().strip() == "circular"
    assert dialogs == []
    page.close()


def assert_rendered_as_text(page, url, *texts):
    page.wait_for_load_state("load")
    body = page.inner_text("body")
    for text in texts:
        assert text in body, f"{text!r} is not shown literally on {url}"
    # No element was made out of the text, anywhere on the page.
    assert page.locator("b", has_text="bold").count() == 0, f"<b> from the text became markup on {url}"
    assert not page.evaluate(
        "() => Array.from(document.scripts).some(s => /alert\\(\\d\\)/.test(s.textContent))"
    ), f"<script> from the text became a script element on {url}"


def test_claim_text_with_markup_renders_as_text(server, reviewer):
    dialogs, errors = [], []
    page = new_page(reviewer, dialogs)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Datasette's row table, on the claim's own page.
    assert page.goto(f"/tracker/claims/{HOSTILE}").status == 200
    assert_rendered_as_text(page, page.url, HOSTILE_TEXT)
    cell = page.locator("table.rows-and-columns td.col-text").first
    assert cell.text_content().strip() == HOSTILE_TEXT  # in the folded "All columns"
    assert cell.locator("*").count() == 0

    # A review note with markup, posted from the page, shown in the review history.
    page.fill("form.review-form textarea[name=note]", HOSTILE_NOTE)
    with page.expect_navigation():
        page.click("button.review-note")
    assert "Note recorded" in page.locator(".message-info").inner_text()
    # The queue lists the claim, text and all.
    page.goto("/tracker/review_queue")
    assert_rendered_as_text(page, page.url, HOSTILE_TEXT)
    page.goto(f"/tracker/claims/{HOSTILE}")
    assert_rendered_as_text(page, page.url, HOSTILE_TEXT, HOSTILE_NOTE)
    assert [(e["who"], e["action"], e["note"]) for e in history_rows(page)] == [("reviewer", "note", HOSTILE_NOTE)]

    # The plugin's links table on the other claim's page: the text and the link's note.
    assert page.goto(f"/tracker/claims/{LINKED}").status == 200
    assert_rendered_as_text(page, page.url, HOSTILE_TEXT, HOSTILE_NOTE)
    links = page.locator("section.tracker-provenance h2:has-text('Links') + table")
    assert links.locator(f"a[href='/tracker/claims/{HOSTILE}']").inner_text().strip() == HOSTILE_TEXT

    page.wait_for_timeout(200)  # give a stray script the chance to fire
    assert dialogs == [], f"a dialog fired: {dialogs}"
    assert errors == [], f"script errors on the pages: {errors}"
    page.close()


def test_anonymous_visitor_gets_the_sign_in_page_and_returns_to_the_claim(server, browser):
    base, db = server
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    try:
        dialogs = []
        page = new_page(context, dialogs)
        response = page.goto(f"/tracker/claims/{HOSTILE}")
        assert response.status == 403
        assert page.locator("section.tracker-provenance").count() == 0
        assert HOSTILE_TEXT not in page.content()
        assert page.locator("form.tracker-sign-in").count() == 1

        # A well-formed POST (a valid CSRF token and its cookie) is refused by the allow block.
        token = page.locator("input[name=csrftoken]").get_attribute("value")
        before = events(db, HOSTILE)
        refused = context.request.post(
            "/tracker/flag_claim",
            form={"csrftoken": token, "claim_id": HOSTILE, "note": "anonymous", "credibility": ""},
            max_redirects=0,
        )
        assert refused.status == 403, refused.text()[:500]
        assert "CSRF" not in refused.text() and "did not match" not in refused.text()  # refused by allow
        assert events(db, HOSTILE) == before

        # Signing in from there returns to the claim.
        page.fill("#id_username", "reviewer")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("form.tracker-sign-in input[type=submit]")
        assert page.url == f"{base}/tracker/claims/{HOSTILE}"
        assert page.locator("form.review-form").count() == 1
        assert dialogs == []
    finally:
        context.close()


def test_a_bad_value_comes_back_as_a_sentence(server, reviewer):
    base, db = server
    page = new_page(reviewer, [])
    page.goto(f"/tracker/claims/{HOSTILE}")
    before = events(db, HOSTILE)
    # a value the form does not offer, as a hand-made request would send it
    page.evaluate("""() => { const s = document.querySelector('#review-credibility');
                             const o = document.createElement('option'); o.value = '9'; o.text = '9';
                             s.appendChild(o); s.value = '9'; }""")
    page.fill("form.review-form textarea[name=note]", "a note to keep")
    with page.expect_navigation():
        page.click("button.review-flag")
    error = page.locator(".review-error").inner_text()
    assert error == "Credibility must be a digit from 1 (confirmed) to 6 (cannot be judged), not '9'."
    assert page.locator("textarea[name=note]").input_value() == "a note to keep"
    assert page.locator("input[name=claim_id]").input_value() == HOSTILE
    body = page.inner_text("body")
    assert "INSERT" not in body and "CHECK constraint" not in body
    assert events(db, HOSTILE) == before

    # an unknown claim, then the reject that asks to be confirmed
    page.fill("input[name=claim_id]", "no-such-claim")
    page.select_option("#review-credibility", "")
    with page.expect_navigation():
        page.click("button.review-reject")
    assert page.locator(".review-error").first.inner_text().startswith("There is no claim 'no-such-claim'")
    page.fill("input[name=claim_id]", HOSTILE)
    with page.expect_navigation():
        page.click("button.review-reject")
    assert "Reject this claim?" in page.locator("h1").inner_text()
    assert events(db, HOSTILE) == before
    page.close()


# ------------------------------------------------------------------ the seed corpus

SHOTS = pathlib.Path("/tmp/tracker-screenshots")


def corpus_page(browser, base, path, width=1280, signed_in=True):
    context = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
    if signed_in:
        from datasette.app import Datasette

        cookie = Datasette(secret=ENV["DATASETTE_SECRET"]).sign({"a": {"id": "analyst", "reviewer": True}}, "actor")
        context.add_cookies([{"name": "ds_actor", "value": cookie, "url": base}])
    page = new_page(context, [])
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    return context, page


def right_edge(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"]


@pytest.mark.parametrize("face", ["full", "public"])
def test_the_queue_is_a_work_list(corpus, browser, face):
    context, page = corpus_page(browser, corpus[face], "/tracker/review_queue", signed_in=face == "full")
    try:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"queue-{face}-1280.png"), full_page=True)
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 5000, f"the queue page is {height} px tall"
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        rows = page.locator("tr.queue-row")
        assert 10 <= rows.count() <= 30
        # the order of work: by rank, newest first within each rank
        statuses = [s.strip() for s in page.locator("tr.queue-row td.col-status .status").all_inner_texts()]
        rank = {"contested": 2, "circular": 3, "uncorroborated": 4}
        assert [rank[s] for s in statuses] == sorted(rank[s] for s in statuses), statuses
        seen = [(rank[s], d.strip()) for s, d in zip(statuses, page.locator("tr.queue-row td.col-first_seen").all_inner_texts())]
        for (r1, d1), (r2, d2) in zip(seen, seen[1:]):
            assert r1 < r2 or d1 >= d2, (seen,)
        first = rows.first
        assert first.bounding_box()["y"] < 900, "the first row is below the fold"
        assert first.locator("td.claim-text").bounding_box()["width"] >= 350
        for column in ("col-status", "col-admiralty", "col-reason"):
            assert right_edge(first.locator(f"td.{column}")) <= 1280, column
        assert first.locator("td.claim-text a").get_attribute("href").startswith("/tracker/claims/")
        reason = first.locator("td.col-reason").inner_text()
        assert not reason.startswith(statuses[0]), "the reason repeats the status"
        # the legend, facets and search stay; internal columns are not shown
        legend = page.locator(".tracker-legend").inner_text()
        for words in ("A completely reliable", "F reliability cannot be judged", "1 confirmed",
                      "6 truth cannot be judged", "circular"):
            assert words in legend
        assert page.locator(".facet-results").count() == 1 and page.locator("#_search").count() == 1
        assert "fts_rowid" not in page.inner_text("table.queue-rows")
    finally:
        context.close()


@pytest.mark.parametrize("face", ["full", "public"])
def test_claims_table_shows_status_and_rating_first(corpus, browser, face):
    context, page = corpus_page(browser, corpus[face], "/tracker/claims", signed_in=face == "full")
    try:
        page.screenshot(path=str(SHOTS / f"claims-{face}-1280.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        first = page.locator("table.claims-rows tbody tr").first
        assert first.bounding_box()["y"] < 900, "the first row is below the fold"
        for column in ("col-status", "col-admiralty"):
            assert right_edge(first.locator(f"td.{column}")) <= 1280, column
        assert page.locator("table.claims-rows span.tag").count() > 0  # tags as tags
        # a facet value's label may be cut, never the count beside it (source types' labels are long)
        cut = page.eval_on_selector_all(".facet-info li", "lis => lis.filter(li => li.scrollWidth > li.clientWidth + 1)"
                                                          ".map(li => li.textContent.trim())")
        assert cut == [], cut
        assert page.locator(".facet-info li").count() > 10
        table = page.inner_text("table.claims-rows")
        assert '["' not in table and "evidence" not in table
        assert page.locator(".tracker-legend").count() == 1
        help_ = page.locator("details.column-help")
        assert help_.count() == 1 and help_.get_attribute("open") is None  # help folded, below the rows
    finally:
        context.close()


RELAYED = "dip-20x10-policy-announced"  # KCNA -> Konstantin Asmolov -> New Eastern Outlook; KJU -> The Diplomat


@pytest.mark.parametrize("face", ["full", "public"])
def test_claim_page_draws_the_trail(corpus, browser, face):
    import sqlite3

    context, page = corpus_page(browser, corpus[face], f"/tracker/claims/{RELAYED}", signed_in=face == "full")
    try:
        page.screenshot(path=str(SHOTS / f"claim-{face}-1280.png"), full_page=True)
        svg = page.locator(".diagram svg")
        assert svg.count() == 1
        drawn = set(svg.locator("g.node").evaluate_all("nodes => nodes.map(n => n.dataset.source).filter(Boolean)"))
        names = " ".join(svg.locator("text").evaluate_all("ts => ts.map(t => t.textContent)"))
        # every origin, relay and publisher of the claim, named, each once
        rows = page.evaluate("""async (claim) => {
            const r = await fetch('/tracker/claim_provenance.json?_shape=array&claim_id=' + claim);
            return await r.json(); }""", RELAYED)
        expected = set()
        for row in rows:
            expected |= {row["source_id"], row["publisher_id"], *__import__("json").loads(row["via"])}
        assert drawn == expected, (drawn, expected)
        assert len(svg.locator("g.node[data-source]").all()) == len(expected)
        sources = page.evaluate("""async (ids) => {
            const r = await fetch('/tracker/sources.json?_shape=array&id__in=' + encodeURIComponent(ids));
            return await r.json(); }""", ",".join(sorted(expected)))
        assert {s["id"] for s in sources} == expected
        for source in sources:  # named, not slugged
            assert source["name"][:20] in names, (source["name"], names)
        assert "http" not in svg.evaluate("s => s.outerHTML").replace("http://www.w3.org/2000/svg", "")
        assert page.locator(".tracker-legend").count() == 1
        assert page.locator("ul.groups li").count() >= 1
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/tracker/review_queue", "/tracker/claims", f"/tracker/claims/{RELAYED}"])
def test_pages_work_at_phone_width(corpus, browser, path):
    context, page = corpus_page(browser, corpus["full"], path, width=390)
    try:
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
        if path != f"/tracker/claims/{RELAYED}":
            # a work list: its first row on the phone's first screen (844 px), the
            # counts by value and the legend after the rows, still there
            first = page.locator("table.tracker-rows tbody tr").first
            assert first.bounding_box()["y"] < 844, "the first row is below the fold"
            for after in (".facet-results", ".tracker-legend", ".page-intro"):
                assert page.locator(after).bounding_box()["y"] > first.bounding_box()["y"], after
    finally:
        context.close()


def test_home_and_database_pages_lead_to_the_queue(corpus, browser):
    for path in ("/", "/tracker"):
        context, page = corpus_page(browser, corpus["full"], path)
        try:
            link = page.locator("a.queue-link").first
            assert link.get_attribute("href") == "/tracker/review_queue"
            assert link.bounding_box()["y"] < 900
            text = page.inner_text("body")
            assert "_memory" not in text
            visible = page.locator("ul.bullets").first.inner_text() if path == "/tracker" else text
            for internal in ("claim_count_changes", "analysis_queue", "claim_status"):
                assert internal not in visible, (path, internal)
        finally:
            context.close()
