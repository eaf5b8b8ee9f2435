"""Stance of a text toward a claim: does it assert it (`for`), deny it (`against`) or
report it without taking a side (`observing`)?

A multinomial logistic regression over features computed here in plain Python: the
text's words and word pairs with the words it shares with the claim masked (TF-IDF over
"_c_ denies", "reportedly _c_", "<s> report": patterns that carry over to claims never
seen in training, unlike the claim's own topic words), refuting and hedging cues (and
whether they are new to the text, i.e. not in the claim, and where they stand), how much
of the claim the text repeats, and negation or refutation close to the words it shares
with the claim.
The shipped model (models/stance.json) is a vocabulary with its IDF weights and the
coefficients; scoring needs neither numpy nor scikit-learn, so it does not depend on
their versions. bench/stance/train.py trains it (scikit-learn) on the Emergent corpus
(Ferreira and Vlachos, NAACL 2016) and measures it.
"""

import json
import math
import pathlib
import re
from collections import Counter
from functools import lru_cache

MODEL_PATH = pathlib.Path(__file__).parent / "models" / "stance.json"
CLASSES = ("for", "against", "observing")

# Cue lists: Ferreira and Vlachos (2016) give the refuting and hedging words their
# features start from; a few more that news headlines use for the same acts.
REFUTING = frozenset("""
fake fraud frauds fraudulent hoax hoaxes false falsely deny denies denied denying denial
not no never nope doubt doubts doubted doubtful bogus debunk debunks debunked debunking
prank pranks retract retracts retracted retraction untrue myth myths rumour-buster
refute refutes refuted dismiss dismisses dismissed reject rejects rejected wrong
satire satirical spoof parody phony phoney nonsense baseless unfounded lie lies lied
misleading mislead scam scams insist insists despite contrary contradict contradicts
isnt arent wasnt werent doesnt didnt hasnt havent wont cant
""".split())
HEDGING = frozenset("""
alleged allegedly apparently appear appears appeared claim claims claimed claiming
could evidently largely likely mainly may maybe might mostly perhaps presumably
probably purported purportedly reported reportedly report reports rumor rumors rumour
rumours rumored rumoured says say said seem seems seemingly somewhat supposedly
unconfirmed unverified possible possibly suggest suggests suggested speculation
speculate speculates speculated believed thought rumoured source sources according
analyst analysts expected expects might would if whether tipped set plans planning
""".split())
NEGATION = frozenset("not no never none nobody nothing neither nor without".split())
STOP = frozenset("""
a an the of to in on at for by with from and or but is are was were be been being it its
this that these those as into over after before about than then so such has have had do
does did will would can could should may might must he she they we you i his her their
our your them him us me my who whom which what when where why how all any some more most
s t
""".split())

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|\?|!")
NUMBER = re.compile(r"^\d+$")
NT = re.compile(r"n't$")


