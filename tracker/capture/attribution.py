"""Attributions in a text: cue, source and content spans, from the shipped models.

Two stages, each a linear-chain CRF (python-crfsuite) over the tokens of a paragraph:
the cue tagger marks cues ("said", "according to", "told"); the role tagger then marks
sources and contents with features relative to those predicted cues (direction,
distance, same sentence, quotation state). Each stage may be a small ensemble: models
trained on different feature sets (features.FEATURE_SETS), their marginals averaged
(attribution-models.json names the files); a share of each token's content
probability may come from stage one, which labels contents too. Spans are grouped
into attributions by attaching each source and content span to its nearest cue,
preferring the same sentence. Stage one may also have a neural member (neural.py: a
BiLSTM run in numpy, the file named under "neural" in attribution-models.json): its
marginals are averaged with the CRFs', at the weight `neural_weight` of the thresholds
file. Offsets are Python string indices into the text, end exclusive.

The models are trained by bench/attributions/train.py and ship in
tracker/capture/models/; a desk can train its own on any corpus in PolNeAR's BRAT
layout and point TRACKER_ATTRIBUTION_MODELS at the folder holding the files.
"""

import os
import pathlib
from importlib import resources

from .features import base_features, cue_relative_features, paragraphs, tokenize

CUE_MODEL = "attribution-cue.crfsuite"
ROLE_MODEL = "attribution-role.crfsuite"
CLUSTERS = "attribution-clusters.json.gz"
THRESHOLDS = "attribution-thresholds.json"
# Which model files make up each stage, and the feature set each was trained on
# ({"cue": [[file, feature set], ...], "role": [...]}); without it, the single pair above
# on the base features. Several models in a stage are an ensemble: their marginals are
# averaged. An optional "neural": file adds the BiLSTM member to stage one.
MEMBERS = "attribution-models.json"


def load_clusters(folder):
    """The word clusters beside the models ({word: [coarse, fine]}), or None."""
    import gzip
    import json

    path = pathlib.Path(folder) / CLUSTERS
    if not path.is_file():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {w: (str(a), str(b)) for w, (a, b) in json.load(f)["words"].items()}


def model_dir():
    """The folder of the two model files: TRACKER_ATTRIBUTION_MODELS, else the package's."""
    override = os.environ.get("TRACKER_ATTRIBUTION_MODELS")
    if override:
        return pathlib.Path(override)
    return pathlib.Path(str(resources.files("tracker.capture") / "models"))


def spans_of(labels, tag):
    """[(first, last)] token index runs labelled B-tag/I-tag (an I without a B opens one)."""
    runs, start = [], None
    for i, label in enumerate(labels):
        if label == "B-" + tag or (label == "I-" + tag and start is None):
            if start is not None:
                runs.append((start, i - 1))
            start = i
        elif label != "I-" + tag:
            if start is not None:
                runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(labels) - 1))
    return runs


