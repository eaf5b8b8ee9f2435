"""Suggested links: for each claim, the unlinked claims most likely about the same thing.

Retrieval is bm25 over a search table of its own (`link_search`, FTS5), whose rows
hold a claim's text and quotes plus what the tracker knows about it as tokens: its
tags, the period it occurred in, and entity names written the same way whatever their
romanisation (Kim Jong Un / Kim Jong-un, Ryanggang / Yanggang). bm25 then weighs a shared rare tag or name as it weighs a rare word. A few
claims are looked up by FTS5 queries; many (a full run) at once, set-based: the search
rows as a sparse term matrix, FTS5's own bm25 computed over it for blocks of claims
(`Corpus`; tests/test_suggest_links.py checks that both give the same candidates). The
best candidates are re-ranked with the shared tags, period and names counted outright,
and the stance model (stance.py) proposes the relation: `contradicts` where one claim
reads as denying the other, else `corroborates`.

Never suggested: a claim with itself, a pair already linked (by the seeds or a
reviewer) and a pair a reviewer dismissed. A pair is stored once, as (smaller id,
larger id).
"""

import json
import math
import re
import unicodedata

from ..database import has_table

SUGGESTIONS_SQL = """
-- link_suggestions itself is in tracker/schema.sql (a reviewer's decision drops its pair).
CREATE VIRTUAL TABLE IF NOT EXISTS link_search USING FTS5 (
    claim_id UNINDEXED, body, tokenize = 'unicode61'
);
-- Which search row holds a claim (an FTS5 column cannot be indexed), and how many
-- claims hold each token: a claim is re-indexed and queried without a scan.
CREATE TABLE IF NOT EXISTS link_indexed (claim_id TEXT PRIMARY KEY, search_rowid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS link_terms (term TEXT PRIMARY KEY, claims INTEGER NOT NULL) WITHOUT ROWID;
"""

# Romanisations that differ by more than spacing, hyphens, apostrophes or diacritics
# (those are removed before names are compared): each variant -> one spelling.
VARIANTS = {
    "ryanggang": "yanggang", "yanggangdo": "yanggang", "ryanggangdo": "yanggang",
    "nodong": "rodong", "choson": "chosun", "joseon": "chosun",
    "pyeongyang": "pyongyang", "pyongan": "pyongan", "phyongyang": "pyongyang",
    "chongjin": "chongjin", "cheongjin": "chongjin", "sinuiju": "sinuiju", "shinuiju": "sinuiju",
    "hamgyong": "hamgyong", "hamgyeong": "hamgyong", "kaesong": "kaesong", "gaeseong": "kaesong",
    "wonsan": "wonsan", "hyesan": "hyesan", "myohyang": "myohyang", "kimjongeun": "kimjongun",
    "kimjungun": "kimjongun", "kimjongil": "kimjongil", "kimjungil": "kimjongil",
    "kimilsung": "kimilsung", "kimilsong": "kimilsung", "kimyojong": "kimyojong",
    "kimyeojeong": "kimyojong", "wpk": "workersparty", "kwp": "workersparty",
    "kpa": "koreanpeoplesarmy", "spa": "supremepeoplesassembly", "nis": "nationalintelligenceservice",
}
# Capitalised words that start a sentence or a title but name nothing.
NOT_NAMES = frozenset("""
The A An In On At Of For To By With From And Or But After Before During As It Its This That
These Those He She They We His Her Their Our Under Over Both Each Every Some Many Most
""".split())
NAME = re.compile(r"[A-Z][\w'’-]*(?:[ -][A-Z][\w'’-]*)*")
NAME_PARTS = re.compile(r"[ -]")
WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset("""
a an the of to in on at for by with from and or but is are was were be been being it its this
that these those as into over after before about than then so such has have had do does did
will would can could should may might must he she they we you i his her their our your them
him us me my who whom which what when where why how all any some more most said says say
not no also only other its own very
""".split())


def plain(text):
    """Lower case, diacritics and apostrophes removed: P'yŏngyang -> pyongyang."""
    if text.isascii():  # nothing to decompose
        return text.replace("'", "")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", "").replace("’", "")


def names(text):
    """Entity names in a text, each as one token: spaces and hyphens removed, variants unified.

    "Kim Jong Un", "Kim Jong-un" and "KIM JONG-UN" all give "kimjongun"; each longer
    word of a name is a token too, so that "Hyesan City" meets "Hyesan".
    """
    found = set()
    for match in NAME.finditer(plain(text)):
        parts = [p for p in NAME_PARTS.split(match.group(0)) if p and p not in NOT_NAMES]
        if not parts:
            continue
        joined = "".join(parts).lower()
        found.add(VARIANTS.get(joined, joined))
        for part in parts:
            word = part.lower()
            if len(word) > 3:
                found.add(VARIANTS.get(word, word))
    return found


