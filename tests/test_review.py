"""Review workflow (SPEC section 6): append-only events, review_state and staleness, the
review queue, credibility overrides, retraction propagation, the CLI commands, the
Datasette canned queries and their permissions, and the reviews.yml round trip.

Every test works on a real SQLite file built from the fixture world of conftest.py:
hardship-provinces corroborated, villa-rumour uncorroborated, kim-plan-failed circular,
sanctions-biting contested, market-crackdown and rations-cut corroborated only through
the corroborates link between them.
"""

import copy
import json
import os
import re
import shutil
import sqlite3
import urllib.parse

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import DOCUMENTS, write_seeds
from tracker import review
from tracker.build import build, review_id
from tracker.cli import app
from tracker.database import connect
from tracker.models import Review
from tracker.serve import make_datasette

runner = CliRunner()
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
WIDE = {"COLUMNS": "250"}  # so that rich never elides ids in the queue table
DERIVED = ("status", "support_groups", "opposition_groups", "support_appearances", "best_reliability",
           "rules_credibility", "credibility", "credibility_by", "admiralty", "review_decision",
           "review_state", "credibility_override", "evidence")


# ----------------------------------------------------------------------------- helpers


def cli(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env={**WIDE, **(env or {})})


def claim(db_path, claim_id):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM claims WHERE id = ?", [claim_id]).fetchone()
        return dict(row) if row else None
    finally:
        conn.close()


def rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def events(db_path):
    return rows(db_path, "SELECT * FROM review_events ORDER BY rowid")


def queue(db_path):
    """claim id -> reason, for every claim in the review queue."""
    return {r["id"]: r["reason"] for r in rows(db_path, "SELECT id, reason FROM review_queue")}


def derived(db_path):
    """Every claim's computed columns, to compare the trigger's work with a full rebuild."""
    return {r["id"]: {k: r[k] for k in DERIVED} for r in rows(db_path, "SELECT * FROM claims ORDER BY id")}


def records(db_path):
    """Every source's track record."""
    return rows(db_path, "SELECT * FROM source_track_record ORDER BY source_id")


def cold_build(db_path, seeds, work):
    """The same seeds and review events built afresh in another file: the events are
    exported to reviews.yml beside a copy of the seeds. Returns the new file's path."""
    copy_dir = work / f"scratch-{len(list(work.glob('scratch-*')))}"
    shutil.copytree(seeds, copy_dir / "seeds")
    review.export(connect(db_path), copy_dir / "seeds" / "reviews.yml")
    fresh = copy_dir / "fresh.db"
    build(copy_dir / "seeds", fresh)
    return fresh


def from_scratch(db_path, seeds, work):
    """What a cold build computes from the same seeds and review events, in another file."""
    fresh = cold_build(db_path, seeds, work)
    return derived(fresh), records(fresh)


def record(db_path, claim_id, action, actor="analyst-1", note=None, credibility=None):
    db = connect(db_path)
    try:
        return review.record(db, claim_id, action, actor, note, credibility)
    finally:
        db.close()


def insert_event(db_path, claim_id, action, created_at, credibility=None, event_id=None, actor="analyst-1"):
    """An event with a chosen time, written the way any SQL client (or import) would."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute(
            """INSERT INTO review_events (id, claim_id, actor, action, note, credibility, evidence, created_at)
               SELECT ?, id, ?, ?, NULL, ?, evidence, ? FROM claims WHERE id = ?""",
            [event_id or f"{claim_id}-{action}-{created_at}-{credibility}", actor, action, credibility,
             created_at, claim_id],
        )
    finally:
        conn.close()


def modified_documents(change):
    documents = copy.deepcopy(DOCUMENTS)
    change(documents)
    return documents


def add_villa_appearance(d):
    # A second informant of the same outlet: same independence group -> circular.
    d["wire-story"]["claims"].append({"ref": "villa-rumour", "source": "dnk-pyongyang", "quote": "a villa"})


def add_villa_link(d):
    d["dailynk-report"]["links"] = [
        {"from": "villa-rumour", "to": "kim-plan-failed", "relation": "contradicts", "note": "?"}
    ]


def rebuild_with(tmp_path, db_path, documents=None, sources=None, reviews=None, name="seeds2"):
    seeds = write_seeds(tmp_path / name, sources=sources, documents=documents, reviews=reviews)
    build(seeds, db_path)
    return seeds


# ----------------------------------------------------------------- Datasette helpers


REVIEWER = {"id": "alice", "reviewer": True}


class Visitor:
    """One browser-like visitor of a Datasette instance: keeps its cookies."""

    def __init__(self, ds, actor=None):
        self.ds = ds
        self.cookies = {}
        if actor is not None:
            self.cookies["ds_actor"] = ds.sign({"a": actor}, "actor")

    async def get(self, path):
        response = await self.ds.client.get(path, cookies=self.cookies)
        if "ds_csrftoken" in response.cookies:
            self.cookies["ds_csrftoken"] = response.cookies["ds_csrftoken"]
        return response

    async def form_token(self, query):
        page = await self.get(f"/tracker/{query}")
        assert page.status_code == 200, page.text[:500]
        return re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)

    async def login(self, username, password):
        """Through datasette-auth-passwords' form at /-/login."""
        page = await self.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        response = await self.ds.client.post(
            "/-/login", data={"username": username, "password": password, "csrftoken": token},
            cookies=self.cookies,
        )
        if "ds_actor" in response.cookies:
            self.cookies["ds_actor"] = response.cookies["ds_actor"]
        return response

    async def post_form(self, query, **params):
        """As a browser submits the form Datasette renders (GET it first for the token)."""
        token = await self.form_token(query)
        data = {"claim_id": "", "note": "", "credibility": "", **params, "csrftoken": token}
        return await self.ds.client.post(f"/tracker/{query}", data=data, cookies=self.cookies)

    async def post_json(self, query, **params):
        """As a JSON client: the token goes in the x-csrftoken header."""
        await self.form_token(query)
        body = {"claim_id": "", "note": "", "credibility": "", **params}
        return await self.ds.client.post(
            f"/tracker/{query}",
            content=json.dumps(body),
            headers={"content-type": "application/json", "accept": "application/json",
                     "x-csrftoken": self.cookies["ds_csrftoken"]},
            cookies=self.cookies,
        )


@pytest.fixture
def ds(db_path):
    datasette = make_datasette(db_path)
    yield datasette
    datasette.databases["tracker"].close()


# ================================================================ 1. append-only


def test_update_of_a_review_event_is_refused(db_path):
    record(db_path, "villa-rumour", "flag", note="first")
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="review_events is append-only"):
        conn.execute("UPDATE review_events SET note = 'rewritten'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE review_events SET action = 'accept' WHERE claim_id = 'villa-rumour'")
    conn.close()
    assert [e["note"] for e in events(db_path)] == ["first"]
    assert claim(db_path, "villa-rumour")["review_state"] == "flag"


