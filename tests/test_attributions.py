"""`tracker attributions`: the shipped model, offsets into the text, the JSON lines, bad input."""

import json
import pathlib
from importlib import resources

import pytest
from typer.testing import CliRunner

from tracker.capture.attribution import CUE_MODEL, MEMBERS, ROLE_MODEL, Labeller, fill_source_gaps, model_dir
from tracker.capture.features import FEATURE_SETS, base_features, tokenize
from tracker.capture.neural import TAGS, NeuralTagger
from tracker.cli import app

from conftest import write_seeds

runner = CliRunner()
TEXT = "A Pyongyang-based source told Daily NK that prices rose."
LONGER = (TEXT + "\n\n“We will never give up our nuclear weapons,” the Korean Central News Agency said "
          "on Tuesday, quoting a statement.\n\nAccording to the ministry, imports fell by half in 2019.")


@pytest.fixture(scope="module")
def labeller():
    return Labeller()


def test_the_model_ships_inside_the_package(labeller):
    folder = pathlib.Path(str(resources.files("tracker.capture") / "models"))
    assert model_dir() == folder
    members = json.loads((folder / MEMBERS).read_text(encoding="utf-8"))
    names = [name for stage in ("cue", "role") for name, _variant in members[stage]]
    assert CUE_MODEL in names and ROLE_MODEL in names
    assert {variant for stage in ("cue", "role") for _name, variant in members[stage]} <= set(FEATURE_SETS)
    assert len(labeller.cue) == len(members["cue"]) and len(labeller.role) == len(members["role"])
    for name in names:
        size = (folder / (name + ".gz")).stat().st_size
        assert 0 < size <= 10_000_000


def test_the_neural_member_ships_inside_the_package_and_labels(labeller):
    folder = pathlib.Path(str(resources.files("tracker.capture") / "models"))
    members = json.loads((folder / MEMBERS).read_text(encoding="utf-8"))
    assert 0 < (folder / members["neural"]).stat().st_size <= 10_000_000
    assert isinstance(labeller.neural, NeuralTagger) and 0 < labeller.neural_weight < 1
    text = "“The sanctions are working,” a senior official told reporters on Friday.\n\nNothing else happened."
    paras = [[w for _a, _b, w in tokenize(part)] for part in text.split("\n\n")]
    marginals = labeller.neural.marginals(paras + [[]])
    assert [m.shape for m in marginals] == [(len(paras[0]), len(TAGS)), (len(paras[1]), len(TAGS)), (0, len(TAGS))]
    assert all(abs(float(row.sum()) - 1) < 1e-4 for m in marginals for row in m)
    # a paragraph's marginals do not depend on the paragraphs batched with it
    (alone,) = labeller.neural.marginals([paras[0]])
    assert abs(alone - marginals[0]).max() < 1e-5
    cue = [TAGS.index("B-CUE"), TAGS.index("I-CUE")]
    told = paras[0].index("told")
    assert marginals[0][told, cue].sum() > 0.5 > max(marginals[0][i, cue].sum() for i in range(3))
    (att,) = labeller.attributions(text)
    assert [text[a:b] for a, b in att["cue"]] == ["told"]
    assert [text[a:b] for a, b in att["source"]] == ["a senior official"]
    assert "The sanctions are working" in " ".join(text[a:b] for a, b in att["content"])
    # without the neural member the same spans come out (it shifts marginals, not this easy case)
    plain = Labeller()
    plain.neural = None
    assert [(a["cue"], a["source"]) for a in plain.attributions(text)] == [(att["cue"], att["source"])]


def test_source_fragments_are_joined_across_a_likely_gap():
    # "Kim Yo Jong , sister of Kim Jong Un said ...": the comma and "of" fall below the
    # source threshold, splitting one source into three fragments
    role = ["B-SRC", "I-SRC", "I-SRC", "O", "B-SRC", "O", "B-SRC", "I-SRC", "I-SRC", "O", "B-CON"]
    cue = ["O"] * 9 + ["B-CUE", "O"]
    p_src = [0.9, 0.9, 0.9, 0.3, 0.8, 0.26, 0.9, 0.9, 0.9, 0.01, 0.0]
    sids = [0] * 11
    assert fill_source_gaps(role, cue, p_src, sids, 0.25) == ["B-SRC"] + ["I-SRC"] * 8 + ["O", "B-CON"]
    # a gap token the model does not think a source, a cue, a content, or a sentence end: kept apart
    assert fill_source_gaps(role, cue, p_src, sids, 0.28) == ["B-SRC"] + ["I-SRC"] * 4 + ["O", "B-SRC"] + role[7:]
    assert fill_source_gaps(role, ["O"] * 3 + ["B-CUE"] + ["O"] * 7, p_src, sids, 0.25)[3:5] == ["O", "B-SRC"]
    with_content = role[:3] + ["B-CON"] + role[4:]
    assert fill_source_gaps(with_content, cue, p_src, sids, 0.25)[3:5] == ["B-CON", "B-SRC"]
    assert fill_source_gaps(role, cue, p_src, [0] * 4 + [1] * 7, 0.25)[3:5] == ["O", "B-SRC"]


def test_the_shipped_thresholds_join_source_fragments(labeller):
    # chosen on train's out-of-fold predictions (bench/README.md); 0 would turn it off
    assert labeller.source_gap == 0.25
    assert Labeller(thresholds=(0.4, 0.35, 0.45, 0.6)).source_gap == Labeller.source_gap == 0.0


