"""The Datasette publication, through Datasette(...).client on a real database.

The full database is for signed-in team members: these tests read it as a reader (the
`ds` fixture's client signs every request in); tests/test_access.py covers who may read.
"""

import pytest
import yaml

from tracker.serve import METADATA, load_metadata, make_datasette

READER = {"id": "carol", "reader": True}


class SignedIn:
    """ds.client, with a reader's cookie on every request (or another actor's)."""

    def __init__(self, client, cookie):
        self._client, self._cookie = client, cookie

    async def get(self, path, cookies=None, **kwargs):
        return await self._client.get(path, cookies={"ds_actor": self._cookie, **(cookies or {})}, **kwargs)

    async def post(self, path, cookies=None, **kwargs):
        return await self._client.post(path, cookies={"ds_actor": self._cookie, **(cookies or {})}, **kwargs)


def signed_in(datasette, actor=READER):
    datasette.client = SignedIn(datasette.client, datasette.sign({"a": actor}, "actor"))
    return datasette


@pytest.fixture
def ds(db_path):
    return signed_in(make_datasette(db_path))


async def get_json(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


async def test_review_queue_page_lists_what_is_not_corroborated(ds):
    rows = await get_json(ds, "/tracker/review_queue.json?_shape=array")
    assert {r["id"]: r["status"] for r in rows} == {
        "villa-rumour": "uncorroborated", "kim-plan-failed": "circular", "sanctions-biting": "contested"}
    html = (await ds.client.get("/tracker/review_queue")).text
    # what the status does not say: who the one origin is, where it appeared
    assert "only Hyesan Trader Informant in Daily NK; needs a second, independent origin" in html


async def test_queue_facets_and_search(ds):
    data = await get_json(ds, "/tracker/review_queue.json?_facet=status")
    counts = {f["value"]: f["count"] for f in data["facet_results"]["status"]["results"]}
    assert counts == {"uncorroborated": 1, "circular": 1, "contested": 1}
    rows = await get_json(ds, "/tracker/review_queue.json?_search=villa&_shape=array")
    assert [r["id"] for r in rows] == ["villa-rumour"]


@pytest.mark.parametrize("facet, expected", [
    ("status", {"corroborated": 3, "uncorroborated": 1, "circular": 1, "contested": 1}),
    ("origin_type", {"informant": 3, "state_media": 1, "academic": 1, "news_outlet": 1}),
    ("credibility", {1: 3, 3: 1, 4: 2}),
])
async def test_claims_facets(ds, facet, expected):
    data = await get_json(ds, f"/tracker/claims.json?_facet={facet}")
    results = data["facet_results"][facet]
    assert not results["truncated"]
    assert {f["value"]: f["count"] for f in results["results"]} == expected
    assert not data.get("facets_timed_out")


async def test_documents_facet_by_publisher_and_label_columns(ds):
    data = await get_json(ds, "/tracker/documents.json?_facet=publisher_id&_labels=on&_shape=objects")
    labels = {f["label"] for f in data["facet_results"]["publisher_id"]["results"]}
    assert {"Daily NK", "Korean Central News Agency", "A Wire"} == labels
    rows = await get_json(ds, "/tracker/appearances.json?_labels=on&_shape=array&claim_id=villa-rumour")
    assert rows[0]["source_id"] == {"value": "dnk-hyesan", "label": "Hyesan Trader Informant"}


async def test_claim_row_page_shows_provenance(ds):
    response = await ds.client.get("/tracker/claims/kim-plan-failed")
    assert response.status_code == 200
    html = response.text
    assert "Provenance: 2 appearances" in html
    assert "Rodong Sinmun" in html and "Party congress opens" in html and "dprk-state-media" in html
    assert "Sign in as a reviewer" not in html  # a reader is signed in already
    assert 'class="review-form"' not in html  # readers get no forms


async def test_claim_row_page_offers_forms_to_reviewers(ds):
    cookie = ds.sign({"a": {"id": "alice", "reviewer": True}}, "actor")
    html = (await ds.client.get("/tracker/claims/villa-rumour", cookies={"ds_actor": cookie})).text
    assert 'action="/-/review"' in html
    for action in ("flag", "accept", "reject", "note"):
        assert f'name="action" value="{action}"' in html


async def test_canned_query_with_a_parameter(ds):
    rows = await get_json(ds, "/tracker/claim_trail.json?claim_id=rations-cut&_shape=array")
    assert [(r["entry"], r["relation"]) for r in rows] == [("appearance", "asserts"), ("link", "corroborates")]
    assert rows[1]["other_claim_id"] == "market-crackdown" and rows[1]["note"] == "Same squeeze, two channels."
    rows = await get_json(ds, "/tracker/circular_reporting.json?_shape=array")
    assert [(r["claim_id"], r["single_origin_group"], r["outlets"], r["documents"]) for r in rows] == [
        ("kim-plan-failed", "dprk-state-media", 2, 2)]
    assert rows[0]["outlets_repeating_it"] == "Korean Central News Agency, A Wire"
    rows = await get_json(ds, "/tracker/claims_by_source_type.json?source_type=informant&_shape=array")
    assert {r["claim_id"] for r in rows} == {"hardship-provinces", "villa-rumour", "market-crackdown"}
    rows = await get_json(ds, "/tracker/source_record.json?source_id=nis&_shape=array")
    assert [(r["claim_id"], r["stance"]) for r in rows] == [("sanctions-biting", "denies")]


async def test_every_documented_table_has_descriptions(ds):
    metadata = yaml.safe_load(METADATA.read_text())
    tables = metadata["databases"]["tracker"]["tables"]
    db = ds.get_database("tracker")
    for table in ("claims", "appearances", "sources", "documents", "links"):
        columns = await db.table_columns(table)
        assert set(columns) <= set(tables[table]["columns"]), table
    for name in ("source_types", "review_events", "review_queue", "claim_provenance", "source_track_record"):
        assert tables[name]["description"]


def test_every_writable_query_admits_only_reviewers():
    for public in (False, True):
        queries = load_metadata(public)["databases"]["tracker"]["queries"]
        for name, query in queries.items():
            if query.get("write"):
                assert not public, name
                assert query["allow"] == {"reviewer": True}, name
    assert {"flag_claim", "accept_claim", "reject_claim", "note_claim"} <= set(load_metadata()["databases"]["tracker"]["queries"])


async def test_public_serving_is_read_only(db_path):
    ds = make_datasette(db_path, public=True)
    assert (await ds.client.get("/tracker/claims")).status_code == 200  # anonymous visitors read it
    assert (await ds.client.get("/tracker/flag_claim")).status_code == 404
    cookie = ds.sign({"a": {"id": "alice", "reviewer": True}}, "actor")
    response = await ds.client.post("/tracker/flag_claim", json={"claim_id": "villa-rumour"},
                                    cookies={"ds_actor": cookie})
    assert response.status_code in (400, 403, 404)  # (the cookie names no account of the public file)
    assert (await ds.client.get("/tracker/claims.json")).status_code == 200


@pytest.mark.parametrize("credibility, written", [
    ("9", False), ("0", False), ("abc", False), ("3.5", False), ("3", True), ("", True),
])
async def test_a_canned_query_refuses_a_bad_credibility_with_a_sentence(db_path, credibility, written):
    import sqlite3

    ds = make_datasette(db_path)
    cookies = {"ds_actor": ds.sign({"a": {"id": "alice", "reviewer": True}}, "actor")}
    cookies["ds_csrftoken"] = (await ds.client.get("/tracker/flag_claim", cookies=cookies)).cookies["ds_csrftoken"]
    response = await ds.client.post(
        "/tracker/flag_claim", json={"claim_id": "villa-rumour", "note": "", "credibility": credibility},
        headers={"x-csrftoken": cookies["ds_csrftoken"], "accept": "application/json"}, cookies=cookies)
    body = response.json()
    events = sqlite3.connect(db_path).execute("SELECT credibility FROM review_events").fetchall()
    if written:
        assert body["ok"], body
        assert events == [(int(credibility) if credibility else None,)]
    else:
        assert not body["ok"]
        assert body["message"] == (
            "credibility is a whole number from 1 (confirmed) to 6 (cannot be judged), or left empty")
        assert events == []


REAL_COUNTS = {
    "claims": "SELECT {facet} AS value, count(*) AS count FROM claims WHERE {facet} IS NOT NULL GROUP BY 1",
    "review_queue": "SELECT {facet} AS value, count(*) AS count FROM review_queue WHERE {facet} IS NOT NULL GROUP BY 1",
}


@pytest.mark.parametrize("table, facets", [
    ("claims", ["status", "kind", "origin_type", "credibility"]),
    ("review_queue", ["status", "kind", "origin_type"]),
])
async def test_unfiltered_counts_come_from_facet_counts_and_match_the_rows(db_path, table, facets):
    from tracker.database import connect
    from tracker.review import record

    db = connect(db_path)
    record(db, "rations-cut", "reject", "analyst-1")  # market-crackdown loses its corroboration
    record(db, "villa-rumour", "accept", "analyst-1")  # leaves the queue
    record(db, "hardship-provinces", "flag", "analyst-1")  # joins it
    expected = {f: {r["value"]: r["count"] for r in db.query(REAL_COUNTS[table].format(facet=f))} for f in facets}
    total = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    db.close()

    ds = signed_in(make_datasette(db_path))
    query = "&".join(f"_facet={f}" for f in facets)
    data = await get_json(ds, f"/tracker/{table}.json?{query}")
    assert data["filtered_table_rows_count"] == total
    got = {f: {r["value"]: r["count"] for r in data["facet_results"][f]["results"]} for f in facets}
    assert got == expected
    # the counts really are read from facet_counts: tamper with them and the page follows
    import sqlite3
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE facet_counts SET count = count + 1000 WHERE name = ? AND facet = ''", [table])
    conn.commit()
    conn.close()
    data = await get_json(ds, f"/tracker/{table}.json")
    assert data["filtered_table_rows_count"] == total + 1000
    # a filtered page counts the rows themselves
    data = await get_json(ds, f"/tracker/{table}.json?status=uncorroborated&_facet=status")
    assert data["filtered_table_rows_count"] == expected["status"].get("uncorroborated", 0)


async def test_queue_and_trail_link_to_claim_pages(ds):
    html = (await ds.client.get("/tracker/review_queue")).text
    assert '<a href="/tracker/claims/villa-rumour">Kim is building a villa at Mt. Myohyang.</a>' in html
    html = (await ds.client.get("/tracker/claim_trail?claim_id=rations-cut")).text
    assert '<a href="/tracker/claims/market-crackdown">market-crackdown</a>' in html
    assert '<a href="/tracker/documents/wire-story">wire-story</a>' in html
    assert '<a href="/tracker/sources/wire">wire</a>' in html


async def test_a_json_client_may_send_null_note_and_credibility(ds, db_path):
    import sqlite_utils

    cookie = ds.sign({"a": {"id": "alice", "reviewer": True}}, "actor")
    page = await ds.client.get("/tracker/flag_claim", cookies={"ds_actor": cookie})
    assert page.status_code == 200
    token = page.cookies.get("ds_csrftoken")
    response = await ds.client.post(
        "/tracker/flag_claim", json={"claim_id": "villa-rumour", "note": None, "credibility": None},
        headers={"x-csrftoken": token, "accept": "application/json"},
        cookies={"ds_actor": cookie, "ds_csrftoken": token})
    assert response.json()["ok"] is True, response.text
    event = next(sqlite_utils.Database(db_path)["review_events"].rows)
    assert (event["actor"], event["note"], event["credibility"]) == ("alice", None, None)


def much_repeated(tmp_path):
    """A signed-in Datasette on the fixture world with kim-plan-failed repeated by 130 more documents."""
    from conftest import DOCUMENTS, write_seeds
    from tracker.build import build

    documents = dict(DOCUMENTS)
    for n in range(130):
        documents[f"repeat-{n:03d}"] = {
            "id": f"repeat-{n:03d}", "title": f"Repeat {n}", "publisher": "wire", "published": "2022",
            "claims": [{"ref": "kim-plan-failed", "source": "kcna", "quote": f"again {n}"}],
        }
    path = tmp_path / "t.db"
    build(write_seeds(tmp_path / "seeds", documents=documents), path)
    return signed_in(make_datasette(path))


async def test_a_much_repeated_claim_keeps_a_bounded_page(tmp_path):
    ds = much_repeated(tmp_path)
    html = (await ds.client.get("/tracker/claims/kim-plan-failed")).text
    assert "Provenance: 132 appearances" in html
    assert html.count('<td data-label="published">') == 100
    assert 'href="/tracker/claim_provenance?claim_id=kim-plan-failed">All 132 appearances</a>' in html


async def test_canned_queries_read_like_pages(ds):
    html = (await ds.client.get("/tracker/source_record")).text
    # what it answers before any SQL; the SQL folded away
    assert html.index("Every claim the chosen source originated") < html.index("<details class=\"sql-folded\">")
    assert html.index("<details class=\"sql-folded\">") < html.index("FROM appearances a")
    # the source chosen from the set of sources, by name
    assert '<select id="qp1" name="source_id">' in html
    assert '<option value="kcna">Korean Central News Agency (state_media)</option>' in html
    html = (await ds.client.get("/tracker/claims_by_source_type")).text
    assert '<option value="informant">informant: ' in html
    html = (await ds.client.get("/tracker/claim_trail")).text
    assert 'list="choices-claim_id"' in html and '<option value="villa-rumour">' in html
    # dates as recorded (wire-story is dated 2021, not 2021-01-01), relays by name, no JSON
    rows = await get_json(ds, "/tracker/claim_trail.json?claim_id=kim-plan-failed&_shape=array")
    assert [r["published"] for r in rows] == ["2021", "2021-01"]  # as recorded; a year before its months
    assert "sort_date" not in rows[0]
    assert [r["via"] for r in rows] == ["Korean Central News Agency", None]
    rows = await get_json(ds, "/tracker/source_record.json?source_id=rodong&_shape=array")
    assert rows[0]["via"] == "Korean Central News Agency"


async def test_internal_views_and_memory_are_hidden(ds):
    html = (await ds.client.get("/")).text
    assert "_memory" not in html and 'class="big-button queue-link" href="/tracker/review_queue"' in html
    html = (await ds.client.get("/tracker")).text
    pages = html[html.index('<h2 id="pages">'):html.index('<h2 id="queries">')]
    assert "review_queue" in pages and "claims" in pages
    for internal in ("claim_count_changes", "analysis_queue", "claim_status", "facet_counts", "seed_files"):
        assert internal not in pages


def test_the_trail_diagram_stays_readable_for_many_origins():
    from tracker.plugin import diagram

    names = {f"src-{n}": {"name": f"Source <{n}>", "type": "informant", "independence_group": f"g{n % 3}"}
             for n in range(40)}
    names["pub"] = {"name": "The Publisher", "type": "news_outlet", "independence_group": "pub"}
    chains = [{"source_id": f"src-{n}", "via": [], "publisher_id": "pub", "stance": "asserts", "appearances": 5}
              for n in range(40)]
    svg = str(diagram.draw(chains, names, {"g0": "#fff", "g1": "#eee", "g2": "#ddd"}, []))
    assert svg.count('class="node" data-source="src-') == diagram.COLUMN_LIMIT
    assert f"+{40 - diagram.COLUMN_LIMIT} more" in svg
    assert "Source &lt;1&gt;" in svg and "<1>" not in svg  # names are text, escaped
    assert svg.count('data-source="pub"') == 1  # the publisher drawn once


async def test_a_much_repeated_chain_is_drawn_once_with_its_count(tmp_path):
    ds = much_repeated(tmp_path)
    html = (await ds.client.get("/tracker/claims/kim-plan-failed")).text
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" class="trail-diagram"')
    svg = html[start:html.index("</svg>", start)]
    assert "×131" in svg  # KCNA -> A Wire: 130 repeats and the item Rodong relayed through KCNA
    # KCNA is an origin and (of its own item) the publisher: one node
    assert svg.count('data-source="kcna"') == 1 and svg.count('data-source="wire"') == 1
