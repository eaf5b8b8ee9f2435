"""Word clusters from unlabeled text: a coarse stand-in for parts of speech and meaning.

Each frequent word is described by the words seen just before and after it (positive
PMI of the counts), reduced by SVD and grouped by k-means; the attribution features use
the cluster ids, so that a rare reporting verb looks like the common ones beside it.
Written as a JSON file {"k": [...], "words": {word: [cluster ids]}} beside the models.
"""

import collections
import gzip
import json
import math
import sys

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))

from tracker.capture.features import tokenize  # noqa: E402


def make_clusters(texts, sizes=(64, 320), min_count=4, contexts=1500, dims=80, seed=0):
    from scipy import sparse
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    sequences = [[t[2].lower() for t in tokenize(text)] for text in texts]
    counts = collections.Counter(w for s in sequences for w in s)
    vocab = [w for w, c in counts.most_common() if c >= min_count]
    index = {w: i for i, w in enumerate(vocab)}
    context_words = {w: i for i, w in enumerate(vocab[:contexts])}
    rows, cols = [], []
    for s in sequences:
        padded = ["<s>"] + s + ["</s>"]
        for j in range(1, len(padded) - 1):
            i = index.get(padded[j])
            if i is None:
                continue
            left, right = context_words.get(padded[j - 1]), context_words.get(padded[j + 1])
            if left is not None:
                rows.append(i)
                cols.append(left)
            if right is not None:
                rows.append(i)
                cols.append(contexts + right)
    m = sparse.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                          shape=(len(vocab), 2 * contexts)).tocsr()
    m.sum_duplicates()
    total = m.sum()
    row_sum = np.asarray(m.sum(axis=1)).ravel() + 1e-9
    col_sum = np.asarray(m.sum(axis=0)).ravel() + 1e-9
    coo = m.tocoo()
    pmi = np.log(coo.data * total / (row_sum[coo.row] * col_sum[coo.col]))
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=m.shape)
    vectors = normalize(TruncatedSVD(dims, random_state=seed).fit_transform(ppmi))
    ids = []
    for k in sizes:
        km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit(vectors)
        ids.append(km.labels_.tolist())
    return {"k": list(sizes), "words": {w: [int(ids[j][i]) for j in range(len(sizes))] for i, w in enumerate(vocab)}}


def write(clusters, path):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(clusters, f, ensure_ascii=False, separators=(",", ":"))
