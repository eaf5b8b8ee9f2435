"""A rebuild after an edit parses only the changed files and rewrites only what they
touch, yet gives exactly the database a cold build of the edited seeds gives."""

import copy
import os
import shutil
import sqlite3

import pytest
import sqlite_utils
import yaml

from conftest import DOCUMENTS, SOURCES, write_seeds
from tracker.build import build, cache_path_for
from tracker.database import connect
from tracker.review import record

# Every column of every seed-derived table, in a stable order (rowids are not content).
CONTENT = {
    "source_types": "SELECT * FROM source_types ORDER BY code",
    "sources": "SELECT * FROM sources ORDER BY id",
    "documents": "SELECT id, title, publisher_id, authors, published, published_from, url, text_file, sha256, notes, "
                 "seed_file FROM documents ORDER BY id",
    "claims": "SELECT * FROM claims ORDER BY id",
    "appearances": "SELECT * FROM appearances ORDER BY document_id, position",
    "links": "SELECT * FROM links ORDER BY document_id, position",
    "review_queue": "SELECT id, text, status, reason, first_seen, admiralty, credibility, review_state "
                    "FROM review_queue ORDER BY id",
    "source_track_record": "SELECT * FROM source_track_record ORDER BY source_id",
    "facet_counts": "SELECT * FROM facet_counts WHERE count != 0 ORDER BY name, facet, value",
    "circular_claims": "SELECT * FROM circular_claims ORDER BY claim_id",
    "search": "SELECT claims.id FROM claims_fts JOIN claims ON claims.rowid = claims_fts.rowid "
              "WHERE claims_fts MATCH 'villa OR rations OR sanctions OR edited' ORDER BY claims.id",
    "document_search": "SELECT documents.id FROM documents_fts JOIN documents ON documents.rowid = documents_fts.rowid "
                       "WHERE documents_fts MATCH 'congress OR edited OR times' ORDER BY documents.id",
}


def content(path):
    db = sqlite_utils.Database(path)
    assert list(db.query("PRAGMA foreign_key_check")) == []
    result = {name: [dict(row) for row in db.query(sql)] for name, sql in CONTENT.items()}
    db.close()
    return result


def edit_text(d):
    d["wire-story"]["claims"][4]["text"] = "Rations in Hyesan were cut (edited)."


def add_appearance(d):
    d["kcna-congress"]["claims"].append({"ref": "villa-rumour", "source": "nis", "quote": "a villa"})


def remove_link(d):
    d["wire-story"]["links"] = []


def add_contradiction(d):
    d["kcna-congress"]["links"] = [{"from": "kim-plan-failed", "to": "hardship-provinces", "relation": "contradicts"}]


def new_document(d):
    d["new-report"] = {
        "id": "new-report", "title": "An edited new report", "publisher": "wire", "published": "2019-06",
        "claims": [{"id": "new-claim", "text": "A new claim.", "source": "prof-lee"},
                   {"ref": "kim-plan-failed", "source": "prof-lee", "stance": "denies"}],
        "links": [{"from": "new-claim", "to": "villa-rumour", "relation": "corroborates"}],
    }


def remove_document(d):
    # the claims it defines go with it, so first drop what refers to them
    del d["dailynk-report"]
    d["wire-story"]["claims"] = [c for c in d["wire-story"]["claims"] if c.get("ref") != "hardship-provinces"]
    d["wire-story"]["links"] = []


def rename_document_id(d):
    d["kcna-congress"]["id"] = "kcna-congress-renamed"
    d["kcna-congress"]["title"] = "Party congress opens (edited)"


def move_definition(d):
    # the definition of villa-rumour moves to another file
    villa = d["dailynk-report"]["claims"].pop(1)
    d["wire-story"]["claims"].append(villa)


def edit_title(d):
    # no claim changes: the claims rows stay as they are
    d["kcna-congress"]["title"] = "Party congress opens (edited)"


def change_published(d):
    # no fingerprint moves, but the first day its claims were seen does
    d["kcna-congress"]["published"] = "2012-01-02"


