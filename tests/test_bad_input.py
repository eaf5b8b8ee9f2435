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
    # pair decisions (SPEC section 6): link, unlink and dismiss name the other claim
    "link without a relation": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "link", "other": "kim-plan-failed",
                                         "actor": "a", "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim villa-rumour)", "add relation: corroborates or contradicts"]),
    "link with a bad relation": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "link", "other": "kim-plan-failed",
                                         "relation": "supports", "actor": "a", "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim villa-rumour)", "relation", "'supports' is not one of"]),
    "dismiss without the other claim": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "dismiss", "actor": "a",
                                         "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim villa-rumour)", "a dismiss names the other claim"]),
    "flag naming another claim": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "flag", "other": "kim-plan-failed",
                                         "actor": "a", "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim villa-rumour)", "a flag is about one claim: remove other:"]),
    "link with a credibility": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "link", "other": "kim-plan-failed",
                                         "relation": "corroborates", "credibility": 2, "actor": "a",
                                         "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim villa-rumour)", "a link rates neither claim: remove credibility:"]),
    "link of a claim with itself": (
        edit(reviews=lambda r: r.append({"claim": "villa-rumour", "action": "link", "other": "villa-rumour",
                                         "relation": "corroborates", "actor": "a", "at": "2024-03-01T12:00:00Z"})),
        "reviews.yml", ["reviews[0] (claim villa-rumour)", "with itself"]),
}


