"""Train the two attribution taggers on a BRAT corpus's train split; measure them on dev.

    nice python bench/attributions/train.py ../shared/corpora/polnear --out /tmp/models \
        --c1 2.0 --minfreq 3 --iterations 120 --no-clusters \
        --cue-features base,rich --role-features base,rich --results /tmp/results.json

Trains on the `train` split only; `dev` is used for measuring (and for choosing the
settings between runs), never for training. Each stage is one model per feature set
named in --cue-features / --role-features (an ensemble when there are several: the
tagger averages their marginals; attribution-models.json beside them lists the files),
trained in parallel (--processes; each holds its sequences in memory, about 4 GB on
PolNeAR). Stage two (sources, contents) is trained with the gold cues, some dropped and
some false ones added, as its cue features, or with --jackknife with the cues stage one
itself predicts for each training article from models that never saw it; when tagging
it sees the cues stage one predicted.
"""

import argparse
import json
import multiprocessing
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from clusters import make_clusters, write as write_clusters  # noqa: E402
from corpus import load_split, measure, token_labels  # noqa: E402

from tracker.capture.attribution import (  # noqa: E402
    CLUSTERS, CUE_MODEL, MEMBERS, ROLE_MODEL, THRESHOLDS, Labeller, load_clusters)
from tracker.capture.features import (  # noqa: E402
    FEATURE_SETS, base_features, cue_relative_features, paragraphs, tokenize)


def noisy_cues(words, gold_mask, rng, drop, add):
    """Gold cues with the errors stage one makes: some dropped, some false ones added.

    Stage two learns from these, so that it does not trust its cue features blindly:
    with a missed cue it still finds a quotation's content from the words alone.
    """
    from tracker.capture.features import CUE_WORDS

    mask = list(gold_mask)
    i = 0
    while i < len(mask):
        if mask[i]:
            j = i
            while j < len(mask) and mask[j]:
                j += 1
            if rng.random() < drop:
                mask[i:j] = [0] * (j - i)
            i = j
        else:
            if words[i].lower() in CUE_WORDS and rng.random() < add:
                mask[i] = 1
            i += 1
    return mask


def member_file(stage, variant, first):
    """File name of one model of a stage: the first keeps the historical name."""
    base = CUE_MODEL if stage == "cue" else ROLE_MODEL
    return base if first else base.replace(".crfsuite", f"-{variant}.crfsuite")


def sequences(docs, clusters=None, drop=0.0, add=0.0, seed=0, joint=True, cue_variants=("base",),
              role_variants=("base",), cue_masks=None, jackknifed=()):
    """Training sequences of both stages, one per paragraph: {feature set: [(x, y)]} for each.

    Every model of stage two sees the same noisy cues (one random draw per paragraph);
    those whose feature set is in `jackknifed` see instead the cues of cue_masks
    ({article name: [mask of each paragraph]}).
    """
    import random

    rng = random.Random(seed)
    cue_seqs = {v: [] for v in cue_variants}
    role_seqs = {v: [] for v in role_variants}
    for doc in docs:
        text, tokens = doc["text"], tokenize(doc["text"])
        cue = token_labels(tokens, doc["spans"]["Cue"], "CUE")
        content = token_labels(tokens, doc["spans"]["Content"], "CON")
        source = token_labels(tokens, doc["spans"]["Source"], "SRC")
        # One layer for stage two: a source inside another attribution's content wins.
        role = [s if s != "O" else c for s, c in zip(source, content)]
        # Stage one learns all three roles in one layer (a cue wins over a source, a source
        # over a content): the sequence source, cue, content is what tells a cue apart.
        first = [c if c != "O" else r for c, r in zip(cue, role)] if joint else cue
        for k, para in enumerate(paragraphs(text, tokens)):
            words = [tokens[i][2] for i in para]
            cue_p = [first[i] for i in para]
            mask = [0 if cue[i] == "O" else 1 for i in para]
            if drop or add:
                mask = noisy_cues(words, mask, rng, drop, add)
            own = cue_masks[doc["name"]][k] if cue_masks is not None else None
            role_p = [role[i] for i in para]
            for variant in set(cue_variants) | set(role_variants):
                feats, sids, quotes = base_features(words, clusters, variant)
                if variant in cue_seqs:
                    cue_seqs[variant].append((feats, cue_p))
                if variant in role_seqs:
                    m = own if own is not None and variant in jackknifed else mask
                    role_seqs[variant].append((cue_relative_features(words, feats, sids, quotes, m), role_p))
    return cue_seqs, role_seqs


