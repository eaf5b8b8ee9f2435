"""Every bad-input rule of SPEC section 3: a clear message naming file, entry and field,
exit code 1, and the existing database unchanged byte for byte."""

import copy
import hashlib

import pytest
from typer.testing import CliRunner

from conftest import DOCUMENTS, SOURCES, write_seeds
from tracker.cli import app

runner = CliRunner()


def edit(sources=None, documents=None, reviews=None):
    """A mutation of the fixture world, as a function of deep copies."""
    def apply(s, d, r):
        if sources:
            sources(s)
        if documents:
            documents(d)
        if reviews:
            reviews(r)
    return apply


def claim(d, document_id, index):
    return d[document_id]["claims"][index]


CASES = {
    "unknown source type": (
        edit(sources=lambda s: s[0].update(type="drone_footage")),
        "sources.yml", ["sources[0] (id kcna)", "type", "'drone_footage' is not one of", "state_media"]),
    "duplicate source id": (
        edit(sources=lambda s: s.append(dict(s[0]))),
        "sources.yml", ["id", "duplicate source id 'kcna'"]),
    "unknown outlet": (
        edit(sources=lambda s: s[4].update(outlet="nknews")),
        "sources.yml", ["dnk-pyongyang", "outlet", "unknown source 'nknews'"]),
    "informant without outlet": (
        edit(sources=lambda s: s[5].pop("outlet")),
        "sources.yml", ["dnk-hyesan", "needs 'outlet'"]),
    "bad reliability": (
        edit(sources=lambda s: s[1].update(reliability="G")),
        "sources.yml", ["reliability", "'G' is not one of"]),
    "unknown field": (
        edit(sources=lambda s: s[1].update(reliablity="B")),
        "sources.yml", ["reliablity", "unknown field"]),
    "numeric id": (
        edit(sources=lambda s: s[2].update(id=123)),
        "sources.yml", ["sources[2]", "id", "123"]),
    "duplicate document id": (
        edit(documents=lambda d: d.update(copy=dict(d["wire-story"], claims=[], links=[]))),
        "copy", ["id", "duplicate document id 'wire-story'"]),
    "claim defined twice": (
        edit(documents=lambda d: d["wire-story"]["claims"].append(
            {"id": "villa-rumour", "text": "Again.", "source": "wire"})),
        "wire-story.yml", ["claims[5] (id villa-rumour)", "defined twice", "dailynk-report.yml"]),
    "unknown ref": (
        edit(documents=lambda d: claim(d, "wire-story", 0).update(ref="kim-plan-faild")),
        "wire-story.yml", ["claims[0] (ref kim-plan-faild)", "ref", "unknown claim 'kim-plan-faild'"]),
    "id and ref together": (
        edit(documents=lambda d: claim(d, "wire-story", 0).update(id="new-one", text="x")),
        "wire-story.yml", ["claims[0]", "either 'id'", "not both"]),
    "unknown origin": (
        edit(documents=lambda d: claim(d, "kcna-congress", 0).update(source="kcan")),
        "kcna-congress.yml", ["claims[0] (id kim-plan-failed)", "source", "unknown source 'kcan'"]),
    "unknown relay": (
        edit(documents=lambda d: claim(d, "wire-story", 0).update(via=["kcna", "yonhap"])),
        "wire-story.yml", ["via[1]", "unknown source 'yonhap'"]),
    "unknown publisher": (
        edit(documents=lambda d: d["wire-story"].update(publisher="reuters")),
        "wire-story.yml", ["document wire-story", "publisher", "unknown source 'reuters'"]),
    "unknown kind": (
        edit(documents=lambda d: claim(d, "dailynk-report", 1).update(kind="gossip")),
        "dailynk-report.yml", ["claims[1] (id villa-rumour)", "kind", "'gossip' is not one of"]),
    "bad stance": (
        edit(documents=lambda d: claim(d, "wire-story", 3).update(stance="disputes")),
        "wire-story.yml", ["claims[3]", "stance", "'disputes'"]),
    "impossible date": (
        edit(documents=lambda d: d["kcna-congress"].update(published="2021-02-30")),
        "kcna-congress.yml", ["published", "not a real calendar date"]),
    "impossible month": (
        edit(documents=lambda d: claim(d, "dailynk-report", 0).update(occurred="2019-13")),
        "dailynk-report.yml", ["occurred", "no month 13"]),
    "claim text too long": (
        edit(documents=lambda d: claim(d, "dailynk-report", 0).update(text="x" * 301)),
        "dailynk-report.yml", ["claims[0] (id hardship-provinces)", "text", "300"]),
    "link to itself": (
        edit(documents=lambda d: d["wire-story"]["links"].append(
            {"from": "rations-cut", "to": "rations-cut", "relation": "corroborates"})),
        "wire-story.yml", ["links[1]", "to itself"]),
    "link to unknown claim": (
        edit(documents=lambda d: d["wire-story"]["links"].append(
            {"from": "rations-cut", "to": "no-such-claim", "relation": "contradicts"})),
        "wire-story.yml", ["links[1] (rations-cut -> no-such-claim)", "to", "unknown claim 'no-such-claim'"]),
    "duplicate link reversed in another file": (
        edit(documents=lambda d: d["dailynk-report"].setdefault("links", []).append(
            {"from": "market-crackdown", "to": "rations-cut", "relation": "contradicts"})),
        "dailynk-report.yml", ["links[0]", "duplicate link", "symmetric"]),
    "bad relation": (
        edit(documents=lambda d: d["wire-story"]["links"][0].update(relation="supports")),
        "wire-story.yml", ["links[0]", "relation", "'supports' is not one of"]),
    "review of unknown claim": (
        edit(reviews=lambda r: r.append({"claim": "ghost", "action": "flag", "actor": "a",
                                         "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim ghost)", "claim", "unknown claim 'ghost'"]),
    "review with unknown action": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "approve", "actor": "a",
                                         "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim villa-rumour)", "action", "'approve' is not one of"]),
    "review with bad time": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "flag", "actor": "a",
                                         "at": "2024-03-01 12:00"})),
        "reviews.yml", ["at", "not a UTC time"]),
    "review credibility out of range": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "note", "actor": "a",
                                         "credibility": 7, "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["credibility", "6"]),
}


