"""`tracker draft`: proposals written into the document's file as `draft: true` entries."""

import hashlib
import pathlib
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT, SHARED_SEEDS, needs_shared, write_seeds
from tracker.cli import app

runner = CliRunner()

TEXT = ("Rice prices soar in Hyesan\n\n"
        "A Pyongyang-based source told Daily NK that rice prices rose sharply in the markets last week.\n\n"
        "“The authorities have closed the border crossings again,” the source said.\n\n"
        "According to KCNA, the harvest this year was the best in a decade.\n\n"
        "Kim Jong-un said the country would overcome all difficulties by its own efforts.\n")

SOURCES = [
    {"id": "daily-nk", "name": "Daily NK", "type": "news_outlet", "reliability": "C"},
    {"id": "dnk-pyongyang", "name": "Pyongyang-based source (Daily NK)", "type": "informant",
     "outlet": "daily-nk", "sensitivity": "protected"},
    {"id": "kcna", "name": "Korean Central News Agency", "type": "state_media", "aliases": ["KCNA"]},
    {"id": "kim", "name": "Kim Jong Un", "type": "state_media"},
]

ANALYST_FILE = """\
# The analyst's own notes: kept as they are.
id: dnk-rice
title: Rice prices soar in Hyesan
publisher: daily-nk
published: 2024-03
text: rice.txt
claims:
  # checked against the harvest report
  - id: harvest-best
    text: North Korea's 2023 harvest was the best in ten years.
    source: kcna
    quote: "the harvest this year was the best in a decade"   # KCNA's words
links: []
"""


@pytest.fixture
def tree(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", sources=SOURCES, documents={})
    (seeds / "documents" / "dnk-rice.yml").write_text(ANALYST_FILE, encoding="utf-8")
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "rice.txt").write_text(TEXT, encoding="utf-8")
    return seeds, texts