def jackknife_masks(docs, folds, params, algorithm, variants, threshold, processes, workdir, joint=True):
    """Stage-one cues of every training article as a model that never saw it predicts them.

    The articles are dealt into `folds` folds; for each, stage-one models (one per
    feature set, marginals averaged) are trained on the other folds and tag it, a token
    being a cue at `threshold`, as at run time. Stage two trained on these cues learns
    from the very errors (missed cues, false alarms) stage one makes on unseen text,
    instead of random ones. Returns ({article name: [cue mask of each paragraph]}, info).
    """
    import pycrfsuite

    jobs, held = [], []
    for f in range(folds):
        rest = [d for k, d in enumerate(docs) if k % folds != f]
        held.append([d for k, d in enumerate(docs) if k % folds == f])
        cue_seqs, _ = sequences(rest, joint=joint, cue_variants=variants, role_variants=())
        for v in variants:
            jobs.append((cue_seqs[v], workdir / f"jackknife-{f}-{v}.crfsuite", params, algorithm))
        del cue_seqs
    t0 = time.time()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(train_one, jobs, chunksize=1)
    del jobs
    masks, n_cues, n_gold = {}, 0, 0
    for f in range(folds):
        taggers = []
        for v in variants:
            tagger = pycrfsuite.Tagger()
            tagger.open(str(workdir / f"jackknife-{f}-{v}.crfsuite"))
            taggers.append((tagger, v))
        for doc in held[f]:
            tokens = tokenize(doc["text"])
            masks[doc["name"]] = []
            for para in paragraphs(doc["text"], tokens):
                words = [tokens[i][2] for i in para]
                feats = {v: base_features(words, None, v)[0] for v in variants}
                p = [0.0] * len(words)
                for tagger, v in taggers:
                    tagger.set(feats[v])
                    for i in range(len(words)):
                        p[i] += (tagger.marginal("B-CUE", i) + tagger.marginal("I-CUE", i)) / len(taggers)
                masks[doc["name"]].append([1 if x >= threshold else 0 for x in p])
                n_cues += sum(masks[doc["name"]][-1])
        for v in variants:
            (workdir / f"jackknife-{f}-{v}.crfsuite").unlink()
    return masks, {"folds": folds, "feature_sets": list(variants), "threshold": threshold,
                   "training_wall_s": round(time.time() - t0, 1), "cue_tokens": n_cues}


