"""Suggested links (`tracker suggest-links`, SPEC sections 7 and 8)."""

import copy
import sqlite3

import pytest
from typer.testing import CliRunner

from conftest import DOCUMENTS, write_seeds
from tracker.build import build
from tracker.cli import app
from tracker.links.suggest import names
from tracker.publish import publish

runner = CliRunner()


def suggestions(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT claim_id, other_claim_id, relation, score, reason FROM link_suggestions").fetchall()
    finally:
        conn.close()


def suggest(path, *args):
    result = runner.invoke(app, ["suggest-links", "--db", str(path), *args])
    assert result.exit_code == 0, result.output
    return suggestions(path)


def test_suggestions_never_self_linked_or_repeated(db_path):
    rows = suggest(db_path)
    assert rows
    pairs = [(a, b) for a, b, *_ in rows]
    assert all(a < b for a, b in pairs)               # one row per unordered pair
    assert len(set(pairs)) == len(pairs)
    assert ("market-crackdown", "rations-cut") not in pairs    # already linked in the seeds
    assert all(relation in ("corroborates", "contradicts") for _, _, relation, _, _ in rows)
    assert all(reason for *_, reason in rows)


def test_claim_option_and_limit(db_path):
    rows = suggest(db_path, "--claim", "villa-rumour", "--limit", "2")
    assert 1 <= len(rows) <= 2
    assert all("villa-rumour" in (a, b) for a, b, *_ in rows)


@pytest.mark.parametrize("args, message", [
    (["--claim", "no-such-claim"], "no claim with id no-such-claim"),
    (["--limit", "0"], "0 is not in the range 1<=x<=100"),
])
def test_cli_errors(db_path, args, message):
    result = runner.invoke(app, ["suggest-links", "--db", str(db_path), *args])
    assert result.exit_code in (1, 2)
    assert message in " ".join(result.output.replace("│", " ").split())


def test_missing_database_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["suggest-links", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "run 'tracker build' first" in " ".join(result.output.split())


def test_build_recomputes_suggestions_of_touched_claims(tmp_path, seeds):
    path = tmp_path / "tracker.db"
    build(seeds, path)
    suggest(path)
    documents = copy.deepcopy(DOCUMENTS)
    documents["kcna-congress"]["claims"].append(
        {"id": "hyesan-market-raid", "text": "Police raided the markets of Hyesan and cracked down on traders.",
         "kind": "event", "source": "kcna", "quote": "raided"})
    write_seeds(seeds, documents=documents)
    build(seeds, path)
    pairs = {(a, b) for a, b, *_ in suggestions(path)}
    assert ("hyesan-market-raid", "market-crackdown") in pairs
    # A claim removed from the seeds takes its suggestions with it.
    write_seeds(seeds)
    (seeds / "documents" / "kcna-congress.yml").write_text((seeds / "documents" / "kcna-congress.yml").read_text())
    build(seeds, path)
    assert not any("hyesan-market-raid" in (a, b) for a, b, *_ in suggestions(path))


def test_suggestions_absent_from_the_public_file(tmp_path, db_path):
    suggest(db_path)
    out = tmp_path / "public.db"
    publish(db_path, out)
    conn = sqlite3.connect(out)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert not any(name.startswith(("link_suggestions", "link_search")) for name in tables)


@pytest.mark.parametrize("a, b", [
    ("Kim Jong Un visited the factory", "KIM JONG-UN inspected it"),
    ("Ryanggang Province traders", "traders in Yanggang"),
    ("P\u2019y\u014fngyang residents", "Pyongyang residents"),
])
def test_names_meet_across_romanisations(a, b):
    assert names(a) & names(b)


async def test_claim_page_lists_suggestions_to_team_members_only(db_path):
    from tracker.serve import make_datasette

    suggest(db_path)
    other = next(b if a == "villa-rumour" else a for a, b, *_ in suggestions(db_path) if "villa-rumour" in (a, b))
    ds = make_datasette(db_path)
    for actor in ({"id": "alice", "reviewer": True}, {"id": "rita", "reader": True}):
        cookies = {"ds_actor": ds.sign({"a": actor}, "actor")}
        html = (await ds.client.get("/tracker/claims/villa-rumour", cookies=cookies)).text
        assert "Suggested links" in html and f"/tracker/claims/{other}" in html
    anonymous = await ds.client.get("/tracker/claims/villa-rumour")
    assert "Suggested links" not in anonymous.text
    assert "link_suggestions" not in anonymous.text
    for table in ("link_suggestions", "link_search"):
        assert (await ds.client.get(f"/tracker/{table}")).status_code == 403
        assert (await ds.client.get(f"/tracker/{table}", cookies=cookies)).status_code == 200