def test_delete_of_a_review_event_is_refused(db_path):
    record(db_path, "villa-rumour", "accept")
    conn = sqlite3.connect(db_path, isolation_level=None)  # autocommit: nothing left to roll back
    with pytest.raises(sqlite3.DatabaseError, match="append-only: review events are never deleted"):
        conn.execute("DELETE FROM review_events")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM review_events WHERE claim_id = 'villa-rumour'")
    # INSERT OR REPLACE (or REPLACE INTO) with an existing id would delete the old row
    # without firing the DELETE trigger: the old event must stay exactly as it was.
    old = events(db_path)[0]
    for verb in ("INSERT OR REPLACE", "REPLACE"):
        conn.execute(
            f"{verb} INTO review_events (id, claim_id, actor, action, created_at) "
            "VALUES (?, 'villa-rumour', 'x', 'reject', '2030-01-01T00:00:00Z')",
            [old["id"]],
        )
    # An upsert changes nothing either (skipped, or refused by the UPDATE trigger).
    try:
        conn.execute(
            "INSERT INTO review_events (id, claim_id, actor, action, created_at) "
            "VALUES (?, 'villa-rumour', 'x', 'reject', '2030-01-01T00:00:00Z') "
            "ON CONFLICT(id) DO UPDATE SET action = excluded.action",
            [old["id"]],
        )
    except sqlite3.DatabaseError as e:
        assert "append-only" in str(e)
    conn.close()
    assert events(db_path) == [old]
    assert claim(db_path, "villa-rumour")["review_state"] == "accept"


def test_event_for_an_unknown_claim_is_refused(db_path):
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="unknown claim"):
        conn.execute(
            "INSERT INTO review_events (id, claim_id, actor, action, created_at) "
            "VALUES ('e1', 'no-such-claim', 'x', 'flag', '2024-01-01T00:00:00Z')"
        )
    conn.close()
    with pytest.raises(review.UnknownClaim, match="no-such-claim"):
        record(db_path, "no-such-claim", "flag")
    assert events(db_path) == []


@pytest.mark.parametrize(
    "column, value",
    [("action", "approve"), ("credibility", 0), ("credibility", 7), ("created_at", "2024-01-01 00:00:00"),
     ("created_at", "2024-01-01T00:00:00+00:00"), ("actor", "  ")],
)
def test_malformed_events_are_refused(db_path, column, value):
    event = {"id": "e1", "claim_id": "villa-rumour", "actor": "x", "action": "flag", "credibility": None,
             "created_at": "2024-01-01T00:00:00Z", column: value}
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO review_events (id, claim_id, actor, action, credibility, created_at) "
            "VALUES (:id, :claim_id, :actor, :action, :credibility, :created_at)", event
        )
    conn.close()
    assert events(db_path) == []


def test_recorded_event_has_stable_id_fingerprint_and_utc_time(db_path):
    first = record(db_path, "villa-rumour", "flag", actor="analyst-1", note="Rumour only")
    second = record(db_path, "villa-rumour", "note", actor="analyst-2")
    assert first["id"] != second["id"]
    assert TIME.match(first["created_at"]) and TIME.match(second["created_at"])
    assert first["evidence"] == claim(db_path, "villa-rumour")["evidence"]
    assert first == {**events(db_path)[0]}


# ================================================================ 2. review_state and the queue


def test_review_state_is_the_latest_decision_by_time_then_order_of_writing(db_path):
    insert_event(db_path, "villa-rumour", "accept", "2024-01-02T00:00:00Z")
    insert_event(db_path, "villa-rumour", "flag", "2024-01-01T00:00:00Z")  # written later, earlier time
    assert claim(db_path, "villa-rumour")["review_state"] == "accept"
    insert_event(db_path, "villa-rumour", "reject", "2024-01-02T00:00:00Z")  # same time, written later
    assert claim(db_path, "villa-rumour")["review_state"] == "reject"
    insert_event(db_path, "villa-rumour", "flag", "2024-01-02T00:00:00Z")
    assert claim(db_path, "villa-rumour")["review_state"] == "flag"
    insert_event(db_path, "villa-rumour", "accept", "2024-01-01T23:59:59Z")  # too old to matter
    assert claim(db_path, "villa-rumour")["review_state"] == "flag"
    # A rebuild (full recomputation) agrees with what the trigger did.
    before = derived(db_path)
    build(db_path.parent.parent / "seeds", db_path)
    assert derived(db_path) == before


def test_a_note_does_not_change_the_review_state(db_path):
    record(db_path, "hardship-provinces", "note", note="just a remark")
    row = claim(db_path, "hardship-provinces")
    assert row["review_state"] is None and row["review_decision"] is None
    assert "hardship-provinces" not in queue(db_path)
    record(db_path, "villa-rumour", "accept")
    insert_event(db_path, "villa-rumour", "note", "2099-01-01T00:00:00Z")
    assert claim(db_path, "villa-rumour")["review_state"] == "accept"
    assert "villa-rumour" not in queue(db_path)


def test_the_initial_queue_and_its_reasons(db_path):
    reasons = queue(db_path)
    assert set(reasons) == {"villa-rumour", "kim-plan-failed", "sanctions-biting"}
    assert reasons["villa-rumour"].startswith("uncorroborated")
    assert reasons["kim-plan-failed"].startswith("circular")
    assert reasons["sanctions-biting"].startswith("contested")
    columns = rows(db_path, "SELECT * FROM review_queue LIMIT 1")[0].keys()
    assert {"id", "text", "status", "reason", "first_seen", "admiralty"} <= set(columns)


@pytest.mark.parametrize("claim_id", ["villa-rumour", "kim-plan-failed", "sanctions-biting"])
@pytest.mark.parametrize("action", ["accept", "reject"])
def test_a_current_accept_or_reject_takes_a_claim_out_of_the_queue(db_path, claim_id, action):
    record(db_path, claim_id, action)
    assert claim(db_path, claim_id)["review_state"] == action
    assert claim_id not in queue(db_path)
    record(db_path, claim_id, "note")
    assert claim_id not in queue(db_path)
    record(db_path, claim_id, "flag")
    assert queue(db_path)[claim_id] == "flagged by a reviewer"


def test_a_flag_puts_a_corroborated_claim_in_the_queue_until_accepted(db_path):
    assert "hardship-provinces" not in queue(db_path)
    record(db_path, "hardship-provinces", "flag", note="check the defector")
    row = claim(db_path, "hardship-provinces")
    assert row["status"] == "corroborated" and row["review_state"] == "flag"
    assert queue(db_path)["hardship-provinces"] == "flagged by a reviewer"
    record(db_path, "hardship-provinces", "accept")
    assert "hardship-provinces" not in queue(db_path)


