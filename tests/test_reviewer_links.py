"""Links decided by reviewers (issue 12 part 3, SPEC section 6): `link` adds a link that
counts exactly like a link in the seeds, at once, for both claims; `unlink` withdraws a
reviewer's link; `dismiss` keeps a pair from being suggested again. All of it is
append-only, exported by export-reviews, read back by build, and published without the
reviewers' notes; suggestions never are."""

import copy
import re
import shutil
import sqlite3

import pytest
import yaml
from typer.testing import CliRunner

from conftest import DOCUMENTS, SOURCES, write_seeds
from test_review import cold_build, rows
from tracker.build import build
from tracker.cli import app
from tracker.publish import publish
from tracker.serve import make_datasette

runner = CliRunner()
WIDE = {"COLUMNS": "200", "TRACKER_ACTOR": "analyst-1"}

# villa-rumour rests on one Daily NK informant; kim-plan-failed on KCNA and Rodong Sinmun,
# one origin (circular). A reviewer's link joins two independent origins.
A, B = "villa-rumour", "kim-plan-failed"
SEED_PAIR = ("market-crackdown", "rations-cut")  # linked in the seeds


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], env=WIDE)


def status(path, *claim_ids):
    found = {r["id"]: r["status"] for r in rows(path, "SELECT id, status FROM claims")}
    return tuple(found[c] for c in claim_ids)


def state(path):
    """What the analysis makes of the claims and links, to compare two databases."""
    return (
        rows(path, "SELECT id, status, support_groups, opposition_groups, admiralty, evidence, review_state, "
                   "queue_reason FROM claims ORDER BY id"),
        rows(path, "SELECT from_claim_id, to_claim_id, relation, note, document_id, position, review_event_id "
                   "FROM links ORDER BY review_event_id, document_id, position"),
        rows(path, "SELECT * FROM source_track_record ORDER BY source_id"),
        rows(path, "SELECT * FROM circular_claims ORDER BY claim_id"),  # the circular_reporting page's ranking
    )


def replace_documents(seeds, documents):
    """The seed tree's document files, as ``documents`` (a changed file and a rebuild)."""
    shutil.rmtree(seeds / "documents")
    write_seeds(seeds, documents=documents)


def link(path, *args):
    result = cli("link", *args, "--db", path)
    assert result.exit_code == 0, result.output
    return result


def events(path):
    return rows(path, "SELECT claim_id, action, other_claim_id, relation FROM review_events ORDER BY rowid")


# ============================================================ at once, like a seed link


def test_a_reviewers_link_counts_at_once_for_both_claims(tmp_path, seeds, db_path):
    assert status(db_path, A, B) == ("uncorroborated", "circular")
    assert A in {r["id"] for r in rows(db_path, "SELECT id FROM review_queue")}
    assert [r["claim_id"] for r in rows(db_path, "SELECT claim_id FROM circular_claims")] == [B]

    result = link(db_path, A, B, "--relation", "corroborates", "--note", "Same congress, two channels.")

    assert status(db_path, A, B) == ("corroborated", "corroborated")
    assert rows(db_path, "SELECT claim_id FROM circular_claims") == []  # off the circular reporting page at once
    # the terminal says what the decision did
    assert f"{A}: corroborated" in result.output and f"{B}: corroborated" in result.output
    assert not {A, B} & {r["id"] for r in rows(db_path, "SELECT id FROM review_queue")}
    made = rows(db_path, "SELECT * FROM links WHERE review_event_id IS NOT NULL")
    event = rows(db_path, "SELECT id FROM review_events WHERE action = 'link'")[0]
    assert made == [{"document_id": None, "position": None, "from_claim_id": A, "to_claim_id": B,
                     "relation": "corroborates", "note": "Same congress, two channels.", "review_event_id": event["id"]}]
    # exactly what a cold build of the same seeds and events computes
    assert state(db_path) == state(cold_build(db_path, seeds, tmp_path))