def train_one(args):
    seqs, path, params, algorithm = args
    import pycrfsuite

    trainer = pycrfsuite.Trainer(algorithm=algorithm, verbose=False)
    for x, y in seqs:
        trainer.append(x, y)
    trainer.set_params(params)
    start = time.time()
    trainer.train(str(path))
    return time.time() - start, len(getattr(trainer.logparser, "iterations", []))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, required=True, help="folder for the two model files")
    parser.add_argument("--results", type=pathlib.Path, help="write the measures here (JSON)")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--dev-split", default="dev")
    parser.add_argument("--limit", type=int, help="train on the first N articles only (quick experiments)")
    parser.add_argument("--every", type=int, default=1,
                        help="train on every Nth article only (quick experiments on a spread-out subset)")
    parser.add_argument("--c1", type=float, default=2.0)
    parser.add_argument("--c2", type=float, default=0.01)
    parser.add_argument("--minfreq", type=float, default=3)
    parser.add_argument("--iterations", type=int, default=120)
    parser.add_argument("--skip-training", action="store_true", help="only measure the models in --out")
    parser.add_argument("--cue-drop", type=float, default=0.25,
                        help="stage two trains on gold cues with this share dropped (stage one's misses)")
    parser.add_argument("--cue-add", type=float, default=0.1,
                        help="...and this share of other lexicon cue words added (its false alarms)")
    parser.add_argument("--cue-only", action="store_true",
                        help="stage one learns cues alone (default: cues, sources and contents in one layer)")
    parser.add_argument("--no-clusters", action="store_true", help="no word-cluster features")
    parser.add_argument("--cue-features", default="base,rich",
                        help="feature sets of the stage-one models, comma-separated (%s): one model each, "
                        "their marginals averaged" % ", ".join(FEATURE_SETS))
    parser.add_argument("--role-features", default="base,rich", help="the same for stage two")
    parser.add_argument("--processes", type=int, default=2, help="models trained at once")
    parser.add_argument("--reuse-existing", action="store_true",
                        help="keep a model already in --out (same file name) instead of training it again")
    parser.add_argument("--algorithm", default="lbfgs", help="crfsuite training algorithm (lbfgs, ap, pa, l2sgd)")
    parser.add_argument("--jackknife", type=int, default=0, metavar="FOLDS",
                        help="train stage two on stage one's own cues, predicted for each article by "
                        "stage-one models trained on the other folds (instead of noisy gold cues)")
    parser.add_argument("--jackknife-roles", metavar="SETS",
                        help="only the stage-two models of these feature sets (default: all of them)")
    parser.add_argument("--jackknife-features", default="base",
                        help="feature sets of those fold models (comma-separated)")
    parser.add_argument("--jackknife-iterations", type=int, help="their iterations (default: --iterations)")
    parser.add_argument("--thresholds", default="0.4,0.5,0.4,0.6",
                        help="cue, source, content thresholds on the marginals, and the one a cue with "
                        "nothing attributed to it must reach; written beside the models")
    parser.add_argument("--content-from-stage-one", type=float, default=0.0, metavar="SHARE",
                        help="share of a token's content probability taken from stage one's content "
                        "marginals (the rest from stage two's); written beside the models")
    parser.add_argument("--source-gap", type=float, default=0.0, metavar="P",
                        help="fill the gap between two source spans of a sentence when every token in it "
                        "is at least this likely a source (0: off); written beside the models")
    parser.add_argument("--neural", metavar="FILE",
                        help="the neural stage-one member in --out (bench/attributions/neural.py writes it), "
                        "listed in attribution-models.json")
    parser.add_argument("--neural-weight", type=float, default=0.5,
                        help="its share of stage one's marginals; written beside the models")
    a = parser.parse_args()

    train = load_split(a.corpus, a.train_split)
    if a.limit:
        train = train[: a.limit]
    train = train[:: a.every]
    dev = load_split(a.corpus, a.dev_split)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.algorithm == "lbfgs":
        params = {"c1": a.c1, "c2": a.c2, "max_iterations": a.iterations, "feature.minfreq": a.minfreq,
                  "feature.possible_transitions": True}
    else:
        params = {"max_iterations": a.iterations, "feature.minfreq": a.minfreq,
                  "feature.possible_transitions": True}
    cue_variants = a.cue_features.split(",")
    role_variants = a.role_features.split(",")
    for v in cue_variants + role_variants:
        if v not in FEATURE_SETS:
            parser.error(f"unknown feature set {v!r} (known: {', '.join(FEATURE_SETS)})")
    members = {"cue": [[member_file("cue", v, k == 0), v] for k, v in enumerate(cue_variants)],
               "role": [[member_file("role", v, k == 0), v] for k, v in enumerate(role_variants)]}
    if a.neural:
        members["neural"] = a.neural
    info = {"train_articles": len(train), "dev_articles": len(dev), "params": params, "algorithm": a.algorithm,
            "cue_noise": {"drop": a.cue_drop, "add": a.cue_add}, "clusters": not a.no_clusters,
            "stage_one": "cue" if a.cue_only else "joint", "members": members,
            "stage_two_cues": {v: f"jackknifed, {a.jackknife} folds" if a.jackknife and (
                not a.jackknife_roles or v in a.jackknife_roles.split(",")) else "noisy gold" for v in role_variants}}
    if not a.skip_training:
        t0 = time.time()
        clusters = None
        if not a.no_clusters:
            write_clusters(make_clusters([d["text"] for d in train]), a.out / CLUSTERS)
            clusters = load_clusters(a.out)
            info["clusters_s"] = round(time.time() - t0, 1)
        elif (a.out / CLUSTERS).exists():
            (a.out / CLUSTERS).unlink()
        todo = [(stage, name, v) for stage in ("cue", "role") for name, v in members[stage]
                if not (a.reuse_existing and (a.out / (name + ".gz")).is_file())]
        info["reused"] = [name for stage in ("cue", "role") for name, _v in members[stage]
                          if (stage, name) not in {(s_, n_) for s_, n_, _ in todo}]
        cue_masks = None
        jackknifed = set(a.jackknife_roles.split(",") if a.jackknife_roles else role_variants)
        if a.jackknife and any(s_ == "role" and v in jackknifed for s_, _n, v in todo):
            fold_params = dict(params, max_iterations=a.jackknife_iterations or a.iterations)
            cue_masks, info["jackknife"] = jackknife_masks(
                train, a.jackknife, fold_params, a.algorithm, a.jackknife_features.split(","),
                float(a.thresholds.split(",")[0]), a.processes, a.out, joint=not a.cue_only)
            print("jackknife:", info["jackknife"], flush=True)
        t0 = time.time()
        cue_seqs, role_seqs = sequences(
            train, clusters, a.cue_drop, a.cue_add, joint=not a.cue_only,
            cue_variants=sorted({v for s_, _n, v in todo if s_ == "cue"}),
            role_variants=sorted({v for s_, _n, v in todo if s_ == "role"}), cue_masks=cue_masks,
            jackknifed=jackknifed)
        info["feature_extraction_s"] = round(time.time() - t0, 1)
        info["train_tokens"] = sum(len(tokenize(d["text"])) for d in train)
        t0 = time.time()
        jobs = [((cue_seqs if stage == "cue" else role_seqs)[v], a.out / name, params, a.algorithm)
                for stage, name, v in todo]
        with multiprocessing.get_context("fork").Pool(a.processes) as pool:
            results = pool.map(train_one, jobs)
        del cue_seqs, role_seqs, jobs
        import gzip

        for _stage, name, _v in todo:  # shipped gzipped (the Labeller reads either)
            (a.out / (name + ".gz")).write_bytes(gzip.compress((a.out / name).read_bytes(), 9))
            (a.out / name).unlink()
        info["training_wall_s"] = round(time.time() - t0, 1)
        info["training_s_per_model"] = {name: round(r[0], 1) for (_s, name, _v), r in zip(todo, results)}
        info["iterations"] = {name: r[1] for (_s, name, _v), r in zip(todo, results)}
    (a.out / MEMBERS).write_text(json.dumps(members, indent=1) + "\n")
    thresholds = tuple(float(x) for x in a.thresholds.split(","))
    chosen = dict(zip(("cue", "source", "content", "bare_cue"), thresholds))
    if a.content_from_stage_one:
        chosen["content_from_stage_one"] = a.content_from_stage_one
    if a.source_gap:
        chosen["source_gap"] = a.source_gap
        info["source_gap"] = a.source_gap
    if a.neural:
        chosen["neural_weight"] = a.neural_weight
        info["neural_weight"] = a.neural_weight
    (a.out / THRESHOLDS).write_text(json.dumps(chosen) + "\n")
    info["thresholds"] = thresholds
    info["content_from_stage_one"] = a.content_from_stage_one
    labeller = Labeller(a.out)
    n_tokens = sum(len(tokenize(d["text"])) for d in dev)
    t0, c0 = time.time(), time.process_time()
    predictions = {d["name"]: labeller.attributions(d["text"]) for d in dev}
    elapsed, cpu = time.time() - t0, time.process_time() - c0
    info["dev_tokens"] = n_tokens
    info["tokens_per_second"] = round(n_tokens / elapsed)
    # Wall time depends on what else the machine runs; CPU time of this process much less.
    info["tokens_per_cpu_second"] = round(n_tokens / cpu)
    info["load_average"] = [round(x, 2) for x in __import__("os").getloadavg()]
    info["model_bytes_gzipped"] = {name: (a.out / (name + ".gz")).stat().st_size
                                   for stage in ("cue", "role") for name, _v in members[stage]}
    if a.neural:
        info["model_bytes_gzipped"][a.neural] = (a.out / a.neural).stat().st_size
    info["model_mb_total_gzipped"] = round(sum(info["model_bytes_gzipped"].values()) / 1e6, 2)
    info["dev"] = measure(dev, predictions)
    print(json.dumps(info, indent=2))
    if a.results:
        a.results.write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    main()