def repeat_appearance(d):
    # the same document, source and stance once more: the fingerprint's lines repeat,
    # the count of appearances grows
    d["kcna-congress"]["claims"].append({"ref": "villa-rumour", "source": "nis", "quote": "a villa"})
    d["kcna-congress"]["claims"].append({"ref": "villa-rumour", "source": "nis", "quote": "a villa"})


def change_publisher(d):
    # no claim's evidence moves, but the outlets repeating the circular kim-plan-failed do
    d["wire-story"]["publisher"] = "kcna"


def drop_circular_claim(d):
    # the circular claim leaves the tree with its appearances
    d["kcna-congress"]["claims"] = [c for c in d["kcna-congress"]["claims"] if c.get("id") != "kim-plan-failed"]
    d["wire-story"]["claims"] = [c for c in d["wire-story"]["claims"] if c.get("ref") != "kim-plan-failed"]


def change_origin(d):
    # a kept claim row whose origin (and origin type) changes
    d["dailynk-report"]["claims"][1]["source"] = "nis"


def deny_elsewhere(d):
    # a claim of an unchanged document changes status: its sources' records follow by delta
    d["kcna-congress"]["claims"].append({"ref": "market-crackdown", "source": "kcna", "stance": "denies"})


EDITS = [edit_text, add_appearance, remove_link, add_contradiction, new_document, remove_document,
         rename_document_id, move_definition, edit_title, change_published, repeat_appearance, change_origin,
         deny_elsewhere, change_publisher, drop_circular_claim]


@pytest.mark.parametrize("edit", EDITS, ids=[e.__name__ for e in EDITS])
def test_rebuild_after_an_edit_equals_a_cold_build(tmp_path, edit):
    seeds = write_seeds(tmp_path / "seeds")
    warm = tmp_path / "warm.db"
    build(seeds, warm)
    db = connect(warm)
    record(db, "villa-rumour", "accept", "analyst-1")
    record(db, "rations-cut", "reject", "analyst-1")
    db.close()

    documents = copy.deepcopy(DOCUMENTS)
    edit(documents)
    shutil.rmtree(seeds / "documents")
    write_seeds(seeds, documents=documents)
    report = build(seeds, warm)

    cold = tmp_path / "cold.db"
    build(seeds, cold)
    db = connect(cold)
    for event in sqlite_utils.Database(warm).query(
            "SELECT * FROM review_events WHERE claim_id IN (SELECT id FROM claims) ORDER BY rowid"):
        db.conn.execute("INSERT INTO review_events VALUES (:id, :claim_id, :actor, :action, :note, :credibility, "
                        ":evidence, :created_at, :other_claim_id, :relation)", event)
    db.close()
    # the events keep the fingerprints they were made with, so replay them on the cold
    # build and rebuild it: the same events, applied the same way
    cold_report = build(seeds, cold)

    assert content(warm) == content(cold)
    # the counts a rebuild reports (appearances: the last build's plus what it added)
    counts = ("claims", "appearances", "links", "documents", "sources")
    assert [getattr(report, name) for name in counts] == [getattr(cold_report, name) for name in counts]
    assert report.files_parsed <= 2
    assert report.documents_rewritten < len(documents) + 1


