"""End to end in a real browser (issue 4, item 6): headless Debian chromium driven by
playwright against a real `tracker serve`.

A reviewer logs in, flags a corroborated claim from its page and finds it in the review
queue; a claim whose text holds markup renders it as text; an anonymous visitor sees no
review forms and gets 403 when posting a review.

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

from conftest import DOCUMENTS, write_seeds
from tracker.build import build

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A `tracker serve` subprocess on a free loopback port; yields (base url, db path)."""
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

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "DATASETTE_"))}
    env.update(
        # Few iterations: the login checks the hash, and the test should stay fast.
        TRACKER_REVIEWER_PASSWORD_HASH=hash_password(PASSWORD, iterations=1000),
        DATASETTE_SECRET="browser-test-secret",
    )
    log = open(tmp / "serve.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"tracker serve exited with {proc.returncode}:\n{log.read()}")
            try:
                with urllib.request.urlopen(base + "/-/versions.json", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"tracker serve did not answer on {base} within 20 s:\n{log.read()}")
            time.sleep(0.1)
        yield base, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


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
                     "Kim Defector Witness", "A Wire", "outlet:dailynk", "things are worse than ever",
                     "we starved"):
        assert expected in chain, f"{expected!r} missing from the provenance table"
    assert "No review events yet." in provenance.inner_text()
    for action in ("flag", "accept", "reject", "note"):
        assert page.locator(f"form.review-form button.review-{action}").count() == 1, f"no {action} button"
    assert page.locator("button.review-flag").get_attribute("formaction") == "/tracker/flag_claim"

    # Flag it from the page: the canned query redirects to the review queue.
    note = "Check the defector's timeline"
    page.fill("form.review-form textarea[name=note]", note)
    with page.expect_navigation():
        page.click("button.review-flag")
    assert page.url == f"{base}/tracker/review_queue"
    assert "Flag recorded" in page.locator(".message-info").inner_text()
    row = page.locator("table.rows-and-columns tbody tr", has=page.locator("td.col-id", has_text=CORROBORATED))
    assert row.count() == 1, f"{CORROBORATED} is not listed in the review queue"
    assert row.locator("td.col-reason").inner_text().strip() == "flagged by a reviewer"
    assert events(db, CORROBORATED) == [("reviewer", "flag", note)]

    # Back on the claim page, the flag is in its review history.
    page.goto(f"/tracker/claims/{CORROBORATED}")
    history = history_rows(page)
    assert len(history) == 1
    assert history[0]["who"] == "reviewer"
    assert history[0]["action"] == "flag"
    assert history[0]["note"] == note
    page.screenshot(path=str(SCREENSHOT), full_page=True)
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
    assert cell.inner_text().strip() == HOSTILE_TEXT
    assert cell.locator("*").count() == 0

    # A review note with markup, posted from the page, shown in the review history.
    page.fill("form.review-form textarea[name=note]", HOSTILE_NOTE)
    with page.expect_navigation():
        page.click("button.review-note")
    assert "Note recorded" in page.locator(".message-info").inner_text()
    # The queue lists the claim, text and all.
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


def test_anonymous_visitor_cannot_review(server, browser):
    base, db = server
    context = browser.new_context(base_url=base)
    try:
        dialogs = []
        page = new_page(context, dialogs)
        response = page.goto(f"/tracker/claims/{HOSTILE}")
        assert response.status == 200
        assert page.locator("section.tracker-provenance").count() == 1
        assert page.locator("form.review-form").count() == 0
        assert page.locator("input[name=csrftoken]").count() == 0
        assert page.locator("section.tracker-provenance a", has_text="Log in as a reviewer").count() == 1

        # A well-formed POST (a valid CSRF token and its cookie) is still refused: the
        # 403 comes from the canned query's allow block, not from CSRF protection.
        page.goto("/-/login")
        token = page.locator("input[name=csrftoken]").get_attribute("value")
        before = events(db, HOSTILE)
        refused = context.request.post(
            "/tracker/flag_claim",
            form={"csrftoken": token, "claim_id": HOSTILE, "note": "anonymous", "credibility": ""},
            max_redirects=0,
        )
        assert refused.status == 403, refused.text()[:500]
        assert "csrf" not in refused.text().lower()
        assert events(db, HOSTILE) == before
        assert context.request.get("/tracker/flag_claim", max_redirects=0).status == 403
        assert dialogs == []
    finally:
        context.close()
