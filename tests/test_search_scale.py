"""Searches at scale (issue 14): a search that matches more claims than the bound shows
the count as "1,000+" and facets counted over its first 1,000 matches (the claims the
build wrote last), said so on the page; a smaller search keeps exact counts and facets;
the rows are those of the whole search, in the page's order. The claims table, the
review queue and the public file alike. Timings are in bench/, not here."""

import collections
import copy
import sqlite3

import pytest

from conftest import DOCUMENTS, write_seeds
from tracker.build import build
from tracker.plugin import SEARCH_COUNT_CAP, SEARCH_SAMPLE
from tracker.publish import publish
from tracker.serve import make_datasette
from test_datasette import signed_in

MANY = SEARCH_SAMPLE + 200  # claims naming Chongjin
KINDS = ["event", "figure", "observation", "rumor", "statement"]
BOUNDED_NOTE = f"This search matches more than {SEARCH_SAMPLE:,} claims"


def chongjin_documents():
    """Twelve monthly reports of Chongjin claims of every kind; a fifth of the claims also
    reported by the NIS (corroborated: out of the queue), the rest by the wire alone."""
    documents = copy.deepcopy(DOCUMENTS)
    for month in range(12):
        documents[f"chongjin-{month:02d}"] = {
            "id": f"chongjin-{month:02d}", "title": f"Chongjin, month {month + 1}", "publisher": "wire",
            "published": f"2022-{month + 1:02d}-01",
            "claims": [{"id": f"chongjin-{n:04d}", "text": f"Prices rose in Chongjin, report {n}.",
                        "kind": KINDS[(n * n) % len(KINDS)], "source": "wire"}
                       for n in range(MANY) if n % 12 == month],
        }
    documents["nis-digest"] = {
        "id": "nis-digest", "title": "NIS digest", "publisher": "nis", "published": "2023-01-01",
        "claims": [{"ref": f"chongjin-{n:04d}", "source": "nis"} for n in range(0, MANY, 5)],
    }
    return documents


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    db = root / "t.db"
    build(write_seeds(root / "seeds", documents=chongjin_documents()), db)
    return db