def test_unchanged_files_are_not_parsed_again(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    db_path = tmp_path / "t.db"
    assert build(seeds, db_path).files_parsed == 3
    again = build(seeds, db_path)
    assert (again.files_parsed, again.documents_rewritten, again.claims_refreshed) == (0, 0, 0)
    path = seeds / "documents" / "kcna-congress.yml"
    path.write_text(path.read_text().replace("Party congress opens", "Party congress opens again"))
    report = build(seeds, db_path)
    assert (report.files_parsed, report.documents_rewritten) == (1, 1)
    assert report.claims_refreshed == 0  # no status, rating or first day seen depends on a title
    path.write_text(path.read_text().replace("published: 2021-01", "published: 2011-01-01"))
    report = build(seeds, db_path)
    assert report.claims_refreshed == 1  # kim-plan-failed: first seen moves; no links touch it
    assert cache_path_for(db_path).exists()


def test_editing_sources_rewrites_everything(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    db_path = tmp_path / "t.db"
    build(seeds, db_path)
    sources = copy.deepcopy(SOURCES)
    sources[1]["group"] = "rodong-alone"  # Rodong is no longer one voice with KCNA
    (seeds / "sources.yml").write_text(yaml.safe_dump(sources, sort_keys=False))
    report = build(seeds, db_path)
    assert report.files_parsed == 0 and report.documents_rewritten == 3
    claim = sqlite_utils.Database(db_path)["claims"].get("kim-plan-failed")
    assert claim["status"] == "corroborated"
    cold = tmp_path / "cold.db"
    build(seeds, cold)
    assert content(db_path) == content(cold)


def test_a_broken_file_is_reported_even_when_the_cache_knew_it(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    db_path = tmp_path / "t.db"
    build(seeds, db_path)
    path = seeds / "documents" / "wire-story.yml"
    path.write_text(path.read_text().replace("kind: assessment", "kind: gossip"))
    from tracker.seeds import SeedError
    with pytest.raises(SeedError, match="gossip"):
        build(seeds, db_path)
    with pytest.raises(SeedError, match="gossip"):
        build(seeds, db_path)  # not cached as valid


def test_an_edit_of_the_same_size_is_noticed(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    db_path = tmp_path / "t.db"
    build(seeds, db_path)
    path = seeds / "documents" / "kcna-congress.yml"
    text = path.read_text()
    path.write_text(text.replace("Party congress opens", "Party congress shuts"))  # same length
    assert len(path.read_text()) == len(text)
    report = build(seeds, db_path)
    assert report.files_parsed == 1
    assert sqlite_utils.Database(db_path)["documents"].get("kcna-congress")["title"] == "Party congress shuts"


def nothing_changed(seeds, db):
    """Nothing: the build learns it from build_state and writes nothing."""


def reviews_added(seeds, db):
    (seeds / "reviews.yml").write_text(yaml.safe_dump([
        {"claim": "villa-rumour", "action": "flag", "actor": "analyst-2", "at": "2024-05-01T10:00:00Z"}]))


def cache_lost(seeds, db):
    cache_path_for(db).unlink()


def database_restored_from_an_older_copy(seeds, db):
    # the cache is current, but the database is a copy made before the last edit
    shutil.copy(db.parent / "older.db", db)


@pytest.mark.parametrize("change", [nothing_changed, reviews_added, cache_lost, database_restored_from_an_older_copy],
                         ids=lambda f: f.__name__)
def test_a_rebuild_writes_nothing_only_when_the_database_was_built_from_this_tree(tmp_path, change):
    seeds = write_seeds(tmp_path / "seeds")
    db = tmp_path / "warm.db"
    build(seeds, db)
    shutil.copy(db, tmp_path / "older.db")
    documents = copy.deepcopy(DOCUMENTS)
    add_appearance(documents)
    write_seeds(seeds, documents=documents)
    build(seeds, db)
    change(seeds, db)
    report = build(seeds, db)
    cold = tmp_path / "cold.db"
    build(seeds, cold)
    assert content(db) == content(cold)
    written = report.documents_rewritten or report.reviews_added
    assert bool(written) == (change in (reviews_added, database_restored_from_an_older_copy))
    assert report.claims == 6


def test_a_touched_file_is_hashed_once_not_on_every_build(tmp_path):
    # same bytes, a new modification time (touch, a copy, a fresh checkout): the file is
    # hashed, found unchanged, and its new size and time kept, so the next build trusts them
    seeds = write_seeds(tmp_path / "seeds")
    db_path = tmp_path / "t.db"
    build(seeds, db_path)
    path = seeds / "documents" / "wire-story.yml"
    later = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(later, later))

    report = build(seeds, db_path)

    assert (report.files_parsed, report.documents_rewritten) == (0, 0)
    kept = sqlite3.connect(cache_path_for(db_path)).execute(
        "SELECT size, mtime_ns FROM files WHERE path = 'documents/wire-story.yml'").fetchone()
    assert kept == (path.stat().st_size, later)