@pytest.mark.parametrize(
    "change, status, reason_start",
    [(add_villa_appearance, "circular", "circular"), (add_villa_link, "contested", "contested")],
    ids=["new-appearance", "new-link"],
)
def test_a_decision_goes_stale_when_the_evidence_changes(tmp_path, db_path, change, status, reason_start):
    record(db_path, "villa-rumour", "accept", note="checked with the Seoul desk")
    before = claim(db_path, "villa-rumour")
    assert before["review_state"] == "accept" and "villa-rumour" not in queue(db_path)

    rebuild_with(tmp_path, db_path, documents=modified_documents(change))
    after = claim(db_path, "villa-rumour")
    assert after["evidence"] != before["evidence"]
    assert after["status"] == status
    assert after["review_decision"] == "accept"
    assert after["review_state"] == "accept (stale)"
    reason = queue(db_path)["villa-rumour"]
    assert reason.startswith(reason_start)
    assert "evidence changed since it was last accepted" in reason
    # The other claims' decisions are untouched by this change.
    assert claim(db_path, "hardship-provinces")["review_state"] is None

    # A new accept, made against the new evidence, is current again.
    record(db_path, "villa-rumour", "accept")
    assert claim(db_path, "villa-rumour")["review_state"] == "accept"
    assert "villa-rumour" not in queue(db_path)


def test_going_back_to_the_old_evidence_makes_the_decision_current_again(tmp_path, db_path):
    record(db_path, "villa-rumour", "accept")
    rebuild_with(tmp_path, db_path, documents=modified_documents(add_villa_appearance))
    assert claim(db_path, "villa-rumour")["review_state"] == "accept (stale)"
    rebuild_with(tmp_path, db_path, name="seeds3")  # the original world again
    assert claim(db_path, "villa-rumour")["review_state"] == "accept"
    assert "villa-rumour" not in queue(db_path)


def test_changes_that_do_not_touch_the_claims_evidence_leave_the_decision_current(tmp_path, db_path):
    record(db_path, "villa-rumour", "accept")
    record(db_path, "kim-plan-failed", "reject")

    def cosmetic(d):
        d["dailynk-report"]["claims"][1]["quote"] = "a new villa is going up"
        d["dailynk-report"]["claims"][1]["text"] = "Kim is building a villa at Mt. Myohyang, say traders."
        d["dailynk-report"]["title"] = "Renamed"
        d["wire-story"]["claims"][0]["via"] = []
        # evidence of another claim changes: not these two
        d["wire-story"]["claims"].append({"ref": "hardship-provinces", "source": "nis", "quote": "hard"})

    rebuild_with(tmp_path, db_path, documents=modified_documents(cosmetic))
    assert claim(db_path, "villa-rumour")["review_state"] == "accept"
    assert claim(db_path, "kim-plan-failed")["review_state"] == "reject"
    assert not {"villa-rumour", "kim-plan-failed"} & set(queue(db_path))


def test_a_stale_reject_comes_back_and_still_withdraws_support(tmp_path, db_path):
    record(db_path, "rations-cut", "reject")
    assert claim(db_path, "market-crackdown")["status"] == "uncorroborated"

    def deny_rations(d):
        d["kcna-congress"]["claims"].append({"ref": "rations-cut", "source": "kcna", "stance": "denies",
                                             "quote": "rations are plentiful"})

    rebuild_with(tmp_path, db_path, documents=modified_documents(deny_rations))
    rations = claim(db_path, "rations-cut")
    assert rations["review_state"] == "reject (stale)" and rations["status"] == "contested"
    assert "evidence changed since it was last rejected" in queue(db_path)["rations-cut"]
    # Stale or not, the latest decision is a reject: rations-cut still lends nothing.
    assert claim(db_path, "market-crackdown")["status"] == "uncorroborated"
    assert "market-crackdown" in queue(db_path)


def write_document(seeds, name, document):
    (seeds / "documents" / f"{name}.yml").write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def assert_same_as_a_fresh_build(tmp_path, seeds, db_path):
    """The database (rebuilt in place, perhaps incrementally) equals a cold build of the same
    seeds with the same review events."""
    fresh_seeds = tmp_path / f"fresh-seeds-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(seeds, fresh_seeds)
    review.export(connect(db_path), fresh_seeds / "reviews.yml")
    fresh = fresh_seeds / "fresh.db"
    build(fresh_seeds, fresh)
    assert derived(fresh) == derived(db_path)
    assert queue(fresh) == queue(db_path)


def test_in_place_edits_and_rebuilds_keep_review_state_right(tmp_path, seeds, db_path):
    """Edit one seed file at a time in the same tree (the one-file rebuild path)."""
    documents = copy.deepcopy(DOCUMENTS)
    record(db_path, "villa-rumour", "accept")
    record(db_path, "rations-cut", "reject")
    record(db_path, "kim-plan-failed", "accept", credibility=2)

    # 1. a new appearance of villa-rumour in another document: its accept goes stale
    documents["wire-story"]["claims"].append({"ref": "villa-rumour", "source": "dnk-pyongyang", "quote": "villa"})
    write_document(seeds, "wire-story", documents["wire-story"])
    build(seeds, db_path)
    assert claim(db_path, "villa-rumour")["review_state"] == "accept (stale)"
    assert "evidence changed since it was last accepted" in queue(db_path)["villa-rumour"]
    assert claim(db_path, "market-crackdown")["status"] == "uncorroborated"  # rations-cut still rejected
    assert claim(db_path, "kim-plan-failed")["admiralty"] == "D2"
    assert_same_as_a_fresh_build(tmp_path, seeds, db_path)

    # 2. a new document links hardship-provinces to the rejected rations-cut: it lends nothing,
    #    but the link is new evidence of both claims
    write_document(seeds, "extra", {
        "id": "extra", "title": "Extra", "publisher": "wire", "published": "2022",
        "claims": [{"ref": "sanctions-biting", "source": "wire", "quote": "imports fell"}],
        "links": [{"from": "rations-cut", "to": "hardship-provinces", "relation": "contradicts"}],
    })
    build(seeds, db_path)
    assert claim(db_path, "rations-cut")["review_state"] == "reject (stale)"
    hardship = claim(db_path, "hardship-provinces")
    assert (hardship["status"], hardship["opposition_groups"]) == ("corroborated", 0)
    assert_same_as_a_fresh_build(tmp_path, seeds, db_path)

    # 3. a decision between rebuilds, then an edit elsewhere: the decision holds
    record(db_path, "rations-cut", "accept")
    assert claim(db_path, "hardship-provinces")["status"] == "contested"
    assert claim(db_path, "market-crackdown")["status"] == "corroborated"
    documents["kcna-congress"]["title"] = "Party congress opens (edited)"
    write_document(seeds, "kcna-congress", documents["kcna-congress"])
    build(seeds, db_path)
    assert claim(db_path, "rations-cut")["review_state"] == "accept"
    assert claim(db_path, "hardship-provinces")["status"] == "contested"
    assert_same_as_a_fresh_build(tmp_path, seeds, db_path)

    # 4. the link's document is removed again: rations-cut was accepted with the link in
    #    its evidence, so the accept is stale now; hardship-provinces is no longer opposed.
    (seeds / "documents" / "extra.yml").unlink()
    build(seeds, db_path)
    assert claim(db_path, "rations-cut")["review_state"] == "accept (stale)"
    assert claim(db_path, "hardship-provinces")["status"] == "corroborated"
    assert_same_as_a_fresh_build(tmp_path, seeds, db_path)
    assert len(events(db_path)) == 4