def periods(occurred):
    """The period tokens of an `occurred` date: its year and, where given, its month."""
    if not occurred:
        return []
    parts = str(occurred).split("-")
    out = [f"when{parts[0]}"]
    if len(parts) > 1:
        out.append(f"when{parts[0]}{parts[1]}")
    return out


def tag_token(tag):
    return "tag" + re.sub(r"[^a-z0-9]", "", tag.lower())


def search_body(text, quotes, tags, occurred, found_names=None):
    """The indexed text of one claim: words, then name, tag and period tokens
    (``found_names``: the names of its words, when already known)."""
    words = " ".join([text, *quotes])
    extra = [f"ent{n}" for n in sorted(names(words) if found_names is None else found_names)]
    extra += [tag_token(t) for t in tags]
    extra += periods(occurred)
    # Words stemmed here (the search table's tokenizer does not stem), so that the
    # term counts in link_terms are exactly what a query matches.
    from .stance import stem  # cached

    stemmed = [stem(w) for w in WORD.findall(plain(words).lower()) if w not in STOP]
    return " ".join(stemmed) + " " + " ".join(extra)


def query_terms(body):
    """A claim body's distinct content tokens, in order."""
    return list(dict.fromkeys(w for w in WORD.findall(body.lower()) if len(w) >= 3 and w not in STOP))


CLAIM_ROWS = """
SELECT c.id, c.text, c.tags, c.occurred, c.document_id,
       (SELECT json_group_array(a.quote) FROM appearances a
         WHERE a.claim_id = c.id AND a.quote IS NOT NULL) AS quotes, c.origin_id
FROM claims c
"""

# One statement per batch: every target's query against the search table, the best
# candidates of each kept by a window (equal scores: the smaller claim id first, as
# Corpus.candidates).
CANDIDATES = """
WITH matched AS MATERIALIZED (
    SELECT t.claim_id AS claim_id, s.claim_id AS other_claim_id, bm25(link_search) AS rank
    FROM temp.link_batch t JOIN link_search s ON link_search MATCH t.query
),
ranked AS (
    SELECT claim_id, other_claim_id, rank,
           row_number() OVER (PARTITION BY claim_id ORDER BY rank, other_claim_id) AS n
    FROM matched WHERE other_claim_id != claim_id
)
SELECT claim_id, other_claim_id, rank FROM ranked WHERE n <= :depth
"""

# Re-ranking weights, chosen on the seed corpus (bench/links/seed_recall.py): bm25
# relative to the claim's best candidate, plus each shared tag, each related tag (tags
# that go together on other claims), a shared period, shared names, and origins that
# differ (a link is worth most between independent voices).
DEPTH = 30          # bm25 candidates re-ranked per claim
QUERY_TERMS = 16    # a claim's rarest terms make its query: bounded work per claim
COMMON_FLOOR, COMMON_SHARE = 200, 0.005  # terms in more claims than this are not queried
BATCH = 200         # claims per retrieval statement (FTS5 queries)
# More claims than this are retrieved set-based (Corpus), fewer by FTS5 queries: at
# 100,000 claims 100 claims take 1.3 s by queries and 1.5 s set-based, 200 take 2.3 s
# and 1.5 s (the matrix is built from every search row first; bench/links/scale.py).
SET_BASED_FROM = 150
W_TAG, W_RELATED_TAGS, W_PERIOD, W_NAMES, W_OTHER_ORIGIN = 0.3, 0.4, 0.0, 0.0, 0.2
CONTRADICTS_AT = 0.5  # the stance model's "against" probability that proposes contradicts


def create(conn):
    """The suggestion and search tables (statement by statement: executescript would
    commit the caller's transaction)."""
    for statement in SUGGESTIONS_SQL.split(";"):
        if statement.strip():
            conn.execute(statement)


def _claims(conn, ids=None):
    if ids is None:
        return conn.execute(CLAIM_ROWS + " ORDER BY c.id").fetchall()
    conn.execute("DROP TABLE IF EXISTS temp.link_wanted")
    conn.execute("CREATE TEMP TABLE link_wanted (id TEXT PRIMARY KEY)")
    conn.executemany("INSERT OR IGNORE INTO link_wanted VALUES (?)", [(i,) for i in ids])
    return conn.execute(CLAIM_ROWS + " JOIN link_wanted w ON w.id = c.id ORDER BY c.id").fetchall()


