"""Train the neural member of stage one (a BiLSTM tagger) on the train split; export it to numpy.

    OMP_NUM_THREADS=1 nice -n 19 /tmp/attrib/venv/bin/python bench/attributions/neural.py \
        ../shared/corpora/polnear --out tracker/capture/models/attribution-neural.npz \
        --epochs 8 --hidden 96 --info bench/attributions/neural.json

Needs torch (not a dependency of the package: run it from a scratch venv with torch and
numpy); the package runs the exported weights in numpy (tracker/capture/neural.py).
Trains on the `train` split only, on stage one's labels (cue over source over content,
as bench/attributions/train.py builds them), with --second-annotators also on the
other annotator's spans of train's doubly annotated articles. After each epoch the
model is measured on dev (token F1 of cues and contents at 0.5; choosing the epoch is
the only use of dev); the best epoch is exported, then the numpy implementation is
checked against torch on every dev paragraph (the largest absolute difference of a
marginal is printed).
"""

import argparse
import json
import pathlib
import random
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from corpus import first_annotators, load_split, read_ann, token_labels  # noqa: E402

from tracker.capture.features import paragraphs, tokenize  # noqa: E402
from tracker.capture.neural import FIELDS, TAGS, NeuralTagger, encode, token_fields  # noqa: E402

# Embedding sizes of the fields (word, suffix, prefix, shape, lex, quote, mw, bos).
DIMS = {"word": 64, "suffix": 16, "prefix": 16, "shape": 8, "lex": 8, "quote": 4, "mw": 4, "bos": 4}
# A value seen fewer times than this in train is "unknown".
MIN_COUNT = {"word": 2, "suffix": 3, "prefix": 3, "shape": 3, "lex": 1, "quote": 1, "mw": 1, "bos": 1}


def stage_one_examples(docs):
    """[(words, labels)] one per paragraph, with stage one's joint labels."""
    out = []
    for doc in docs:
        tokens = tokenize(doc["text"])
        cue = token_labels(tokens, doc["spans"]["Cue"], "CUE")
        content = token_labels(tokens, doc["spans"]["Content"], "CON")
        source = token_labels(tokens, doc["spans"]["Source"], "SRC")
        role = [s if s != "O" else c for s, c in zip(source, content)]
        first = [c if c != "O" else r for c, r in zip(cue, role)]
        for para in paragraphs(doc["text"], tokens):
            out.append(([tokens[i][2] for i in para], [first[i] for i in para]))
    return out


def second_annotator_docs(corpus, split, docs):
    """The same articles as annotated by every other annotator (doubly annotated ones only)."""
    folder = pathlib.Path(corpus) / split / "attributions"
    firsts = first_annotators(corpus)
    extra = []
    for doc in docs:
        for ann in sorted(folder.glob(f"{doc['name']}_*.ann")):
            if ann.stem[len(doc["name"]) + 1:] != firsts.get(doc["name"]):
                extra.append({"name": doc["name"], "text": doc["text"], "spans": read_ann(ann)})
    return extra


class Tagger(nn.Module):
    def __init__(self, sizes, hidden, layers, dropout):
        super().__init__()
        self.embs = nn.ModuleList(nn.Embedding(sizes[f], DIMS[f], padding_idx=0) for f in FIELDS)
        self.lstm = nn.LSTM(sum(DIMS.values()), hidden, num_layers=layers, bidirectional=True,
                            batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, len(TAGS))

    def forward(self, ids, lengths):
        x = torch.cat([e(ids[:, :, k]) for k, e in enumerate(self.embs)], dim=2)
        packed = nn.utils.rnn.pack_padded_sequence(self.drop(x), lengths, batch_first=True, enforce_sorted=False)
        y, _ = self.lstm(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=ids.shape[1])
        return self.out(self.drop(y))


