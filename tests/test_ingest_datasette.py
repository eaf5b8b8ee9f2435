"""Ingested documents in Datasette (issue 10): the unread-documents page, a document's
text with its quotes highlighted (escaped, bounded), full-text search over the texts,
and no text in the public file."""

import copy
import html
import re
import sqlite3

import pytest

from conftest import DOCUMENTS, SOURCES, write_seeds
from tracker.build import build
from tracker.ingest import plugin
from tracker.publish import publish
from tracker.serve import make_datasette
from test_datasette import signed_in


def team(db):
    """Datasette on the full database, as a signed-in team member (the full file is theirs)."""
    return signed_in(make_datasette(db))

HOSTILE = "<script>alert('text')</script>"
SECRET_PHRASE = "zanzibarquokka"  # a word only the texts hold: the byte scan looks for it
TEXT = (f"Hard times in the provinces. A source said things are worse than ever this winter. {HOSTILE} "
        f"In Hyesan the market was raided and a villa is going up near the river. {SECRET_PHRASE} ends it.\n")


def documents_with_texts():
    documents = copy.deepcopy(DOCUMENTS)
    documents["dailynk-report"]["text"] = "report.txt"
    # a quote holding markup, overlapping the one before it
    documents["dailynk-report"]["claims"].append(
        {"ref": "villa-rumour", "source": "dnk-hyesan", "quote": f"this winter. {HOSTILE}"})
    documents["dailynk-report"]["claims"].append(
        {"ref": "villa-rumour", "source": "dnk-hyesan", "quote": "worse than ever this winter"})
    for day, title in [("2024-01-15", "Older unread"), ("2024-03-02", "Newest unread"), ("2023-12-31", "Oldest unread")]:
        documents[title] = {"id": title.lower().replace(" ", "-"), "title": title, "publisher": "kcna",
                            "published": day, "text": f"{title}.txt", "claims": []}
    return documents


@pytest.fixture
def built(tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "report.txt").write_text(TEXT, encoding="utf-8")
    for title in ("Older unread", "Newest unread", "Oldest unread"):
        (texts / f"{title}.txt").write_text(f"{title}: the {SECRET_PHRASE} of the day.\n", encoding="utf-8")
    seeds = write_seeds(tmp_path / "seeds", sources=SOURCES, documents=documents_with_texts())
    db = tmp_path / "db" / "tracker.db"
    build(seeds, db, texts)
    return db


async def test_unread_documents_newest_first_with_facets(built):
    ds = team(built)
    response = await ds.client.get("/tracker/unread_documents.json?_shape=objects&_facet=publisher_id&_facet=month")
    assert response.status_code == 200
    data = response.json()
    assert [r["id"] for r in data["rows"]] == ["newest-unread", "older-unread", "oldest-unread"]
    months = {f["value"]: f["count"] for f in data["facet_results"]["month"]["results"]}
    assert months == {"2024-03": 1, "2024-01": 1, "2023-12": 1}
    assert {f["value"]: f["count"] for f in data["facet_results"]["publisher_id"]["results"]} == {"kcna": 3}
    html = (await ds.client.get("/tracker/unread_documents")).text
    assert '<a href="/tracker/documents/newest-unread">newest-unread</a>' in html


async def test_document_page_highlights_quotes_escaped(built):
    ds = team(built)
    response = await ds.client.get("/tracker/documents/dailynk-report")
    assert response.status_code == 200
    html = response.text
    assert HOSTILE not in html and "&lt;script&gt;alert(" in html
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", html, re.S)
    # three overlapping quotes make one highlight, naming the claims of all three
    assert marks[0] == "things are worse than ever this winter. &lt;script&gt;alert(&#39;text&#39;)&lt;/script&gt;"
    assert '<mark id="quote-0" class="overlap" title="hardship-provinces, villa-rumour, villa-rumour">' in html
    assert "the market was raided" in marks and "a villa is going up" in marks
    text = re.search(r'<div class="document-text">(.*?)</div>', html, re.S).group(1)
    plain = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'")
    assert plain == TEXT  # highlighting adds nothing to, and drops nothing from, the text
    unread = (await ds.client.get("/tracker/documents/newest-unread")).text
    assert "none yet: an unread document" in unread and "<mark" not in unread