class Claim:
    """What retrieval and ranking need of a claim; its search body and names are worked
    out only when asked for (most candidates never need them)."""

    __slots__ = ("id", "text", "tags", "periods", "document_id", "origin_id", "_row", "_quotes", "_names", "_body",
                 "_cues")

    def __init__(self, row):
        self.id, self.text, self.document_id, self.origin_id = row[0], row[1], row[4], row[6]
        self.tags = frozenset(json.loads(row[2] or "[]"))
        self.periods = frozenset(periods(row[3]))
        self._row, self._quotes, self._names, self._body, self._cues = row, None, None, None, None

    @property
    def quotes(self):
        if self._quotes is None:
            self._quotes = [q for q in json.loads(self._row[5] or "[]") if q]
        return self._quotes

    @property
    def names(self):
        if self._names is None:
            self._names = frozenset(names(" ".join([self.text, *self.quotes])))
        return self._names

    @property
    def body(self):
        if self._body is None:
            self._body = search_body(self.text, self.quotes, sorted(self.tags), self._row[3], self.names)
        return self._body

    @property
    def cues(self):
        """The refuting and negation words of its text: two claims whose cues differ
        have one such word that the other lacks."""
        if self._cues is None:
            self._cues = denial_words(self.text)
        return self._cues


def _count_terms(conn, bodies, sign):
    counts = {}
    for body in bodies:
        for token in set(WORD.findall(body)):
            counts[token] = counts.get(token, 0) + 1
    conn.executemany(
        "INSERT INTO link_terms (term, claims) VALUES (?, ?) "
        "ON CONFLICT (term) DO UPDATE SET claims = claims + excluded.claims",
        [(t, sign * n) for t, n in counts.items()])


def unindex(conn, ids_sql):
    """Remove the search rows (and their term counts) of the claims ``ids_sql`` selects."""
    rows = f"SELECT search_rowid FROM link_indexed WHERE claim_id IN ({ids_sql})"
    _count_terms(conn, (b for (b,) in conn.execute(f"SELECT body FROM link_search WHERE rowid IN ({rows})")), -1)
    conn.execute(f"DELETE FROM link_search WHERE rowid IN ({rows})")
    conn.execute(f"DELETE FROM link_indexed WHERE claim_id IN ({ids_sql})")
    conn.execute("DELETE FROM link_terms WHERE claims <= 0")


STORED_ROWS = """
SELECT i.claim_id, i.search_rowid, s.body FROM link_indexed i JOIN link_search s ON s.rowid = i.search_rowid
"""


def index_claims(conn, claims, full):
    """Write the search rows of these claims (when ``full``, ``claims`` are every claim:
    rows of claims gone or changed are replaced, unchanged ones kept)."""
    if full:
        bodies = {c.id: c.body for c in claims}
        stored = conn.execute(STORED_ROWS).fetchall()
        stale = [(claim_id, rowid) for claim_id, rowid, body in stored if bodies.get(claim_id) != body]
        if len(stale) * 2 > len(stored):  # mostly changed: all anew (one delete, not one per row)
            for table in ("link_search", "link_indexed"):
                conn.execute(f"DELETE FROM {table}")
            unchanged = set()
        else:
            conn.executemany("DELETE FROM link_search WHERE rowid = ?", [(rowid,) for _, rowid in stale])
            conn.executemany("DELETE FROM link_indexed WHERE claim_id = ?", [(claim_id,) for claim_id, _ in stale])
            # (a search row without its link_indexed row, or the reverse: none is written
            # so, but none may stay)
            conn.execute("DELETE FROM link_search WHERE rowid NOT IN (SELECT search_rowid FROM link_indexed)")
            held = {claim_id for claim_id, _, _ in stored}
            conn.executemany("DELETE FROM link_indexed WHERE claim_id = ?",
                             [row for row in conn.execute("SELECT claim_id FROM link_indexed") if row[0] not in held])
            unchanged = held - {claim_id for claim_id, _ in stale}
        conn.execute("DELETE FROM link_terms")
        _count_terms(conn, bodies.values(), 1)
        claims = [c for c in claims if c.id not in unchanged]
    else:
        conn.execute("DROP TABLE IF EXISTS temp.link_reindexed")
        conn.execute("CREATE TEMP TABLE link_reindexed (id TEXT PRIMARY KEY)")
        conn.executemany("INSERT OR IGNORE INTO temp.link_reindexed VALUES (?)", [(c.id,) for c in claims])
        unindex(conn, "SELECT id FROM temp.link_reindexed")
    start = conn.execute("SELECT coalesce(max(rowid), 0) FROM link_search").fetchone()[0] + 1
    conn.executemany("INSERT INTO link_search (rowid, claim_id, body) VALUES (?, ?, ?)",
                     [(start + i, c.id, c.body) for i, c in enumerate(claims)])
    conn.executemany("INSERT INTO link_indexed (claim_id, search_rowid) VALUES (?, ?)",
                     [(c.id, start + i) for i, c in enumerate(claims)])
    if not full:
        _count_terms(conn, (c.body for c in claims), 1)


