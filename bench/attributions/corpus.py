"""Read an attribution corpus in PolNeAR's BRAT layout, and measure predictions on it.

Layout (any corpus laid out like this works, so a desk can train on its own articles):

    CORPUS/metadata.tsv              optional: columns `compartment`, `filename`, `annotators`
                                     (annotator ids joined by `|`; the first listed is used)
    CORPUS/SPLIT/text/NAME.txt       the article text, UTF-8
    CORPUS/SPLIT/attributions/NAME_ANNOTATOR.ann   BRAT standoff: `T` lines of type Cue,
                                     Source, Content with `start end[;start end...]`

Without metadata.tsv (or for an article it does not list) the first .ann file of the
article in name order is used.
"""

import bisect
import csv
import pathlib
import re

ROLES = ("Cue", "Source", "Content")
TOKEN = re.compile(r"\w+(?:['’\-.]\w+)*|\S")


def first_annotators(corpus):
    path = pathlib.Path(corpus) / "metadata.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["filename"]: row["annotators"].split("|")[0]
                for row in csv.DictReader(f, delimiter="\t")}


def read_ann(path):
    """{role: [(start, end), ...]} : every fragment of every T line of the three roles."""
    spans = {role: [] for role in ROLES}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("T"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        kind, _, offsets = parts[1].partition(" ")
        if kind not in spans:
            continue
        for fragment in offsets.split(";"):
            start, end = fragment.split()
            spans[kind].append((int(start), int(end)))
    return spans


def load_split(corpus, split):
    """[{name, text, spans}] for the articles of one split, gold from the first annotator."""
    corpus = pathlib.Path(corpus)
    annotators = first_annotators(corpus)
    folder = corpus / split
    docs = []
    for text_path in sorted((folder / "text").glob("*.txt")):
        name = text_path.stem
        ann = None
        if name in annotators:
            candidate = folder / "attributions" / f"{name}_{annotators[name]}.ann"
            if candidate.exists():
                ann = candidate
        if ann is None:
            found = sorted((folder / "attributions").glob(f"{name}_*.ann"))
            if not found:
                continue
            ann = found[0]
        docs.append({"name": name, "text": text_path.read_text(encoding="utf-8"), "spans": read_ann(ann)})
    return docs


def _dedupe(spans):
    return sorted(set((int(a), int(b)) for a, b in spans))


def overlap_counts(pred, gold):
    """(predicted spans overlapping a gold one, gold spans overlapped, #pred, #gold)."""
    pred, gold = _dedupe(pred), _dedupe(gold)
    hit_pred = sum(1 for a, b in pred if any(a < gb and ga < b for ga, gb in gold))
    hit_gold = sum(1 for ga, gb in gold if any(a < gb and ga < b for a, b in pred))
    return hit_pred, hit_gold, len(pred), len(gold)


def token_set(text, spans):
    """Start offsets of the tokens that share a character with any of the spans."""
    marks = bytearray(len(text) + 1)
    for a, b in spans:
        for k in range(max(0, a), min(len(text), b)):
            marks[k] = 1
    return {m.start() for m in TOKEN.finditer(text) if any(marks[m.start():m.end()])}


def prf(tp_p, tp_r, n_pred, n_gold):
    p = tp_p / n_pred if n_pred else 0.0
    r = tp_r / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def measure(docs, predictions):
    """Cue and source span-overlap P/R/F1 and content token P/R/F1 over the documents.

    predictions: {name: [attribution dicts with cue/source/content fragment lists]}.
    """
    totals = {"cue": [0, 0, 0, 0], "source": [0, 0, 0, 0]}
    tok = [0, 0, 0]  # true positives, predicted, gold
    for doc in docs:
        atts = predictions.get(doc["name"], [])
        for role, gold_role in (("cue", "Cue"), ("source", "Source")):
            pred = [tuple(f) for a in atts for f in a[role]]
            counts = overlap_counts(pred, doc["spans"][gold_role])
            totals[role] = [x + y for x, y in zip(totals[role], counts)]
        pred_tokens = token_set(doc["text"], [tuple(f) for a in atts for f in a["content"]])
        gold_tokens = token_set(doc["text"], doc["spans"]["Content"])
        tok[0] += len(pred_tokens & gold_tokens)
        tok[1] += len(pred_tokens)
        tok[2] += len(gold_tokens)
    return {
        "cue_overlap": prf(*totals["cue"]),
        "source_overlap": prf(*totals["source"]),
        "content_token": prf(tok[0], tok[0], tok[1], tok[2]),
    }


def token_labels(tokens, spans, tag):
    """BIO labels of tokens for a list of character spans (a token sharing a character is
    in): the training labels of the CRFs (train.py) and of the neural member (neural.py)."""
    labels = ["O"] * len(tokens)
    starts = [t[0] for t in tokens]
    for a, b in sorted(spans):
        i = max(bisect.bisect_right(starts, a) - 1, 0)
        first = True
        while i < len(tokens) and tokens[i][0] < b:
            if tokens[i][1] > a:
                labels[i] = ("B-" if first else "I-") + tag
                first = False
            i += 1
    return labels
