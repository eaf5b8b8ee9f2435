"""The project's own seed corpus (issue 3): the five seed articles, recorded honestly.

The corpus in ``seeds/`` is built with its quotes checked against the real texts in
``../shared/seeds`` (skipped where that folder is absent), and the result must be a
useful, honest provenance record: every quote found in its text, every kind of origin
represented, disagreements between authors recorded, and the statuses the texts imply.
"""

import sqlite3

import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT, SHARED_SEEDS, needs_shared
from tracker.cli import app

SEEDS = ROOT / "seeds"
STATUSES = {"corroborated", "circular", "uncorroborated", "contested"}
STATE_MEDIA_GROUP = "dprk-state-media"

runner = CliRunner()


def independence_groups():
    """Each source's independence group, by the SPEC's rule, read from seeds/sources.yml."""
    groups = {}
    for source in yaml.safe_load((SEEDS / "sources.yml").read_text(encoding="utf-8")):
        if source.get("group"):
            groups[source["id"]] = source["group"]
        elif source["type"] == "informant":
            groups[source["id"]] = f"outlet:{source['outlet']}"
        else:
            groups[source["id"]] = source["id"]
    return groups


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The project's seeds built into a fresh database, quotes checked against ../shared/seeds."""
    if not SHARED_SEEDS.is_dir():
        pytest.skip("../shared/seeds is absent (CI has it): cannot check the corpus's quotes against the real texts")
    db_path = tmp_path_factory.mktemp("seed-corpus") / "tracker.db"
    result = runner.invoke(app, ["build", str(SEEDS), "--db", str(db_path), "--texts", str(SHARED_SEEDS)])
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    yield db
    db.close()


def rows(db, sql, *args):
    return db.execute(sql, args).fetchall()


def status(db, claim_id):
    row = db.execute("select status from claims where id = ?", (claim_id,)).fetchone()
    assert row is not None, f"claim {claim_id} is missing from the corpus"
    return row["status"]


@needs_shared
def test_every_appearance_is_verified_against_its_text(corpus):
    total, verified = corpus.execute("select count(*), sum(verified) from appearances").fetchone()
    assert total > 0
    unverified = rows(corpus, "select claim_id, document_id, quote from appearances where verified = 0")
    assert not unverified, [tuple(r) for r in unverified]
    assert verified == total
    anchored = corpus.execute(
        "select count(*) from appearances where quote_start is not null and quote_end > quote_start"
    ).fetchone()[0]
    assert anchored == total


@needs_shared
def test_each_kind_of_origin_backs_at_least_three_appearances(corpus):
    counts = dict(
        rows(corpus, "select s.type, count(*) from appearances a join sources s on s.id = a.source_id group by s.type")
    )
    for source_type in ("state_media", "informant", "academic", "defector"):
        assert counts.get(source_type, 0) >= 3, (source_type, counts)


@needs_shared
def test_all_four_statuses_occur(corpus):
    present = {r[0] for r in rows(corpus, "select distinct status from claims")}
    assert present == STATUSES


@needs_shared
def test_size_and_shape(corpus):
    assert corpus.execute("select count(*) from claims").fetchone()[0] >= 80
    per_document = dict(rows(corpus, "select document_id, count(*) from appearances group by document_id"))
    documents = {r[0] for r in rows(corpus, "select id from documents")}
    assert len(documents) == 5
    for document in documents:
        assert per_document.get(document, 0) >= 10, (document, per_document.get(document, 0))


@needs_shared
def test_quotes_are_short_verbatim_spans(corpus):
    for row in rows(corpus, "select claim_id, quote from appearances"):
        assert len(row["quote"]) <= 300, row["claim_id"]
        assert len(row["quote"].split()) <= 40, row["claim_id"]
    for row in rows(corpus, "select id, text from claims"):
        assert len(row["text"]) <= 300, row["id"]


