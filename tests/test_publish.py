"""The public database (SPEC section 7): nothing that identifies a protected source, no
reviewer names or notes, same tables and views, written atomically."""

import copy
import json
import pathlib
import re
import sqlite3
import threading

import pytest
import yaml
from typer.testing import CliRunner

import tracker.publish as publish_module
from tracker import review
from tracker.build import build
from tracker.cli import app
from tracker.database import connect
from tracker.publish import PublishError, publish

from conftest import DOCUMENTS, ROOT, SOURCES, write_seeds

PSEUDONYM = re.compile(r"^protected-[0-9a-f]{16}$")


def rows(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def recomputed(path, sql):
    """``sql`` run against a copy of the database after its analysis views have every
    claim to work on (analysis.sql computes for the claims in analysis_queue, where it
    has one)."""
    source = sqlite3.connect(path)
    copy_ = sqlite3.connect(":memory:")
    source.backup(copy_)
    source.close()
    if copy_.execute("SELECT 1 FROM sqlite_master WHERE name = 'analysis_queue'").fetchone():
        copy_.execute("INSERT INTO analysis_queue (claim_id) SELECT id FROM claims")
    try:
        return copy_.execute(sql).fetchall()
    finally:
        copy_.close()


def public_files(out: pathlib.Path):
    """The public file and anything SQLite may have left beside it (-wal, -journal, -shm)."""
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(out.name))


def secrets_of(full_path):
    """Every string the public file must not hold: each protected source's id, name,
    notes and url, and the quotes of appearances whose origin is protected."""
    strings = set()
    for source in rows(full_path, "SELECT id, name, notes, url FROM sources WHERE sensitivity = 'protected'"):
        strings.update(value for value in source if value)
    strings.update(
        quote
        for (quote,) in rows(
            full_path,
            "SELECT quote FROM appearances WHERE quote IS NOT NULL AND source_id IN "
            "(SELECT id FROM sources WHERE sensitivity = 'protected')",
        )
    )
    return strings


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def found_in(data: bytes, needle: str, encoding: str) -> bool:
    """Whether ``needle`` is in ``data``; an id (a slug) counts only as a whole id, not
    inside a longer one (a public 'src-bob' beside a protected 'src-b')."""
    encoded = needle.encode(encoding)
    if not SLUG.match(needle):
        return encoded in data
    unit = "x".encode(encoding)[1:] if encoding == "utf-16-le" else b""  # the high byte of an ASCII char
    edge = b"[a-z0-9-]" + re.escape(unit)
    return re.search(b"(?<!" + edge + b")" + re.escape(encoded) + b"(?!" + edge + b")", data) is not None


def assert_absent(out: pathlib.Path, strings):
    """Scan every byte of the public file (and any sidecar file) for each string, as UTF-8,
    lower-cased (the form full-text tokens take) and UTF-16 (SQLite's other text encoding)."""
    files = public_files(out)
    assert files == [out], f"unexpected files beside the public database: {files}"
    for path in files:
        data = path.read_bytes()
        for text in strings:
            for needle in {text, text.lower()}:
                for encoding in ("utf-8", "utf-16-le"):
                    assert not found_in(data, needle, encoding), f"{needle!r} found in {path.name}"


def pseudonyms(full_path):
    return dict(rows(full_path, "SELECT source_id, pseudonym FROM source_pseudonyms"))


@pytest.fixture
def out(tmp_path):
    return tmp_path / "public" / "public.db"


def test_protected_sources_leave_no_trace(db_path, out):
    report = publish(db_path, out)
    assert report.protected_sources == 3 and report.new_pseudonyms == 3
    assert "3 protected" in str(report) and "\n" not in str(report)
    strings = secrets_of(db_path)
    # the fixture's own secrets, to be sure the scan looks for the right things
    assert {"dnk-pyongyang", "Secret Pyongyang Informant", "Lives near the Ryugyong Hotel.",
            "https://example.org/secret-contact", "dnk-hyesan", "defector-kim", "Kim Defector Witness",
            "Left Chongjin in 2019.", "things are worse than ever", "we starved", "a villa is going up"} <= strings
    assert_absent(out, strings)


