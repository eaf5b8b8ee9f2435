"""A document's text with its quotes highlighted, in a real browser (issue 10): headless
Debian chromium driven by playwright against a real `tracker serve`, signed in as a
team member. Screenshots at 1280 and 390 px go to /tmp/document-page-*.png.

Skips with the reason when playwright or /usr/bin/chromium is missing (never run
`playwright install`).
"""

import os
import pathlib

import pytest

from conftest import SOURCES, write_seeds
from test_browser import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from test_ingest_datasette import HOSTILE, TEXT, documents_with_texts
from tracker.build import build

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not importable")
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="/usr/bin/chromium is absent: "
                                "apt-get install -y chromium")
PASSWORD = "ingest browser password"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from datasette_auth_passwords.utils import hash_password

    tmp = tmp_path_factory.mktemp("ingest-browser")
    texts = tmp / "texts"
    texts.mkdir()
    (texts / "report.txt").write_text(TEXT, encoding="utf-8")
    for title in ("Older unread", "Newest unread", "Oldest unread"):
        (texts / f"{title}.txt").write_text(f"{title}.\n", encoding="utf-8")
    db = tmp / "tracker.db"
    build(write_seeds(tmp / "seeds", sources=SOURCES, documents=documents_with_texts()), db, texts)
    proc, base, log = start_server(tmp, db, env_extra={
        "TRACKER_REVIEWER_PASSWORD_HASH": hash_password(PASSWORD, iterations=1000),
        "DATASETTE_SECRET": "ingest-browser-secret"})
    try:
        yield base
    finally:
        stop_server(proc, log)


@pytest.fixture(scope="module")
def member(server):
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        except Exception as e:  # noqa: BLE001 - any launch failure means "no usable browser here"
            pytest.skip(f"/usr/bin/chromium cannot be launched: {str(e).splitlines()[0]}")
        context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto("/-/login")
        page.fill("#id_username", "reviewer")
        page.fill("#id_password", PASSWORD)
        page.click("form.password-login input[type=submit]")
        page.wait_for_load_state()
        assert any(c["name"] == "ds_actor" for c in context.cookies())
        page.close()
        try:
            yield context
        finally:
            context.close()
            browser.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_document_text_shows_its_quotes_highlighted(member, width):
    page = member.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto("/tracker/documents/dailynk-report")
    assert response.status == 200
    text = page.locator(".tracker-document .document-text")
    assert text.inner_text().strip() == TEXT.strip()  # the hostile markup reads as text
    marks = [m.strip() for m in text.locator("mark").all_inner_texts()]
    assert marks == [f"things are worse than ever this winter. {HOSTILE}", "the market was raided",
                     "a villa is going up"]
    assert text.locator("script").count() == 0 and not dialogs
    background = text.locator("mark").first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    # the quotes table links to the highlight of each quote
    page.locator("table.tracker-table a[href='#quote-1']").click()
    assert page.url.endswith("#quote-1")
    shot = pathlib.Path(f"/tmp/document-page-{width}.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()


def test_unread_documents_page(member):
    page = member.new_page()
    response = page.goto("/tracker/unread_documents")
    assert response.status == 200
    titles = page.locator("table.rows-and-columns td.col-title").all_inner_texts()
    assert [t.strip() for t in titles] == ["Newest unread", "Older unread", "Oldest unread"]
    assert page.locator(".facet-info[data-column=month]").count() == 1
    page.screenshot(path="/tmp/unread-documents.png", full_page=True)
    page.close()
