"""The database a build writes: tables, keys, determinism, atomic replacement."""

import copy
import hashlib
import os
import pathlib
import shutil
import sqlite3

import pytest
import sqlite_utils

from conftest import DOCUMENTS, write_seeds
from tracker.build import build
from tracker.review import record
from tracker.seeds import SeedError
from tracker.database import connect

TABLES = {"source_types", "sources", "documents", "claims", "appearances", "links", "review_events"}
VIEWS = {"review_queue", "claim_provenance", "source_track_record"}


def dump(path, tables=("sources", "documents", "claims", "appearances", "links")):
    db = sqlite_utils.Database(path)
    return {t: list(db.query(f"SELECT * FROM {t} ORDER BY 1")) for t in tables}


def test_tables_views_and_columns(db_path):
    db = sqlite_utils.Database(db_path)
    assert TABLES <= set(db.table_names())
    assert VIEWS <= set(db.view_names())
    assert {"id", "text", "kind", "occurred", "status", "support_groups", "opposition_groups", "first_seen",
            "credibility", "credibility_by", "admiralty", "review_state"} <= set(db["claims"].columns_dict)
    assert {"claim_id", "document_id", "source_id", "via", "quote", "stance", "quote_start", "quote_end",
            "verified"} <= set(db["appearances"].columns_dict)
    assert {"from_claim_id", "to_claim_id", "relation", "note", "document_id"} <= set(db["links"].columns_dict)
    assert {"id", "text", "status", "reason", "first_seen", "admiralty"} <= set(db["review_queue"].columns_dict)
    assert {"claim_id", "claim_text", "document_id", "title", "published", "publisher_id", "source_id",
            "source_type", "via", "quote", "stance", "verified"} <= set(db["claim_provenance"].columns_dict)
    assert {"source_id", "name", "type", "reliability", "claims", "corroborated", "contested"} <= set(
        db["source_track_record"].columns_dict)


def test_foreign_keys_are_declared_and_clean(db_path):
    db = sqlite_utils.Database(db_path)
    assert {fk.other_table for fk in db["appearances"].foreign_keys} == {"claims", "documents", "sources"}
    assert {fk.other_table for fk in db["claims"].foreign_keys} >= {"documents", "sources", "source_types"}
    assert list(db.query("PRAGMA foreign_key_check")) == []


def test_views_answer(db_path):
    db = sqlite_utils.Database(db_path)
    queue = {r["id"]: r for r in db.query("SELECT * FROM review_queue")}
    assert set(queue) == {"villa-rumour", "kim-plan-failed", "sanctions-biting"}
    assert queue["kim-plan-failed"]["reason"].startswith("circular")
    assert queue["sanctions-biting"]["reason"].startswith("contested")
    provenance = list(db.query("SELECT * FROM claim_provenance WHERE claim_id = 'kim-plan-failed' ORDER BY published"))
    assert [(p["source_id"], p["via"], p["publisher_id"]) for p in provenance] == [
        ("rodong", '["kcna"]', "wire"), ("kcna", "[]", "kcna")]
    record_ = {r["source_id"]: r for r in db.query("SELECT * FROM source_track_record")}
    assert record_["dnk-hyesan"]["claims"] == 2 and record_["dnk-hyesan"]["corroborated"] == 1
    assert record_["nis"]["contested"] == 1


def test_full_text_search(db_path):
    db = sqlite_utils.Database(db_path)
    hits = list(db.query(
        "SELECT claims.id FROM claims JOIN claims_fts ON claims_fts.rowid = claims.rowid "
        "WHERE claims_fts MATCH 'villa'"))
    assert hits == [{"id": "villa-rumour"}]
    assert list(db.query("SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'congress'"))


def test_build_is_deterministic(tmp_path, seeds):
    build(seeds, tmp_path / "a.db")
    build(seeds, tmp_path / "b.db")
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")


def test_rebuild_keeps_review_events_and_replaces_seed_content(tmp_path, db_path):
    db = connect(db_path)
    record(db, "villa-rumour", "reject", "analyst-1", "no second source")
    db.close()
    seeds = write_seeds(tmp_path / "seeds2")  # same world, rebuilt twice
    build(seeds, db_path)
    build(seeds, db_path)
    db = sqlite_utils.Database(db_path)
    assert db["review_events"].count == 1
    assert db["claims"].count == 6
    assert db["claims"].get("villa-rumour")["review_state"] == "reject"


