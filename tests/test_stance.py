"""Stance of a text toward a claim: the shipped model and `tracker stance` (SPEC section 9)."""

import json

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.links.stance import CLASSES, content, masked, model, tokens

CLAIM = "North Korea executed its defence minister"


@pytest.mark.parametrize("text, expected", [
    ("South Korea denies reports that North Korea executed its defence minister", "against"),
    ("No, North Korea did not execute its defence minister: the report was false", "against"),
    ("North Korea reportedly executed defence minister, sources claim", "observing"),
    ("Did North Korea execute its defence minister? Spy agency says it may have", "observing"),
    ("North Korea executes defence minister with anti-aircraft gun", "for"),
])
def test_stance_of_written_sentences(text, expected):
    stance, score = model().predict(CLAIM, text)
    assert stance == expected
    assert 1 / 3 < score <= 1


@pytest.mark.parametrize("text, expected", [
    # The claim's words become one placeholder, so that "denies _c_" is learnt across claims.
    ("Seoul denies North Korea executed its defence minister", ["seoul", "denies", "_c_", "its", "_c_"]),
    ("Report: 2 ministers executed, sources say", ["report", "_n_", "_c_", "sources", "say"]),
    ("Defence minister alive", ["_c_", "alive"]),
])
def test_masked_words_hide_the_claim_and_numbers(text, expected):
    assert masked(tokens(text), set(content(tokens(CLAIM)))) == expected


def test_probabilities_sum_to_one():
    probabilities = model().probabilities(CLAIM, "Defence minister executed")
    assert set(probabilities) == set(CLASSES)
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_cli_prints_one_line_per_request_in_order(tmp_path):
    requests = tmp_path / "pairs.jsonl"
    lines = [
        {"id": "deny", "claim": CLAIM, "text": "Seoul denies North Korea executed its defence minister"},
        {"id": 7, "claim": CLAIM, "text": "North Korea executes its defence minister"},
        {"id": "relay", "claim": CLAIM, "text": "North Korea allegedly executed defence minister, report says"},
    ]
    requests.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["stance", str(requests)])
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["id"] for p in printed] == ["deny", 7, "relay"]
    assert [p["stance"] for p in printed] == ["against", "for", "observing"]
    assert all(set(p) == {"id", "stance", "score"} for p in printed)


@pytest.mark.parametrize("line, problem", [
    ("{not json", "line 2: not JSON"),
    ('{"id": 1, "claim": "x"}', "line 2: field(s) text missing"),
    ('{"claim": "x", "text": "y"}', "line 2: field(s) id missing"),
    ('[1, 2]', "line 2: expected an object"),
])
def test_cli_bad_line_is_named_and_nothing_printed(tmp_path, line, problem):
    requests = tmp_path / "pairs.jsonl"
    requests.write_text(json.dumps({"id": 1, "claim": CLAIM, "text": "x"}) + "\n" + line + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["stance", str(requests)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert problem in " ".join(result.stderr.split())
    assert "pairs.jsonl" in result.stderr