def test_a_link_changes_the_evidence_so_an_earlier_accept_goes_stale(db_path):
    assert cli("accept", A, "--db", db_path).exit_code == 0
    before = rows(db_path, "SELECT evidence, review_state FROM claims WHERE id = ?", [A])[0]
    assert before["review_state"] == "accept"

    link(db_path, A, "sanctions-biting", "--relation", "contradicts")

    after = rows(db_path, "SELECT evidence, review_state, status, queue_reason FROM claims WHERE id = ?", [A])[0]
    assert after["evidence"] != before["evidence"]
    assert after["review_state"] == "accept (stale)"
    assert after["status"] == "contested"
    assert after["queue_reason"].startswith("contested")


def test_unlink_withdraws_the_link_and_everything_returns(tmp_path, seeds, db_path):
    before = state(db_path)
    link(db_path, A, B, "--relation", "corroborates")
    result = cli("unlink", B, A, "--db", db_path, "--note", "Different villa.")  # either order
    assert result.exit_code == 0, result.output
    assert status(db_path, A, B) == ("uncorroborated", "circular")
    assert state(db_path) == before  # claims (evidence included), links and track records
    assert [e["action"] for e in events(db_path)] == ["link", "unlink"]  # history kept
    assert state(db_path) == state(cold_build(db_path, seeds, tmp_path))


@pytest.mark.parametrize("args, message", [
    (["link", A, "no-such-claim", "--relation", "corroborates"], "unknown claim 'no-such-claim'"),
    (["link", "no-such-claim", A, "--relation", "corroborates"], "unknown claim 'no-such-claim'"),
    (["link", A, A, "--relation", "corroborates"], "a claim cannot be linked to itself"),
    (["link", *SEED_PAIR, "--relation", "contradicts"], "these claims are linked already"),
    (["unlink", *SEED_PAIR], "a link of the seeds is changed in its seed file"),
    (["unlink", A, B], "no reviewer's link joins these claims"),
    (["dismiss", *SEED_PAIR], "these claims are linked: there is no suggestion to dismiss"),
    (["dismiss", A, "no-such-claim"], "unknown claim 'no-such-claim'"),
])
def test_cli_refuses_what_does_not_fit_and_writes_nothing(db_path, args, message):
    before = state(db_path)
    result = cli(*args, "--db", db_path)
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert events(db_path) == [] and state(db_path) == before


def test_a_link_needs_its_relation(db_path):
    result = cli("link", A, B, "--db", db_path)
    assert result.exit_code == 2 and "--relation" in result.output
    assert events(db_path) == []


def test_a_second_link_of_a_linked_pair_is_refused_until_unlinked(db_path):
    link(db_path, A, B, "--relation", "corroborates")
    assert cli("link", B, A, "--relation", "contradicts", "--db", db_path).exit_code == 1
    assert cli("unlink", A, B, "--db", db_path).exit_code == 0
    link(db_path, B, A, "--relation", "contradicts")
    assert status(db_path, A, B) == ("contested", "contested")


# ============================================================ suggestions


def suggested_pairs(path):
    return {(r["claim_id"], r["other_claim_id"]) for r in rows(path, "SELECT * FROM link_suggestions")}


def test_dismissed_and_linked_pairs_are_never_suggested_again(tmp_path, seeds, db_path):
    assert cli("suggest-links", "--db", db_path).exit_code == 0
    first, second, *_ = sorted(suggested_pairs(db_path))

    assert cli("dismiss", *first, "--db", db_path).exit_code == 0
    link(db_path, second[1], second[0], "--relation", "corroborates")
    # gone at once, without waiting for suggest-links
    assert not {first, second} & suggested_pairs(db_path)

    assert cli("suggest-links", "--db", db_path).exit_code == 0
    assert not {first, second} & suggested_pairs(db_path)
    # a build that touches both claims recomputes their suggestions: still not suggested
    documents = copy.deepcopy(DOCUMENTS)
    for document in documents.values():
        document["title"] += " (edited)"
    replace_documents(seeds, documents)
    build(seeds, db_path)
    assert not {first, second} & suggested_pairs(db_path)