def batches(examples, size, shuffle, rng):
    """Lists of example indices of similar length (less padding), in random order when training."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]) + (rng.random() * 8 if shuffle else 0))
    groups = [order[k:k + size] for k in range(0, len(order), size)]
    if shuffle:
        rng.shuffle(groups)
    return groups


def tensors(encoded, group, word_dropout=0.0, rng=None):
    lengths = torch.tensor([len(encoded[i][0]) for i in group])
    T = int(lengths.max())
    ids = torch.zeros((len(group), T, len(FIELDS)), dtype=torch.long)
    y = torch.full((len(group), T), -100, dtype=torch.long)
    for b, i in enumerate(group):
        x, labels = encoded[i]
        ids[b, :len(x)] = torch.from_numpy(x)
        y[b, :len(x)] = torch.tensor(labels)
    if word_dropout:
        drop = torch.rand(ids.shape[:2]) < word_dropout
        ids[:, :, 0] = torch.where(drop & (ids[:, :, 0] > 0), torch.ones_like(ids[:, :, 0]), ids[:, :, 0])
    return ids, lengths, y


def dev_marginals(model, encoded):
    model.eval()
    out = [None] * len(encoded)
    with torch.no_grad():
        for group in batches(encoded, 64, False, None):
            ids, lengths, _ = tensors(encoded, group)
            p = torch.softmax(model(ids, lengths), dim=2).numpy()
            for b, i in enumerate(group):
                out[i] = p[b, :len(encoded[i][0])]
    return out


def token_f1(marginals, encoded, tags):
    cols = [TAGS.index(t) for t in tags]
    tp = n_pred = n_gold = 0
    for p, (_x, labels) in zip(marginals, encoded):
        pred = p[:, cols].sum(axis=1) >= 0.5
        gold = np.isin(np.array(labels), cols)
        tp += int((pred & gold).sum())
        n_pred += int(pred.sum())
        n_gold += int(gold.sum())
    prec, rec = tp / max(n_pred, 1), tp / max(n_gold, 1)
    return round(2 * prec * rec / max(prec + rec, 1e-9), 4)


def export(model, vocab, hidden, layers, path):
    """The weights (embeddings as float16, the rest float32) and vocabularies as one .npz."""
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    arrays = {"layers": np.array(layers), "hidden": np.array(hidden)}
    for k, f in enumerate(FIELDS):
        values = sorted(vocab[f], key=vocab[f].get)
        arrays["vocab_" + f] = np.frombuffer("\n".join(values).encode("utf-8"), dtype=np.uint8)
        arrays["emb_" + f] = state[f"embs.{k}.weight"].astype(np.float16)
    for k in range(layers):
        for d, suffix in (("f", ""), ("b", "_reverse")):
            for name, key in (("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh")):
                arrays[f"l{k}_{d}_{name}"] = state[f"lstm.{key}_l{k}{suffix}"].astype(np.float32)
    arrays["out_w"] = state["out.weight"].astype(np.float32)
    arrays["out_b"] = state["out.bias"].astype(np.float32)
    np.savez_compressed(path, **arrays)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, required=True, help="the .npz to write")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--word-dropout", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (more than one crawls when the machine is shared)")
    parser.add_argument("--second-annotators", action="store_true",
                        help="also train on the other annotators' spans of doubly annotated train articles")
    parser.add_argument("--limit", type=int, help="the first N train articles only (a quick check)")
    parser.add_argument("--info", type=pathlib.Path, help="write the run's figures here (JSON)")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)

    train_docs = load_split(a.corpus, "train")[:a.limit]
    extra = second_annotator_docs(a.corpus, "train", train_docs) if a.second_annotators else []
    train = stage_one_examples(train_docs + extra)
    dev = stage_one_examples(load_split(a.corpus, "dev"))
    fields = [token_fields(words) for words, _ in train]
    counts = {f: {} for f in FIELDS}
    for fl in fields:
        for f in FIELDS:
            for v in fl[f]:
                counts[f][v] = counts[f].get(v, 0) + 1
    vocab = {f: {v: i + 2 for i, v in enumerate(sorted(v for v, c in counts[f].items() if c >= MIN_COUNT[f]))}
             for f in FIELDS}
    tag_id = {t: i for i, t in enumerate(TAGS)}
    enc_train = [(encode(fl, vocab), [tag_id[t] for t in labels]) for fl, (_w, labels) in zip(fields, train)]
    enc_dev = [(encode(token_fields(words), vocab), [tag_id[t] for t in labels]) for words, labels in dev]
    sizes = {f: len(vocab[f]) + 2 for f in FIELDS}
    print("paragraphs", len(train), "extra articles", len(extra), "vocab", sizes, flush=True)

    model = Tagger(sizes, a.hidden, a.layers, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    best, history, t_start = None, [], time.time()
    for epoch in range(a.epochs):
        model.train()
        t0, total = time.time(), 0.0
        for group in batches(enc_train, a.batch, True, rng):
            ids, lengths, y = tensors(enc_train, group, a.word_dropout)
            opt.zero_grad()
            loss = loss_fn(model(ids, lengths).reshape(-1, len(TAGS)), y.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += float(loss.detach()) * len(group)
        sched.step()
        marg = dev_marginals(model, enc_dev)
        cue, con = token_f1(marg, enc_dev, ("B-CUE", "I-CUE")), token_f1(marg, enc_dev, ("B-CON", "I-CON"))
        src = token_f1(marg, enc_dev, ("B-SRC", "I-SRC"))
        history.append({"epoch": epoch + 1, "loss": round(total / len(enc_train), 4), "dev_cue_token_f1": cue,
                        "dev_source_token_f1": src, "dev_content_token_f1": con, "s": round(time.time() - t0, 1)})
        print(history[-1], flush=True)
        if best is None or cue + con + src > best[0]:
            best = (cue + con + src, epoch + 1, {k: v.clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best[2])
    # What ships: embeddings rounded to float16; torch is compared with numpy on those very weights.
    with torch.no_grad():
        for e in model.embs:
            e.weight.copy_(e.weight.half().float())
    a.out.parent.mkdir(parents=True, exist_ok=True)
    export(model, vocab, a.hidden, a.layers, a.out)
    ref = dev_marginals(model, enc_dev)
    tagger = NeuralTagger(a.out)
    mine = tagger.marginals([words for words, _ in dev])
    diff = max(float(np.abs(x - y).max()) for x, y in zip(ref, mine) if len(x))
    info = {"epochs": a.epochs, "best_epoch": best[1], "hidden": a.hidden, "layers": a.layers,
            "dropout": a.dropout, "word_dropout": a.word_dropout, "batch": a.batch, "lr": a.lr, "seed": a.seed,
            "second_annotators": a.second_annotators, "extra_articles": len(extra),
            "train_paragraphs": len(train), "vocab_sizes": sizes,
            "parameters": sum(p.numel() for p in model.parameters()),
            "training_wall_s": round(time.time() - t_start, 1), "npz_bytes": a.out.stat().st_size,
            "numpy_vs_torch_max_abs_diff_dev": diff, "history": history}
    print(json.dumps(info, indent=1))
    if a.info:
        a.info.write_text(json.dumps(info, indent=1) + "\n")


if __name__ == "__main__":
    main()