# ================================================================ 3. credibility override


def test_credibility_override_from_the_cli(db_path):
    base = claim(db_path, "villa-rumour")
    assert (base["credibility"], base["credibility_by"], base["admiralty"]) == (3, "rules", "C3")
    result = cli("accept", "villa-rumour", "--db", db_path, "--credibility", "2", "--actor", "analyst-1")
    assert result.exit_code == 0, result.output
    row = claim(db_path, "villa-rumour")
    assert (row["credibility"], row["credibility_by"], row["admiralty"]) == (2, "reviewer", "C2")
    assert row["rules_credibility"] == 3 and row["credibility_override"] == 2
    assert events(db_path)[-1]["credibility"] == 2

    # A later event without an override keeps the latest override.
    assert cli("flag", "villa-rumour", "--db", db_path).exit_code == 0
    assert claim(db_path, "villa-rumour")["admiralty"] == "C2"
    # A note can carry an override too; the latest one wins.
    assert cli("note", "villa-rumour", "--db", db_path, "--credibility", "5").exit_code == 0
    row = claim(db_path, "villa-rumour")
    assert (row["credibility"], row["credibility_by"], row["admiralty"]) == (5, "reviewer", "C5")
    assert row["review_state"] == "flag"
    # Other claims keep the rules' rating.
    assert claim(db_path, "hardship-provinces")["credibility_by"] == "rules"


def test_the_latest_override_by_time_wins(db_path):
    insert_event(db_path, "villa-rumour", "note", "2024-05-01T00:00:00Z", credibility=4)
    insert_event(db_path, "villa-rumour", "accept", "2024-04-01T00:00:00Z", credibility=1)  # older
    insert_event(db_path, "villa-rumour", "flag", "2024-06-01T00:00:00Z")  # newer, no override
    row = claim(db_path, "villa-rumour")
    assert (row["credibility"], row["admiralty"], row["credibility_by"]) == (4, "C4", "reviewer")
    insert_event(db_path, "villa-rumour", "note", "2024-05-01T00:00:00Z", credibility=6)  # tie: written later
    assert claim(db_path, "villa-rumour")["admiralty"] == "C6"
    before = derived(db_path)
    build(db_path.parent.parent / "seeds", db_path)
    assert derived(db_path) == before


def test_an_override_survives_a_neighbours_retraction(db_path):
    record(db_path, "market-crackdown", "note", credibility=2)
    assert claim(db_path, "market-crackdown")["admiralty"] == "B2"
    record(db_path, "rations-cut", "reject")
    row = claim(db_path, "market-crackdown")
    # The reliability letter follows the evidence left; the digit stays the reviewer's.
    assert (row["status"], row["best_reliability"], row["admiralty"], row["credibility_by"]) == (
        "uncorroborated", "C", "C2", "reviewer")
    assert row["rules_credibility"] == 3


# ================================================================ 4. retraction propagation


def test_a_reject_withdraws_support_at_once_and_an_accept_restores_it(db_path):
    before = claim(db_path, "market-crackdown")
    assert (before["status"], before["support_groups"], before["admiralty"]) == ("corroborated", 2, "B1")
    assert "market-crackdown" not in queue(db_path)

    record(db_path, "rations-cut", "reject", note="the wire retracted it")
    after = claim(db_path, "market-crackdown")
    assert (after["status"], after["support_groups"], after["support_appearances"]) == ("uncorroborated", 1, 1)
    assert (after["best_reliability"], after["rules_credibility"], after["admiralty"]) == ("C", 3, "C3")
    assert after["review_state"] is None  # its own review is not touched
    assert queue(db_path)["market-crackdown"].startswith("uncorroborated")
    rations = claim(db_path, "rations-cut")
    assert rations["review_state"] == "reject" and "rations-cut" not in queue(db_path)

    # What the trigger did equals what a cold build computes in another file.
    assert (derived(db_path), records(db_path)) == from_scratch(db_path, db_path.parent.parent / "seeds",
                                                                db_path.parent.parent)

    # A note or a flag on the rejected claim does not restore it; an accept does.
    record(db_path, "rations-cut", "note")
    assert claim(db_path, "market-crackdown")["status"] == "uncorroborated"
    record(db_path, "rations-cut", "accept")
    restored = claim(db_path, "market-crackdown")
    assert {k: restored[k] for k in DERIVED} == {k: before[k] for k in DERIVED}
    assert "market-crackdown" not in queue(db_path)


def test_a_flag_after_a_reject_restores_support_too(db_path):
    record(db_path, "rations-cut", "reject")
    record(db_path, "rations-cut", "flag")
    assert claim(db_path, "market-crackdown")["status"] == "corroborated"


def test_a_rejected_contradiction_no_longer_contests(tmp_path, db_path):
    def contradict(d):
        d["dailynk-report"]["links"] = [
            {"from": "villa-rumour", "to": "hardship-provinces", "relation": "contradicts", "note": "?"}
        ]

    rebuild_with(tmp_path, db_path, documents=modified_documents(contradict))
    assert claim(db_path, "hardship-provinces")["status"] == "contested"
    assert "hardship-provinces" in queue(db_path)
    # villa-rumour is opposed by hardship-provinces' two origins in turn
    assert claim(db_path, "villa-rumour")["status"] == "contested"

    record(db_path, "villa-rumour", "reject")
    row = claim(db_path, "hardship-provinces")
    assert (row["status"], row["opposition_groups"], row["admiralty"]) == ("corroborated", 0, "B1")
    assert "hardship-provinces" not in queue(db_path)
    assert (derived(db_path), records(db_path)) == from_scratch(db_path, tmp_path / "seeds2", tmp_path)


