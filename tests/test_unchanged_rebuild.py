"""A rebuild of a tree listed exactly as when its database was last built says nothing
changed from the listing alone (tracker/listing.py), with the warnings the whole path
would show; any change the whole path would see still takes the whole path."""

import copy
import os
import pathlib
import sqlite3

import pytest
import yaml

from conftest import DOCUMENTS, SOURCES, write_seeds
from test_incremental import content
from test_scale import naming_documents
from tracker.build import build, cache_path_for
from tracker.seeds import SeedError


@pytest.fixture
def built(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    db = tmp_path / "t.db"
    build(seeds, db)
    return seeds, db


def said_nothing_changed(report):
    return (report.files_parsed, report.documents_rewritten, report.reviews_added) == (0, 0, 0)


def test_nothing_changed_is_learnt_without_the_seed_cache(built):
    seeds, db = built
    before = content(db)
    cache_path_for(db).unlink()  # the whole path would parse every file again into a new cache

    report = build(seeds, db)

    assert said_nothing_changed(report) and not cache_path_for(db).exists()
    assert (report.claims, report.documents, report.sources) == (6, 3, len(SOURCES))
    assert content(db) == before


def keep_time(path, write):
    """``write`` the file, then give it back its modification time (an edit that a
    listing's sizes and times cannot see)."""
    stat = path.stat()
    write(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def sources_same_size_and_time(seeds):
    # Rodong is no longer one voice with KCNA, and the file keeps its size
    sources = copy.deepcopy(SOURCES)
    assert sources[1]["group"] == "dprk-state-media"
    sources[1]["group"] = "dprk-state-medix"
    keep_time(seeds / "sources.yml",
              lambda path: path.write_text(yaml.safe_dump(sources, sort_keys=False)))


def document_added(seeds):
    documents = {"added": {"id": "added", "title": "Added", "publisher": "wire", "published": "2022",
                           "claims": [{"id": "added-claim", "text": "Something added.", "source": "wire"}]}}
    write_seeds(seeds, documents={**DOCUMENTS, **documents})


def document_removed(seeds):
    documents = copy.deepcopy(DOCUMENTS)
    del documents["dailynk-report"]
    documents["wire-story"]["claims"] = [c for c in documents["wire-story"]["claims"]
                                         if c.get("ref") != "hardship-provinces"]
    documents["wire-story"]["links"] = []
    for name in DOCUMENTS:
        (seeds / "documents" / f"{name}.yml").unlink()
    write_seeds(seeds, documents=documents)


def document_renamed(seeds):
    (seeds / "documents" / "wire-story.yml").rename(seeds / "documents" / "wire-story-2.yml")


CHANGES = [sources_same_size_and_time, document_added, document_removed, document_renamed]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_what_the_whole_path_would_see_is_built(tmp_path, built, change):
    seeds, db = built
    assert said_nothing_changed(build(seeds, db))
    before = content(db)

    change(seeds)
    report = build(seeds, db)

    assert not said_nothing_changed(report)
    cold = tmp_path / "cold.db"
    build(seeds, cold)
    assert content(db) == content(cold) != before
    assert said_nothing_changed(build(seeds, db))


def test_reviews_yml_is_read_again_when_it_changes_in_the_same_size_and_time(tmp_path):
    reviews = [{"claim": "villa-rumour", "action": "flag", "actor": "analyst-1", "at": "2024-05-01T10:00:00Z"}]
    seeds = write_seeds(tmp_path / "seeds", reviews=reviews)
    db = tmp_path / "t.db"
    build(seeds, db)
    assert said_nothing_changed(build(seeds, db))

    keep_time(seeds / "reviews.yml", lambda path: path.write_text(path.read_text().replace("analyst-1", "analyst-2")))

    assert build(seeds, db).reviews_added == 1
    actors = sqlite3.connect(db).execute("SELECT actor FROM review_events ORDER BY rowid").fetchall()
    assert actors == [("analyst-1",), ("analyst-2",)]  # (events are never taken away)


def bad_name(seeds):
    (seeds / "documents" / "EXTRA.YML").write_text("id: extra\n")


def link_out_of_the_tree(seeds):
    outside = seeds.parent / "outside.yml"
    outside.write_text((seeds / "documents" / "wire-story.yml").read_text())
    (seeds / "documents" / "linked.yml").symlink_to(outside)


def sources_made_a_link(seeds):
    outside = seeds.parent / "sources-elsewhere.yml"
    outside.write_bytes((seeds / "sources.yml").read_bytes())
    (seeds / "sources.yml").unlink()
    (seeds / "sources.yml").symlink_to(outside)


@pytest.mark.parametrize("change, problem", [
    (bad_name, r"seed files end in \.yml \(lower case\)"),
    (link_out_of_the_tree, "leads out of the seed tree"),
    (sources_made_a_link, "leads out of the seed tree"),
], ids=["bad name", "link out of the tree", "sources.yml a link out"])
def test_an_entry_the_build_must_refuse_is_refused(built, change, problem):
    seeds, db = built
    before = content(db)
    change(seeds)
    with pytest.raises(SeedError, match=problem):
        build(seeds, db)
    assert content(db) == before


def test_a_touched_file_takes_the_whole_path_once(built):
    seeds, db = built
    path = seeds / "documents" / "wire-story.yml"
    later = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(later, later))

    assert said_nothing_changed(build(seeds, db))  # compared by content: the same
    kept = sqlite3.connect(cache_path_for(db)).execute(
        "SELECT mtime_ns FROM files WHERE path = 'documents/wire-story.yml'").fetchone()
    assert kept == (later,)  # (by the whole path)

    cache_path_for(db).unlink()
    assert said_nothing_changed(build(seeds, db))  # and its new time kept with the listing
    assert not cache_path_for(db).exists()


def test_a_build_with_texts_takes_the_whole_path(tmp_path, built):
    seeds, db = built
    texts = tmp_path / "texts"
    texts.mkdir()
    cache_path_for(db).unlink()
    report = build(seeds, db, texts_dir=texts)
    assert report.files_parsed == 3  # parsed again: the texts are outside the listing
    report = build(seeds, db)
    assert report.files_parsed == 3 and report.documents_rewritten == 3  # and back: no texts


def test_the_warnings_are_those_of_the_whole_path_under_the_name_given_now(tmp_path, monkeypatch):
    seeds = write_seeds(tmp_path / "seeds", documents=naming_documents())
    db = tmp_path / "t.db"
    first = build(seeds, db, warning_lines=5).warnings
    assert len(first) == 12 and all(w.line for w in first[:5]) and first[5].line is None

    again = build(seeds, db, warning_lines=5)

    assert said_nothing_changed(again) and again.warnings == first
    monkeypatch.chdir(tmp_path)
    shown = build(pathlib.Path("seeds"), pathlib.Path("t.db"), warning_lines=5).warnings
    assert [w.file for w in shown] == [w.file.replace(str(tmp_path) + os.sep, "") for w in first]
    assert shown[0].file.startswith("seeds/documents/") and [w.line for w in shown] == [w.line for w in first]


def test_a_database_the_tracker_upgrades_takes_the_whole_path(built):
    seeds, db = built
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA user_version = 1")  # views made by another version
    conn.close()
    assert said_nothing_changed(build(seeds, db))
    views = sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0]
    assert views != 1  # made again