def bytes_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def existing_db(tmp_path):
    path = tmp_path / "existing.db"
    result = runner.invoke(app, ["build", str(write_seeds(tmp_path / "good")), "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_reported_and_changes_nothing(case, tmp_path, existing_db):
    mutate, filename, fragments = CASES[case]
    sources, documents, reviews = copy.deepcopy(SOURCES), copy.deepcopy(DOCUMENTS), []
    mutate(sources, documents, reviews)
    seeds = write_seeds(tmp_path / "bad", sources, documents, reviews or None)
    before = bytes_of(existing_db)

    result = runner.invoke(app, ["build", str(seeds), "--db", str(existing_db)])

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if filename in line]
    assert lines, result.output
    message = " ".join(" ".join(lines).split())
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert bytes_of(existing_db) == before
    assert "Traceback" not in result.output


def test_error_names_the_yaml_line(tmp_path):
    documents = copy.deepcopy(DOCUMENTS)
    claim(documents, "wire-story", 2).update(kind="gossip")
    seeds = write_seeds(tmp_path / "bad", documents=documents)
    text = (seeds / "documents" / "wire-story.yml").read_text().splitlines()
    line = next(i for i, l in enumerate(text, 1) if "gossip" in l)

    result = runner.invoke(app, ["check", str(seeds)])

    assert result.exit_code == 1
    assert f"wire-story.yml:{line}:" in result.output


def test_yaml_syntax_error_has_its_line(tmp_path):
    seeds = write_seeds(tmp_path / "bad")
    (seeds / "documents" / "broken.yml").write_text("id: broken\ntitle: [unclosed\npublisher: kcna\n")
    result = runner.invoke(app, ["check", str(seeds)])
    assert result.exit_code == 1
    assert "broken.yml:" in result.output and "not valid YAML" in result.output


def test_all_problems_are_listed_together(tmp_path):
    documents = copy.deepcopy(DOCUMENTS)
    claim(documents, "wire-story", 0).update(ref="nope-1")
    claim(documents, "kcna-congress", 0).update(source="nope-2")
    sources = copy.deepcopy(SOURCES)
    sources[0]["type"] = "nope-3"
    seeds = write_seeds(tmp_path / "bad", sources, documents)
    result = runner.invoke(app, ["check", str(seeds)])
    assert result.exit_code == 1
    for fragment in ("nope-1", "nope-2", "nope-3"):
        assert fragment in result.output


def test_missing_sources_file(tmp_path):
    seeds = write_seeds(tmp_path / "bad")
    (seeds / "sources.yml").unlink()
    result = runner.invoke(app, ["check", str(seeds)])
    assert result.exit_code == 1
    assert "sources.yml" in result.output and "missing" in result.output


# Quote anchoring against texts (SPEC section 3, issue 2 item 3).

TEXT = "Reporters heard that the market was raided twice. Later the market was raided again; things are worse than ever."


def texts_world(tmp_path, quote="the market was raided", sha=None, text_name="report.txt"):
    texts = tmp_path / "texts"
    texts.mkdir(exist_ok=True)
    (texts / "report.txt").write_text(TEXT, encoding="utf-8")
    documents = copy.deepcopy(DOCUMENTS)
    documents["dailynk-report"]["text"] = text_name
    documents["dailynk-report"]["sha256"] = sha or hashlib.sha256(TEXT.encode()).hexdigest()
    documents["dailynk-report"]["claims"] = [
        {"id": "hardship-provinces", "text": "Living conditions worsened.", "source": "dnk-pyongyang",
         "quote": "things are worse than ever"},
        {"id": "market-crackdown", "text": "Markets were raided.", "source": "dnk-hyesan", "quote": quote},
        {"id": "villa-rumour", "text": "A villa.", "source": "dnk-hyesan"},
    ]
    return write_seeds(tmp_path / "seeds", documents=documents), texts


def test_quotes_are_anchored_with_offsets(tmp_path):
    import sqlite_utils

    seeds, texts = texts_world(tmp_path)
    db_path = tmp_path / "t.db"
    result = runner.invoke(app, ["build", str(seeds), "--db", str(db_path), "--texts", str(texts)])
    assert result.exit_code == 0, result.output
    assert "occurs 2 times" in result.output and "first occurrence" in result.output
    rows = {r["claim_id"]: r for r in sqlite_utils.Database(db_path).query(
        "SELECT * FROM appearances WHERE document_id = 'dailynk-report'")}
    market = rows["market-crackdown"]
    assert (market["quote_start"], market["quote_end"], market["verified"]) == (
        TEXT.index("the market was raided"), TEXT.index("the market was raided") + 21, 1)
    assert TEXT[rows["hardship-provinces"]["quote_start"]:rows["hardship-provinces"]["quote_end"]] == \
        "things are worse than ever"
    # an appearance without a quote, and documents without texts, stay unverified
    assert rows["villa-rumour"]["verified"] == 0 and rows["villa-rumour"]["quote_start"] is None
    other = list(sqlite_utils.Database(db_path).query(
        "SELECT verified, quote_start FROM appearances WHERE document_id != 'dailynk-report'"))
    assert other and all(r["verified"] == 0 and r["quote_start"] is None for r in other)


def test_without_texts_nothing_is_verified(tmp_path):
    import sqlite_utils

    seeds, _ = texts_world(tmp_path)
    db_path = tmp_path / "t.db"
    assert runner.invoke(app, ["build", str(seeds), "--db", str(db_path)]).exit_code == 0
    assert list(sqlite_utils.Database(db_path).query(
        "SELECT count(*) AS n FROM appearances WHERE verified = 1 OR quote_start IS NOT NULL"))[0]["n"] == 0


@pytest.mark.parametrize("kwargs, fragments", [
    ({"quote": "the market was raided thrice"},
     ["dailynk-report.yml", "claims[1] (id market-crackdown)", "quote", "not found verbatim",
      "closest passage", "the market was raided t"]),
    ({"sha": "0" * 64}, ["dailynk-report.yml", "sha256", "not the recorded value"]),
    ({"text_name": "missing.txt"}, ["dailynk-report.yml", "text", "'missing.txt' not found"]),
])
def test_text_problems(tmp_path, kwargs, fragments):
    seeds, texts = texts_world(tmp_path, **kwargs)
    result = runner.invoke(app, ["check", str(seeds), "--texts", str(texts)])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    for fragment in fragments:
        assert fragment in message, message


def test_a_claim_text_that_repeats_a_protected_quote_is_warned_about(tmp_path):
    documents = copy.deepcopy(DOCUMENTS)
    claim(documents, "dailynk-report", 0).update(
        text="Informants say things are worse than ever in the provinces.", quote="things are worse than ever")
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    result = runner.invoke(app, ["build", str(seeds), "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 0
    message = " ".join(result.output.split())
    assert "warning:" in message and "claims[0] (id hardship-provinces): text: repeats the quote of protected source 'dnk-pyongyang'" in message