# ============================================================ reviews.yml and rebuilds


def test_pair_decisions_round_trip_through_reviews_yml(tmp_path, seeds, db_path):
    link(db_path, A, B, "--relation", "corroborates", "--note", "n1")
    assert cli("unlink", A, B, "--db", db_path).exit_code == 0
    link(db_path, A, "sanctions-biting", "--relation", "contradicts")
    assert cli("dismiss", "hardship-provinces", B, "--db", db_path).exit_code == 0
    assert cli("flag", A, "--db", db_path).exit_code == 0

    exported = tmp_path / "reviews.yml"
    assert cli("export-reviews", "--db", db_path, "--out", exported).exit_code == 0
    entries = yaml.safe_load(exported.read_text())
    assert [(e["action"], e.get("other"), e.get("relation")) for e in entries] == [
        ("link", B, "corroborates"), ("unlink", B, None), ("link", "sanctions-biting", "contradicts"),
        ("dismiss", B, None), ("flag", None, None)]
    assert "other" not in entries[-1] and "relation" not in entries[1]  # only where they mean something

    fresh = cold_build(db_path, seeds, tmp_path)
    assert state(fresh) == state(db_path)
    again = tmp_path / "again.yml"
    assert cli("export-reviews", "--db", fresh, "--out", again).exit_code == 0
    assert again.read_bytes() == exported.read_bytes()


def test_rebuilds_keep_accepted_links(tmp_path, seeds, db_path):
    link(db_path, A, B, "--relation", "corroborates")
    # one document file edited: an incremental rebuild
    documents = copy.deepcopy(DOCUMENTS)
    documents["dailynk-report"]["title"] = "Hard times, revisited"
    replace_documents(seeds, documents)
    build(seeds, db_path)
    assert status(db_path, A, B) == ("corroborated", "corroborated")
    assert state(db_path) == state(cold_build(db_path, seeds, tmp_path))
    # sources.yml edited: every row is rewritten
    sources = copy.deepcopy(SOURCES)
    sources[0]["notes"] = "The regime's voice."
    write_seeds(seeds, sources=sources, documents=documents)
    build(seeds, db_path)
    assert status(db_path, A, B) == ("corroborated", "corroborated")
    assert len(rows(db_path, "SELECT 1 FROM links WHERE review_event_id IS NOT NULL")) == 1


def test_a_seed_link_of_the_pair_takes_over_and_the_reviewers_comes_back_without_it(tmp_path, seeds, db_path):
    link(db_path, A, B, "--relation", "corroborates")
    documents = copy.deepcopy(DOCUMENTS)
    documents["dailynk-report"]["links"] = [{"from": B, "to": A, "relation": "corroborates", "note": "seen"}]
    replace_documents(seeds, documents)
    build(seeds, db_path)
    assert [(r["document_id"], r["review_event_id"]) for r in
            rows(db_path, "SELECT * FROM links WHERE ? IN (from_claim_id, to_claim_id)", [A])] == [
        ("dailynk-report", None)]
    assert state(db_path) == state(cold_build(db_path, seeds, tmp_path))

    replace_documents(seeds, DOCUMENTS)
    build(seeds, db_path)
    assert [r["document_id"] for r in rows(db_path, "SELECT * FROM links WHERE ? IN (from_claim_id, to_claim_id)",
                                           [A])] == [None]
    assert status(db_path, A, B) == ("corroborated", "corroborated")


def test_a_link_to_a_claim_gone_from_the_seeds_waits_for_it(tmp_path, seeds, db_path):
    link(db_path, A, B, "--relation", "corroborates")
    documents = copy.deepcopy(DOCUMENTS)
    documents["dailynk-report"]["claims"] = [c for c in documents["dailynk-report"]["claims"] if c.get("id") != A]
    replace_documents(seeds, documents)
    report = build(seeds, db_path)
    assert rows(db_path, "SELECT 1 FROM links WHERE review_event_id IS NOT NULL") == []
    assert status(db_path, B) == ("circular",)
    assert len(rows(db_path, "SELECT * FROM orphaned_review_events")) == 1
    assert report.claims == 5

    replace_documents(seeds, DOCUMENTS)
    build(seeds, db_path)
    assert status(db_path, A, B) == ("corroborated", "corroborated")