def test_an_earlier_dated_reject_does_not_override_a_later_accept(db_path):
    insert_event(db_path, "rations-cut", "accept", "2024-02-01T00:00:00Z")
    insert_event(db_path, "rations-cut", "reject", "2024-01-01T00:00:00Z")  # imported late, older
    assert claim(db_path, "rations-cut")["review_state"] == "accept"
    assert claim(db_path, "market-crackdown")["status"] == "corroborated"


async def test_reject_through_datasette_takes_effect_at_once(db_path, ds):
    alice = Visitor(ds, REVIEWER)
    response = await alice.post_form("reject_claim", claim_id="rations-cut", note="retracted by the wire")
    assert response.status_code == 302, response.text[:500]
    assert response.headers["location"] == "/tracker/review_queue"

    [event] = events(db_path)
    assert (event["claim_id"], event["action"], event["actor"], event["note"]) == (
        "rations-cut", "reject", "alice", "retracted by the wire")
    assert event["credibility"] is None
    assert event["evidence"] == claim(db_path, "rations-cut")["evidence"]
    assert TIME.match(event["created_at"])

    market = claim(db_path, "market-crackdown")
    assert (market["status"], market["admiralty"]) == ("uncorroborated", "C3")
    # and Datasette itself shows it, with no rebuild and no restart
    page = await Visitor(ds, REVIEWER).get("/tracker/review_queue.json?_shape=array")
    assert "market-crackdown" in [r["id"] for r in page.json()]
    state = await Visitor(ds, REVIEWER).get("/tracker/claims/rations-cut.json?_shape=array")
    assert state.json()[0]["review_state"] == "reject"

    # A JSON client (x-csrftoken header) accepts it again: support comes back.
    response = await alice.post_json("accept_claim", claim_id="rations-cut", credibility="2")
    assert response.status_code == 200 and response.json()["ok"] is True, response.text
    assert claim(db_path, "market-crackdown")["status"] == "corroborated"
    rations = claim(db_path, "rations-cut")
    assert (rations["review_state"], rations["admiralty"], rations["credibility_by"]) == ("accept", "B2", "reviewer")
    assert [e["actor"] for e in events(db_path)] == ["alice", "alice"]


async def test_datasette_review_of_an_unknown_claim_writes_nothing(db_path, ds):
    alice = Visitor(ds, REVIEWER)
    response = await alice.post_json("flag_claim", claim_id="no-such-claim")
    assert response.json()["ok"] is False
    assert "unknown claim" in response.json()["message"]
    response = await alice.post_json("flag_claim", claim_id="villa-rumour", credibility="9")
    assert response.json()["ok"] is False
    assert events(db_path) == []


# ================================================================ 5. permissions


WRITES = ["flag_claim", "accept_claim", "reject_claim", "note_claim"]