def test_a_failing_build_rolls_back_everything(tmp_path, db_path):
    # A failure late in the write (the links come after claims and appearances).
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TRIGGER fail_late BEFORE INSERT ON links BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    snapshot = dump(db_path)
    documents = copy.deepcopy(DOCUMENTS)
    documents["wire-story"]["links"][0]["note"] = "A new note: the file is rewritten, links and all."
    with pytest.raises(sqlite3.IntegrityError, match="disk trouble"):
        build(write_seeds(tmp_path / "other", documents=documents), db_path)
    assert dump(db_path) == snapshot
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_readers_see_the_old_state_during_a_build(tmp_path, db_path):
    reader = sqlite3.connect(db_path)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM claims").fetchone() == (6,)
    build(write_seeds(tmp_path / "seeds2"), db_path)
    assert reader.execute("SELECT count(*) FROM claims").fetchone() == (6,)
    reader.execute("COMMIT")
    reader.close()


def test_a_database_from_another_version_is_rebuilt_keeping_reviews(tmp_path, seeds, db_path):
    from typer.testing import CliRunner
    from tracker.cli import app

    db = connect(db_path)
    record(db, "villa-rumour", "flag", "analyst-1", "keep me")
    db.close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA application_id = 12345")  # tables made by another version
    conn.close()
    result = CliRunner().invoke(app, ["review", "--db", str(db_path)])
    assert result.exit_code == 1 and "run 'tracker build'" in " ".join(result.output.split())
    build(seeds, db_path)
    db = sqlite_utils.Database(db_path)
    assert db["claims"].count == 6
    assert [e["note"] for e in db["review_events"].rows] == ["keep me"]
    assert db["claims"].get("villa-rumour")["review_state"] == "flag"



def test_source_records_follow_a_review_at_once(db_path):
    db = connect(db_path)
    row = next(db.query("SELECT * FROM source_track_record WHERE source_id = 'dnk-hyesan'"))
    assert (row["claims"], row["corroborated"], row["uncorroborated"], row["rejected"]) == (2, 1, 1, 0)
    record(db, "rations-cut", "reject", "analyst-1")  # market-crackdown (dnk-hyesan) loses its support
    row = next(db.query("SELECT * FROM source_track_record WHERE source_id = 'dnk-hyesan'"))
    assert (row["claims"], row["corroborated"], row["uncorroborated"], row["rejected"]) == (2, 0, 2, 0)
    row = next(db.query("SELECT * FROM source_track_record WHERE source_id = 'wire'"))
    assert row["rejected"] == 1


def test_a_file_is_known_by_its_path_inside_the_seed_tree(tmp_path, seeds, monkeypatch):
    db_path = tmp_path / "tracker.db"
    monkeypatch.chdir(seeds.parent)
    build(pathlib.Path(seeds.name), db_path)
    for named_as in (seeds.resolve(), pathlib.Path(".") / seeds.name, pathlib.Path(os.path.relpath(seeds))):
        report = build(named_as, db_path)
        assert (report.files_parsed, report.documents_rewritten, report.claims_refreshed) == (0, 0, 0), named_as
    seed_files = {row[0] for row in sqlite3.connect(db_path).execute("SELECT seed_file FROM documents")}
    assert seed_files == {f"documents/{name}.yml" for name in DOCUMENTS}


def test_a_first_build_that_fails_leaves_no_file_behind(tmp_path):
    documents = copy.deepcopy(DOCUMENTS)
    documents["kcna-congress"]["claims"].append({"ref": "no-such-claim", "source": "kcna"})
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    folder = tmp_path / "db"
    folder.mkdir()
    with pytest.raises(SeedError):
        build(seeds, folder / "tracker.db")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("tracker.db.cache")) == []


def test_a_first_build_is_written_aside_and_ignores_a_log_left_without_its_database(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    other = tmp_path / "other.db"
    build(seeds, other)
    conn = sqlite3.connect(other)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE claims SET text = 'stale'")  # into other.db-wal, never checkpointed
    db = tmp_path / "tracker.db"
    shutil.copy(str(other) + "-wal", str(db) + "-wal")
    conn.close()
    build(seeds, db)
    assert [p.name for p in tmp_path.iterdir() if ".building" in p.name] == []
    reopened = sqlite3.connect(db)
    assert reopened.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert reopened.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert reopened.execute("SELECT count(*) FROM claims WHERE text = 'stale'").fetchone() == (0,)
    reopened.close()
    build(seeds, tmp_path / "again.db")
    assert dump(db) == dump(tmp_path / "again.db")


def test_a_first_build_clears_what_a_killed_first_build_left(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    dead = 2 ** 22 + 12345  # above Linux's largest pid_max: no such process
    left = tmp_path / f".tracker.db.building-{dead}"
    left.write_bytes(b"half a database")
    build(seeds, tmp_path / "tracker.db")
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