def test_hand_written_pair_entries_are_read_by_the_build(tmp_path):
    reviews = [
        {"claim": A, "action": "link", "other": B, "relation": "corroborates", "actor": "analyst-2",
         "at": "2024-03-01T12:00:00Z"},
        {"claim": "hardship-provinces", "action": "dismiss", "other": A, "actor": "analyst-2",
         "at": "2024-03-01T12:05:00Z"},
    ]
    path = tmp_path / "t.db"
    build(write_seeds(tmp_path / "seeds", reviews=reviews), path)
    assert status(path, A, B) == ("corroborated", "corroborated")
    # read again: nothing is added twice
    build(write_seeds(tmp_path / "seeds", reviews=reviews), path)
    assert [e["action"] for e in events(path)] == ["link", "dismiss"]


def test_an_older_database_keeps_its_review_events_when_upgraded(tmp_path, seeds, db_path):
    assert cli("flag", A, "--db", db_path, "--note", "first").exit_code == 0
    assert cli("accept", B, "--db", db_path).exit_code == 0
    before = rows(db_path, "SELECT rowid, id, claim_id, actor, action, note, credibility, evidence, created_at "
                           "FROM review_events ORDER BY rowid")
    # review_events as the tracker made it before reviewers could link claims
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.executescript("""
        BEGIN;
        CREATE TABLE old_events AS SELECT rowid AS r, * FROM review_events;
        DROP TABLE review_events;
        CREATE TABLE review_events (
            id TEXT PRIMARY KEY, claim_id TEXT NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('flag', 'accept', 'reject', 'note')),
            note TEXT, credibility INTEGER, evidence TEXT, created_at TEXT NOT NULL);
        CREATE INDEX review_events_claim ON review_events(claim_id, created_at);
        INSERT INTO review_events (rowid, id, claim_id, actor, action, note, credibility, evidence, created_at)
        SELECT r, id, claim_id, actor, action, note, credibility, evidence, created_at FROM old_events;
        DROP TABLE old_events;
        PRAGMA application_id = 1;
        COMMIT;
    """)
    conn.close()
    result = cli("link", A, B, "--relation", "corroborates", "--db", db_path)
    assert result.exit_code == 1 and "run 'tracker build'" in " ".join(result.output.split())

    build(seeds, db_path)

    after = rows(db_path, "SELECT rowid, id, claim_id, actor, action, note, credibility, evidence, created_at "
                          "FROM review_events ORDER BY rowid")
    assert after == before
    link(db_path, A, B, "--relation", "corroborates")
    assert status(db_path, A, B) == ("corroborated", "corroborated")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        sqlite3.connect(db_path).execute("DELETE FROM review_events")


# ============================================================ publishing


def test_the_public_file_carries_accepted_links_without_notes_or_suggestions(tmp_path, db_path):
    assert cli("suggest-links", "--db", db_path).exit_code == 0
    link(db_path, A, B, "--relation", "corroborates", "--note", "Asked the Seoul desk.")
    out = tmp_path / "public.db"
    publish(db_path, out)

    public = rows(out, "SELECT * FROM links WHERE document_id IS NULL")
    assert [(r["from_claim_id"], r["to_claim_id"], r["relation"], r["note"]) for r in public] == [
        (A, B, "corroborates", None)]
    event = rows(out, "SELECT id, action, other_claim_id, relation, note, actor FROM review_events")
    assert event == [{"id": public[0]["review_event_id"], "action": "link", "other_claim_id": B,
                      "relation": "corroborates", "note": None, "actor": None}]
    assert status(out, A, B) == ("corroborated", "corroborated")
    names = {r["name"] for r in rows(out, "SELECT name FROM sqlite_master")}
    assert not any(name.startswith("link_") for name in names)
    assert b"Seoul desk" not in out.read_bytes()