@needs_shared
def test_links_record_agreements_and_disagreements_with_reasons(corpus):
    links = rows(corpus, "select from_claim_id, to_claim_id, relation, note, document_id from links")
    assert len(links) >= 15
    contradicts = [link for link in links if link["relation"] == "contradicts"]
    assert len(contradicts) >= 3
    for link in contradicts:
        assert link["note"] and link["note"].strip(), tuple(link)


@needs_shared
def test_cross_document_links_join_independent_origins_and_sit_in_the_later_document(corpus):
    groups = independence_groups()
    published_from = {}
    for path in (SEEDS / "documents").glob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        published_from[document["id"]] = str(document["published"])
    origins = {}
    home = {}
    for row in rows(corpus, "select claim_id, source_id from appearances"):
        origins.setdefault(row["claim_id"], set()).add(groups[row["source_id"]])
    for row in rows(corpus, "select id, document_id from claims"):
        home[row["id"]] = row["document_id"]
    cross = [
        link
        for link in rows(corpus, "select from_claim_id, to_claim_id, relation, note, document_id from links")
        if home[link["from_claim_id"]] != home[link["to_claim_id"]]
    ]
    assert len(cross) >= 12
    for link in cross:
        a, b = link["from_claim_id"], link["to_claim_id"]
        assert link["note"] and link["note"].strip(), (a, b)
        # linking two claims of one origin group would add nothing: same voice twice
        assert not origins[a] & origins[b], (a, b, origins[a], origins[b])
        # recorded in the later-published of the two documents (ties: either)
        other = home[b] if link["document_id"] == home[a] else home[a]
        assert link["document_id"] in (home[a], home[b]), (a, b, link["document_id"])
        assert published_from[link["document_id"]][:4] >= published_from[other][:4], (a, b)


@needs_shared
def test_the_20x10_announcement_is_circular_state_media(corpus):
    """However many articles repeat it, the announcement traces to DPRK state media alone."""
    groups = independence_groups()
    appearances = rows(corpus, "select document_id, source_id from appearances where claim_id = 'dip-20x10-policy-announced'")
    assert len({a["document_id"] for a in appearances}) >= 2
    assert {groups[a["source_id"]] for a in appearances} == {STATE_MEDIA_GROUP}
    assert status(corpus, "dip-20x10-policy-announced") == "circular"


@needs_shared
def test_the_myohyang_villa_is_an_uncorroborated_rumour(corpus):
    row = corpus.execute("select kind, status from claims where id = 'dip-myohyang-villa-rebuilt-rumor'").fetchone()
    assert row is not None
    assert row["kind"] == "rumor"
    assert row["status"] == "uncorroborated"


@needs_shared
def test_hardship_in_the_provinces_is_independently_attested(corpus):
    provinces = set()
    for path in (SEEDS / "documents").glob("*.yml"):
        for claim in yaml.safe_load(path.read_text(encoding="utf-8"))["claims"]:
            if "id" in claim and "provinces" in claim.get("tags", []):
                provinces.add(claim["id"])
    hardship = [claim_id for claim_id in sorted(provinces) if status(corpus, claim_id) == "corroborated"]
    assert hardship, "no claim about the provinces is corroborated"
    # the regime's own admission, borne out by outlets that do not depend on it
    for claim_id in ("asm-kim-regional-economy-terrible", "dip-border-closure-devastated-provinces"):
        assert status(corpus, claim_id) == "corroborated", claim_id


@needs_shared
def test_authors_disagree_on_the_basis_of_kims_authority(corpus):
    """Asmolov's rational-legal reading against The Diplomat's "legacy politics": contested."""
    assert rows(
        corpus,
        "select 1 from links where relation = 'contradicts' and ("
        "(from_claim_id = 'asm-kim-rule-rational-legal' and to_claim_id = 'dip-legacy-politics') or "
        "(from_claim_id = 'dip-legacy-politics' and to_claim_id = 'asm-kim-rule-rational-legal'))",
    )
    assert status(corpus, "asm-kim-rule-rational-legal") == "contested"
    assert status(corpus, "dip-legacy-politics") == "contested"


def test_check_passes_without_texts():
    result = runner.invoke(app, ["check", str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