# Each distinct list of tags once, with how many claims carry it: the counts below from
# those (hundreds at 100,000 synthetic claims), not from every claim's tags unpacked.
TAG_LISTS = """
SELECT tags, count(*) FROM claims GROUP BY tags
"""


class TagRelations:
    """How often two tags go together on a claim (cosine of their claim sets)."""

    def __init__(self, conn):
        # As json_each would count them: each tag of a claim's list (a tag listed twice
        # counts twice), each pair of its tags a < b.
        self.counts, self.pairs = {}, {}
        for tags, claims in conn.execute(TAG_LISTS):
            tags = [t for t in json.loads(tags or "[]") if isinstance(t, str)]
            for a in tags:
                self.counts[a] = self.counts.get(a, 0) + claims
                for b in tags:
                    if a < b:
                        self.pairs[(a, b)] = self.pairs.get((a, b), 0) + claims

    def similarity(self, a, b):
        if a == b:
            return 1.0
        key = (a, b) if a < b else (b, a)
        n = self.pairs.get(key)
        return n / (self.counts[a] * self.counts[b]) ** 0.5 if n else 0.0

    def related(self, mine, theirs):
        """Each tag's best match on the other side, summed both ways (0 when either has none)."""
        if not mine or not theirs:
            return 0.0
        return (sum(max(self.similarity(a, b) for b in theirs) for a in mine)
                + sum(max(self.similarity(a, b) for b in mine) for a in theirs))


EXCLUDED_LINKS = """
SELECT from_claim_id, to_claim_id FROM links
"""


REVIEWED_PAIRS = """
SELECT claim_id, other_claim_id FROM review_events
WHERE other_claim_id IS NOT NULL AND action IN ('dismiss', 'link')
"""


def excluded_pairs(conn, set_aside_links=False):
    """Pairs never suggested: linked ones (unless set aside, for measuring) and dismissed ones."""
    pairs = set()
    sources = [] if set_aside_links else [EXCLUDED_LINKS]
    # Reviewers' decisions: a dismissed pair, and a pair a reviewer linked (even if
    # unlinked later: the reviewer has looked at it).
    sources.append(REVIEWED_PAIRS)
    for sql in sources:
        for a, b in conn.execute(sql):
            pairs.add((a, b) if a < b else (b, a))
    return pairs


def denial_words(text):
    """The refuting and negation words of a text (kept per claim: Claim.cues)."""
    from .stance import NEGATION, REFUTING, tokens

    return frozenset(tokens(text)) & (REFUTING | NEGATION)


def _query(terms, df, common):
    """A claim's query terms, rarest first (the order bm25 sums them in)."""
    # The rarest terms, and none that most claims share: a term in thousands of claims
    # adds little to bm25 but makes every query match thousands of rows.
    # A claim made only of common terms is still queried by its three rarest.
    ordered = sorted(terms, key=lambda t: (df.get(t, 0), t))
    return [t for t in ordered if df.get(t, 0) <= common][:QUERY_TERMS] or ordered[:3]


def fts_candidates(conn, queries):
    """{claim id: [(other claim id, bm25 score), ...]}: each claim's best DEPTH matches
    by FTS5 queries against the search table, best first. ``queries`` maps a claim id
    to its query terms."""
    found = {}
    conn.execute("DROP TABLE IF EXISTS temp.link_targets")
    conn.execute("CREATE TEMP TABLE link_targets (claim_id TEXT PRIMARY KEY, query TEXT NOT NULL)")
    conn.executemany("INSERT INTO link_targets VALUES (?, ?)",
                     [(i, " OR ".join(f'"{t}"' for t in terms)) for i, terms in queries.items() if terms])
    # In batches: the matches of one batch are held at once, not those of every claim.
    target_ids = [r[0] for r in conn.execute("SELECT claim_id FROM temp.link_targets")]
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS link_batch (claim_id TEXT PRIMARY KEY, query TEXT NOT NULL)")
    for start in range(0, len(target_ids), BATCH):
        conn.execute("DELETE FROM temp.link_batch")
        conn.executemany("INSERT INTO temp.link_batch SELECT claim_id, query FROM temp.link_targets WHERE claim_id = ?",
                         [(i,) for i in target_ids[start:start + BATCH]])
        for claim_id, other_id, rank in conn.execute(CANDIDATES, {"depth": DEPTH}):
            found.setdefault(claim_id, []).append((other_id, -rank))
    return found


# FTS5's bm25 (fts5_aux.c): k1 and b, and the floor of a term's idf.
K1, B, IDF_FLOOR = 1.2, 0.75, 1e-6
PLAIN_BODY = re.compile(r"[a-z0-9 ]*")
QUERY_BLOCK = 500   # claims per sparse product: a block's matches are held at once


