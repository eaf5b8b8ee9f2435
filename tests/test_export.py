"""Exports (SPEC section 10): ClaimReview, PROV-JSON, PROV-O and CSV, from the CLI and
from Datasette, carrying only what the public file carries."""

import csv
import io
import json
import zipfile

import pytest
import rdflib
import yaml
from rdflib.compare import isomorphic
from prov.model import ProvDocument
from typer.testing import CliRunner

from tracker import review
from tracker.build import build
from tracker.cli import app
from tracker.database import connect
from tracker.export import jsonld, provenance
from tracker.export.plugin import EXTENSIONS
from tracker.publish import publish
from tracker.serve import make_datasette

from conftest import SHARED_SEEDS, ROOT
from test_publish import extended_world, found_in, pseudonyms, rows, secrets_of

FORMATS = ("claimreview", "prov-json", "prov-o", "csv")
SDO = "http://schema.org/"
BASE = "https://tracker.example.org"


def run_export(tmp_path, db, fmt, *extra):
    out = tmp_path / ("csv-out" if fmt == "csv" else f"export.{fmt}")
    result = CliRunner().invoke(app, ["export", fmt, "--db", str(db), "--out", str(out), "--base-url", BASE, *extra])
    assert result.exit_code == 0, result.output
    return out


def written(out) -> dict:
    """{name: bytes} of everything an export wrote (a file, a folder's files, a zip's members)."""
    if out.is_dir():
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    data = out.read_bytes()
    files = {out.name: data}
    if zipfile.is_zipfile(out):
        with zipfile.ZipFile(out) as archive:
            files.update({name: archive.read(name) for name in archive.namelist()})
    return files


def assert_absent(files: dict, strings):
    """The byte scan of tests/test_publish.py, on export output: each secret as UTF-8,
    lower-cased, UTF-16, and as JSON and Turtle would escape it (an id as a whole id)."""
    for name, data in files.items():
        for text in strings:
            for needle in {text, text.lower(), json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}:
                for encoding in ("utf-8", "utf-16-le"):
                    assert not found_in(data, needle, encoding), f"{needle!r} found in {name}"


@pytest.fixture
def world_db(tmp_path):
    """The hidden-source cases: protected informants, a protected defector, a protected
    outlet, protected ids in relays and group names, and reviewers' names and notes."""
    path = tmp_path / "world" / "tracker.db"
    seeds = extended_world(tmp_path / "world-seeds")
    sources = yaml.safe_load((seeds / "sources.yml").read_text())
    for source in sources:
        if source["id"] == "dnk-pyongyang":
            source["aliases"] = ["the Ryugyong watcher"]
    (seeds / "sources.yml").write_text(yaml.safe_dump(sources, sort_keys=False))
    build(seeds, path)
    db = connect(path)
    review.record(db, "villa-rumour", "flag", "secret-reviewer", "secret note text")
    review.record(db, "hardship-provinces", "accept", "secret-reviewer", "another secret note", credibility=2)
    db.close()
    return path


def world_secrets(path):
    strings = secrets_of(path) | {"secret-reviewer", "secret note text", "another secret note"}
    for (aliases,) in rows(path, "SELECT aliases FROM sources WHERE sensitivity = 'protected' AND aliases IS NOT NULL"):
        strings.update(json.loads(aliases))
    return strings


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory):
    """The project's seed corpus (with the seed texts of ../shared when present)."""
    path = tmp_path_factory.mktemp("seed") / "tracker.db"
    build(ROOT / "seeds", path, texts_dir=SHARED_SEEDS if SHARED_SEEDS.is_dir() else None)
    return path


# --- every format, every byte ---------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_exports_leave_no_trace_of_protected_sources(tmp_path, world_db, fmt):
    out = run_export(tmp_path, world_db, fmt)
    files = written(out)
    assert all(files.values())
    strings = world_secrets(world_db)
    assert {"the Ryugyong watcher", "Secret Outlet Network", "saw the villa walls", "secret note text"} <= strings
    assert_absent(files, strings)
    # the pseudonyms are there instead
    names = pseudonyms(world_db)
    assert any(names["relay-informant"].encode() in data for data in files.values())


@pytest.mark.parametrize("fmt", FORMATS)
def test_seed_corpus_exports_leave_no_trace(tmp_path, seed_db, fmt):
    strings = secrets_of(seed_db)
    assert {"pyongyang-elite-member", "dailynk-source-ryanggang", "Pyongyang-based source (Daily NK)"} <= strings
    assert_absent(written(run_export(tmp_path, seed_db, fmt)), strings)