@pytest.mark.parametrize("query", WRITES)
async def test_anonymous_visitors_cannot_write(db_path, ds, query):
    anonymous = Visitor(ds)
    response = await ds.client.post(f"/tracker/{query}", data={"claim_id": "villa-rumour", "note": "x",
                                                               "credibility": ""})
    assert response.status_code == 403
    assert "permission" in response.text
    response = await ds.client.post(
        f"/tracker/{query}", content=json.dumps({"claim_id": "villa-rumour", "note": "", "credibility": ""}),
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    assert response.status_code == 403
    assert (await anonymous.get(f"/tracker/{query}")).status_code == 403
    assert events(db_path) == []


@pytest.mark.parametrize("actor", [{"id": "bob"}, {"id": "carol", "reviewer": False}, {"id": "root"}])
@pytest.mark.parametrize("query", WRITES)
async def test_signed_in_non_reviewers_cannot_write(db_path, ds, query, actor):
    visitor = Visitor(ds, actor)
    assert (await visitor.get(f"/tracker/{query}")).status_code == 403
    # Even with a valid CSRF token (taken from a page that renders one) the write is refused.
    reviewer = Visitor(ds, REVIEWER)
    token = await reviewer.form_token(query)
    visitor.cookies["ds_csrftoken"] = reviewer.cookies["ds_csrftoken"]
    response = await ds.client.post(
        f"/tracker/{query}", data={"claim_id": "villa-rumour", "note": "", "credibility": "", "csrftoken": token},
        cookies=visitor.cookies,
    )
    assert response.status_code == 403
    assert "You do not have permission" in response.text  # refused by `allow`, not by the CSRF check
    assert events(db_path) == []


@pytest.mark.parametrize("query, action", list(zip(WRITES, ["flag", "accept", "reject", "note"])))
async def test_reviewers_can_write(db_path, ds, query, action):
    alice = Visitor(ds, REVIEWER)
    response = await alice.post_form(query, claim_id="sanctions-biting", note="seen", credibility="4")
    assert response.status_code == 302
    [event] = events(db_path)
    assert (event["action"], event["actor"], event["note"], event["credibility"]) == (action, "alice", "seen", 4)
    # Empty form fields mean "no note" and "no override".
    response = await alice.post_form(query, claim_id="villa-rumour")
    assert response.status_code == 302
    last = events(db_path)[-1]
    assert (last["note"], last["credibility"]) == (None, None)


async def test_a_forged_csrf_token_is_refused(db_path, ds):
    alice = Visitor(ds, REVIEWER)
    await alice.form_token("flag_claim")
    response = await ds.client.post("/tracker/flag_claim", data={
        "claim_id": "villa-rumour", "note": "", "credibility": "", "csrftoken": "forged"}, cookies=alice.cookies)
    assert response.status_code == 403
    assert "did not match" in response.text
    assert events(db_path) == []


async def test_signed_in_readers_read_and_run_read_only_sql(db_path, ds):
    # The full database is for the team (SPEC section 6): readers read, anonymous
    # visitors are refused (tests/test_access.py covers every kind of URL).
    reader = Visitor(ds, {"id": "carol", "reader": True})
    for path in ("/tracker/claims.json", "/tracker/review_queue.json", "/tracker/appearances.json",
                 "/tracker/claims/villa-rumour", "/tracker/review_queue", "/tracker"):
        response = await reader.get(path)
        assert response.status_code == 200, path
        assert (await Visitor(ds).get(path)).status_code == 403, path
    response = await reader.get("/tracker.json?sql=select+count(*)+from+claims&_shape=array")
    assert response.status_code == 200
    assert response.json() == [{"count(*)": 6}]


@pytest.mark.parametrize("sql", [
    "delete from claims",
    "update claims set status = 'corroborated'",
    "insert into review_events (id, claim_id, actor, action, created_at) "
    "values ('x', 'villa-rumour', 'eve', 'accept', '2024-01-01T00:00:00Z')",
    "with x as (select 1) delete from claims",
    "select 1; delete from claims",
    "pragma query_only = 0",
])
async def test_anonymous_sql_that_writes_is_refused(db_path, ds, sql):
    before = (rows(db_path, "SELECT count(*) AS n FROM claims"), events(db_path), derived(db_path))
    response = await Visitor(ds).get("/tracker.json?" + urllib.parse.urlencode({"sql": sql}))
    assert response.status_code in (400, 403)
    assert (rows(db_path, "SELECT count(*) AS n FROM claims"), events(db_path), derived(db_path)) == before


def fast_hash(password):
    from datasette_auth_passwords.utils import hash_password

    return hash_password(password, iterations=1000)  # the stored hash says how many


async def test_reviewers_log_in_with_password_hashes_from_the_environment(db_path, monkeypatch):
    monkeypatch.setenv("TRACKER_REVIEWER_PASSWORD_HASH", fast_hash("open sesame"))
    monkeypatch.setenv("TRACKER_REVIEWERS", "alice, bob-smith")
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_ALICE", fast_hash("alice pw"))
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_BOB_SMITH", fast_hash("bob pw"))
    ds = make_datasette(db_path)
    try:
        # A wrong password signs nobody in, and writing stays forbidden.
        visitor = Visitor(ds)
        response = await visitor.login("reviewer", "wrong")
        assert "ds_actor" not in visitor.cookies and "Invalid username or password" in response.text
        assert (await visitor.get("/tracker/flag_claim")).status_code == 403
        for username, password in (("reviewer", "open sesame"), ("alice", "alice pw"), ("bob-smith", "bob pw")):
            visitor = Visitor(ds)
            response = await visitor.login(username, password)
            assert response.status_code == 302 and "ds_actor" in visitor.cookies, username
            actor = (await visitor.get("/-/actor.json")).json()["actor"]
            assert actor == {"id": username, "reviewer": True}
            assert (await visitor.post_form("flag_claim", claim_id="villa-rumour")).status_code == 302
        assert [e["actor"] for e in events(db_path)] == ["reviewer", "alice", "bob-smith"]
        # The hashes are not published in the metadata.
        metadata = (await Visitor(ds).get("/-/metadata.json")).text
        for name in ("TRACKER_REVIEWER_PASSWORD_HASH", "TRACKER_PASSWORD_HASH_ALICE"):
            assert os.environ[name] not in metadata
    finally:
        ds.databases["tracker"].close()


async def test_no_configured_hash_means_no_login(db_path, monkeypatch):
    monkeypatch.delenv("TRACKER_REVIEWER_PASSWORD_HASH", raising=False)
    monkeypatch.delenv("TRACKER_REVIEWERS", raising=False)
    ds = make_datasette(db_path)
    try:
        visitor = Visitor(ds)
        for password in ("", "None", "null"):
            await visitor.login("reviewer", password)
            assert "ds_actor" not in visitor.cookies
    finally:
        ds.databases["tracker"].close()


async def test_sign_in_survives_a_restart_with_datasette_secret(db_path, monkeypatch):
    monkeypatch.setenv("DATASETTE_SECRET", "a-long-random-secret-for-the-test")
    first = make_datasette(db_path)
    cookie = first.sign({"a": REVIEWER}, "actor")
    restarted = make_datasette(db_path)  # same secret: the cookie is still valid
    response = await restarted.client.get("/-/actor.json", cookies={"ds_actor": cookie})
    assert response.json()["actor"] == REVIEWER
    alice = Visitor(restarted)
    alice.cookies["ds_actor"] = cookie
    assert (await alice.post_form("flag_claim", claim_id="villa-rumour")).status_code == 302
    assert events(db_path)[-1]["actor"] == "alice"
    # Without the secret each start makes its own: old cookies no longer sign anyone in.
    monkeypatch.delenv("DATASETTE_SECRET")
    other = make_datasette(db_path)
    response = await other.client.get("/-/actor.json", cookies={"ds_actor": cookie})
    assert response.status_code == 403  # nobody signed in: the instance says nothing
    for ds in (first, restarted, other):
        ds.databases["tracker"].close()


# ================================================================ 6. the CLI


def test_review_lists_the_queue_with_filters(db_path):
    result = cli("review", "--db", db_path)
    assert result.exit_code == 0, result.output
    for claim_id in ("villa-rumour", "kim-plan-failed", "sanctions-biting"):
        assert claim_id in result.output
    assert "hardship-provinces" not in result.output and "3 claim(s) shown" in result.output

    result = cli("review", "--db", db_path, "--status", "circular")
    assert "kim-plan-failed" in result.output and "villa-rumour" not in result.output
    assert "1 claim(s) shown" in result.output

    result = cli("review", "--db", db_path, "--source-type", "informant")
    assert "villa-rumour" in result.output and "kim-plan-failed" not in result.output
    assert "sanctions-biting" not in result.output

    result = cli("review", "--db", db_path, "--limit", "2")
    assert "2 claim(s) shown" in result.output

    result = cli("review", "--db", db_path, "--status", "corroborated")
    assert "0 claim(s) shown" in result.output

    # A flagged corroborated claim shows, with its reason.
    assert cli("flag", "hardship-provinces", "--db", db_path).exit_code == 0
    result = cli("review", "--db", db_path, "--status", "corroborated")
    assert "hardship-provinces" in result.output and "flagged by a reviewer" in result.output


@pytest.mark.parametrize("action", ["flag", "accept", "reject", "note"])
def test_decision_commands_record_an_event(db_path, action):
    result = cli(action, "sanctions-biting", "--db", db_path, "--note", "Seen [bold]it[/bold]",
                 "--actor", "analyst-7", "--credibility", "4")
    assert result.exit_code == 0, result.output
    assert f"{action} recorded for sanctions-biting by analyst-7" in result.output
    [event] = events(db_path)
    assert (event["claim_id"], event["action"], event["actor"], event["note"], event["credibility"]) == (
        "sanctions-biting", action, "analyst-7", "Seen [bold]it[/bold]", 4)
    assert event["id"] in result.output
    assert event["evidence"] == claim(db_path, "sanctions-biting")["evidence"]
    expected_state = None if action == "note" else action
    assert claim(db_path, "sanctions-biting")["review_state"] == expected_state


def test_actor_defaults_to_tracker_actor_then_login_name(db_path):
    assert cli("flag", "villa-rumour", "--db", db_path, env={"TRACKER_ACTOR": "desk-seoul"}).exit_code == 0
    assert events(db_path)[-1]["actor"] == "desk-seoul"
    # --actor wins over the environment
    assert cli("note", "villa-rumour", "--db", db_path, "--actor", "me",
               env={"TRACKER_ACTOR": "desk-seoul"}).exit_code == 0
    assert events(db_path)[-1]["actor"] == "me"
    # no TRACKER_ACTOR: the login name
    result = cli("note", "villa-rumour", "--db", db_path,
                 env={"TRACKER_ACTOR": None, "LOGNAME": "login-name", "USER": "login-name"})
    assert result.exit_code == 0, result.output
    assert events(db_path)[-1]["actor"] == "login-name"


def test_unknown_claim_is_a_clear_error_and_writes_nothing(db_path):
    result = cli("accept", "villa-rumor", "--db", db_path)
    assert result.exit_code == 1
    assert "unknown claim 'villa-rumor'" in result.output
    assert "Traceback" not in result.output
    assert events(db_path) == []


@pytest.mark.parametrize("value", ["7", "0", "-1", "two"])
def test_credibility_out_of_range_is_a_usage_error(db_path, value):
    result = cli("accept", "villa-rumour", "--db", db_path, "--credibility", value)
    assert result.exit_code == 2
    assert "credibility" in result.output.lower()
    assert events(db_path) == []


def test_missing_database_is_a_clear_error(tmp_path):
    missing = tmp_path / "nowhere" / "tracker.db"
    result = cli("flag", "villa-rumour", "--db", missing)
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert not missing.exists()


# ================================================================ 7. export / import round trip


def hand_written_review(**fields):
    return {"claim": "villa-rumour", "action": "accept", "actor": "analyst-2", "note": "Checked by hand.",
            "at": "2024-03-01T12:00:00Z", **fields}


async def test_export_fresh_build_export_is_identical(tmp_path, seeds, db_path, ds):
    # A hand-written entry (no id, no evidence) read by a first rebuild.
    (seeds / "reviews.yml").write_text(yaml.safe_dump([hand_written_review()], sort_keys=False))
    build(seeds, db_path)
    # Decisions from the terminal, with awkward notes ...
    notes = {"flag": "null", "accept": "Kim's plan: 'failed' # not a comment\nsecond line  ",
             "reject": "평양 — sources disagree", "note": "- looks: like yaml\n  - nested"}
    for (action, note), claim_id in zip(notes.items(), ["kim-plan-failed", "hardship-provinces",
                                                        "rations-cut", "sanctions-biting"]):
        result = cli(action, claim_id, "--db", db_path, "--note", note, "--credibility", "3",
                     env={"TRACKER_ACTOR": "analyst-1"})
        assert result.exit_code == 0, result.output
    # ... and from Datasette
    alice = Visitor(ds, REVIEWER)
    assert (await alice.post_form("flag_claim", claim_id="villa-rumour", note="<b>recheck</b> & 'see'")).status_code == 302
    assert (await alice.post_json("note_claim", claim_id="market-crackdown", note="")).json()["ok"] is True
    assert len(events(db_path)) == 7

    first = tmp_path / "export" / "reviews.yml"
    result = cli("export-reviews", "--db", db_path, "--out", first)
    assert result.exit_code == 0, result.output
    assert "Wrote 7 review event(s)" in result.output
    exported = yaml.safe_load(first.read_text())
    assert [e["note"] for e in exported if e["actor"] == "analyst-1"] == list(notes.values())
    assert all(set(e) == {"id", "claim", "action", "actor", "note", "credibility", "evidence", "at"} for e in exported)
    assert exported[0]["id"] == review_id(Review(**hand_written_review()))

    # A fresh build into a NEW database from the seeds and that reviews.yml ...
    shutil.copy(first, seeds / "reviews.yml")
    fresh = tmp_path / "fresh" / "tracker.db"
    assert cli("build", seeds, "--db", fresh).exit_code == 0
    second = tmp_path / "export" / "again.yml"
    assert cli("export-reviews", "--db", fresh, "--out", second).exit_code == 0
    # ... gives back exactly the same file, the same events and the same claims.
    assert second.read_bytes() == first.read_bytes()
    assert events(fresh) == events(db_path)
    assert derived(fresh) == derived(db_path)

    # Rebuilding either database again and again neither duplicates nor loses events.
    for _ in range(3):
        assert cli("build", seeds, "--db", db_path).exit_code == 0
        assert cli("build", seeds, "--db", fresh).exit_code == 0
    assert events(db_path) == events(fresh)
    assert len(events(db_path)) == 7
    assert derived(fresh) == derived(db_path)


def test_events_not_yet_exported_survive_rebuilds(tmp_path, seeds, db_path):
    record(db_path, "villa-rumour", "flag")
    out = seeds / "reviews.yml"
    review.export(connect(db_path), out)
    record(db_path, "villa-rumour", "accept")  # not in reviews.yml
    build(seeds, db_path)
    build(seeds, db_path)
    assert [e["action"] for e in events(db_path)] == ["flag", "accept"]
    assert claim(db_path, "villa-rumour")["review_state"] == "accept"
    # and a rebuild without any reviews.yml keeps them too
    out.unlink()
    build(seeds, db_path)
    assert [e["action"] for e in events(db_path)] == ["flag", "accept"]


def test_exporting_nothing_writes_an_empty_list_that_builds(tmp_path, seeds, db_path):
    review.export(connect(db_path), seeds / "reviews.yml")
    assert yaml.safe_load((seeds / "reviews.yml").read_text()) == []
    build(seeds, db_path)
    assert events(db_path) == []


def test_hand_written_entry_gets_a_content_hash_id_and_the_current_fingerprint(tmp_path):
    entry = hand_written_review()
    seeds = write_seeds(tmp_path / "seeds", reviews=[entry])
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    build(seeds, one)
    build(seeds, two)
    [event] = events(one)
    assert events(two) == [event]
    assert event["id"] == review_id(Review(**entry)) and event["id"].startswith("h")
    assert event["evidence"] == claim(one, "villa-rumour")["evidence"]
    assert (event["actor"], event["action"], event["created_at"]) == ("analyst-2", "accept", "2024-03-01T12:00:00Z")
    assert claim(one, "villa-rumour")["review_state"] == "accept"
    assert "villa-rumour" not in queue(one)

    # Reading it again does not duplicate it.
    build(seeds, one)
    assert events(one) == [event]

    # The fingerprint is the one current when the entry was FIRST read: once the evidence
    # changes, the decision is stale in the database that read it before ...
    changed = write_seeds(tmp_path / "changed", documents=modified_documents(add_villa_appearance),
                          reviews=[entry])
    build(changed, one)
    assert events(one) == [event]
    assert claim(one, "villa-rumour")["review_state"] == "accept (stale)"
    # ... while a database reading it for the first time now takes the new fingerprint.
    three = tmp_path / "three.db"
    build(changed, three)
    assert events(three)[0]["id"] == event["id"]
    assert events(three)[0]["evidence"] == claim(three, "villa-rumour")["evidence"] != event["evidence"]
    assert claim(three, "villa-rumour")["review_state"] == "accept"


def test_hand_written_entries_quoted_or_not_are_stored_in_one_utc_format(tmp_path):
    text = (
        "- claim: villa-rumour\n  action: flag\n  actor: analyst-2\n  at: 2024-03-01T12:00:00Z\n"
        "- claim: kim-plan-failed\n  action: note\n  actor: ' analyst-2'\n  at: 2024-03-01T12:00:00Z\n"
        "- claim: sanctions-biting\n  action: reject\n  actor: analyst-2\n  at: '2024-03-02T00:00:00Z'\n"
    )
    seeds = write_seeds(tmp_path / "seeds")
    (seeds / "reviews.yml").write_text(text)
    db_path = tmp_path / "t.db"
    build(seeds, db_path)
    assert [e["created_at"] for e in events(db_path)] == [
        "2024-03-01T12:00:00Z", "2024-03-01T12:00:00Z", "2024-03-02T00:00:00Z"]
    assert [e["actor"] for e in events(db_path)] == ["analyst-2"] * 3
    assert len({e["id"] for e in events(db_path)}) == 3
    # Exported and read back into a new database: identical.
    review.export(connect(db_path), seeds / "reviews.yml")
    exported = (seeds / "reviews.yml").read_bytes()
    other = tmp_path / "other.db"
    build(seeds, other)
    review.export(connect(other), tmp_path / "again.yml")
    assert (tmp_path / "again.yml").read_bytes() == exported


def test_a_time_with_an_offset_is_a_clear_error(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", reviews=[hand_written_review(at="2024-03-01T21:00:00+09:00")])
    result = cli("build", seeds, "--db", tmp_path / "t.db")
    assert result.exit_code == 1
    assert "reviews.yml" in result.output and "not a UTC time" in result.output


def test_a_blank_actor_is_refused(db_path):
    with pytest.raises(review.ReviewError, match="actor"):
        record(db_path, "villa-rumour", "flag", actor="  ")
    assert events(db_path) == []


def test_a_blank_actor_is_a_clear_cli_error(db_path):
    result = cli("flag", "villa-rumour", "--db", db_path, "--actor", "   ")
    assert result.exit_code == 1 and "must not be blank" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert events(db_path) == []


def test_events_of_a_claim_removed_from_the_seeds_are_kept(tmp_path, db_path):
    record(db_path, "villa-rumour", "reject", note="kept for the audit trail")

    def remove_villa(d):
        del d["dailynk-report"]["claims"][1]

    rebuild_with(tmp_path, db_path, documents=modified_documents(remove_villa))
    assert claim(db_path, "villa-rumour") is None
    assert [(e["claim_id"], e["note"]) for e in events(db_path)] == [("villa-rumour", "kept for the audit trail")]
    # and when the claim comes back, so does its decision
    rebuild_with(tmp_path, db_path, name="seeds3")
    assert claim(db_path, "villa-rumour")["review_state"] == "reject"


def test_an_orphaned_review_is_kept_with_a_warning_and_round_trips(tmp_path, seeds, db_path):
    record(db_path, "villa-rumour", "reject", note="kept for the audit trail")
    review.export(connect(db_path), seeds / "reviews.yml")
    exported = (seeds / "reviews.yml").read_bytes()
    documents = modified_documents(lambda d: d["dailynk-report"]["claims"].pop(1))
    write_seeds(seeds, documents=documents)

    for db in (db_path, tmp_path / "cold.db"):  # the same database, and one built afresh
        result = cli("build", seeds, "--db", db)
        assert result.exit_code == 0, result.output
        assert "villa-rumour" in result.output and "orphaned" in result.output
        orphaned = rows(db, "SELECT claim_id, note FROM orphaned_review_events")
        assert orphaned == [{"claim_id": "villa-rumour", "note": "kept for the audit trail"}]
        assert claim(db, "villa-rumour") is None
        review.export(connect(db), tmp_path / "again.yml")
        assert (tmp_path / "again.yml").read_bytes() == exported
    # the claim comes back: so does its decision
    write_seeds(seeds)
    build(seeds, tmp_path / "cold.db")
    assert claim(tmp_path / "cold.db", "villa-rumour")["review_state"] == "reject"
    assert rows(tmp_path / "cold.db", "SELECT * FROM orphaned_review_events") == []


def test_actor_names_with_surrounding_spaces_round_trip(tmp_path, seeds, db_path):
    result = cli("flag", "villa-rumour", "--db", db_path, "--actor", "  analyst-3 ")
    assert result.exit_code == 0, result.output
    review.export(connect(db_path), seeds / "reviews.yml")
    first = (seeds / "reviews.yml").read_bytes()
    fresh = tmp_path / "fresh.db"
    build(seeds, fresh)
    review.export(connect(fresh), tmp_path / "again.yml")
    assert (tmp_path / "again.yml").read_bytes() == first
    assert events(fresh) == events(db_path)


# ================================================================ consistency of the trigger


CLAIMS = ["hardship-provinces", "villa-rumour", "kim-plan-failed", "sanctions-biting", "market-crackdown",
          "rations-cut"]
EVENT = st.tuples(st.sampled_from(CLAIMS), st.sampled_from(["flag", "accept", "reject", "note"]),
                  st.one_of(st.none(), st.integers(1, 6)), st.integers(0, 3))


def contradicting_world():
    """The fixture world plus links so that retractions reach in both directions."""
    def change(d):
        d["dailynk-report"]["links"] = [
            {"from": "villa-rumour", "to": "hardship-provinces", "relation": "contradicts"},
            {"from": "villa-rumour", "to": "market-crackdown", "relation": "corroborates"},
            {"from": "kim-plan-failed", "to": "sanctions-biting", "relation": "corroborates"},
        ]
    return modified_documents(change)


@pytest.fixture(scope="module")
def consistency_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("consistency")
    seeds = write_seeds(root / "seeds", documents=contradicting_world())
    template = root / "template.db"
    build(seeds, template)
    return seeds, template


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(EVENT, min_size=1, max_size=12))
def test_the_trigger_always_agrees_with_a_full_rebuild(tmp_path, consistency_template, sequence):
    seeds, template = consistency_template
    db_path = tmp_path / f"c{abs(hash(tuple(sequence)))}.db"
    shutil.copy(template, db_path)
    for index, (claim_id, action, credibility, day) in enumerate(sequence):
        # A few days of events, written out of order of time now and then.
        insert_event(db_path, claim_id, action, f"2024-01-0{day + 1}T00:00:00Z", credibility,
                     event_id=f"e{index}")
    # against a cold build in another file (a rebuild of unchanged seeds recomputes nothing)
    work = tmp_path / db_path.stem
    work.mkdir()
    assert (derived(db_path), records(db_path)) == from_scratch(db_path, seeds, work)
    db_path.unlink()