def fts_tokens(conn, bodies):
    """Each body's tokens, exactly as the search table's tokenizer (unicode61) makes them:
    a body of lower-case letters, digits and spaces is split on its spaces; any other
    (a name with a letter that has no plain form, say) is tokenized by FTS5 itself."""
    out = [body.split() if PLAIN_BODY.fullmatch(body) else None for body in bodies]
    odd = [i for i, tokens in enumerate(out) if tokens is None]
    if odd:
        conn.execute("DROP TABLE IF EXISTS temp.link_odd_vocab")
        conn.execute("DROP TABLE IF EXISTS temp.link_odd")
        conn.execute("CREATE VIRTUAL TABLE temp.link_odd USING FTS5 (body, tokenize = 'unicode61')")
        conn.execute("CREATE VIRTUAL TABLE temp.link_odd_vocab USING fts5vocab('temp', 'link_odd', 'instance')")
        conn.executemany("INSERT INTO temp.link_odd (rowid, body) VALUES (?, ?)", [(i, bodies[i]) for i in odd])
        for i in odd:
            out[i] = []
        for term, doc in conn.execute("SELECT term, doc FROM temp.link_odd_vocab"):
            out[doc].append(term)
        conn.execute("DROP TABLE temp.link_odd_vocab")
        conn.execute("DROP TABLE temp.link_odd")
    return out


class Corpus:
    """The search table's rows as a sparse matrix of bm25 term weights, for retrieving
    the candidates of many claims at once.

    The score is FTS5's bm25 with its sign turned (higher is better), computed as FTS5
    computes it, operation by operation and summing a query's terms in the same order,
    so that it equals FTS5's own: the sum over the query's terms t of
    idf(t) * (f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)), with
    idf(t) = log((N - n + 0.5) / (n + 0.5)) (1e-6 where that is not positive), N the
    rows, n the rows holding t, f its count in a row of D tokens, avgdl the mean D.
    """

    def __init__(self, conn, rows):
        """``rows``: (claim id, search body) of every row of the search table."""
        import numpy as np
        from scipy import sparse

        rows = sorted(rows)  # columns in claim id order: equal scores go to the smaller id
        self.ids = [claim_id for claim_id, _ in rows]
        self.column = {claim_id: i for i, claim_id in enumerate(self.ids)}
        docs = fts_tokens(conn, [body for _, body in rows])
        self.vocabulary = vocabulary = {}
        terms = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for doc in docs for t in doc),
                            dtype=np.int64)
        lengths = np.fromiter((len(doc) for doc in docs), dtype=np.int64, count=len(docs))
        n_rows = len(docs)
        counts = sparse.csr_matrix(
            (np.ones(len(terms)), (np.repeat(np.arange(n_rows), lengths), terms)),
            shape=(n_rows, len(vocabulary)))
        counts.sum_duplicates()
        avgdl = int(lengths.sum()) / n_rows if n_rows else 1.0
        f = counts.data
        length = np.repeat(lengths, np.diff(counts.indptr)).astype(np.float64)
        weights = (f * (K1 + 1.0)) / (f + K1 * ((1 - B) + B * length / avgdl))
        self.weights = sparse.csr_matrix((weights, counts.indices, counts.indptr),
                                         shape=counts.shape).T.tocsr()  # term x row
        holding = np.diff(self.weights.indptr)
        # Each distinct count's logarithm once, by the C library's log (as FTS5's).
        idf = {}
        for n in set(holding.tolist()):
            value = math.log((n_rows - n + 0.5) / (n + 0.5))
            idf[n] = value if value > 0.0 else IDF_FLOOR
        self.idf = np.array([idf[n] for n in holding.tolist()], dtype=np.float64)

    def candidates(self, queries):
        """As fts_candidates: {claim id: [(other claim id, bm25 score), ...]}, best first."""
        return {claim_id: list(zip([self.ids[c] for c in columns.tolist()], scores.tolist()))
                for claim_id, (columns, scores) in self.candidate_arrays(queries).items()}

    def candidate_arrays(self, queries):
        """{claim id: (columns, scores)}: as candidates, each other claim as its column
        (its index in ``ids``), in numpy arrays."""
        import numpy as np
        from scipy import sparse

        found = {}
        items = [(claim_id, [self.vocabulary[t] for t in terms if t in self.vocabulary])
                 for claim_id, terms in queries.items() if terms]
        n_terms = len(self.vocabulary)
        for start in range(0, len(items), QUERY_BLOCK):
            block = items[start:start + QUERY_BLOCK]
            # A query's terms in their own order (not sorted): the sparse product sums a
            # row's score in the order of its terms, as FTS5 sums its phrases.
            lengths = [len(terms) for _, terms in block]
            columns = np.fromiter((t for _, terms in block for t in terms), dtype=np.int64, count=sum(lengths))
            indptr = np.concatenate(([0], np.cumsum(lengths)))
            query = sparse.csr_matrix((self.idf[columns], columns, indptr), shape=(len(block), n_terms))
            scores = query @ self.weights
            pointers, rows, values = scores.indptr, scores.indices, scores.data
            # A claim never matches itself: its own column is dropped from its row.
            own = np.array([self.column.get(claim_id, -1) for claim_id, _ in block], dtype=rows.dtype)
            keep = rows != np.repeat(own, np.diff(pointers))
            if not keep.all():
                rows, values = rows[keep], values[keep]
                pointers = np.concatenate(([0], np.cumsum(keep)))[pointers]
            for k, (claim_id, _) in enumerate(block):
                others, score = rows[pointers[k]:pointers[k + 1]], values[pointers[k]:pointers[k + 1]]
                if len(score) > DEPTH:
                    # Whatever scores at least the DEPTH-th best, then the best DEPTH of
                    # those by score and claim id.
                    floor = np.partition(score, len(score) - DEPTH)[len(score) - DEPTH]
                    keep = score >= floor
                    others, score = others[keep], score[keep]
                order = np.lexsort((others, -score))[:DEPTH]
                if len(order):
                    found[claim_id] = (others[order].astype(np.int64), score[order])
        return found


