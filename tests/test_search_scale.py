"""Searches at scale (issue 14): a search that matches more claims than the bound shows
the count as "1,000+" and facets counted over a sample of about SEARCH_SAMPLE (500) of its matches
(one in `every`, by a hash of the rowid, spread over them all), said so on the page; a
smaller search keeps exact counts and facets; the rows are those of the whole search,
in the page's order. The claims table, the review queue and the public file alike.
Timings are in bench/, not here."""

import collections
import copy
import sqlite3

import pytest

from conftest import DOCUMENTS, write_seeds
from tracker.build import build
from tracker.plugin import SEARCH_COUNT_CAP, SEARCH_SAMPLE
from tracker.plugin.search import in_sample, sample_rate
from tracker.publish import publish
from tracker.serve import make_datasette
from test_datasette import signed_in

MANY = max(SEARCH_COUNT_CAP, SEARCH_SAMPLE) + 200  # claims naming Chongjin
KINDS = ["event", "figure", "observation", "rumor", "statement"]
EVERY = sample_rate(MANY)
BOUNDED_NOTE = f"This search matches {MANY:,} claims"


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
    """Every claim naming the word, read without the full-text index."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT rowid, * FROM claims WHERE text LIKE ? ORDER BY rowid", [f"%{word}%"]).fetchall()
    conn.close()
    return rows


def sample(rows):
    return [r for r in rows if in_sample(r["rowid"], EVERY)]


def facet(data, name):
    return {r["value"]: r["count"] for r in data["facet_results"][name]["results"]}


def counted(rows, column):
    return dict(collections.Counter(r[column] for r in rows if r[column] is not None))


async def test_a_search_beyond_the_bound_counts_its_facets_over_a_sample_of_its_matches(db_path):
    ds = signed_in(make_datasette(db_path))
    every = matches(db_path)
    assert len(every) == MANY and EVERY > 1
    sampled = sample(every)
    # about one in EVERY, and spread over the id order (the build inserts by id), not its start
    assert abs(len(sampled) - MANY / EVERY) < MANY / 10
    ids = sorted(r["id"] for r in sampled)
    assert ids[0] < "chongjin-0100" and ids[-1] > f"chongjin-{MANY - 100:04d}"
    data = (await ds.client.get("/tracker/claims.json?_search=Chongjin")).json()
    assert data["filtered_table_rows_count"] == SEARCH_COUNT_CAP
    for name in ("status", "kind", "origin_type", "credibility"):
        assert facet(data, name) == counted(sampled, name), name
    assert sum(facet(data, "kind").values()) == len(sampled)
    html = (await ds.client.get("/tracker/claims?_search=Chongjin")).text
    assert f"{SEARCH_COUNT_CAP:,}+ rows" in html
    assert BOUNDED_NOTE in html and f"a sample of about {MANY // EVERY:,} of them (one in {EVERY}" in html
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


async def test_a_filter_beside_a_bounded_search_counts_within_the_sample(db_path):
    ds = signed_in(make_datasette(db_path))
    sampled = [r for r in sample(matches(db_path)) if r["kind"] == "figure"]
    data = (await ds.client.get("/tracker/claims.json?_search=Chongjin&kind=figure")).json()
    assert facet(data, "status") == counted(sampled, "status")
    every_figure = [r for r in matches(db_path) if r["kind"] == "figure"]
    assert data["filtered_table_rows_count"] == len(every_figure)  # under the cap: exact


async def test_the_queue_search_is_bounded_and_keeps_the_queue_order(db_path):
    ds = signed_in(make_datasette(db_path))
    every = matches(db_path)
    queued = [r for r in every if r["queue_reason"] is not None]
    assert 0 < len(queued) < len(every)
    sampled_queued = [r for r in sample(every) if r["queue_reason"] is not None]
    data = (await ds.client.get("/tracker/review_queue.json?_search=Chongjin&_size=25&_shape=objects")).json()
    assert data["filtered_table_rows_count"] == min(len(queued), SEARCH_COUNT_CAP)
    for name in ("status", "kind", "origin_type"):
        assert facet(data, name) == counted(sampled_queued, name), name
    in_order = sorted(queued, key=lambda r: r["queue_order"])
    assert [r["id"] for r in data["rows"]] == [r["id"] for r in in_order[:25]]
    second = (await ds.client.get(data["next_url"].split("http://localhost", 1)[-1])).json()
    assert [r["id"] for r in second["rows"]] == [r["id"] for r in in_order[25:50]]
    html = (await ds.client.get("/tracker/review_queue?_search=Chongjin")).text
    assert BOUNDED_NOTE in html and "the queued claims among a sample of about" in html
    assert "timed out" not in html


async def test_a_small_queue_search_is_exact(db_path):
    ds = signed_in(make_datasette(db_path))
    html = (await ds.client.get("/tracker/review_queue?_search=villa")).text
    assert "1 row" in html and BOUNDED_NOTE not in html
    data = (await ds.client.get("/tracker/review_queue.json?_search=villa")).json()
    assert data["filtered_table_rows_count"] == 1 and facet(data, "status") == {"uncorroborated": 1}


async def test_the_public_file_bounds_its_searches_too(public_path):
    ds = make_datasette(public_path, public=True)  # anonymous
    data = (await ds.client.get("/tracker/claims.json?_search=Chongjin")).json()
    assert data["filtered_table_rows_count"] == SEARCH_COUNT_CAP
    assert facet(data, "kind") == counted(sample(matches(public_path)), "kind")
    html = (await ds.client.get("/tracker/claims?_search=Chongjin")).text
    assert f"{SEARCH_COUNT_CAP:,}+ rows" in html and BOUNDED_NOTE in html
    queue = (await ds.client.get("/tracker/review_queue?_search=Chongjin")).text
    assert BOUNDED_NOTE in queue


async def test_a_search_with_operators_is_bounded_as_plain_words(db_path):
    ds = signed_in(make_datasette(db_path))
    data = (await ds.client.get('/tracker/claims.json?_search="Chongjin*&_searchmode=raw')).json()
    assert data["filtered_table_rows_count"] == SEARCH_COUNT_CAP
    assert sum(facet(data, "kind").values()) == len(sample(matches(db_path)))
    html = (await ds.client.get('/tracker/claims?_search="Chongjin*')).text
    assert BOUNDED_NOTE in html
