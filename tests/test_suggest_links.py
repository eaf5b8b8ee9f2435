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


# Claims whose words repeat one another (ties in bm25) and whose names hold letters with
# no plain form ("ø", "ł") or an underscore: FTS5 tokenizes those bodies itself.
MORE_CLAIMS = [
    {"id": "hyesan-market-raid", "text": "Police raided the markets of Hyesan and cracked down on traders.",
     "kind": "event", "source": "kcna", "quote": "raided", "tags": ["markets"]},
    {"id": "hyesan-market-raid-again", "text": "Police raided the markets of Hyesan and cracked down on traders.",
     "kind": "event", "source": "kcna", "quote": "raided again", "tags": ["markets"]},
    {"id": "hyesan-traders-fined", "text": "Traders in Hyesan markets were fined by the police.",
     "kind": "event", "source": "kcna", "quote": "fined", "occurred": "2019-12"},
    {"id": "odd-names", "text": "Mr. Karlsøn_Ri and Łukasz Brønd met traders of Hyesan at the market.",
     "kind": "event", "source": "kcna", "quote": "met"},
    {"id": "villa-denied", "text": "Officials denied that Kim is building a villa at Mt. Myohyang.",
     "kind": "statement", "source": "kcna", "quote": "no villa"},
]


def built_with_more_claims(seeds, path):
    """The seeds with MORE_CLAIMS, built and searched once (a first `suggest-links`);
    the documents written, for a test to change."""
    documents = copy.deepcopy(DOCUMENTS)
    documents["kcna-congress"]["claims"].extend(MORE_CLAIMS)
    write_seeds(seeds, documents=documents)
    build(seeds, path)
    suggest(path)
    return documents


@pytest.fixture
def search_db(tmp_path, seeds):
    """A database with its search table written."""
    path = tmp_path / "search.db"
    built_with_more_claims(seeds, path)
    return path


def _queries(conn):
    from tracker.links import suggest as module

    df = dict(conn.execute("SELECT term, claims FROM link_terms"))
    claims = conn.execute("SELECT count(*) FROM claims").fetchone()[0]
    common = max(module.COMMON_FLOOR, module.COMMON_SHARE * claims)
    return {claim_id: module._query(module.query_terms(body), df, common)
            for claim_id, body in conn.execute("SELECT claim_id, body FROM link_search")}


@pytest.mark.parametrize("depth", [2, 3, 30])
def test_set_based_retrieval_is_fts5s_bm25(search_db, monkeypatch, depth):
    """Corpus (the full run's retrieval) finds what FTS5 finds, with FTS5's own bm25:
    the same candidates in the same order, equal scores going to the smaller claim id."""
    from tracker.links import suggest as module

    monkeypatch.setattr(module, "DEPTH", depth)
    conn = sqlite3.connect(search_db)
    bodies = conn.execute("SELECT claim_id, body FROM link_search").fetchall()
    assert any(not module.PLAIN_BODY.fullmatch(body) for _, body in bodies)  # FTS5 tokenizes some
    queries = _queries(conn)
    corpus = module.Corpus(conn, bodies).candidates(queries)
    by_queries = module.fts_candidates(conn, queries)
    assert corpus.keys() == by_queries.keys() and len(corpus) > 5
    ties = 0
    for claim_id, terms in queries.items():
        # FTS5's bm25 for every match, straight from the search table.
        matches = conn.execute(
            "SELECT claim_id, -bm25(link_search) FROM link_search WHERE link_search MATCH ? AND claim_id != ?",
            [" OR ".join(f'"{t}"' for t in terms), claim_id]).fetchall()
        expected = sorted(matches, key=lambda m: (-m[1], m[0]))[:depth]
        ties += len(matches) - len({score for _, score in matches})
        for found in (corpus.get(claim_id, []), by_queries.get(claim_id, [])):
            assert [other for other, _ in found] == [other for other, _ in expected], claim_id
            assert [score for _, score in found] == pytest.approx([score for _, score in expected], rel=1e-12)
    assert ties  # equal scores do occur, and are broken alike
    conn.close()


def test_both_retrievals_give_the_same_suggestions(search_db, monkeypatch):
    """A refresh of many claims (set-based) and of a few (FTS5 queries) write the same rows."""
    from tracker.links import suggest as module

    conn = sqlite3.connect(search_db, isolation_level=None)
    ids = [row[0] for row in conn.execute("SELECT id FROM claims ORDER BY id")]
    written = {}
    for name, threshold in (("set-based", 0), ("fts5", len(ids))):
        monkeypatch.setattr(module, "SET_BASED_FROM", threshold)
        module.refresh(conn, ids[::2])
        written[name] = conn.execute("SELECT * FROM link_suggestions ORDER BY claim_id, other_claim_id").fetchall()
    assert written["set-based"] == written["fts5"] and written["fts5"]
    conn.close()


def test_a_full_run_again_keeps_unchanged_search_rows_and_finds_the_same(tmp_path, seeds):
    """A second full run rewrites only the search rows of changed or removed claims, and
    writes what a first full run on a fresh database writes."""
    path = tmp_path / "tracker.db"
    documents = built_with_more_claims(seeds, path)
    conn = sqlite3.connect(path)
    before = dict(conn.execute("SELECT claim_id, search_rowid FROM link_indexed"))
    conn.close()
    documents["kcna-congress"]["claims"] = [c for c in documents["kcna-congress"]["claims"] if c["id"] != "odd-names"]
    documents["kcna-congress"]["claims"][1]["text"] = "Police raided the Hyesan markets again and fined traders."
    write_seeds(seeds, documents=documents)
    (seeds / "documents" / "kcna-congress.yml").write_text((seeds / "documents" / "kcna-congress.yml").read_text())
    build(seeds, path)
    again = suggest(path)
    conn = sqlite3.connect(path)
    after = dict(conn.execute("SELECT claim_id, search_rowid FROM link_indexed"))
    rows = conn.execute("SELECT count(*) FROM link_search").fetchone()[0]
    conn.close()
    assert "odd-names" not in after and rows == len(after)
    assert after["hyesan-market-raid"] != before["hyesan-market-raid"]  # its text changed
    assert after["villa-rumour"] == before["villa-rumour"]             # kept
    fresh = tmp_path / "fresh.db"
    build(seeds, fresh)
    assert suggest(fresh) == again