def refresh(conn, claim_ids=None, limit=5, set_aside_links=False, stance_model=None):
    """Recompute the suggestions of these claims (all claims when None); return how many rows.

    The search rows of the named claims are rewritten first, so that edited claims
    are found by their new words. ``set_aside_links`` ignores the recorded links (to
    measure how many of them the suggestions find again).
    """
    import numpy as np

    from .stance import model

    stance_model = stance_model or model()
    create(conn)
    full = claim_ids is None
    targets = [Claim(r) for r in _claims(conn, claim_ids)]
    index_claims(conn, targets, full)
    if not full:
        # Claims never indexed (a first run limited to some claims, claims added since):
        # they must be findable too.
        unindexed = [r[0] for r in conn.execute(
            "SELECT id FROM claims c WHERE NOT EXISTS (SELECT 1 FROM link_indexed i WHERE i.claim_id = c.id)")]
        if unindexed:
            index_claims(conn, [Claim(r) for r in _claims(conn, unindexed)], False)

    # Document frequency of each token, to query a claim by its rarest terms.
    df = dict(conn.execute("SELECT term, claims FROM link_terms"))
    common = max(COMMON_FLOOR, COMMON_SHARE * conn.execute("SELECT count(*) FROM claims").fetchone()[0])
    queries = {c.id: _query(query_terms(c.body), df, common) for c in targets}
    corpus = None
    if full or len(targets) > SET_BASED_FROM:
        rows = ([(c.id, c.body) for c in targets] if full
                else conn.execute("SELECT claim_id, body FROM link_search").fetchall())
        corpus = Corpus(conn, rows)
        found = corpus.candidate_arrays(queries)
    else:
        found = fts_candidates(conn, queries)

    claims = {c.id: c for c in targets}
    if corpus is not None:
        columns = [found[c.id][0] for c in targets if c.id in found]
        involved = np.unique(np.concatenate(columns)).tolist() if columns else []
        candidate_ids = [corpus.ids[c] for c in involved]
    else:
        candidate_ids = {o for lst in found.values() for o, _ in lst}
    missing = set(candidate_ids) - set(claims)
    if missing:
        for row in _claims(conn, sorted(missing)):
            claims[row[0]] = Claim(row)
    universe = sorted(claims.values(), key=lambda c: c.id)  # a claim's position: its id's rank
    position = {c.id: i for i, c in enumerate(universe)}

    # Every candidate of every target as arrays: target (its index in targets), other
    # (its position), bm25 score.
    target_of, other_of, rank_of = [], [], []
    if corpus is not None:
        to_position = np.full(len(corpus.ids), -1, dtype=np.int64)
        to_position[involved] = [position[i] for i in candidate_ids]
    for k, claim in enumerate(targets):
        if claim.id not in found:
            continue
        if corpus is not None:
            cols, scores = found[claim.id]
            other_of.append(to_position[cols])
            rank_of.append(scores)
        else:
            other_of.append(np.array([position[o] for o, _ in found[claim.id]], dtype=np.int64))
            rank_of.append(np.array([r for _, r in found[claim.id]], dtype=np.float64))
        target_of.append(np.full(len(rank_of[-1]), k, dtype=np.int64))
    rows = _ranked(targets, universe, position, target_of, other_of, rank_of,
                   excluded_pairs(conn, set_aside_links), TagRelations(conn), limit, stance_model)

    if full:
        conn.execute("DELETE FROM link_suggestions")
    else:
        conn.executemany("DELETE FROM link_suggestions WHERE claim_id = ? OR other_claim_id = ?",
                         [(c.id, c.id) for c in targets])
    conn.executemany("INSERT OR REPLACE INTO link_suggestions (claim_id, other_claim_id, relation, score, reason) "
                     "VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def _codes(values):
    """Each value's code (equal values, one code) and one value per code."""
    codes, kinds = {}, []
    out = []
    for value in values:
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(kinds)
            kinds.append(value)
        out.append(code)
    return out, kinds


def _ranked(targets, universe, position, target_of, other_of, rank_of, excluded, relations, limit, stance_model):
    """The rows of link_suggestions from every target's bm25 candidates.

    Each candidate is scored (bm25 relative to the target's best candidate, plus shared
    tags, related tags, a shared period, shared names and another origin), each target
    keeps its best ``limit`` (equal scores: the smaller claim id), and a pair kept by both
    its claims is written once, as the one that scored it higher (equal: the first
    target in id order). Arrays throughout: the tag, period and origin terms depend only
    on the claims' tag sets, periods and origins, worked out once per pair of those.
    """
    import numpy as np

    empty = np.zeros(0, dtype=np.int64)
    target = np.concatenate(target_of) if target_of else empty
    other = np.concatenate(other_of) if other_of else empty
    rank = np.concatenate(rank_of) if rank_of else np.zeros(0)
    n = len(universe)

    # Relative to the best candidate, excluded pairs included.
    top = np.zeros(len(targets))
    np.maximum.at(top, target, rank)
    top[top == 0] = 1.0
    relative = rank / top[target]

    me = np.array([position[c.id] for c in targets], dtype=np.int64)[target]
    pair = np.minimum(me, other) * n + np.maximum(me, other)
    never = [position[a] * n + position[b] if position[a] < position[b] else position[b] * n + position[a]
             for a, b in excluded if a in position and b in position]
    if never:
        keep = ~np.isin(pair, np.array(never, dtype=np.int64))
        target, other, me, relative, pair = target[keep], other[keep], me[keep], relative[keep], pair[keep]

    tag_code, tag_sets = _codes(c.tags for c in universe)
    period_code, period_sets = _codes(c.periods for c in universe)
    origin_code, _ = _codes(c.origin_id for c in universe)
    shared_tags, related = _per_pair(np.array(tag_code, dtype=np.int64), tag_sets, me, other,
                                     lambda a, b: len(a & b), relations.related)
    (shared_period,) = _per_pair(np.array(period_code, dtype=np.int64), period_sets, me, other,
                                 lambda a, b: bool(a & b))
    if W_NAMES:
        shared_names = np.array([min(len(universe[a].names & universe[b].names), 3)
                                 for a, b in zip(me.tolist(), other.tolist())], dtype=np.float64)
    else:
        shared_names = np.zeros(len(relative))
    origin_code = np.array(origin_code, dtype=np.int64)
    other_origin = (origin_code[me] != origin_code[other]).astype(np.float64)
    # The sum as written for one pair, term by term (the same float operations).
    score = relative + W_TAG * shared_tags
    score = score + W_RELATED_TAGS * related
    score = score + W_PERIOD * shared_period
    score = score + W_NAMES * shared_names
    score = score + W_OTHER_ORIGIN * other_origin

    # Each target's candidates best first (equal scores: the smaller id), its first
    # `limit` kept: a row per target (at most DEPTH candidates), sorted by id and then,
    # stably, by score.
    counts = np.bincount(target, minlength=len(targets))
    column = np.arange(len(target)) - (np.cumsum(counts) - counts)[target]
    width = int(counts.max()) if len(target) else 0
    by_score = np.full((len(targets), width), np.inf)
    by_id = np.full((len(targets), width), n, dtype=np.int64)
    entry = np.full((len(targets), width), -1, dtype=np.int64)
    by_score[target, column], by_id[target, column], entry[target, column] = -score, other, np.arange(len(target))
    order = np.argsort(by_id, axis=1, kind="stable")
    by_score, entry = np.take_along_axis(by_score, order, 1), np.take_along_axis(entry, order, 1)
    order = np.argsort(by_score, axis=1, kind="stable")[:, :limit]
    kept = np.take_along_axis(entry, order, 1)
    best_match = np.zeros(len(target), dtype=bool)
    best_match[kept[:, 0][kept[:, 0] >= 0] if width else empty] = True
    kept = kept[kept >= 0]  # row by row: targets in order, each one's best first
    # A pair kept twice: the higher score, else the earlier; rows in order of first sight.
    sequence = np.arange(len(kept))
    by_pair = np.lexsort((sequence, -score[kept], pair[kept]))
    pairs = pair[kept][by_pair]
    starts = np.flatnonzero(np.concatenate(([True], pairs[1:] != pairs[:-1]))) if len(pairs) else empty
    winners = kept[by_pair[starts]]
    if len(starts):
        winners = winners[np.argsort(np.minimum.reduceat(sequence[by_pair], starts), kind="stable")]

    denial = _Denial(stance_model)
    ids = [c.id for c in universe]
    names_of = [c.names for c in universe]
    tag_words, period_words = {}, {}
    rows = []
    for e, a, b, best, value, tags_shared, period_shared, different in zip(
            winners.tolist(), me[winners].tolist(), other[winners].tolist(), best_match[winners].tolist(),
            score[winners].tolist(), shared_tags[winners].tolist(), shared_period[winners].tolist(),
            other_origin[winners].tolist()):
        reasons = ["shared words (best match)" if best else "shared words"]
        if tags_shared:
            key = (tag_code[a], tag_code[b])
            if key not in tag_words:
                tag_words[key] = "shared tags: " + ", ".join(sorted(tag_sets[key[0]] & tag_sets[key[1]]))
            reasons.append(tag_words[key])
        if period_shared:
            key = (period_code[a], period_code[b])
            if key not in period_words:
                period_words[key] = "same period: " + max(period_sets[key[0]] & period_sets[key[1]], key=len)[4:]
            reasons.append(period_words[key])
        shared = names_of[a] & names_of[b]
        if shared:
            reasons.append("names: " + ", ".join(sorted(shared)[:4]))
        if different:
            reasons.append("different origins")
        relation = "corroborates"
        claim, partner = universe[a], universe[b]
        if claim.cues != partner.cues:
            # Does either claim, read as a text about the other, deny it? The model is
            # asked only where a denial or negation word sets the two apart: without
            # one it all but never answers "against", and asking costs milliseconds.
            against = denial(claim.text, partner.text)
            if against >= CONTRADICTS_AT:
                relation = "contradicts"
            reasons.append(f"stance model: denial {against:.2f}")
        rows.append((*((ids[a], ids[b]) if a < b else (ids[b], ids[a])), relation, round(value, 4), "; ".join(reasons)))
    return rows


def _per_pair(codes, kinds, me, other, *works):
    """For each candidate, each ``work`` of (the target's kind, the other's kind): once
    per pair of kinds that occurs."""
    import numpy as np

    k = len(kinds)
    pairs = codes[me] * k + codes[other]
    if k * k <= 1 << 22:  # a table of every pair of kinds
        present = np.zeros(k * k, dtype=bool)
        present[pairs] = True
        occurring, lookup = np.flatnonzero(present).tolist(), pairs
    else:
        occurring, lookup = np.unique(pairs, return_inverse=True)
        occurring = occurring.tolist()
    out = []
    for work in works:
        values = np.array([work(kinds[p // k], kinds[p % k]) for p in occurring], dtype=np.float64)
        if k * k <= 1 << 22:
            table = np.zeros(k * k)
            table[occurring] = values
            out.append(table[lookup])
        else:
            out.append(values[lookup] if len(values) else np.zeros(0))
    return out


class _Denial:
    """The stance model's "against" for a pair of texts, either read as about the other
    (the larger), once per pair of texts."""

    def __init__(self, stance_model):
        self.model, self.seen = stance_model, {}

    def __call__(self, a, b):
        key = (a, b) if a < b else (b, a)
        if key not in self.seen:
            self.seen[key] = max(self.model.probabilities(a, b)["against"], self.model.probabilities(b, a)["against"])
        return self.seen[key]


def refresh_after_build(conn, limit=5):
    """After a build wrote its rows (inside its transaction): the suggestions of the
    claims it touched are recomputed and those of removed claims dropped. Nothing is
    done until someone has run `tracker suggest-links` once on this database."""
    if not has_table(conn, "link_indexed"):
        return 0
    conn.execute("DELETE FROM link_suggestions WHERE claim_id NOT IN (SELECT id FROM claims) "
                 "OR other_claim_id NOT IN (SELECT id FROM claims)")
    unindex(conn, "SELECT claim_id FROM link_indexed EXCEPT SELECT id FROM claims")
    touched = [row[0] for row in conn.execute(
        "SELECT claim_id FROM temp.touched WHERE claim_id IN (SELECT id FROM claims)")]
    if not touched:
        return 0
    # Every claim touched (sources.yml changed, say): a full run, as `suggest-links`
    # does it (at 100,000 claims about half a minute; bench/links/scale.json).
    if len(touched) >= conn.execute("SELECT count(*) FROM claims").fetchone()[0]:
        return refresh(conn, None, limit)
    return refresh(conn, touched, limit)
