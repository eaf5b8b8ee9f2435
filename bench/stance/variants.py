"""Measure candidate stance features against the shipped ones, the way train.py does.

Each variant adds dense features to tracker/links/stance.py's raw_features (or changes
the training rows) and is measured by the same grouped cross-validation as train.py:
GroupKFold(10)'s own split, then the mean of three shuffled grouped splits (seeds 0, 1,
2); vocabulary and IDF fitted inside each fold. Nothing is shipped from here: a variant
that helps goes into stance.py and train.py.

The attribution variants run the project's own attribution labeller
(tracker.capture.attribution.Labeller, CRFs trained on PolNeAR) over each headline, so
their figures depend on the shipped attribution models: the sha256 of every model file
used is recorded in variants.json beside the figures, to re-measure when they change.

    nice .venv/bin/python bench/stance/variants.py [--only NAME ...] [--no-write]
"""

import argparse
import hashlib
import json
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
import train  # noqa: E402
from tracker.capture import attribution  # noqa: E402
from tracker.capture.features import tokenize  # noqa: E402
from tracker.links import stance  # noqa: E402

RESULTS = HERE / "variants.json"
SEEDS = (0, 1, 2)

# Words of tentative or second-hand report beyond stance.HEDGING: talks, plans,
# predictions, beliefs, suspicions ("Microsoft in talks to buy...", "Citi sees...").
TENTATIVE = frozenset("""
think thinks thought believe believes believed talks talk discussions discussion negotiations
negotiating considering considers consider mulls mull mulling weighs weighing eyes eyeing poised
expected expect expects set plans plan planning planned question questions questioned confusion
speculation speculate theory theories suspected suspect suspects possible potential potentially
rumor rumors rumour rumours rumored claim claims reportedly report reports reported alleged
allegedly apparently seems seem appears appear may might could would will soon close closer
nearing near try trying tries attempt attempts hope hopes hoping want wants predicts predict
predicted sees pegs forecast forecasts estimates purports purported feared fears warned
""".split())
MODALS = frozenset("will would could may might should can must going".split())


def attribution_files():
    folder = attribution.model_dir()
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def label_headlines(texts):
    """Per headline: its words, cue flags, role tags (SRC/CON/'') and cue marginals."""
    labeller = attribution.Labeller()
    out = []
    for text in texts:
        words = [w for _s, _e, w in tokenize(text)]
        if not words:
            out.append(([], [], [], []))
            continue
        cue_labels, role_labels, cue_p, _sids = labeller.label_paragraph(words)
        out.append((words, [c != "O" for c in cue_labels], [r[2:] for r in role_labels], cue_p))
    return out


def attribution_features(parsed, claim, parts):
    """Cue present (not one of the claim's own words), its marginal, source and content
    present, a source that shares no word with the claim; where the words the headline
    shares with the claim fall (inside attributed content, the source, or the author's
    own voice); whether the cue comes before or after them."""
    words, is_cue, roles, cue_p = parsed
    claim_words = stance.tokens(claim)
    claim_stems, claim_plain = set(stance.content(claim_words)), set(claim_words)
    d = {}
    if not words:
        return d

    def norm(w):
        return stance.stem(w.lower().replace("\u2019", "'").split("'")[0])

    shared = [j for j, w in enumerate(words) if w.lower() not in stance.STOP and norm(w) in claim_stems]
    cues = [j for j, w in enumerate(words) if is_cue[j] and w.lower() not in claim_plain]
    if cues:
        d["att_cue"] = 1.0
        d["att_cue_p"] = max(cue_p[j] for j in cues)
        if "SRC" in roles and not any(roles[j] == "SRC" for j in shared):
            d["att_source_external"] = 1.0
    if "CON" in roles:
        d["att_content"] = 1.0
    if "SRC" in roles:
        d["att_source"] = 1.0
    if "share" in parts and shared and cues:
        d["att_claim_in_content"] = sum(roles[j] == "CON" for j in shared) / len(shared)
        d["att_claim_in_source"] = sum(roles[j] == "SRC" for j in shared) / len(shared)
        d["att_claim_own_voice"] = sum(roles[j] == "" and not is_cue[j] for j in shared) / len(shared)
    if "position" in parts and cues:
        if shared and cues[0] < shared[0]:
            d["att_cue_before_claim"] = 1.0
        if shared and cues[-1] > shared[-1]:
            d["att_cue_after_claim"] = 1.0
        if cues[0] < 3:
            d["att_cue_first3"] = 1.0
        if cues[-1] >= len(words) - 3:
            d["att_cue_last3"] = 1.0
    if "cue_words" in parts:
        for j in cues:
            d["att_cue_word=" + norm(words[j])] = 1.0
    return d