def test_pseudonyms_replace_ids_and_names_everywhere(db_path, out):
    publish(db_path, out)
    names = pseudonyms(db_path)
    assert set(names) == {"dnk-pyongyang", "dnk-hyesan", "defector-kim"}
    assert all(PSEUDONYM.match(p) for p in names.values())
    assert len(set(names.values())) == 3

    sources = {r[0]: r for r in rows(out, "SELECT id, name, url, notes, outlet_id, independence_group, sensitivity, type FROM sources")}
    for real, pseudonym in names.items():
        assert real not in sources
        _, name, url, notes, _, group, sensitivity, _ = sources[pseudonym]
        assert (name, url, notes, sensitivity) == (pseudonym, None, None, "protected")
    # informants still count as their outlet's channel; a defector as itself
    assert sources[names["dnk-pyongyang"]][4:6] == ("dailynk", "outlet:dailynk")
    assert sources[names["defector-kim"]][5] == names["defector-kim"]
    # public sources untouched
    assert sources["kcna"][1:4] == ("Korean Central News Agency", "http://www.kcna.kp", "Regime voice.")

    assert dict(rows(out, "SELECT id, origin_id FROM claims"))["hardship-provinces"] == names["dnk-pyongyang"]
    appearances = rows(out, "SELECT claim_id, source_id, quote, quote_start, quote_end FROM appearances")
    for claim_id, source_id, quote, start, end in appearances:
        if source_id in names.values():
            assert (quote, start, end) == (None, None, None)
        else:
            assert source_id in sources and not source_id.startswith("protected-") and quote
    assert {r[1] for r in appearances} & set(names.values()) == set(names.values())
    # the views follow the tables
    provenance = rows(out, "SELECT source_id, source_name, quote FROM claim_provenance WHERE claim_id = 'villa-rumour'")
    assert provenance == [(names["dnk-hyesan"], names["dnk-hyesan"], None)]
    track = dict(rows(out, "SELECT source_id, name FROM source_track_record"))
    assert track[names["defector-kim"]] == names["defector-kim"]
    # the ranking of circular reporting, counted afresh from the public rows
    ranking = "SELECT claim_id, outlets, documents, first_seen FROM circular_claims ORDER BY claim_id"
    assert rows(out, ranking) == rows(db_path, ranking) == [("kim-plan-failed", 2, 2, "2021")]


def test_pseudonyms_are_stable_and_not_derived_from_ids(tmp_path, seeds, db_path, out):
    publish(db_path, out)
    first = pseudonyms(db_path)
    first_public = rows(out, "SELECT id FROM sources ORDER BY id")
    publish(db_path, out)
    assert pseudonyms(db_path) == first
    build(seeds, db_path)  # a rebuild replaces the seed tables, never the pseudonyms
    publish(db_path, out)
    assert pseudonyms(db_path) == first
    assert rows(out, "SELECT id FROM sources ORDER BY id") == first_public
    # another database built from the same seeds draws other pseudonyms: they are random,
    # not a function of the id that a dictionary of likely ids would reverse
    other = tmp_path / "other" / "tracker.db"
    build(seeds, other)
    publish(other, tmp_path / "other" / "public.db")
    assert set(pseudonyms(other).values()).isdisjoint(first.values())


