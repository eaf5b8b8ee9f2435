"""A protected source's words in the analysts' own prose (tracker/exposure.py): the build
warns, publish refuses and writes nothing."""

import copy
import re
import sqlite3

import pytest
from typer.testing import CliRunner

from conftest import DOCUMENTS, ROOT, SHARED_SEEDS, needs_shared, write_seeds
from tracker import exposure
from tracker.build import build
from tracker.cli import app

runner = CliRunner()
QUOTE = "rice prices at the Hyesan market doubled in the last two weeks"


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("written, expected", [
    (QUOTE, 100),
    ("Rice prices at the Hyesan market tripled in the last two weeks.", 80),  # one word of eleven changed
    ("An informant says rice prices at the Hyesan market doubled in the last two weeks.", 100),
    ("Food became dearer in the north-east this month.", 0),
])
def test_similarity(written, expected):
    score = exposure.similarity(QUOTE, written)
    assert (score >= exposure.THRESHOLD) == (expected >= exposure.THRESHOLD), score
    if expected == 100:
        assert score == 100


def test_short_common_phrases_never_count():
    assert exposure.similarity("it is bad", "It is bad.") == 0
    assert exposure.similarity("the situation is getting worse", "The situation is getting worse.") == 0


def world(place):
    """The fixture world with the protected Hyesan informant's quote rendered in ``place``."""
    documents = copy.deepcopy(DOCUMENTS)
    report = documents["dailynk-report"]
    report["claims"][2]["quote"] = QUOTE  # market-crackdown, origin dnk-hyesan (protected)
    rendering = "Rice prices at the Hyesan market tripled in the last two weeks."
    if place == "claim text":
        report["claims"][2]["text"] = rendering
    elif place == "link note":
        documents["wire-story"]["links"][0]["note"] = rendering
    elif place == "document note":
        report["notes"] = rendering
    return documents



LONG_QUOTE = "we knew the border guards were taking bribes from the smugglers every night when the river froze over"


@pytest.mark.parametrize("written, counted", [
    # 8 of the quote's words in a row, in a text otherwise the analyst's: partial_ratio 75
    ("The informant says border guards were taking bribes from the smugglers every night, a practice that spread "
     "across the province.", True),
    # the same with one of those words changed (7 in a row at most): 69, the analyst's own sentence
    ("The informant says border guards took bribes from the smugglers every night, a practice that spread "
     "across the province.", False),
])
def test_a_lifted_run_of_words_counts_as_near_verbatim(written, counted):
    assert (exposure.similarity(LONG_QUOTE, written) >= exposure.THRESHOLD) == counted

@pytest.mark.parametrize("place, entry", [
    ("claim text", "claims[2] (id market-crackdown): text"),
    ("link note", "links[0]: note"),
    ("document note", "document dailynk-report: notes"),
])
def test_a_near_verbatim_rendering_is_warned_about_and_blocks_publish(tmp_path, place, entry):
    seeds = write_seeds(tmp_path / "seeds", documents=world(place))
    db = tmp_path / "tracker.db"
    code, message = run("build", seeds, "--db", db)
    assert code == 0
    assert "warning:" in message and entry in message and "protected source 'dnk-hyesan'" in message
    assert "near-verbatim" in message

    out = tmp_path / "public.db"
    code, message = run("publish", "--db", db, "--out", out)
    assert code == 1
    assert not out.exists() and list(tmp_path.glob("public.db*")) == []
    assert f"{place} of" in message and "'dnk-hyesan'" in message and "market-crackdown" in message
    assert "similarity" in message


def test_an_earlier_public_file_stays_as_it_was(tmp_path):
    seeds = write_seeds(tmp_path / "seeds")
    db, out = tmp_path / "tracker.db", tmp_path / "public.db"
    build(seeds, db)
    assert run("publish", "--db", db, "--out", out)[0] == 0
    before = out.read_bytes()
    build(write_seeds(seeds, documents=world("claim text")), db)
    assert run("publish", "--db", db, "--out", out)[0] == 1
    assert out.read_bytes() == before


def test_a_text_naming_a_protected_source_is_warned_about(tmp_path):
    documents = copy.deepcopy(DOCUMENTS)
    documents["dailynk-report"]["claims"][1]["text"] = "The Hyesan Trader Informant heard of a villa."
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    code, message = run("build", seeds, "--db", tmp_path / "tracker.db")
    assert code == 0 and "names protected source 'dnk-hyesan'" in message
    # naming is a warning, not a reason to refuse
    assert run("publish", "--db", tmp_path / "tracker.db", "--out", tmp_path / "public.db")[0] == 0