def tentative(claim, text):
    words, claim_plain = stance.tokens(text), set(stance.tokens(claim))
    new = [w for w in words if w in TENTATIVE and w not in claim_plain]
    return {"tentative_new": 1.0, "tentative_count": min(len(new), 3) / 3} if new else {}


def modal(claim, text):
    words, claim_words = set(stance.tokens(text)), set(stance.tokens(claim))
    d = {}
    if (words & MODALS) - claim_words:
        d["modal_new"] = 1.0
    if (claim_words & MODALS) - words:
        d["modal_dropped"] = 1.0
    return d


def measure(rows, raw, augment=None):
    """Accuracy and macro-F1 on GroupKFold's own split and the mean of the shuffled ones."""
    def one(seed):
        if augment is None:
            return train.cross_validate(rows, raw, 10, train.C, seed)
        return augment(rows, raw, seed)

    own = one(None)
    shuffled = [one(s) for s in SEEDS]
    return {
        "own_split": {k: own[k] for k in ("accuracy", "macro_f1", "f1")},
        "shuffled_mean": {"accuracy": round(float(np.mean([r["accuracy"] for r in shuffled])), 4),
                          "macro_f1": round(float(np.mean([r["macro_f1"] for r in shuffled])), 4)},
    }


def claims_as_for(rows, raw, seed):
    """Each training claim, restated by itself, added as one more `for` example."""
    restated = {r[3]: stance.raw_features(r[0], r[0]) for r in rows}

    def extra(train_groups):
        claims = sorted(set(train_groups))
        return [restated[g] for g in claims], ["for"] * len(claims), claims
    return train.cross_validate(rows, raw, 10, train.C, seed, extra=extra)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=train.DATA)
    parser.add_argument("--only", nargs="*", help="Measure only these variants.")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"{args.data}: not found (the Emergent training split; see ../shared/corpora/README.md)")
    rows = train.read(args.data)
    base = [stance.raw_features(claim, text) for claim, text, _, _ in rows]

    started = time.perf_counter()
    parsed = label_headlines([text for _, text, _, _ in rows])
    labelling_seconds = round(time.perf_counter() - started, 2)

    def with_extra(extra):
        return [(g, {**d, **extra(i, claim, text)}) for i, ((g, d), (claim, text, _, _)) in enumerate(zip(base, rows))]

    def att(*parts):
        return lambda i, claim, text: attribution_features(parsed[i], claim, parts)

    variants = {
        "shipped features": lambda: measure(rows, base),
        "+ attribution: cue, source, content": lambda: measure(rows, with_extra(att())),
        "+ attribution: and where the claim's words fall": lambda: measure(rows, with_extra(att("share"))),
        "+ attribution: and cue position": lambda: measure(rows, with_extra(att("share", "position"))),
        "+ attribution: and the cue words": lambda: measure(rows, with_extra(att("share", "position", "cue_words"))),
        "+ tentative lexicon": lambda: measure(rows, with_extra(lambda i, c, t: tentative(c, t))),
        "+ modal added or dropped": lambda: measure(rows, with_extra(lambda i, c, t: modal(c, t))),
        "+ attribution (share) + tentative + modal": lambda: measure(rows, with_extra(
            lambda i, c, t: {**attribution_features(parsed[i], c, ("share",)), **tentative(c, t), **modal(c, t)})),
        "claims restated as extra `for` examples": lambda: measure(rows, base, claims_as_for),
    }
    results = {}
    for name, run in variants.items():
        if args.only and name not in args.only:
            continue
        results[name] = run()
        r = results[name]
        print(f"{name:50s} own {r['own_split']['accuracy']:.4f}/{r['own_split']['macro_f1']:.4f}  "
              f"shuffled {r['shuffled_mean']['accuracy']:.4f}/{r['shuffled_mean']['macro_f1']:.4f}", flush=True)
    if args.no_write:
        return
    RESULTS.write_text(json.dumps({
        "command": "nice .venv/bin/python bench/stance/variants.py" + "".join(f" {a}" for a in sys.argv[1:]),
        "method": "as train.py: GroupKFold(10) by claimId (own split) and mean of 3 shuffled grouped "
                  "splits (seeds 0, 1, 2); accuracy / macro-F1",
        "attribution_model_files_sha256": attribution_files(),
        "attribution_labelling_seconds_for_all_headlines": labelling_seconds,
        "headlines": len(rows),
        "variants": results,
    }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