def test_segments_are_bounded_and_cover_the_text():
    text = "abcdefghij" * 3
    quotes = [{"quote_start": s, "quote_end": e, "position": i} for i, (s, e) in
              enumerate([(2, 5), (4, 8), (10, 12), (28, 40), (-3, 1), (7, 7)])]
    pieces = plugin.segments(text, quotes)
    assert "".join(p["text"] for p in pieces) == text
    assert [(p["text"], [q["position"] for q in p["quotes"]]) for p in pieces if p["quotes"]] == [
        ("a", [4]), ("cdefgh", [0, 1]), ("ab", [2]), ("ij", [3])]


async def test_a_huge_text_with_thousands_of_quotes_stays_bounded(tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    words = [f"w{i}" for i in range(60_000)]
    (texts / "big.txt").write_text(" ".join(words), encoding="utf-8")  # about 400,000 characters
    quotes = [f"{words[n]} {words[n + 1]}" for n in range(0, 3000, 2)]  # 1,500, each found once
    documents = {"big": {"id": "big", "title": "Big", "publisher": "kcna", "published": "2024", "text": "big.txt",
                         "claims": [{"id": "c0", "text": "A claim.", "source": "kcna", "quote": quotes[0]}]
                         + [{"ref": "c0", "source": "kcna", "quote": quote} for quote in quotes[1:]]}}
    seeds = write_seeds(tmp_path / "seeds", sources=SOURCES, documents=documents)
    db = tmp_path / "t.db"
    build(seeds, db, texts)
    response = await team(db).client.get("/tracker/documents/big")
    assert response.status_code == 200
    html = response.text
    assert len(html) < 600_000
    assert "Only the first 200,000 characters are shown." in html
    assert "1000 recorded quotes highlighted (the first 1000)" in html
    assert html.count("<tr>") <= plugin.ROWS_SHOWN + 5


async def test_full_text_search_over_texts(built):
    ds = team(built)
    rows = (await ds.client.get("/tracker/search_document_texts.json?search=Hyesan&_shape=objects")).json()["rows"]
    assert [r["document_id"] for r in rows] == ["dailynk-report"]
    assert "[[Hyesan]]" in rows[0]["passage"]
    table = (await ds.client.get(f"/tracker/document_texts.json?_search={SECRET_PHRASE}&_shape=objects")).json()
    assert len(table["rows"]) == 4


async def test_no_text_reaches_the_public_file(built, tmp_path):
    out = tmp_path / "public.db"
    publish(built, out)
    raw = out.read_bytes()
    # words of the texts that no quote holds (short quotes are published on purpose)
    for needle in (SECRET_PHRASE, "Hard times in the provinces. A source said", "Newest unread: the"):
        assert needle.encode() not in raw, needle
    with sqlite3.connect(out) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert not {t for t in tables if t.startswith("document_texts")}
        assert conn.execute("SELECT count(*) FROM unread_documents").fetchone()[0] == 3
    public = make_datasette(out, public=True)
    assert (await public.client.get("/tracker/search_document_texts")).status_code == 404
    page = await public.client.get("/tracker/documents/dailynk-report")
    assert page.status_code == 200 and "<mark" not in page.text and SECRET_PHRASE not in page.text


@pytest.mark.parametrize("path", ["/tracker/documents/dailynk-report", "/tracker/unread_documents",
                                  "/tracker/search_document_texts?search=Hyesan", "/tracker/document_texts"])
async def test_texts_are_for_signed_in_team_members_only(built, path):
    response = await make_datasette(built).client.get(path)
    assert response.status_code == 403
    # (the sign-in form carries the path asked for, to return to it: the visitor's own words)
    page = response.text.replace(f'value="{html.escape(path)}"', "")
    assert SECRET_PHRASE not in page and "Hyesan" not in page