def tokens(text):
    """Lower-cased word tokens; "isn't" becomes "is" + "not"; "?" and "!" are tokens."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    out = []
    for token in TOKEN.findall(text):
        if token.endswith("n't"):
            stem = NT.sub("", token)
            if stem in ("ca", "wo"):
                stem = {"ca": "can", "wo": "will"}[stem]
            out.extend((stem, "not"))
        elif "'" in token:
            out.append(token.split("'")[0])
        else:
            out.append(token)
    return out


@lru_cache(maxsize=1 << 16)  # words repeat: a full `suggest-links` stems millions
def stem(word):
    """A light suffix stripper, enough to match "denies"/"denied", "arrested"/"arrest"."""
    for suffix, keep in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + keep
    return word


def content(words):
    return [stem(w) for w in words if w not in STOP and w not in "?!" and len(w) > 1]


def masked(words, claim_stems):
    """The text's words with those it shares with the claim as "_c_" (a run of them as
    one) and numbers as "_n_": what the text says about the claim, not its topic."""
    out = []
    for word in words:
        if NUMBER.match(word):
            token = "_n_"
        elif word not in STOP and stem(word) in claim_stems:
            token = "_c_"
        else:
            token = word
        if not (token == "_c_" and out and out[-1] == "_c_"):
            out.append(token)
    return out


def raw_features(claim, text):
    """The features of one (claim, text) pair before weighting.

    Returns (groups, dense): groups maps a TF-IDF group name ("m": masked words, word
    pairs and the first and last word marked as such) to a Counter of terms; dense maps
    named features to values in [0, 1].
    """
    words = tokens(text)
    claim_words = tokens(claim)
    claim_stems = set(content(claim_words))
    claim_plain = set(claim_words)
    stems = [stem(w) for w in words]

    mask = masked(words, claim_stems)
    grams = Counter(mask)
    grams.update(f"{a} {b}" for a, b in zip(mask, mask[1:]))
    if mask:
        grams.update((f"<s> {mask[0]}", f"{mask[-1]} </s>"))

    dense = {}
    text_content = [s for s, w in zip(stems, words) if w not in STOP and w not in "?!" and len(w) > 1]
    shared = [s for s in text_content if s in claim_stems]
    if claim_stems:
        dense["claim_covered"] = len(set(shared)) / len(claim_stems)
    if text_content:
        dense["text_in_claim"] = len(shared) / len(text_content)
    claim_pairs = {f"{a} {b}" for a, b in zip(content(claim_words), content(claim_words)[1:])}
    text_pairs = {f"{a} {b}" for a, b in zip(text_content, text_content[1:])}
    if claim_pairs:
        dense["claim_pairs_covered"] = len(claim_pairs & text_pairs) / len(claim_pairs)

    # Cues, and whether each is new to the text (a claim that itself says "claims"
    # or "not" does not make every headline repeating it a relay or a denial).
    for name, lexicon in (("refute", REFUTING), ("hedge", HEDGING)):
        found = [w for w in words if w in lexicon]
        new = [w for w in found if w not in claim_plain]
        if found:
            dense[f"{name}_any"] = 1.0
        if new:
            dense[f"{name}_new"] = 1.0
            dense[f"{name}_new_count"] = min(len(new), 3) / 3
        for w in set(new):
            dense[f"{name}_word={w}"] = 1.0
        # Where the first and last new cue stand: "Report: ...", "..., sources say".
        at = [i for i, w in enumerate(words) if w in lexicon and w not in claim_plain]
        if at:
            if at[0] < 3:
                dense[f"{name}_first3"] = 1.0
            if at[-1] >= len(words) - 3:
                dense[f"{name}_last3"] = 1.0
    if "?" in words:
        dense["question"] = 1.0
        if words and words[-1] == "?":
            dense["question_end"] = 1.0
    if words and words[0] in ("no", "not", "nope"):
        dense["starts_no"] = 1.0
    if "!" in words:
        dense["exclaim"] = 1.0
    if ":" in text:
        # "Source: ...", "Expert: ..." headlines put a speaker before a colon.
        dense["colon"] = 1.0
        head = content(tokens(text.split(":", 1)[0]))
        if head and not any(s in claim_stems for s in head):
            dense["colon_speaker"] = 1.0

    # Negation or refutation within three words of a word the text shares with the claim.
    aligned = [i for i, s in enumerate(stems) if s in claim_stems and words[i] not in STOP]
    for name, lexicon in (("negation", NEGATION), ("refute", REFUTING), ("hedge", HEDGING)):
        cues = [i for i, w in enumerate(words) if w in lexicon and w not in claim_plain]
        if cues and aligned and any(abs(i - j) <= 3 for i in cues for j in aligned):
            dense[f"{name}_near_aligned"] = 1.0
    # Negation in the text where the claim has none (or the reverse).
    text_neg = any(w in NEGATION for w in words)
    claim_neg = any(w in NEGATION for w in claim_words)
    if text_neg != claim_neg:
        dense["negation_mismatch"] = 1.0
    coverage = dense.get("claim_covered", 0.0)
    for name in ("hedge_new", "refute_new", "question"):
        if name in dense:
            dense[f"{name}*covered"] = coverage
    return {"m": grams}, dense


def weighted(groups, dense, idf):
    """Sublinear TF-IDF per group, L2-normalised, over the vocabulary ``idf``; plus dense."""
    features = {}
    for group, counts in groups.items():
        vocabulary = idf[group]
        values = {t: (1 + math.log(n)) * vocabulary[t] for t, n in counts.items() if t in vocabulary}
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        for term, value in values.items():
            features[f"{group}:{term}"] = value / norm
    features.update(dense)
    return features


class StanceModel:
    """The shipped model: ``predict(claim, text)`` gives (stance, score)."""

    def __init__(self, data):
        self.classes = tuple(data["classes"])
        self.intercept = data["intercept"]
        self.idf = data["idf"]
        self.weights = data["weights"]

    @classmethod
    def load(cls, path=MODEL_PATH):
        return cls(json.loads(pathlib.Path(path).read_text(encoding="utf-8")))

    def probabilities(self, claim, text):
        groups, dense = raw_features(claim, text)
        scores = list(self.intercept)
        for name, value in weighted(groups, dense, self.idf).items():
            row = self.weights.get(name)
            if row:
                for k, w in enumerate(row):
                    scores[k] += w * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return dict(zip(self.classes, (e / total for e in exps)))

    def predict(self, claim, text):
        probabilities = self.probabilities(claim, text)
        stance = max(probabilities, key=probabilities.get)
        return stance, probabilities[stance]


@lru_cache(maxsize=1)
def model():
    return StanceModel.load()