def snapshot(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def drafted(seeds, doc="dnk-rice"):
    data = yaml.safe_load((seeds / "documents" / f"{doc}.yml").read_text(encoding="utf-8"))
    return [c for c in data["claims"] if c.get("draft")]


def run_draft(seeds, texts, doc="dnk-rice"):
    return runner.invoke(app, ["draft", doc, str(seeds), "--texts", str(texts)])


def test_drafts_are_written_after_the_analysts_entries(tree):
    seeds, texts = tree
    result = run_draft(seeds, texts)
    assert result.exit_code == 0, result.output
    after = (seeds / "documents" / "dnk-rice.yml").read_text(encoding="utf-8")
    # the analyst's text, comments included, is all still there, in order, unchanged
    head, _, tail = ANALYST_FILE.partition("links: []\n")
    assert after.startswith(head) and after.endswith("links: []\n")
    entries = drafted(seeds)
    assert entries and all(e["draft"] is True for e in entries)
    assert any("rice prices" in e["quote"] for e in entries if e["source"] == "dnk-pyongyang")
    # "the source said": the informant named before
    assert any("border crossings" in e["quote"] for e in entries if e["source"] == "dnk-pyongyang")
    for entry in entries:
        assert entry["quote"] in TEXT  # verbatim, so it anchors
        assert "harvest this year" not in entry["quote"]  # the analyst's claim is not drafted again
        if "id" in entry:
            assert entry["text"] and len(entry["text"]) <= 300
    assert any(e["source"] == "kim" for e in entries)  # "Kim Jong-un" is Kim Jong Un
    check = runner.invoke(app, ["check", str(seeds), "--texts", str(texts)])
    assert check.exit_code == 0, check.output


def test_drafting_twice_adds_nothing(tree):
    seeds, texts = tree
    assert run_draft(seeds, texts).exit_code == 0
    before = snapshot(seeds)
    result = run_draft(seeds, texts)
    assert result.exit_code == 0, result.output
    assert "No new drafts" in result.stderr
    assert snapshot(seeds) == before


def test_a_repeated_quote_becomes_a_ref(tree):
    seeds, texts = tree
    other = {"id": "kcna-harvest", "title": "Harvest", "publisher": "kcna", "published": "2024",
             "claims": [{"id": "kim-overcome", "text": "Kim said the country would overcome all difficulties.",
                         "source": "kim", "quote": "the country would overcome all difficulties by its own efforts"}]}
    (seeds / "documents" / "kcna-harvest.yml").write_text(yaml.safe_dump(other, sort_keys=False))
    assert run_draft(seeds, texts).exit_code == 0
    refs = [e for e in drafted(seeds) if e.get("ref") == "kim-overcome"]
    assert refs and refs[0]["source"] == "kim" and "id" not in refs[0]


def test_an_unknown_origin_becomes_a_proposed_source(tree):
    seeds, texts = tree
    (texts / "rice.txt").write_text(TEXT + "\nGo Myong-hyun of the Asan Institute said the plenum was a turning point "
                                    "for the economy.\n", encoding="utf-8")
    assert run_draft(seeds, texts).exit_code == 0
    sources = yaml.safe_load((seeds / "sources.yml").read_text())
    proposed = [s for s in sources if "PROPOSED" in (s.get("notes") or "")]
    assert proposed and proposed[0]["type"] == "academic"
    assert any(e["source"] == proposed[0]["id"] for e in drafted(seeds))
    assert runner.invoke(app, ["check", str(seeds), "--texts", str(texts)]).exit_code == 0


def _no_text_field(seeds, texts):
    path = seeds / "documents" / "dnk-rice.yml"
    path.write_text(path.read_text().replace("text: rice.txt\n", ""))


def _not_utf8(seeds, texts):
    (texts / "rice.txt").write_bytes("caf\xe9".encode("latin-1"))


def _empty(seeds, texts):
    (texts / "rice.txt").write_text(" \n\n ")


def _missing_text(seeds, texts):
    (texts / "rice.txt").unlink()


@pytest.mark.parametrize("spoil, args, expected", [
    (_no_text_field, None, "names no text file"),
    (_not_utf8, None, "not UTF-8"),
    (_empty, None, "is empty"),
    (_missing_text, None, "not found"),
    (None, ["draft", "no-such-document"], "unknown document 'no-such-document'"),
    (None, ["draft", "dnk-rice"], "give --texts DIR"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(tree, spoil, args, expected):
    seeds, texts = tree
    if spoil:
        spoil(seeds, texts)
    before = snapshot(seeds.parent)
    if args is None:
        result = run_draft(seeds, texts)
    else:
        result = runner.invoke(app, args + [str(seeds)] + (["--texts", str(texts)] if "no-such" in args[1] else []))
    assert result.exit_code == 1
    assert expected in result.stderr and "nothing was written" in result.stderr
    assert snapshot(seeds.parent) == before


@needs_shared
def test_a_seed_document_is_recovered_from_its_text(tmp_path):
    seeds = pathlib.Path(shutil.copytree(ROOT / "seeds", tmp_path / "seeds"))
    path = seeds / "documents" / "dailynk-2020-self-reliance.yml"
    original = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(dict(original, claims=[], links=[]), sort_keys=False, allow_unicode=True))
    # claims of this document that others ref are set aside with it
    result = runner.invoke(app, ["draft", original["id"], str(seeds), "--texts", str(SHARED_SEEDS)])
    assert result.exit_code == 0, result.output
    entries = drafted(seeds, "dailynk-2020-self-reliance")
    text = (SHARED_SEEDS / original["text"]).read_text(encoding="utf-8")
    spans = [(text.find(e["quote"]), text.find(e["quote"]) + len(e["quote"])) for e in entries]
    gold = [(text.find(c["quote"]), text.find(c["quote"]) + len(c["quote"]), c["source"]) for c in original["claims"]]
    informant = [g for g in gold if g[2].startswith("dailynk-source")]
    hit = [g for g in informant if any(a < g[1] and g[0] < b for a, b in spans)]
    assert len(hit) >= len(informant) // 2
    assert {"dailynk-source-pyongyang", "dailynk-source-ryanggang"} <= {e["source"] for e in entries}


def _statuses(db_path):
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        return (sorted(conn.execute("SELECT id, status, support_groups, queue_reason FROM claims")),
                sorted(conn.execute("SELECT document_id, position, claim_id, source_id FROM appearances")),
                sorted(conn.execute("SELECT * FROM source_records")))
    finally:
        conn.close()


def test_drafts_count_for_nothing_and_are_not_published(tree, tmp_path):
    import sqlite3

    from tracker.build import build
    from tracker.publish import publish

    seeds, texts = tree
    before_db = tmp_path / "before.db"
    build(seeds, before_db, texts)
    assert run_draft(seeds, texts).exit_code == 0
    entries = drafted(seeds)
    check = runner.invoke(app, ["check", str(seeds), "--texts", str(texts)])
    assert check.exit_code == 0 and f"{len(entries)} draft entries remain" in check.stderr.replace("\n", " ")
    after_db = tmp_path / "after.db"
    build(seeds, after_db, texts)
    assert _statuses(after_db) == _statuses(before_db)
    conn = sqlite3.connect(after_db)
    rows = conn.execute("SELECT claim_id, source_id, quote, verified FROM drafts").fetchall()
    conn.close()
    assert len(rows) == len(entries) and all(r[3] == 1 for r in rows)  # quotes anchored in the text
    public = tmp_path / "public.db"
    publish(after_db, public)
    conn = sqlite3.connect(public)
    assert conn.execute("SELECT count(*) FROM draft_entries").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0
    assert not conn.execute("SELECT 1 FROM claims WHERE id LIKE 'draft-%'").fetchall()
    conn.close()


def test_a_confirmed_ref_to_a_draft_only_claim_is_an_error(tree):
    seeds, texts = tree
    assert run_draft(seeds, texts).exit_code == 0
    new = next(e for e in drafted(seeds) if "id" in e)
    other = {"id": "other-doc", "title": "Another", "publisher": "daily-nk", "published": "2024",
             "claims": [{"ref": new["id"], "source": "daily-nk"}]}
    (seeds / "documents" / "other-doc.yml").write_text(yaml.safe_dump(other, sort_keys=False))
    result = runner.invoke(app, ["check", str(seeds), "--texts", str(texts)])
    assert result.exit_code == 1
    assert f"claim '{new['id']}' exists only as a draft" in result.stderr.replace("\n", " ")


async def test_the_drafts_view_lists_them_in_datasette(tree, tmp_path):
    from tracker.build import build
    from tracker.serve import make_datasette

    seeds, texts = tree
    assert run_draft(seeds, texts).exit_code == 0
    db = tmp_path / "tracker.db"
    build(seeds, db, texts)
    ds = make_datasette(db)
    assert (await ds.client.get("/tracker/drafts.json?_shape=array")).status_code == 403  # for the team only
    team = {"ds_actor": ds.sign({"a": {"id": "carol", "reader": True}}, "actor")}
    response = await ds.client.get("/tracker/drafts.json?_shape=array", cookies=team)
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == len(drafted(seeds))
    assert {r["entry"] for r in rows} <= {"new claim", "ref"} and all(r["document_title"] for r in rows)
