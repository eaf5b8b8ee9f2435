"""A pruned WordPiece vocabulary for the fine-tuned stance encoder (bench/stance/finetune.py).

all-MiniLM-L6-v2's 30,522-token vocabulary makes its word-embedding matrix 11.7M of the
model's 22.7M parameters. A package that ships the model keeps only the tokens that
English news text actually uses: counted by tokenising (with the full vocabulary) the
texts of PolNeAr (polnear/*/text/*.txt) and of the KCNA corpora (kcna-2011-2012.jsonl.gz,
field story; kcna-2024.json, field story_text), NOT Emergent, so the vocabulary owes
nothing to the evaluation data. Kept: tokens used at least MIN_COUNT times, capped to the
CAP most frequent, plus the special tokens and every single-character token and
single-character ``##x`` continuation of the original vocabulary, so that every word still
tokenises (into smaller pieces at worst). Original relative order is kept.

    /tmp/ft/venv/bin/python bench/stance/vocab.py --model-dir DIR --out DIR [--cap 12000]
        [--seen-singles] [--counts /tmp/ft/counts.json]
writes DIR/vocab.txt and DIR/rows.npy (the kept rows of the original vocabulary).
"""

import argparse
import gzip
import json
import pathlib
from collections import Counter

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora"
SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
MIN_COUNT = 3
CAP = 12000


def texts(corpora=CORPORA):
    for path in sorted(corpora.glob("polnear/*/text/*.txt")):
        yield path.read_text(encoding="utf-8", errors="replace")
    with gzip.open(corpora / "kcna-2011-2012.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line).get("story") or ""
    data = json.loads((corpora / "kcna-2024.json").read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else next(v for v in data.values() if isinstance(v, list))
    for item in items:
        yield item.get("story_text") or ""


def read_vocab(path):
    return [line.rstrip("\n") for line in open(path, encoding="utf-8")]


def prune(vocab, counts, cap=CAP, min_count=MIN_COUNT, seen_singles=False):
    """Indices (into ``vocab``, ascending) of the kept tokens.

    ``seen_singles``: keep a non-ASCII single character (or its ``##`` form) only when the
    corpora use it at least once; ASCII ones are always kept. A word holding a dropped
    character becomes [UNK], as words with characters outside the vocabulary always did."""
    frequent = [i for i, n in counts.most_common() if n >= min_count][:cap]
    keep = set(frequent)
    for i, token in enumerate(vocab):
        bare = token[2:] if token.startswith("##") else token
        if token in SPECIAL or (len(bare) == 1 and (not seen_singles or bare.isascii() or counts[i] > 0)):
            keep.add(i)
    return sorted(keep)


def count(model_dir, corpora=CORPORA):
    from transformers import BertTokenizerFast
    tokenizer = BertTokenizerFast(str(model_dir / "vocab.txt"), do_lower_case=True)
    counts = Counter()
    batch = []
    for text in texts(corpora):
        batch.append(text)
        if len(batch) == 256:
            for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
                counts.update(ids)
            batch = []
    if batch:
        for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
            counts.update(ids)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--cap", type=int, default=CAP)
    parser.add_argument("--corpora", type=pathlib.Path, default=CORPORA)
    parser.add_argument("--seen-singles", action="store_true",
                        help="drop non-ASCII single characters the corpora never use")
    parser.add_argument("--counts", type=pathlib.Path, help="cache of the token counts (.json)")
    args = parser.parse_args()
    vocab = read_vocab(args.model_dir / "vocab.txt")
    if args.counts and args.counts.exists():
        counts = Counter({int(k): v for k, v in json.loads(args.counts.read_text()).items()})
    else:
        counts = count(args.model_dir, args.corpora)
        if args.counts:
            args.counts.write_text(json.dumps(counts))
    rows = prune(vocab, counts, args.cap, seen_singles=args.seen_singles)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "vocab.txt").write_text("".join(vocab[i] + "\n" for i in rows), encoding="utf-8")
    np.save(args.out / "rows.npy", np.array(rows, dtype=np.int64))
    print(f"{len(rows)} of {len(vocab)} tokens kept -> {args.out}")


if __name__ == "__main__":
    main()