@pytest.mark.parametrize("fmt", FORMATS)
def test_exports_of_chosen_claims_leave_no_trace(tmp_path, world_db, fmt):
    # the copy made for a few claims must still know every protected source: a public
    # source's group (dnk-hyesan-echo) is kept whole, as in the public file
    out = run_export(tmp_path, world_db, fmt, "--claim", "villa-rumour", "--claim", "bridge-closed")
    files = written(out)
    assert_absent(files, world_secrets(world_db))
    names = pseudonyms(world_db)
    if fmt == "prov-json":
        assert b"dnk-hyesan-echo" in files[out.name]


def test_csv_as_a_zip(tmp_path, world_db):
    out = tmp_path / "tables.zip"
    result = CliRunner().invoke(app, ["export", "csv", "--db", str(world_db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = written(out)
    assert set(files) >= {"tables.zip", "claims.csv", "appearances.csv", "sources.csv", "documents.csv"}
    assert_absent(files, world_secrets(world_db))
    assert out.stat().st_mode & 0o777 == 0o644  # readable as the folder's files are, not mkstemp's 0600


def test_export_reads_a_public_file_too(tmp_path, world_db):
    public = tmp_path / "public.db"
    publish(world_db, public)
    before = public.read_bytes()
    from_public = run_export(tmp_path / "a", public, "claimreview").read_text()
    from_full = run_export(tmp_path / "b", world_db, "claimreview").read_text()
    assert from_public == from_full
    assert public.read_bytes() == before


# --- ClaimReview ----------------------------------------------------------------------

def values(node, term):
    return node.get(SDO + term, [])


def value(node, term):
    (item,) = values(node, term)
    return item.get("@value", item.get("@id"))


def test_claimreview_expands_to_the_claims_table(tmp_path, seed_db):
    out = run_export(tmp_path, seed_db, "claimreview")
    expanded = jsonld.expand(json.loads(out.read_text()))
    reviews = {value(node, "claimReviewed"): node for node in expanded if SDO + "ClaimReview" in node["@type"]}

    public = tmp_path / "public.db"
    publish(seed_db, public)
    claims = rows(public, "SELECT id, text, credibility, admiralty, status, first_seen, origin_id FROM claims")
    assert len(reviews) == len(claims) == len(expanded) > 100
    documents = {}
    for claim_id, document_id, title, published in rows(
            public, "SELECT a.claim_id, d.id, d.title, d.published FROM appearances a JOIN documents d ON d.id = a.document_id"):
        documents.setdefault(claim_id, set()).add((BASE + "/tracker/documents/" + document_id, title, published))
    for claim_id, text, credibility, admiralty, status, first_seen, origin_id in claims:
        node = reviews[text]
        assert value(node, "url") == f"{BASE}/tracker/claims/{claim_id}"
        (rating,) = values(node, "reviewRating")
        assert rating["@type"] == [SDO + "Rating"]
        assert (value(rating, "ratingValue"), value(rating, "bestRating"), value(rating, "worstRating")) == (
            credibility, 1, 6)
        alternate = value(rating, "alternateName")
        assert alternate.startswith(admiralty + ", ") and status in alternate
        (author,) = values(node, "author")
        assert author["@type"] == [SDO + "Organization"] and value(author, "name")
        (item,) = values(node, "itemReviewed")
        assert item["@type"] == [SDO + "Claim"]
        assert value(item, "datePublished") == first_seen
        (origin,) = values(item, "author")
        assert origin["@id"] == f"{BASE}/tracker/sources/{origin_id}"
        works = {(w["@id"], value(w, "headline"), value(w, "datePublished")) for w in values(item, "appearance")}
        assert works == documents[claim_id]
        (first,) = values(item, "firstAppearance")
        assert value(first, "datePublished") == first_seen
        for work in values(item, "appearance"):
            assert work["@type"] == [SDO + "CreativeWork"]
            (publisher,) = values(work, "publisher")
            assert value(publisher, "name")


def test_claimreview_rating_in_words(tmp_path, db_path):
    out = run_export(tmp_path, db_path, "claimreview", "--claim", "hardship-provinces", "--claim", "sanctions-biting")
    graph = {r["url"].rsplit("/", 1)[1]: r for r in json.loads(out.read_text())["@graph"]}
    rating = graph["hardship-provinces"]["reviewRating"]
    assert rating["alternateName"] == "B1, corroborated by 2 independent origins"
    assert (rating["ratingValue"], rating["name"]) == (1, "confirmed by other sources")
    assert graph["sanctions-biting"]["reviewRating"]["alternateName"].startswith(
        "B4, contested by 1 independent origin")
    # the origin, a protected informant, is a Person under its pseudonym
    author = graph["hardship-provinces"]["itemReviewed"]["author"]
    pseudonym = pseudonyms(db_path)["dnk-pyongyang"]
    assert author == {"@type": "Person", "@id": f"{BASE}/tracker/sources/{pseudonym}", "name": pseudonym}
    first = graph["hardship-provinces"]["itemReviewed"]["firstAppearance"]
    assert (first["headline"], first["datePublished"], first["publisher"]["name"]) == (
        "Hard times in the provinces", "2020-01-07", "Daily NK")
    assert [w["datePublished"] for w in graph["hardship-provinces"]["itemReviewed"]["appearance"]] == [
        "2020-01-07", "2021"]


def test_the_document_loader_serves_only_the_shipped_context():
    from pyld.jsonld import JsonLdError

    assert jsonld.document_loader("https://schema.org")["document"]["@context"]["ClaimReview"]
    for url in ("https://example.org/context.jsonld", "file:///etc/passwd", "https://schema.org.evil/"):
        with pytest.raises(JsonLdError):
            jsonld.document_loader(url)
    with pytest.raises(JsonLdError):
        jsonld.expand({"@context": "https://example.org/other", "name": "x"})


# --- PROV -----------------------------------------------------------------------------

def expected_chains(public, prefix="source:"):
    """Per appearance id, [origin, relays..., publisher] from the public tables."""
    chains = {}
    for document_id, position, source_id, via, publisher_id in rows(
            public, "SELECT a.document_id, a.position, a.source_id, a.via, d.publisher_id "
                    "FROM appearances a JOIN documents d ON d.id = a.document_id"):
        chains[f"appearance:{document_id}/{position}"] = [prefix + s for s in [source_id, *json.loads(via), publisher_id]]
    return chains


def test_prov_json_round_trips_and_gives_every_chain(tmp_path, seed_db):
    out = run_export(tmp_path, seed_db, "prov-json")
    doc = ProvDocument.deserialize(content=out.read_text(), format="json")
    again = ProvDocument.deserialize(content=doc.serialize(format="json"), format="json")
    assert again == doc
    public = tmp_path / "public.db"
    publish(seed_db, public)
    chains = provenance.chains(doc)
    assert chains == expected_chains(public)
    assert any(len(chain) > 2 for chain in chains.values())  # the seed corpus has relays


def test_a_claim_with_relays_gives_its_chain(tmp_path, world_db):
    out = run_export(tmp_path, world_db, "prov-json", "--claim", "bridge-closed")
    doc = ProvDocument.deserialize(content=out.read_text(), format="json")
    names = pseudonyms(world_db)
    assert provenance.chains(doc) == {"appearance:secret-dispatch/0": [
        "source:" + names["relay-informant"], "source:" + names["dnk-hyesan"], "source:dailynk",
        "source:" + names["defector-kim"], "source:" + names["secret-outlet"]]}
    provn = doc.get_provn()
    steps = [
        f"wasAttributedTo(appearance:secret-dispatch/0/0, source:{names['relay-informant']})",
        f"wasAttributedTo(appearance:secret-dispatch/0/1, source:{names['dnk-hyesan']})",
        "wasAttributedTo(appearance:secret-dispatch/0/2, source:dailynk)",
        f"wasAttributedTo(appearance:secret-dispatch/0/3, source:{names['defector-kim']})",
        f"wasAttributedTo(appearance:secret-dispatch/0, source:{names['secret-outlet']})",
        "wasDerivedFrom(appearance:secret-dispatch/0/1, appearance:secret-dispatch/0/0, -, -, -)",
        "wasDerivedFrom(appearance:secret-dispatch/0/3, appearance:secret-dispatch/0/2, -, -, -)",
        "wasDerivedFrom(appearance:secret-dispatch/0, appearance:secret-dispatch/0/3, -, -, -, [prov:type='prov:Quotation'])",
        f"wasAttributedTo(claim:bridge-closed, source:{names['relay-informant']})",
        "wasDerivedFrom(claim:bridge-closed, document:secret-dispatch, -, -, -, [prov:type='prov:PrimarySource'])",
    ]
    for step in steps:
        assert step in provn, step
    # the quote of a protected origin is withheld; no reviewer, no note
    assert "the bridge shut at dawn" not in provn


def test_review_decisions_are_activities_without_names(tmp_path, world_db):
    out = run_export(tmp_path, world_db, "prov-json", "--claim", "hardship-provinces")
    provn = ProvDocument.deserialize(content=out.read_text(), format="json").get_provn()
    assert "activity(review:" in provn and "t:action=\"accept\"" in provn and "t:credibility=2" in provn
    assert "wasAssociatedWith(" in provn and "tracker:review-team" in provn
    assert "secret-reviewer" not in provn


def test_prov_documents_read_back_equal(tmp_path, world_db):
    from tracker.export import read
    from tracker.export.public import connect_public, public_database

    with public_database(world_db) as public:
        conn = connect_public(public)
        claims, sources = list(read.claims(conn)), read.sources(conn)
        conn.close()
    doc = provenance.build(claims, sources, BASE)
    assert ProvDocument.deserialize(content=provenance.to_json(doc), format="json") == doc
    # PROV-JSON written in pieces (a few claims each) reads back as the whole document
    merged = "".join(provenance.json_pieces(claims, sources, BASE, chunk=2))
    assert ProvDocument.deserialize(content=merged, format="json") == doc
    assert ProvDocument.deserialize(content="".join(provenance.json_pieces([], sources, BASE)), format="json") == \
        provenance.build([], sources, BASE)
    # Turtle written in pieces (a few claims each) is the graph of the whole document
    whole = rdflib.Graph().parse(data=provenance.to_turtle(doc), format="turtle")
    pieces = list(provenance.turtle_pieces(claims, sources, BASE, chunk=2))
    assert len(pieces) == (len(claims) + 1) // 2
    assert isomorphic(whole, rdflib.Graph().parse(data="".join(pieces), format="turtle"))


def test_prov_o_is_turtle_with_the_same_chains(tmp_path, world_db):
    out = run_export(tmp_path, world_db, "prov-o")
    graph = rdflib.Graph().parse(data=out.read_text(), format="turtle")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    claims = set(graph.subjects(rdflib.RDF.type, rdflib.URIRef(SDO + "Claim")))
    assert len(claims) == rows(world_db, "SELECT count(*) FROM claims")[0][0]
    names = pseudonyms(world_db)
    step = rdflib.URIRef(BASE + "/tracker/appearances/secret-dispatch/0/1")
    assert graph.value(step, prov.wasAttributedTo) == rdflib.URIRef(BASE + "/tracker/sources/" + names["dnk-hyesan"])
    assert graph.value(step, prov.wasDerivedFrom) == rdflib.URIRef(BASE + "/tracker/appearances/secret-dispatch/0/0")


# --- CSV ------------------------------------------------------------------------------

def test_csv_is_flat_and_safe_for_spreadsheets(tmp_path, world_db):
    out = run_export(tmp_path, world_db, "csv")
    files = written(out)
    assert set(files) == {f"{t}.csv" for t in
                          ("claims", "appearances", "documents", "sources", "links", "review_events", "source_types")}
    appearances = list(csv.DictReader(io.StringIO(files["appearances.csv"].decode("utf-8-sig"))))
    names = pseudonyms(world_db)
    (bridge,) = [a for a in appearances if a["claim_id"] == "bridge-closed"]
    assert bridge["via"] == f"{names['dnk-hyesan']}; dailynk; {names['defector-kim']}"
    assert bridge["quote"] == ""
    claims = list(csv.DictReader(io.StringIO(files["claims.csv"].decode("utf-8-sig"))))
    assert len(claims) == rows(world_db, "SELECT count(*) FROM claims")[0][0]
    events = list(csv.DictReader(io.StringIO(files["review_events.csv"].decode("utf-8-sig"))))
    assert {(e["claim_id"], e["action"], e["actor"], e["note"]) for e in events} == {
        ("villa-rumour", "flag", "", ""), ("hardship-provinces", "accept", "", "")}
    from tracker.export.csvfiles import cell

    assert cell("documents", "title", "=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert cell("claims", "credibility", -1) == -1


# --- the command line -----------------------------------------------------------------

def test_cli_errors_write_nothing(tmp_path, db_path):
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["export", "claimreview", "--db", str(db_path), "--out", str(out),
                                      "--claim", "villa-rumour", "--claim", "no-such-claim"])
    assert result.exit_code == 1 and "no-such-claim" in result.output and not out.exists()
    result = CliRunner().invoke(app, ["export", "prov-json", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = CliRunner().invoke(app, ["export", "csv", "--db", str(db_path)])
    assert result.exit_code == 2 and "--out" in result.output
    result = CliRunner().invoke(app, ["export", "turtle", "--db", str(db_path)])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["export", "claimreview", "--db", str(db_path), "--base-url", "ftp://x"])
    assert result.exit_code == 2 and "--base-url" in result.output


def test_cli_writes_to_standard_output(db_path):
    result = CliRunner().invoke(app, ["export", "claimreview", "--db", str(db_path), "--claim", "villa-rumour"])
    assert result.exit_code == 0, result.output
    (node,) = json.loads(result.stdout)["@graph"]
    assert node["claimReviewed"] == "Kim is building a villa at Mt. Myohyang."


# --- Datasette ------------------------------------------------------------------------

RENDERED = {"claimreview": "application/ld+json", "provjson": "application/json", "provo": "text/turtle"}


@pytest.mark.parametrize("extension", sorted(RENDERED))
async def test_renderer_on_the_full_database_redacts(world_db, extension):
    ds = make_datasette(world_db)
    cookie = ds.sign({"a": {"id": "alice", "reviewer": True}}, "actor")
    strings = world_secrets(world_db)
    for path in (f"/tracker/claims/bridge-closed.{extension}", f"/tracker/claims/villa-rumour.{extension}",
                 f"/tracker/claims.{extension}?_size=max", f"/tracker/review_queue.{extension}",
                 f"/tracker/appearances.{extension}?claim_id=hardship-provinces",
                 f"/tracker/claim_provenance.{extension}",
                 f"/tracker.{extension}?sql=select+id+from+claims+where+id+like+'%25villa%25'",
                 f"/tracker/claim_trail.{extension}?claim_id=hardship-provinces"):
        response = await ds.client.get(path, cookies={"ds_actor": cookie})
        assert response.status_code == 200, (path, response.text[:300])
        assert response.headers["content-type"].startswith(RENDERED[extension]), path
        assert_absent({path: response.content}, strings)
    response = await ds.client.get(f"/tracker/claims/bridge-closed.{extension}", cookies={"ds_actor": cookie})
    names = pseudonyms(world_db)  # assigned by the first export
    assert names["relay-informant"] in response.text and "bridge-closed" in response.text
    response = await ds.client.get(f"/tracker/sources.{extension}", cookies={"ds_actor": cookie})
    assert response.status_code == 400


def team_cookie(ds):
    """The full database is for signed-in team members."""
    return {"ds_actor": ds.sign({"a": {"id": "carol", "reader": True}}, "actor")}


async def test_the_renderer_is_for_the_team_on_the_full_database(world_db):
    ds = make_datasette(world_db)
    response = await ds.client.get("/tracker/claims/bridge-closed.claimreview")
    # (the sign-in form carries the path asked for, to return to it: the visitor's own words)
    page = response.text.replace('value="/tracker/claims/bridge-closed.claimreview"', "")
    assert response.status_code == 403 and "bridge" not in page


async def test_renderer_output_matches_the_command(tmp_path, world_db):
    ds = make_datasette(world_db)
    response = await ds.client.get("/tracker/claims/bridge-closed.provjson", cookies=team_cookie(ds))
    doc = ProvDocument.deserialize(content=response.text, format="json")
    names = pseudonyms(world_db)
    assert list(provenance.chains(doc).values()) == [[
        "source:" + names["relay-informant"], "source:" + names["dnk-hyesan"], "source:dailynk",
        "source:" + names["defector-kim"], "source:" + names["secret-outlet"]]]
    response = await ds.client.get("/tracker/review_queue.claimreview", cookies=team_cookie(ds))
    graph = json.loads(response.text)["@graph"]
    queue = rows(world_db, "SELECT id FROM review_queue")
    assert sorted(n["url"].rsplit("/", 1)[1] for n in graph) == sorted(i for (i,) in queue)
    assert all(n["url"].startswith("http://localhost/tracker/claims/") for n in graph)
    expanded = jsonld.expand(json.loads(response.text))
    assert {node["@type"][0] for node in expanded} == {SDO + "ClaimReview"}


async def test_renderer_on_the_public_file(tmp_path, world_db):
    public = tmp_path / "public" / "tracker.db"
    publish(world_db, public)
    before = public.read_bytes()
    ds = make_datasette(public, public=True)
    for extension in RENDERED:
        response = await ds.client.get(f"/tracker/claims.{extension}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(RENDERED[extension])
        assert_absent({extension: response.content}, world_secrets(world_db))
    assert public.read_bytes() == before


async def test_claim_page_offers_its_exports(world_db):
    ds = make_datasette(world_db)
    html = (await ds.client.get("/tracker/claims/villa-rumour", cookies=team_cookie(ds))).text
    assert "Export this claim" in html
    for extension in EXTENSIONS.values():
        assert f'href="/tracker/claims/villa-rumour.{extension}"' in html