def bytes_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def existing_db(tmp_path):
    path = tmp_path / "existing.db"
    result = runner.invoke(app, ["build", str(write_seeds(tmp_path / "good")), "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("first_build", [False, True], ids=["rebuild", "first-build"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_reported_and_changes_nothing(case, first_build, tmp_path, existing_db):
    mutate, filename, fragments = CASES[case]
    sources, documents, reviews = copy.deepcopy(SOURCES), copy.deepcopy(DOCUMENTS), []
    mutate(sources, documents, reviews)
    seeds = write_seeds(tmp_path / "bad", sources, documents, reviews or None)
    if first_build:
        # a first build runs the SQL checks beside its write (update.pending_problems, checks.Beside):
        # the new database must never appear, half-written or whole
        target = tmp_path / "new" / "first.db"
        result = runner.invoke(app, ["build", str(seeds), "--db", str(target)])
        assert result.exit_code == 1, result.output
        assert not target.exists() and not list(target.parent.glob(".first.db.building-*"))
        message = " ".join(" ".join(line for line in result.output.splitlines() if filename in line).split())
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} missing from: {message}"
        assert "Traceback" not in result.output
        return
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


# Hostile and careless input (an outside review): each a clear problem, no traceback,
# nothing read from outside the trees, one mistake reported once.

BILLION_LAUGHS = """id: bomb
title: Bomb
publisher: kcna
published: 2024
notes: &a9 [&a8 [&a7 [&a6 [&a5 [&a4 [&a3 [&a2 [&a1 [&a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"],
  *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0], *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1], *a2, *a2, *a2, *a2, *a2, *a2,
  *a2, *a2], *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3], *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4], *a5, *a5, *a5, *a5,
  *a5, *a5, *a5, *a5], *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6], *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7], *a8, *a8,
  *a8, *a8, *a8, *a8, *a8, *a8]
authors: *a9
"""


def check(seeds, *extra):
    result = runner.invoke(app, ["check", str(seeds), *map(str, extra)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.split())


def test_a_yaml_alias_bomb_is_refused(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    (seeds / "documents" / "bomb.yml").write_text(BILLION_LAUGHS)
    code, message = check(seeds)
    assert code == 1
    assert "bomb.yml" in message and "aliases" in message
    assert len(message) < 2000  # the expansion is never formatted


def test_aliases_of_a_normal_size_are_fine(tmp_path):
    documents = copy.deepcopy(DOCUMENTS)
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    path = seeds / "documents" / "wire-story.yml"
    path.write_text(path.read_text().replace("title: Kim admits failure", "title: &t Kim admits failure\nnotes: *t"))
    assert check(seeds)[0] == 0


def test_thirty_problems_in_a_large_file_are_each_reported_with_their_line(tmp_path):
    # about 3 MB of claims, every 1000th one with a bad kind (written as text: yaml.dump is slow)
    seeds = write_seeds(tmp_path / "seeds")
    (seeds / "documents" / "big.yml").write_text("id: big\ntitle: Big\npublisher: kcna\npublished: 2024\nclaims:\n" + "".join(
        f"- id: claim-{i}\n  text: Claim number {i} {'x' * 60}\n  source: kcna\n"
        f"  kind: {'gossip' if i % 1000 == 999 else 'event'}\n  quote: {'q' * 20}\n" for i in range(30_000)))
    lines = (seeds / "documents" / "big.yml").read_text().splitlines()
    assert (seeds / "documents" / "big.yml").stat().st_size > 2_500_000
    code, message = check(seeds)
    assert code == 1
    assert message.count("'gossip' is not one of") == 30
    first_bad = next(i for i, line in enumerate(lines, 1) if "gossip" in line)
    assert f"big.yml:{first_bad}: claims[999] (id claim-999): kind" in message


@pytest.mark.parametrize("name, setup, fragments", [
    ("outside", lambda tmp: (tmp / "secret.txt").write_text("the market was raided"),
     ["text", "'../secret.txt' leads out of the texts folder"]),
    ("latin-1", lambda tmp: (tmp / "texts" / "latin.txt").write_bytes("caf\xe9 the market was raided".encode("latin-1")),
     ["text", "is not UTF-8 text"]),
])
def test_texts_must_be_utf8_files_inside_the_texts_folder(tmp_path, name, setup, fragments):
    (tmp_path / "texts").mkdir()
    setup(tmp_path)
    text_name = {"outside": "../secret.txt", "latin-1": "latin.txt"}[name]
    raw = ((tmp_path / "texts") / text_name).read_bytes()
    seeds, texts = texts_world(tmp_path, text_name=text_name, sha=hashlib.sha256(raw).hexdigest())
    db_path = tmp_path / "t.db"
    result = runner.invoke(app, ["build", str(seeds), "--db", str(db_path), "--texts", str(texts)])
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "dailynk-report.yml" in message
    for fragment in fragments:
        assert fragment in message, message
    assert not db_path.exists() or "verified" not in message


def test_a_symlink_out_of_the_seed_tree_is_refused(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    outside = tmp_path / "outside.yml"
    outside.write_text((seeds / "documents" / "kcna-congress.yml").read_text())
    (seeds / "documents" / "kcna-congress.yml").unlink()
    (seeds / "documents" / "kcna-congress.yml").symlink_to(outside)
    code, message = check(seeds)
    assert code == 1 and "kcna-congress.yml" in message and "leads out of the seed tree" in message


def test_a_symlink_inside_the_tree_is_followed(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    (seeds / "kept").mkdir()
    (seeds / "documents" / "kcna-congress.yml").rename(seeds / "kept" / "kcna-congress.yml")
    (seeds / "documents" / "kcna-congress.yml").symlink_to(seeds / "kept" / "kcna-congress.yml")
    assert check(seeds)[0] == 0


@pytest.mark.parametrize("make, fragment", [
    (lambda docs: (docs / "gone.yml").symlink_to(docs / "nowhere.yml"), "gone.yml: a symbolic link to nothing"),
    (lambda docs: (docs / "kcna-congress.yml").rename(docs / "kcna-congress.YML"),
     "kcna-congress.YML: seed files end in .yml"),
])
def test_seed_files_that_would_be_skipped_are_reported(tmp_path, make, fragment):
    seeds = write_seeds(tmp_path / "seeds")
    make(seeds / "documents")
    code, message = check(seeds)
    assert code == 1 and fragment in message


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.org/x", "example.org"])
def test_urls_are_http_or_https(tmp_path, url):
    documents = copy.deepcopy(DOCUMENTS)
    documents["wire-story"]["url"] = url
    code, message = check(write_seeds(tmp_path / "seeds", documents=documents))
    assert code == 1 and "wire-story.yml" in message and "url" in message and "is not an http or https address" in message


def test_one_bad_quote_is_one_problem(tmp_path):
    seeds, texts = texts_world(tmp_path, quote="the market was raided thrice over")
    # another document refers to the claim whose quote is wrong: that is not a second problem
    code, message = check(seeds, "--texts", texts)
    assert code == 1
    assert "1 problem(s)" in message, message
    assert "quote 'the market was raided thrice over' not found verbatim" in message
    # the closest passage is cut on word boundaries
    assert "closest passage: 'the market was raided twice. Later'" in message


def test_a_broken_sources_file_is_one_problem(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    (seeds / "sources.yml").write_text("- id: kcna\n  name: [unclosed\n")
    code, message = check(seeds)
    assert code == 1 and "1 problem(s)" in message and "unknown source" not in message


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_file_that_does_not_read_is_one_problem_on_a_first_build(tmp_path, command):
    # no earlier parse knows what it defines: the ids written in it stand for its claims
    seeds = write_seeds(tmp_path / "seeds")
    path = seeds / "documents" / "dailynk-report.yml"  # defines claims that other files refer to
    path.write_text(path.read_text() + "notes: [unclosed\n")
    db_path = tmp_path / "t.db"

    result = runner.invoke(app, [command, str(seeds)] + (["--db", str(db_path)] if command == "build" else []))

    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "1 problem(s)" in output and "dailynk-report.yml" in output and "not valid YAML" in output
    assert "unknown claim" not in output
    assert not db_path.exists()


def test_a_file_that_no_longer_reads_is_one_problem_on_a_rebuild(tmp_path):
    # the refs and links to the claims it defined are not reported again, one by one
    seeds = write_seeds(tmp_path / "seeds")
    db_path = tmp_path / "t.db"
    assert runner.invoke(app, ["build", str(seeds), "--db", str(db_path)]).exit_code == 0
    before = bytes_of(db_path)
    path = seeds / "documents" / "dailynk-report.yml"  # defines claims that other files refer to
    path.write_text(path.read_text().replace("claims:", "claims: [unclosed", 1))

    result = runner.invoke(app, ["build", str(seeds), "--db", str(db_path)])

    assert result.exit_code == 1
    assert "1 problem(s)" in result.output and "dailynk-report.yml" in result.output
    assert "unknown claim" not in result.output
    assert bytes_of(db_path) == before