@pytest.fixture(scope="module")
def public_path(db_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("public") / "public.db"
    publish(db_path, out)
    return out


def matches(db, word="Chongjin"):
    """Every claim naming the word, read without the full-text index, written last first."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT rowid, * FROM claims WHERE text LIKE ? ORDER BY rowid DESC", [f"%{word}%"]).fetchall()
    conn.close()
    return rows


def facet(data, name):
    return {r["value"]: r["count"] for r in data["facet_results"][name]["results"]}


def counted(rows, column):
    return dict(collections.Counter(r[column] for r in rows if r[column] is not None))


async def test_a_search_beyond_the_bound_counts_its_facets_over_the_first_matches(db_path):
    ds = signed_in(make_datasette(db_path))
    every = matches(db_path)
    assert len(every) == MANY
    first = every[:SEARCH_SAMPLE]
    data = (await ds.client.get("/tracker/claims.json?_search=Chongjin")).json()
    assert data["filtered_table_rows_count"] == SEARCH_COUNT_CAP
    for name in ("status", "kind", "origin_type", "credibility"):
        assert facet(data, name) == counted(first, name), name
    # the sample differs from the whole, so this checks which claims were counted
    assert counted(first, "kind") != counted(every, "kind")
    assert sum(facet(data, "kind").values()) == SEARCH_SAMPLE
    html = (await ds.client.get("/tracker/claims?_search=Chongjin")).text
    assert f"{SEARCH_COUNT_CAP:,}+ rows" in html
    assert BOUNDED_NOTE in html and f"its first {SEARCH_SAMPLE:,} matches only" in html
    assert "timed out" not in html


async def test_the_rows_of_a_bounded_search_are_the_newest_of_all_its_matches(db_path):
    ds = signed_in(make_datasette(db_path))
    every = matches(db_path)
    newest = sorted((r["first_seen"] for r in every), reverse=True)
    seen, path = [], "/tracker/claims.json?_search=Chongjin&_size=100&_shape=objects"
    for _ in range(3):  # the first pages, through Datasette's own next links
        data = (await ds.client.get(path)).json()
        seen += data["rows"]
        path = data["next_url"].split("http://localhost", 1)[-1]
    assert [r["first_seen"] for r in seen] == newest[:300]
    assert len({r["id"] for r in seen}) == 300
    assert all("Chongjin" in r["text"] for r in seen)


async def test_a_search_within_the_bound_keeps_exact_counts_and_facets(db_path):
    ds = signed_in(make_datasette(db_path))
    for word, count in (("Hyesan", 2), ("villa", 1)):
        data = (await ds.client.get(f"/tracker/claims.json?_search={word}")).json()
        assert data["filtered_table_rows_count"] == count and type(data["filtered_table_rows_count"]) is int
        assert facet(data, "kind") == counted(matches(db_path, word), "kind")
        html = (await ds.client.get(f"/tracker/claims?_search={word}")).text
        assert f"{count} row" in html and "+ row" not in html
        assert BOUNDED_NOTE not in html


async def test_a_filter_beside_a_bounded_search_counts_within_the_first_matches(db_path):
    ds = signed_in(make_datasette(db_path))
    first = [r for r in matches(db_path)[:SEARCH_SAMPLE] if r["kind"] == "figure"]
    data = (await ds.client.get("/tracker/claims.json?_search=Chongjin&kind=figure")).json()
    assert facet(data, "status") == counted(first, "status")
    every_figure = [r for r in matches(db_path) if r["kind"] == "figure"]
    assert data["filtered_table_rows_count"] == len(every_figure)  # under the cap: exact


async def test_the_queue_search_is_bounded_and_keeps_the_queue_order(db_path):
    ds = signed_in(make_datasette(db_path))
    every = matches(db_path)
    queued = [r for r in every if r["queue_reason"] is not None]
    assert 0 < len(queued) < len(every)
    first_queued = [r for r in every[:SEARCH_SAMPLE] if r["queue_reason"] is not None]
    data = (await ds.client.get("/tracker/review_queue.json?_search=Chongjin&_size=25&_shape=objects")).json()
    assert data["filtered_table_rows_count"] == min(len(queued), SEARCH_COUNT_CAP)
    for name in ("status", "kind", "origin_type"):
        assert facet(data, name) == counted(first_queued, name), name
    in_order = sorted(queued, key=lambda r: r["queue_order"])
    assert [r["id"] for r in data["rows"]] == [r["id"] for r in in_order[:25]]
    second = (await ds.client.get(data["next_url"].split("http://localhost", 1)[-1])).json()
    assert [r["id"] for r in second["rows"]] == [r["id"] for r in in_order[25:50]]
    html = (await ds.client.get("/tracker/review_queue?_search=Chongjin")).text
    assert BOUNDED_NOTE in html and "the queued claims among its first" in html
    assert "timed out" not in html


async def test_a_small_queue_search_is_exact(db_path):
    ds = signed_in(make_datasette(db_path))
    html = (await ds.client.get("/tracker/review_queue?_search=villa")).text
    assert "1 row" in html and BOUNDED_NOTE not in html
    data = (await ds.client.get("/tracker/review_queue.json?_search=villa")).json()
    assert data["filtered_table_rows_count"] == 1 and facet(data, "status") == {"uncorroborated": 1}


async def test_the_public_file_bounds_its_searches_too(public_path):
    ds = make_datasette(public_path, public=True)  # anonymous
    every = matches(public_path)
    first = every[:SEARCH_SAMPLE]
    data = (await ds.client.get("/tracker/claims.json?_search=Chongjin")).json()
    assert data["filtered_table_rows_count"] == SEARCH_COUNT_CAP
    assert facet(data, "kind") == counted(first, "kind")
    html = (await ds.client.get("/tracker/claims?_search=Chongjin")).text
    assert f"{SEARCH_COUNT_CAP:,}+ rows" in html and BOUNDED_NOTE in html
    queue = (await ds.client.get("/tracker/review_queue?_search=Chongjin")).text
    assert BOUNDED_NOTE in queue


async def test_a_search_with_operators_is_bounded_as_plain_words(db_path):
    ds = signed_in(make_datasette(db_path))
    data = (await ds.client.get('/tracker/claims.json?_search="Chongjin*&_searchmode=raw')).json()
    assert data["filtered_table_rows_count"] == SEARCH_COUNT_CAP
    assert sum(facet(data, "kind").values()) == SEARCH_SAMPLE
    html = (await ds.client.get('/tracker/claims?_search="Chongjin*')).text
    assert BOUNDED_NOTE in html
