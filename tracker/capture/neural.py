"""A small neural member of stage one: a BiLSTM tagger run in numpy.

The CRFs of stage one see sparse indicator features; this member sees learnt dense
embeddings of each token's word, affixes, shape, lexicon class, quotation state,
multiword-cue mark and sentence start, read in both directions by a bidirectional LSTM,
and gives each token a softmax over the stage-one labels (TAGS). Its marginals are
averaged with the CRFs' (attribution.Labeller): it makes different errors from them.

It is trained outside the package (bench/attributions/neural.py, with torch) and ships
as one compressed .npz of weights and vocabularies; here it runs in numpy alone, the
paragraphs of a text batched together, so no deep-learning library is needed at run
time.
"""

import numpy as np

from .features import lexicon_class, multiword_marks, quote_state, sentence_ids, shape

NEURAL_MODEL = "attribution-neural.npz"
# Stage one's labels: a cue wins over a source, a source over a content (train.py).
TAGS = ("O", "B-CUE", "I-CUE", "B-SRC", "I-SRC", "B-CON", "I-CON")
# The symbolic fields of a token, each embedded by its own table (index 0 padding, 1 unknown).
FIELDS = ("word", "suffix", "prefix", "shape", "lex", "quote", "mw", "bos")


def token_fields(words):
    """{field: [value of each token]} for one paragraph: the model's symbolic input."""
    lower = [w.lower() for w in words]
    quotes = quote_state(words)
    sids = sentence_ids(words, quotes)
    marks = multiword_marks(lower)
    return {
        "word": lower,
        "suffix": [lw[-3:] for lw in lower],
        "prefix": [lw[:3] for lw in lower],
        "shape": [shape(w) for w in words],
        "lex": [lexicon_class(w, lw) for w, lw in zip(words, lower)],
        "quote": [str(q) for q in quotes],
        "mw": [m or "-" for m in marks],
        "bos": ["1" if i == 0 or sids[i] != sids[i - 1] else "0" for i in range(len(words))],
    }


def encode(fields, vocab):
    """[n, len(FIELDS)] int array of vocabulary ids (1 for values not in the vocabulary)."""
    return np.array([[vocab[f].get(v, 1) for v in fields[f]] for f in FIELDS], dtype=np.int64).T


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


class NeuralTagger:
    """The exported BiLSTM (attribution-neural.npz), run in numpy."""

    def __init__(self, path):
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        self.vocab = {}
        for f in FIELDS:
            values = bytes(data["vocab_" + f]).decode("utf-8").split("\n")
            # ids 0 and 1 are padding and unknown
            self.vocab[f] = {v: i + 2 for i, v in enumerate(values)}
        self.layers = int(data["layers"])
        self.hidden = H = int(data["hidden"])
        # torch's gate order i f g o, reordered to i f o g: the three sigmoid gates contiguous
        order = np.concatenate([np.arange(g * H, (g + 1) * H) for g in (0, 1, 3, 2)])
        self.weights = []
        for k in range(self.layers):
            # per direction: input weights [in, 4H], recurrent [H, 4H], bias [4H]
            inp = np.stack([data[f"l{k}_{d}_w_ih"][order].T for d in "fb"]).astype(np.float32)
            rec = np.stack([data[f"l{k}_{d}_w_hh"][order].T for d in "fb"]).astype(np.float32)
            bias = np.stack([(data[f"l{k}_{d}_b_ih"] + data[f"l{k}_{d}_b_hh"])[order] for d in "fb"])
            self.weights.append((inp, rec, bias.astype(np.float32)))
        # The first layer's input projection of every embedding row, computed once: a
        # token's input gates are then a sum of table rows instead of a matrix product.
        inp0 = self.weights[0][0]
        self.tables, col = [], 0
        for f in FIELDS:
            emb = data["emb_" + f].astype(np.float32)
            part = inp0[:, col:col + emb.shape[1]]
            self.tables.append(np.einsum("ve,dez->vdz", emb, part).astype(np.float32))  # [V, 2, 4H]
            col += emb.shape[1]
        self.tables[0] = self.tables[0] + self.weights[0][2]  # the bias rides on the word table
        self.out_w = data["out_w"].astype(np.float32).T  # [2H, tags]
        self.out_b = data["out_b"].astype(np.float32)
        try:  # small matrices: BLAS threads cost more than they bring (and the machine is shared)
            from threadpoolctl import ThreadpoolController

            self._threads = ThreadpoolController()
        except ImportError:
            self._threads = None

    def marginals(self, paragraphs, batch=64):
        """[array [n_i, len(TAGS)]] of label probabilities for each paragraph's words.

        Paragraphs run together, `batch` at a time, longest first: at each step only the
        paragraphs not yet ended take part (no padding).
        """
        order = sorted(range(len(paragraphs)), key=lambda i: -len(paragraphs[i]))
        out = [None] * len(paragraphs)
        limit = self._threads.limit(limits=1, user_api="blas") if self._threads else None
        try:
            for k in range(0, len(order), batch):
                group = [i for i in order[k:k + batch]]
                for i, p in zip(group, self._run([paragraphs[i] for i in group])):
                    out[i] = p
        finally:
            if limit is not None:
                limit.restore_original_limits()
        return out

    def _run(self, paragraphs):
        """Marginals of paragraphs sorted longest first."""
        lengths = np.array([len(w) for w in paragraphs])
        B, H = len(paragraphs), self.hidden
        T = int(lengths[0]) if B else 0
        if T == 0:
            return [np.zeros((0, len(TAGS)), dtype=np.float32) for _ in paragraphs]
        ids = np.concatenate([encode(token_fields(words), self.vocab) for words in paragraphs])
        # Each real token's place: (paragraph, position) forwards, and backwards (the
        # backward direction reads each paragraph from its end). No padding is computed.
        para = np.repeat(np.arange(B), lengths)
        pos = np.arange(len(para)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        back = lengths[para] - 1 - pos
        t = np.arange(T)
        # active[s]: how many paragraphs (a prefix, longest first) still run at step s
        active = (lengths[None, :] > t[:, None]).sum(axis=1)
        x = None
        for layer, (inp, rec, bias) in enumerate(self.weights):
            if layer == 0:
                g = self.tables[0][ids[:, 0]]
                for k in range(1, len(FIELDS)):
                    g += self.tables[k][ids[:, k]]  # [N, 2, 4H]
            else:
                g = np.einsum("ni,diz->ndz", x, inp) + bias
            # Step-major, direction, paragraph: every slice a step reads is contiguous.
            gates = np.zeros((T, 2, B, 4 * H), dtype=np.float32)
            gates[pos, 0, para] = g[:, 0]
            gates[back, 1, para] = g[:, 1]
            h = np.zeros((2, B, H), dtype=np.float32)
            c = np.zeros((2, B, H), dtype=np.float32)
            out = np.empty((T, 2, B, H), dtype=np.float32)
            for s in range(T):
                n = active[s]
                z = gates[s, :, :n] + np.matmul(h[:, :n], rec)
                sig = _sigmoid(z[:, :, :3 * H])
                cn = sig[:, :, H:2 * H] * c[:, :n] + sig[:, :, :H] * np.tanh(z[:, :, 3 * H:])
                c[:, :n] = cn
                h[:, :n] = out[s, :, :n] = sig[:, :, 2 * H:] * np.tanh(cn)
            x = np.concatenate([out[pos, 0, para], out[back, 1, para]], axis=1)  # [N, 2H]
        logits = x @ self.out_w + self.out_b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return np.split(p, np.cumsum(lengths)[:-1])