@needs_shared
def test_the_seed_corpus_builds_without_exposures_and_publishes(tmp_path):
    db = tmp_path / "tracker.db"
    code, message = run("build", ROOT / "seeds", "--db", db, "--texts", SHARED_SEEDS)
    assert code == 0 and "near-verbatim" not in message
    assert run("publish", "--db", db, "--out", tmp_path / "public.db")[0] == 0


def test_a_shown_warning_keeps_its_right_line_through_rebuilds_and_edits(tmp_path):
    # the lines of the warnings shown are kept in the seed cache while their file is the same
    seeds = write_seeds(tmp_path / "seeds", documents=world("claim text"))
    db = tmp_path / "tracker.db"
    path = seeds / "documents" / "dailynk-report.yml"

    def shown_and_real_line():
        code, message = run("build", seeds, "--db", db)
        assert code == 0
        shown = re.search(r"dailynk-report\.yml:(\d+): claims\[2\]", message)
        real = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if "tripled" in line)
        return int(shown.group(1)), real

    first = shown_and_real_line()
    assert first[0] == first[1]
    assert shown_and_real_line() == first  # nothing changed: the kept line
    path.write_text("# two lines\n# above it\n" + path.read_text())
    moved = shown_and_real_line()
    assert moved[0] == moved[1] == first[1] + 2


# The pairs exposure.candidates() must give, as SPEC section 7 states them, in one plain
# query: every protected quote with the texts of the claims of its document and of the
# claims linked to its claim, the notes of the links of its document or touching its
# claim (not a reviewer's link, which has no document), and its document's notes.
PAIRS_AS_STATED = """
WITH protected AS (
    SELECT a.document_id, a.claim_id, a.source_id, s.name AS source_name, a.quote
    FROM appearances a JOIN sources s ON s.id = a.source_id
    WHERE s.sensitivity = 'protected' AND a.quote IS NOT NULL
)
SELECT p.claim_id, p.source_id, p.source_name, p.quote, 'claim text', c.id, c.text, NULL, NULL
FROM protected p, claims c
WHERE c.id IN (SELECT claim_id FROM appearances WHERE document_id = p.document_id)
   OR (c.id != p.claim_id AND (
       EXISTS (SELECT 1 FROM links WHERE from_claim_id = p.claim_id AND to_claim_id = c.id)
       OR EXISTS (SELECT 1 FROM links WHERE to_claim_id = p.claim_id AND from_claim_id = c.id)))
UNION
SELECT p.claim_id, p.source_id, p.source_name, p.quote, 'link note',
       l.document_id || ' links[' || l.position || '] (' || l.from_claim_id || ' - ' || l.to_claim_id || ')',
       l.note, l.document_id, l.position
FROM protected p, links l
WHERE l.note IS NOT NULL AND l.document_id IS NOT NULL
  AND (l.document_id = p.document_id OR p.claim_id IN (l.from_claim_id, l.to_claim_id))
UNION
SELECT p.claim_id, p.source_id, p.source_name, p.quote, 'document note', d.id, d.notes, NULL, NULL
FROM protected p JOIN documents d ON d.id = p.document_id
WHERE d.notes IS NOT NULL
"""


def test_candidates_pair_each_quote_with_every_text_written_from_its_material(tmp_path, monkeypatch):
    documents = world("document note")
    report, story = documents["dailynk-report"], documents["wire-story"]
    # a second protected quote in the same document; a link of that document between two
    # other claims, and links touching the quoted claim from other documents, both ways
    report["claims"][0].update(source="dnk-hyesan", quote="conditions in the provinces got much worse again this year")
    report["links"] = [{"from": "villa-rumour", "to": "hardship-provinces", "relation": "corroborates",
                        "note": "Both from the same trip."}]
    story["links"].append({"from": "market-crackdown", "to": "sanctions-biting", "relation": "corroborates",
                           "note": "Crackdowns follow shortages."})
    documents["kcna-congress"]["links"] = [{"from": "kim-plan-failed", "to": "market-crackdown",
                                            "relation": "contradicts"}]
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    db = tmp_path / "tracker.db"
    assert run("build", seeds, "--db", db)[0] == 0
    # a reviewer's link, with a note, touching the quoted claim
    assert run("link", "market-crackdown", "hardship-provinces", "--relation", "corroborates",
               "--note", "Reviewer: same week.", "--db", db)[0] == 0
    # few places per query, so that the pairing crosses queries
    monkeypatch.setattr(exposure, "PLACES_PER_QUERY", 1)
    for path in (db, tmp_path / "tracker.db.cache"):
        conn = sqlite3.connect(path)
        expected = set(conn.execute(PAIRS_AS_STATED))
        got = list(exposure.candidates(conn))
        assert set(got) == expected
        kinds = {row[4] for row in got}
        assert kinds == {"claim text", "link note", "document note"}, kinds
        assert not any("Reviewer" in row[6] for row in got)
        conn.close()