class Labeller:
    """The two taggers, opened once; `attributions(text)` labels one text."""

    # Decision thresholds on the marginals (bench/attributions/train.py --thresholds).
    cue_threshold = 0.5
    source_threshold = 0.5
    content_threshold = 0.5
    bare_cue_threshold = 0.5  # a cue with no source or content is kept only this sure
    # Share of a token's content probability taken from stage one's own content marginals
    # (stage one learns cues, sources and contents in one layer): stage one does not
    # depend on the predicted cues, so it still sees the content of a cue it missed.
    content_from_stage_one = 0.0
    # Share of stage one's marginals taken from the neural member (when there is one).
    neural_weight = 0.5
    # Two source spans of one sentence are one span when every token between them (none
    # a cue or content) is at least this likely a source (fill_source_gaps); 0: off.
    source_gap = 0.0

    def __init__(self, folder=None, thresholds=None):
        import pycrfsuite

        folder = pathlib.Path(folder) if folder else model_dir()
        members = {"cue": [[CUE_MODEL, "base"]], "role": [[ROLE_MODEL, "base"]]}
        if (folder / MEMBERS).is_file():
            import json

            members = json.loads((folder / MEMBERS).read_text(encoding="utf-8"))
        self._models = []
        self.cue = [(self._open(pycrfsuite, folder, name), variant) for name, variant in members["cue"]]
        self.role = [(self._open(pycrfsuite, folder, name), variant) for name, variant in members["role"]]
        self.neural = None
        if members.get("neural"):
            from .neural import TAGS, NeuralTagger

            self.neural = NeuralTagger(folder / members["neural"])
            # the columns of its marginals that stage one's CRFs give too
            self.neural_columns = [TAGS.index(t) for t in self.STAGE_ONE_TAGS]
        self.clusters = load_clusters(folder)
        chosen = folder / THRESHOLDS
        if not thresholds and chosen.is_file():
            import json

            t = json.loads(chosen.read_text())
            thresholds = (t["cue"], t["source"], t["content"], t.get("bare_cue", 0.5))
            self.content_from_stage_one = t.get("content_from_stage_one", 0.0)
            self.neural_weight = t.get("neural_weight", self.neural_weight)
            self.source_gap = t.get("source_gap", self.source_gap)
        if thresholds:
            (self.cue_threshold, self.source_threshold, self.content_threshold,
             self.bare_cue_threshold) = (tuple(thresholds) + (0.5,))[:4]

    def _open(self, pycrfsuite, folder, name):
        tagger = pycrfsuite.Tagger()
        packed = folder / (name + ".gz")  # shipped gzipped: a third of the size in git
        if packed.is_file():
            import gzip

            # crfsuite reads the model in place: the bytes must live as long as the tagger
            self._models.append(gzip.decompress(packed.read_bytes()))
            tagger.open_inmemory(self._models[-1])
        elif (folder / name).is_file():
            tagger.open(str(folder / name))
        else:
            raise FileNotFoundError(f"attribution model not found: {packed} (or {folder / name})")
        return tagger

    @staticmethod
    def _marginals(members, features, tags):
        """Per token, the summed marginals of `tags`, averaged over the models of a stage."""
        total = None
        for tagger, variant in members:
            tagger.set(features[variant])
            n = len(features[variant])
            probs = [[tagger.marginal(t, i) for t in tags] for i in range(n)]
            if total is None:
                total = probs
            else:
                total = [[a + b for a, b in zip(x, y)] for x, y in zip(total, probs)]
        k = len(members)
        return [[p / k for p in row] for row in total]

    STAGE_ONE_TAGS = ("B-CUE", "I-CUE", "B-CON", "I-CON")

    def stage_one(self, words, features, neural=None):
        """Stage one's marginals of STAGE_ONE_TAGS for each token (see with_neural)."""
        return self.with_neural(self._marginals(self.cue, features, self.STAGE_ONE_TAGS), words, neural)

    def with_neural(self, first, words, neural=None):
        """The CRFs' stage-one marginals blended with the neural member's.

        `neural`: its marginals of this paragraph, computed with the text's other
        paragraphs (batched); else computed here. Without a neural member: `first`.
        """
        if self.neural is None or not self.neural_weight:
            return first
        if neural is None:
            (neural,) = self.neural.marginals([words])
        w = self.neural_weight
        return [[(1 - w) * a + w * float(b) for a, b in zip(row, nrow)]
                for row, nrow in zip(first, neural[:, self.neural_columns].tolist())]

    def label_paragraph(self, words, neural=None):
        """Cue labels, role labels and cue marginals for one paragraph's words.

        Labels come from the marginal probabilities, not the single best sequence: a
        token is a cue when P(cue) reaches `cue_threshold`, a source or content token
        when P(source) or P(content) reaches its threshold (chosen on dev: the best
        sequence under-predicts, trading recall for precision).
        """
        features, sids, quotes = {}, None, None
        for _tagger, variant in self.cue + self.role:
            if variant not in features:
                features[variant], sids, quotes = base_features(words, self.clusters, variant)
        n = len(words)
        blend = self.content_from_stage_one
        first = self.stage_one(words, features, neural)
        cue_p = [row[0] + row[1] for row in first]
        mask = [1 if p >= self.cue_threshold else 0 for p in cue_p]
        cue_labels = ["O"] * n
        for i in range(n):
            if mask[i]:
                cue_labels[i] = "I-CUE" if i and mask[i - 1] else "B-CUE"
        relative = {variant: cue_relative_features(words, features[variant], sids, quotes, mask)
                    for variant in {v for _t, v in self.role}}
        role_p = self._marginals(self.role, relative, ("B-SRC", "I-SRC", "B-CON", "I-CON"))
        role_labels = ["O"] * n
        src_p = [row[0] + row[1] for row in role_p]
        for i in range(n):
            p_src = src_p[i]
            p_con = role_p[i][2] + role_p[i][3]
            if blend:
                p_con = (1 - blend) * p_con + blend * (first[i][2] + first[i][3])
            if p_src >= self.source_threshold and p_src >= p_con:
                tag = "SRC"
            elif p_con >= self.content_threshold:
                tag = "CON"
            elif p_src >= self.source_threshold:
                tag = "SRC"
            else:
                continue
            role_labels[i] = ("I-" if i and role_labels[i - 1][2:] == tag else "B-") + tag
        if self.source_gap:
            role_labels = fill_source_gaps(role_labels, cue_labels, src_p, sids, self.source_gap)
        return cue_labels, role_labels, cue_p, sids

    def attributions(self, text):
        """[{cue, source, content, score}] for a text, offsets into `text`."""
        tokens = tokenize(text)
        found = []
        paras = paragraphs(text, tokens)
        all_words = [[tokens[i][2] for i in para] for para in paras]
        # The neural member runs once for the whole text, its paragraphs batched.
        neural = self.neural.marginals(all_words) if self.neural is not None and self.neural_weight else \
            [None] * len(paras)
        for para, words, nm in zip(paras, all_words, neural):
            cue_labels, role_labels, cue_scores, sids = self.label_paragraph(words, nm)
            found.extend(att for att in group(para, tokens, cue_labels, role_labels, cue_scores, sids)
                         # a doubtful cue with nothing attributed to it is dropped
                         if att["content"] or att["source"] or att["score"] >= self.bare_cue_threshold)
        return found