def test_public_file_has_the_same_tables_views_and_statuses(db_path, out):
    publish(db_path, out)
    full_objects = set(rows(db_path, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')"))
    public_objects = set(rows(out, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')"))
    # ingest (issue 10): the documents' texts and their search index (with its shadow tables)
    texts = {("table", name) for _, name in full_objects if name.startswith("document_texts")}
    assert len(texts) == 6
    assert public_objects == full_objects - {("table", "source_pseudonyms"), ("table", "seed_files"),
                                             ("table", "warnings"), ("table", "build_state"),
                                             ("table", "link_suggestions")} - texts
    for _, name in public_objects:
        assert rows(out, f"SELECT name FROM pragma_table_info('{name}')") == rows(
            db_path, f"SELECT name FROM pragma_table_info('{name}')"
        ), name
    columns = "id, status, support_groups, opposition_groups, first_seen, credibility, credibility_by, admiralty, review_state"
    assert rows(out, f"SELECT {columns} FROM claims ORDER BY id") == rows(
        db_path, f"SELECT {columns} FROM claims ORDER BY id"
    )
    # the analysis views, recomputed in the public file from pseudonymised groups, agree
    assert recomputed(out, "SELECT claim_id, status FROM claim_rating ORDER BY claim_id") == rows(
        db_path, "SELECT id, status FROM claims ORDER BY id"
    )
    assert rows(out, "SELECT id, reason FROM review_queue ORDER BY id") == rows(
        db_path, "SELECT id, reason FROM review_queue ORDER BY id"
    )
    assert rows(out, "PRAGMA journal_mode") == [("delete",)]
    assert rows(out, "PRAGMA integrity_check") == [("ok",)]
    assert rows(out, "PRAGMA foreign_key_check") == []
    # full-text search works, from the public rows
    assert rows(out, "SELECT c.id FROM claims_fts JOIN claims c ON c.rowid = claims_fts.rowid "
                     "WHERE claims_fts MATCH 'villa'") == [("villa-rumour",)]
    assert rows(out, "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'congress'") == [(1,)]


def test_no_reviewer_names_or_notes(db_path, out):
    db = connect(db_path)
    review.record(db, "villa-rumour", "flag", "secret-reviewer", "secret note text")
    review.record(db, "hardship-provinces", "accept", "secret-reviewer", "another secret note", credibility=2)
    review.record(db, "kim-plan-failed", "note", "secret-reviewer", "a third secret note")
    db.close()
    report = publish(db_path, out)
    assert report.review_events == 3
    assert_absent(out, {"secret-reviewer", "secret note text", "another secret note", "a third secret note"})
    assert rows(out, "SELECT count(*) FROM review_events WHERE actor IS NOT NULL OR note IS NOT NULL") == [(0,)]
    assert sorted(rows(out, "SELECT claim_id, action, credibility FROM review_events")) == [
        ("hardship-provinces", "accept", 2), ("kim-plan-failed", "note", None), ("villa-rumour", "flag", None)]
    # ids and fingerprints are re-keyed (a content hash would let names and ids be guessed)...
    assert set(rows(out, "SELECT id FROM review_events")).isdisjoint(rows(db_path, "SELECT id FROM review_events"))
    assert set(rows(out, "SELECT evidence FROM claims")).isdisjoint(rows(db_path, "SELECT evidence FROM claims"))
    # ...consistently, so the decisions read the same in both files
    columns = "id, review_state, credibility, credibility_by, admiralty"
    assert rows(out, f"SELECT {columns} FROM claims ORDER BY id") == rows(db_path, f"SELECT {columns} FROM claims ORDER BY id")
    assert recomputed(out, "SELECT claim_id, review_state FROM claim_review ORDER BY claim_id") == recomputed(
        db_path, "SELECT claim_id, review_state FROM claim_review ORDER BY claim_id"
    )
    assert ("villa-rumour", "flag") in recomputed(out, "SELECT claim_id, review_state FROM claim_review")
    assert "villa-rumour" in {r[0] for r in rows(out, "SELECT id FROM review_queue")}


def extended_world(root):
    """The fixture world plus a protected outlet, protected ids in `via` lists and in
    group names, and a document published by a protected source."""
    sources = copy.deepcopy(SOURCES) + [
        {"id": "secret-outlet", "name": "Secret Outlet Network", "type": "news_outlet", "reliability": "C",
         "sensitivity": "protected", "notes": "Run out of Dandong.", "url": "https://example.org/secret-outlet"},
        {"id": "relay-informant", "name": "Relay Informant Sinuiju", "type": "informant", "reliability": "C",
         "outlet": "secret-outlet", "sensitivity": "protected"},
        {"id": "circle-witness", "name": "Circle Witness Chongjin", "type": "defector", "reliability": "C",
         "group": "defector-kim-circle", "sensitivity": "protected"},
        {"id": "public-echo", "name": "Public Echo", "type": "news_outlet", "reliability": "C",
         "group": "dnk-hyesan-echo"},
    ]
    documents = copy.deepcopy(DOCUMENTS)
    documents["secret-dispatch"] = {
        "id": "secret-dispatch", "title": "Dispatch from the border", "publisher": "secret-outlet",
        "published": "2022-03",
        "claims": [
            {"id": "bridge-closed", "text": "The Sinuiju bridge was closed.", "kind": "event",
             "source": "relay-informant", "via": ["dnk-hyesan", "dailynk", "defector-kim"],
             "quote": "the bridge shut at dawn"},
            {"ref": "villa-rumour", "source": "circle-witness", "quote": "saw the villa walls"},
            {"ref": "villa-rumour", "source": "public-echo", "via": ["dnk-pyongyang"], "quote": "villa echo heard"},
        ],
    }
    return write_seeds(root, sources=sources, documents=documents)


def test_protected_ids_in_relays_outlets_groups_and_publishers(tmp_path, out):
    full = tmp_path / "world" / "tracker.db"
    build(extended_world(tmp_path / "world-seeds"), full)
    publish(full, out)
    names = pseudonyms(full)
    assert len(names) == 6
    assert_absent(out, secrets_of(full))

    (via,) = rows(out, "SELECT via FROM appearances WHERE claim_id = 'bridge-closed'")[0]
    assert json.loads(via) == [names["dnk-hyesan"], "dailynk", names["defector-kim"]]
    assert json.loads(rows(out, "SELECT via FROM appearances WHERE source_id = 'public-echo'")[0][0]) == [
        names["dnk-pyongyang"]]
    # lists without a protected id are kept byte for byte
    assert rows(out, "SELECT via FROM appearances WHERE claim_id = 'kim-plan-failed' AND source_id = 'rodong'") == [
        ('["kcna"]',)]
    sources = {r[0]: r[1:] for r in rows(out, "SELECT id, outlet_id, group_id, independence_group FROM sources")}
    assert sources[names["relay-informant"]] == (names["secret-outlet"], None, "outlet:" + names["secret-outlet"])
    # a group only protected sources are in takes their pseudonym; public groups stay as they are
    assert sources[names["circle-witness"]][1:] == (names["circle-witness"] + "-group",) * 2
    assert sources["public-echo"][1:] == ("dnk-hyesan-echo",) * 2
    assert rows(out, "SELECT publisher_id FROM documents WHERE id = 'secret-dispatch'") == [(names["secret-outlet"],)]
    assert rows(out, "SELECT id, status FROM claims ORDER BY id") == rows(full, "SELECT id, status FROM claims ORDER BY id")
    assert recomputed(out, "SELECT claim_id, status, support_groups FROM claim_rating ORDER BY claim_id") == rows(
        full, "SELECT id, status, support_groups FROM claims ORDER BY id")
    assert rows(out, "PRAGMA foreign_key_check") == []


def test_group_mapper_maps_whole_values_only():
    groups = [("a1", None, "a1", True), ("a1-b", "family", "family", True), ("a1-bob", None, "a1-bob", False),
              ("b2", "shared", "shared", True), ("c3", "shared", "shared", False)]
    mapper = publish_module._group_mapper({"a1": "protected-00a1", "a1-b": "protected-ffff", "b2": "protected-0b2"},
                                          groups)
    assert mapper("a1") == "protected-00a1" and mapper("outlet:a1") == "outlet:protected-00a1"
    assert mapper("a1-bob") == "a1-bob"  # a public id that contains a protected one is kept whole
    assert mapper("family") == "protected-ffff-group"  # only protected sources in it: its name may say who
    assert mapper("shared") == "shared"  # a public source is in it: kept exactly
    assert mapper(None) is None and mapper("kcna") == "kcna"


def test_a_public_source_whose_id_contains_a_protected_one_keeps_its_group(tmp_path, out):
    sources = copy.deepcopy(SOURCES) + [
        {"id": "src-b", "name": "Source B Witness", "type": "defector", "reliability": "C", "sensitivity": "protected"},
        {"id": "src-bob", "name": "Bob's Bulletin", "type": "news_outlet", "reliability": "C"},
    ]
    documents = copy.deepcopy(DOCUMENTS)
    documents["wire-story"]["claims"] += [{"ref": "villa-rumour", "source": "src-b", "quote": "seen by the witness"},
                                          {"ref": "villa-rumour", "source": "src-bob", "quote": "heard at the bulletin"}]
    full = tmp_path / "full.db"
    build(write_seeds(tmp_path / "seeds", sources=sources, documents=documents), full)
    publish(full, out)
    groups = dict(rows(out, "SELECT id, independence_group FROM sources"))
    full_groups = dict(rows(full, "SELECT id, independence_group FROM sources WHERE sensitivity = 'public'"))
    assert {k: groups[k] for k in full_groups} == full_groups
    assert groups[pseudonyms(full)["src-b"]] == pseudonyms(full)["src-b"]
    assert_absent(out, secrets_of(full))


def test_a_failed_publish_leaves_the_previous_file_unchanged(db_path, out):
    publish(db_path, out)
    before = out.read_bytes()
    db = connect(db_path)
    review.record(db, "villa-rumour", "flag", "secret-reviewer", "secret note text")
    # a dangling row, written behind the tracker's back: publish fails late, at its
    # foreign-key check, after the whole copy
    db.conn.execute("INSERT INTO links (document_id, position, from_claim_id, to_claim_id, relation) "
                    "VALUES ('wire-story', 99, 'villa-rumour', 'no-such-claim', 'contradicts')")
    db.close()

    with pytest.raises(publish_module.PublishError, match="foreign key check failed"):
        publish(db_path, out)
    assert out.read_bytes() == before
    assert list(out.parent.iterdir()) == [out]  # the temporary file is gone


def test_an_unwritable_destination_changes_nothing(db_path, tmp_path, out):
    publish(db_path, out)
    before = out.read_bytes()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OSError):
        publish(db_path, blocker / "sub" / "public.db")
    assert blocker.read_text() == "a file where a folder should be"
    assert out.read_bytes() == before
    with pytest.raises(PublishError):
        publish(db_path, db_path)
    with pytest.raises(FileNotFoundError):
        publish(tmp_path / "missing.db", tmp_path / "elsewhere" / "public.db")
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "elsewhere").exists()


def test_publish_reads_a_snapshot_while_a_reviewer_writes(db_path, out):
    publish(db_path, out)  # pseudonyms exist from here on: publishing needs no write lock
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO review_events (id, claim_id, actor, action, note, credibility, evidence, created_at) "
        "SELECT 'uncommitted', id, 'a', 'flag', NULL, NULL, evidence, '2026-01-01T00:00:00Z' "
        "FROM claims WHERE id = 'villa-rumour'"
    )
    try:
        report = publish(db_path, out)  # does not wait for, nor see, the open write
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert report.review_events == 0
    assert publish(db_path, out).review_events == 1


def test_publish_while_reviews_stream_in(db_path, out):
    stop = threading.Event()
    written = []

    def reviewer():
        db = connect(db_path)
        try:
            while not stop.is_set():
                review.record(db, "villa-rumour", "note", "secret-reviewer", "secret note text")
                written.append(1)
        finally:
            db.close()

    thread = threading.Thread(target=reviewer)
    thread.start()
    try:
        counts = [publish(db_path, out).review_events for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert counts == sorted(counts) and counts[-1] <= len(written)
    assert rows(out, "PRAGMA integrity_check") == [("ok",)]
    assert_absent(out, {"secret-reviewer", "secret note text"})


def test_cli_publish(db_path, out):
    result = CliRunner().invoke(app, ["publish", "--db", str(db_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 protected" in result.output
    assert_absent(out, secrets_of(db_path))


async def test_datasette_serves_the_public_file(db_path, tmp_path):
    from datasette.app import Datasette

    db = connect(db_path)
    review.record(db, "villa-rumour", "flag", "secret-reviewer", "secret note text")
    db.close()
    public = tmp_path / "public" / "tracker.db"  # stem 'tracker': metadata.yml applies
    publish(db_path, public)
    from tracker.serve import load_metadata

    # metadata.yml as served with --public: no writable queries, no team-only allow blocks
    metadata = load_metadata(public=True)
    ds = Datasette([str(public)], metadata=metadata)
    names = pseudonyms(db_path)

    response = await ds.client.get("/tracker/claims.json?_shape=array&_size=max")
    assert response.status_code == 200
    assert {c["id"] for c in response.json()} >= {"villa-rumour", "hardship-provinces"}

    response = await ds.client.get("/tracker/sources.json?_shape=array")
    assert response.status_code == 200
    assert names["dnk-pyongyang"] in response.text
    for secret in ("Secret Pyongyang Informant", "dnk-pyongyang", "Ryugyong", "secret-contact"):
        assert secret not in response.text

    # anonymous SQL sees only what the file holds
    response = await ds.client.get(
        "/tracker.json?_shape=array&sql=" + "select group_concat(name) as n, group_concat(notes) as notes from sources")
    assert response.status_code == 200 and "Secret Pyongyang Informant" not in response.text
    response = await ds.client.get("/tracker.json?_shape=array&sql=select actor, note from review_events")
    assert response.json() == [{"actor": None, "note": None}]

    # canned queries, search through the queue and the claim page work on the public file
    response = await ds.client.get("/tracker/claim_trail.json?_shape=array&claim_id=hardship-provinces")
    assert response.status_code == 200
    trail = response.json()
    assert {(e["origin"], e["quote"]) for e in trail if e["entry"] == "appearance"} == {
        (names["dnk-pyongyang"], None), (names["defector-kim"], None)}
    response = await ds.client.get("/tracker/review_queue.json?_shape=array&_search=villa")
    assert response.status_code == 200 and [r["id"] for r in response.json()] == ["villa-rumour"]
    response = await ds.client.get("/tracker/claims/hardship-provinces")
    assert response.status_code == 200
    assert "Secret Pyongyang Informant" not in response.text and "things are worse than ever" not in response.text
    response = await ds.client.get("/tracker/claims/villa-rumour")
    assert response.status_code == 200
    assert "secret-reviewer" not in response.text and "secret note text" not in response.text



async def test_public_counts_match_the_public_rows(tmp_path, db_path):
    from tracker.serve import make_datasette

    out = tmp_path / "public.db"
    publish(db_path, out)
    ds = make_datasette(out, public=True)
    data = (await ds.client.get("/tracker/review_queue.json?_facet=status")).json()
    conn = sqlite3.connect(out)
    expected = dict(conn.execute("SELECT status, count(*) FROM review_queue GROUP BY status").fetchall())
    total = conn.execute("SELECT count(*) FROM review_queue").fetchone()[0]
    conn.close()
    assert data["filtered_table_rows_count"] == total
    assert {r["value"]: r["count"] for r in data["facet_results"]["status"]["results"]} == expected


@pytest.mark.parametrize("field, value, named", [
    ("id", "defector-kim-testimony", "id"),
    ("title", "What the Kim Defector Witness saw", "title"),
    ("authors", ["Kim Defector Witness"], "authors"),
    ("url", "https://example.org/dnk-hyesan/report", "url"),
    ("notes", "Told by the Hyesan Trader Informant in person.", "notes"),
])
def test_publish_refuses_ids_and_document_fields_naming_a_protected_source(tmp_path, out, field, value, named):
    """Ids and document fields are published as written: naming a protected source in one
    undoes its pseudonym (SPEC section 7), so publish refuses and writes nothing."""
    documents = copy.deepcopy(DOCUMENTS)
    document = documents["dailynk-report"]
    document[field] = value
    full = tmp_path / "tracker.db"
    build(write_seeds(tmp_path / "seeds", documents=documents), full)
    document_id = value if field == "id" else "dailynk-report"
    with pytest.raises(PublishError, match=rf"document {document_id}: its {named} names protected source"):
        publish(full, out)
    assert not out.parent.exists() or public_files(out) == []


def test_publish_refuses_a_claim_id_naming_a_protected_source(tmp_path, out):
    documents = copy.deepcopy(DOCUMENTS)
    documents["dailynk-report"]["claims"].append(
        {"id": "hyesan-trader-informant-says-prices-rose", "text": "Rice prices rose in Hyesan.", "kind": "observation",
         "source": "dailynk", "quote": "prices went up"})
    full = tmp_path / "tracker.db"
    build(write_seeds(tmp_path / "seeds", documents=documents), full)
    result = CliRunner().invoke(app, ["publish", "--db", str(full), "--out", str(out)])
    assert result.exit_code == 1
    assert ("claim hyesan-trader-informant-says-prices-rose: its id names protected source 'dnk-hyesan'"
            in " ".join(result.output.split()))
    assert not out.exists()


def test_a_protected_publishers_document_keeps_no_url_authors_or_fingerprint(tmp_path, out):
    """A defector's own testimony, ingested with the defector as publisher: its id starts
    with the source's type, not its id; the public file has its claims but not its url,
    authors (the defector), text file or sha256."""
    from tracker.ingest.core import ingest

    seeds = write_seeds(tmp_path / "seeds", documents={})
    texts = tmp_path / "texts"
    texts.mkdir()
    story = tmp_path / "2021-03-05-testimony.txt"
    story.write_text("Life in Hyesan\nDate: 2021-03-05\nAuthor: Kim Defector Witness\n"
                     "URL: https://example.org/kim-witness/life\n\nThe winter was hard and rations stopped.\n",
                     encoding="utf-8")
    report = ingest("text", [story], seeds, texts, publisher="defector-kim")
    assert report.exit_code == 0, report.summary()
    (path,) = (seeds / "documents").iterdir()
    assert path.name.startswith("defector-2021-03-05-") and "kim" not in path.name
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["authors"] == ["Kim Defector Witness"]  # the team keeps them
    document["claims"] = [{"id": "rations-stopped-2021", "text": "Rations stopped in Hyesan in the winter.",
                           "kind": "observation", "source": "defector-kim", "quote": "rations stopped"}]
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    full = tmp_path / "tracker.db"
    build(seeds, full, texts)
    publish(full, out)
    assert rows(out, "SELECT authors, url, text_file, sha256 FROM documents") == [("[]", None, None, None)]
    assert rows(out, "SELECT claim_id FROM appearances") == [("rations-stopped-2021",)]
    assert_absent(out, secrets_of(full) | {"Kim Defector Witness", "example.org/kim-witness"})