# ============================================================ in Datasette


REVIEWER = {"id": "alice", "reviewer": True}
READER = {"id": "rita", "reader": True}


@pytest.fixture
def ds(db_path):
    datasette = make_datasette(db_path)
    yield datasette
    datasette.databases["tracker"].close()


def suggest_pair(path, claim_id, other, relation="corroborates"):
    """A suggestion as `tracker suggest-links` stores it (a pair once, smaller id first)."""
    a, b = sorted((claim_id, other))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO link_suggestions VALUES (?, ?, ?, 0.9, 'shared words: congress')", [a, b, relation])
    conn.close()


async def claim_page(ds, claim_id, actor=None):
    cookies = {"ds_actor": ds.sign({"a": actor}, "actor")} if actor else {}
    page = await ds.client.get(f"/tracker/claims/{claim_id}", cookies=cookies)
    assert page.status_code == 200, page.text[:300]
    if "ds_csrftoken" in page.cookies:
        cookies["ds_csrftoken"] = page.cookies["ds_csrftoken"]
    return page, cookies


def form_of(page, css_class):
    """The fields of the first form of that class on the page (hidden inputs, selected option)."""
    form = re.search(rf'<form[^>]*class="{css_class}"[^>]*>(.*?)</form>', page.text, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    selected = re.search(r'<select[^>]*name="([^"]+)".*?<option value="([^"]+)" selected', form, re.S)
    if selected:
        fields[selected.group(1)] = selected.group(2)
    return fields


async def test_a_suggestion_accepted_through_the_claim_page_counts_at_once(ds, db_path):
    suggest_pair(db_path, A, B)
    page, cookies = await claim_page(ds, A, REVIEWER)
    assert "Suggested links" in page.text and 'class="suggestion-link"' in page.text
    fields = form_of(page, "suggestion-form")
    assert fields["other_claim_id"] == B and fields["relation"] == "corroborates"

    response = await ds.client.post("/-/review", data={**fields, "action": "link"}, cookies=cookies)

    assert response.status_code == 302 and response.headers["location"] == f"/tracker/claims/{A}"
    message = " ".join(m for m, _ in ds.unsign(response.cookies["ds_messages"], "messages"))
    assert message.startswith(f"Link recorded: {A} corroborates {B}.")
    assert f"{A} corroborated" in message and f"{B} corroborated" in message
    assert status(db_path, A, B) == ("corroborated", "corroborated")
    assert rows(db_path, "SELECT actor, action FROM review_events") == [{"actor": "alice", "action": "link"}]
    # the full trail lists it, dated by the day it was made
    trail = (await ds.client.get(f"/tracker/claim_trail.json?claim_id={A}&_shape=array", cookies=cookies)).json()
    made = rows(db_path, "SELECT substr(created_at, 1, 10) AS day FROM review_events")[0]["day"]
    assert [(r["entry"], r["relation"], r["other_claim_id"], r["published"]) for r in trail if r["other_claim_id"]] == [
        ("link by a reviewer", "corroborates", B, made)]
    # the page now lists the link as a reviewer's, with its unlink button, and no suggestion
    page, cookies = await claim_page(ds, A, REVIEWER)
    assert "by a reviewer" in page.text and 'class="link-unlink"' in page.text
    assert 'class="suggestion-form"' not in page.text
    fields = form_of(page, "unlink-form")
    response = await ds.client.post("/-/review", data={**fields, "action": "unlink"}, cookies=cookies)
    assert response.status_code == 302
    assert status(db_path, A, B) == ("uncorroborated", "circular")


async def test_a_suggestion_dismissed_through_the_claim_page_is_gone(ds, db_path):
    suggest_pair(db_path, A, B)
    page, cookies = await claim_page(ds, B, REVIEWER)
    fields = form_of(page, "suggestion-form")
    response = await ds.client.post("/-/review", data={**fields, "action": "dismiss"}, cookies=cookies)
    assert response.status_code == 302
    assert suggested_pairs(db_path) == set()
    assert rows(db_path, "SELECT action, claim_id, other_claim_id FROM review_events") == [
        {"action": "dismiss", "claim_id": B, "other_claim_id": A}]
    assert status(db_path, A, B) == ("uncorroborated", "circular")


async def test_a_refused_pair_decision_comes_back_as_a_sentence(ds, db_path):
    page, cookies = await claim_page(ds, SEED_PAIR[0], REVIEWER)
    token = cookies["ds_csrftoken"]
    response = await ds.client.post("/-/review", data={
        "csrftoken": token, "claim_id": SEED_PAIR[0], "other_claim_id": SEED_PAIR[1], "relation": "contradicts",
        "action": "link"}, cookies=cookies)
    assert response.status_code == 400
    assert "these claims are linked already" in response.text and "Back to the claim" in response.text
    response = await ds.client.post("/-/review", data={
        "csrftoken": token, "claim_id": A, "other_claim_id": B, "relation": "", "action": "link"}, cookies=cookies)
    assert response.status_code == 400 and "corroborates or contradicts" in response.text
    assert events(db_path) == []


async def test_readers_see_suggestions_but_no_forms_and_anonymous_visitors_are_refused(ds, db_path):
    suggest_pair(db_path, A, B)
    page, _ = await claim_page(ds, A, READER)
    assert "Suggested links" in page.text and 'class="suggestion-form"' not in page.text
    _, cookies = await claim_page(ds, A, REVIEWER)
    token = cookies["ds_csrftoken"]
    form = {"csrftoken": token, "claim_id": A, "other_claim_id": B, "relation": "corroborates", "action": "link"}
    reader = {"ds_actor": ds.sign({"a": READER}, "actor"), "ds_csrftoken": token}
    for visitor in ({"ds_csrftoken": token}, reader):
        assert (await ds.client.post("/-/review", data=form, cookies=visitor)).status_code == 403
        response = await ds.client.post("/tracker/link_claims", data={**form, "note": ""}, cookies=visitor)
        assert response.status_code == 403
    assert events(db_path) == [] and status(db_path, A, B) == ("uncorroborated", "circular")


@pytest.mark.parametrize("query, params, expected", [
    ("link_claims", {"claim_id": A, "other_claim_id": B, "relation": "corroborates"}, ("corroborated", "corroborated")),
    ("dismiss_suggestion", {"claim_id": A, "other_claim_id": B}, ("uncorroborated", "circular")),
])
async def test_canned_queries_for_api_clients(ds, db_path, query, params, expected):
    cookies = {"ds_actor": ds.sign({"a": REVIEWER}, "actor")}
    page = await ds.client.get(f"/tracker/{query}", cookies=cookies)
    assert page.status_code == 200
    cookies["ds_csrftoken"] = page.cookies["ds_csrftoken"]
    response = await ds.client.post(
        f"/tracker/{query}", json={"note": "", **params},
        headers={"x-csrftoken": cookies["ds_csrftoken"], "accept": "application/json"}, cookies=cookies)
    assert response.status_code == 200 and response.json()["ok"], response.text
    assert status(db_path, A, B) == expected
    assert rows(db_path, "SELECT actor FROM review_events") == [{"actor": "alice"}]
    # the same pair decision again is refused by the database, and writes nothing
    response = await ds.client.post(
        f"/tracker/{query}", json={"note": "", **params},
        headers={"x-csrftoken": cookies["ds_csrftoken"], "accept": "application/json"}, cookies=cookies)
    if query == "link_claims":
        assert not response.json()["ok"] and "linked already" in response.json()["message"]
        response = await ds.client.post(
            f"/tracker/{query}", json={"note": "", **params, "other_claim_id": "hardship-provinces",
                                       "relation": "supports"},
            headers={"x-csrftoken": cookies["ds_csrftoken"], "accept": "application/json"}, cookies=cookies)
        assert response.json()["message"] == (
            "a link says how the claims relate: relation corroborates or contradicts")
        assert len(events(db_path)) == 1