def fill_source_gaps(role_labels, cue_labels, src_p, sids, low):
    """Role labels with the gap between two source spans of a sentence filled when every
    token in it is unlabelled, not a cue, and at least `low` likely a source.

    The threshold splits one source into fragments where a token in it ("," "of" "and"
    in "Kim Yo Jong, sister of Kim Jong Un") falls just below it; a fragment then also
    counts as a false source of its own. `low` (0.25) was chosen on train out-of-fold
    predictions by exact-span F1 (bench/README.md), not on dev.
    """
    labels = list(role_labels)
    runs = spans_of(labels, "SRC")
    for (_a1, b1), (a2, _b2) in zip(runs, runs[1:]):
        gap = range(b1 + 1, a2)
        if sids[b1] == sids[a2] and all(labels[i] == "O" and cue_labels[i] == "O" and src_p[i] >= low for i in gap):
            for i in range(b1 + 1, a2 + 1):
                labels[i] = "I-SRC"
    return labels


def group(para, tokens, cue_labels, role_labels, cue_scores, sids):
    """Attach each source and content span of a paragraph to its nearest cue."""
    cues = spans_of(cue_labels, "CUE")
    if not cues:
        return []
    attributions = [{"cue": [(a, b)], "source": [], "content": [],
                     "score": sum(cue_scores[a:b + 1]) / (b - a + 1)} for a, b in cues]
    for role, tag in (("source", "SRC"), ("content", "CON")):
        for a, b in spans_of(role_labels, tag):
            best = None
            for k, (ca, cb) in enumerate(cues):
                distance = ca - b if b < ca else (a - cb if a > cb else 0)
                # A cue in another sentence counts as farther than any in the same one.
                same = sids[a] == sids[ca] or sids[b] == sids[cb] or sids[a] == sids[cb]
                key = (0 if same else 1, distance)
                if best is None or key < best[0]:
                    best = (key, k)
            attributions[best[1]][role].append((a, b))
    out = []
    for att in attributions:
        out.append({
            role: [[tokens[para[a]][0], tokens[para[b]][1]] for a, b in att[role]]
            for role in ("cue", "source", "content")
        } | {"score": round(att["score"], 3)})
    return out