def test_an_unknown_feature_set_is_refused():
    with pytest.raises(ValueError, match="unknown feature set 'fancy'"):
        base_features(["He", "said", "so", "."], variant="fancy")


@pytest.mark.parametrize("variant", FEATURE_SETS)
def test_every_feature_set_sees_the_same_sentences_and_quotations(variant):
    words = [w for _a, _b, w in tokenize("“We won,” he said. According to the ministry, it rained.")]
    reference = base_features(words)
    feats, sids, quotes = base_features(words, variant=variant)
    assert (sids, quotes) == reference[1:] and len(feats) == len(words)
    assert all(f[6].startswith("L=") for f in feats)  # stage two reads the lexicon class there


def test_labels_a_short_text(labeller):
    (att,) = labeller.attributions(TEXT)
    assert [TEXT[a:b] for a, b in att["cue"]] == ["told"]
    assert [TEXT[a:b] for a, b in att["source"]] == ["A Pyongyang-based source"]
    assert all(TEXT[a:b] in "Daily NK that prices rose." for a, b in att["content"])
    assert 0 < att["score"] <= 1


def test_labels_a_quotation(labeller):
    text = "“We will never give up our nuclear weapons,” the Korean Central News Agency said on Tuesday."
    (att,) = labeller.attributions(text)
    assert [text[a:b] for a, b in att["cue"]] == ["said"]
    assert [text[a:b] for a, b in att["source"]] == ["the Korean Central News Agency"]
    assert "We will never give up our nuclear weapons" in " ".join(text[a:b] for a, b in att["content"])


@pytest.mark.parametrize("text", [TEXT, LONGER, "  \n\n" + LONGER.replace("\n\n", "\r\n"), "Nobody said anything."])
def test_offsets_round_trip(labeller, text):
    for att in labeller.attributions(text):
        for role in ("cue", "source", "content"):
            for start, end in att[role]:
                span = text[start:end]
                assert 0 <= start < end <= len(text)
                assert span == span.strip() and span  # a span starts and ends on a token


def test_cli_prints_one_json_object_per_attribution(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(TEXT, encoding="utf-8")
    b.write_text(LONGER, encoding="utf-8")
    seeds = write_seeds(tmp_path / "seeds", sources=[
        {"id": "daily-nk", "name": "Daily NK", "type": "news_outlet"},
        {"id": "dnk-pyongyang", "name": "Pyongyang-based source (Daily NK)", "type": "informant",
         "outlet": "daily-nk"},
        {"id": "kcna", "name": "Korean Central News Agency", "type": "state_media", "aliases": ["KCNA"]},
    ], documents={})
    result = runner.invoke(app, ["attributions", str(a), str(b), "--format", "jsonl", "--seeds", str(seeds)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and {r["file"] for r in rows} == {str(a), str(b)}
    for row in rows:
        assert list(row) == ["file", "cue", "source", "content", "source_id", "source_type", "score"]
        text = TEXT if row["file"] == str(a) else LONGER
        assert all(isinstance(f, list) and len(f) == 2 for role in ("cue", "source", "content") for f in row[role])
        assert row["cue"] and text[row["cue"][0][0]:row["cue"][0][1]]
    first = rows[0]
    assert (first["source_id"], first["source_type"]) == ("dnk-pyongyang", "informant")
    kcna = [r for r in rows if r["source_id"] == "kcna"]
    assert kcna and kcna[0]["source_type"] == "state_media"


def test_without_seeds_origins_are_null(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./seeds here
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    result = runner.invoke(app, ["attributions", "a.txt"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    assert row["file"] == "a.txt" and row["source_id"] is None and row["source_type"] is None


@pytest.mark.parametrize("content, expected", [
    (None, "no such file"),
    (b"caf\xe9 au lait", "not UTF-8"),
    ("folder", "is a folder"),
])
def test_bad_input_is_a_clear_error(tmp_path, content, expected):
    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    elif content == "folder":
        bad.mkdir()
    result = runner.invoke(app, ["attributions", str(good), str(bad)])
    assert result.exit_code == 1
    assert expected in result.stderr and str(bad) in result.stderr
    assert result.stdout == ""  # nothing printed for the good file either


LABEL_FROM_INSTALL = """
import json, sys
import tracker.capture.attribution as attribution
text = sys.argv[1]
labeller = attribution.Labeller()
(att,) = labeller.attributions(text)
print(json.dumps({"file": attribution.__file__, "models": str(attribution.model_dir()),
                  "neural": labeller.neural is not None, "torch": "torch" in sys.modules,
                  "cue": [text[a:b] for a, b in att["cue"]],
                  "spans": [text[a:b] for role in ("cue", "source", "content") for a, b in att[role]]}))
"""


def test_an_installed_wheel_labels_with_its_own_model(tmp_path):
    """A normal install (not the project folder) carries the model and loads it."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheel"), str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("tracker-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(tmp_path / "site"), str(wheel)], check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"))
    env.pop("TRACKER_ATTRIBUTION_MODELS", None)
    out = subprocess.run([sys.executable, "-c", LABEL_FROM_INSTALL, TEXT], check=True, capture_output=True,
                         text=True, cwd=tmp_path, env=env)
    found = json.loads(out.stdout)
    assert found["file"].startswith(str(tmp_path / "site")) and found["models"].startswith(str(tmp_path / "site"))
    assert found["cue"] == ["told"]
    assert found["neural"] and not found["torch"]  # the neural member runs in numpy alone
    assert all(span == span.strip() and span in TEXT for span in found["spans"])
