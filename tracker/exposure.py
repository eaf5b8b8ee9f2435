"""Analysts' own words that give away a protected source (SPEC section 7).

The public file withholds a protected source's quotes, but publishes claim texts, link
notes and document notes as written. When one of those renders a protected quote
near-verbatim, the informant's exact words (which can identify them) are published
anyway. ``tracker build`` warns about each, and ``tracker publish`` refuses while any
remains. Naming who the source is ("the elite member's ...") is worth a warning too.

Where we look: the texts an analyst writes from the same document, i.e. the texts of the
claims that appear in the document holding the quote, the claims linked to the quoted
claim, the links recorded in that document or touching the claim, and the document's
notes. That bounds the work to a few comparisons per quote at any size.

The measure: both texts lower-cased with punctuation dropped; the shorter aligned within
the longer (rapidfuzz ``partial_ratio``, a character-level similarity of the best
matching window). A rendering is near-verbatim at 80 or more when the shorter side has at
least 6 words: a one-word change of a ten-word quote scores about 85-95, while short
common phrases ("the situation is bad") are never counted. A text that repeats 8 words of
the quote in a row counts as 80 however much else it says (a long claim text around a
lifted sentence scores 70-75).
"""

import dataclasses
import functools
import json
import re

THRESHOLD = 80
MIN_WORDS = 6
# ...and a text that repeats this many words of the quote in a row counts as THRESHOLD
RUN_WORDS = 8

_NOT_WORD = re.compile(r"[^\w]+")

# The protected quotes, then the texts written from the same material, fetched by the
# place they share with a quote: its document (the claim texts of the document, the
# notes of its links, its notes) and its claim (the texts of the claims linked to it,
# the notes of the links touching it). Each text is read once for its place and paired
# with that place's quotes in Python: one query joining each quote to every text read
# each text again for every quote of its document (245,000 rows of nine columns on a
# 50,000-claim tree of large documents, 1.7 s against 0.6 s). Columns exist under the
# same names in the full database and in the seed cache.
PROTECTED_QUOTES = """
SELECT a.document_id, a.claim_id, a.source_id, s.name, a.quote
FROM appearances a JOIN sources s ON s.id = a.source_id
WHERE s.sensitivity = 'protected' AND a.quote IS NOT NULL
"""
# (a build's check of the claims a change can touch: checks.EXPOSURE_SCOPE)
PROTECTED_QUOTES_IN_SCOPE = PROTECTED_QUOTES + "AND a.claim_id IN (SELECT claim_id FROM temp.exposure_scope)\n"
# ?: a JSON list of document ids. A row: the place, kind, target (what a message names:
# the claim, the link, the document), the text, and a link note's document and position.
DOCUMENT_TEXTS = """
SELECT o.document_id, 'claim text', c.id, c.text, NULL, NULL
FROM json_each(?) q
JOIN appearances o ON o.document_id = q.value
JOIN claims c ON c.id = o.claim_id
UNION ALL
SELECT l.document_id, 'link note',
       l.document_id || ' links[' || l.position || '] (' || l.from_claim_id || ' - ' || l.to_claim_id || ')',
       l.note, l.document_id, l.position
FROM json_each(?) q JOIN links l ON l.document_id = q.value
WHERE l.note IS NOT NULL
UNION ALL
SELECT d.id, 'document note', d.id, d.notes, NULL, NULL
FROM json_each(?) q JOIN documents d ON d.id = q.value
WHERE d.notes IS NOT NULL
"""
# ?: a JSON list of claim ids. Each end of a link is looked up on its own index (an OR
# in a join condition scans every link). A reviewer's link has no document: its note is
# a review note, never published.
CLAIM_TEXTS = """
SELECT q.value, 'claim text', c.id, c.text, NULL, NULL
FROM json_each(?) q
JOIN links l ON l.from_claim_id = q.value
JOIN claims c ON c.id = l.to_claim_id AND c.id != q.value
UNION ALL
SELECT q.value, 'claim text', c.id, c.text, NULL, NULL
FROM json_each(?) q
JOIN links l ON l.to_claim_id = q.value
JOIN claims c ON c.id = l.from_claim_id AND c.id != q.value
UNION ALL
SELECT q.value, 'link note',
       l.document_id || ' links[' || l.position || '] (' || l.from_claim_id || ' - ' || l.to_claim_id || ')',
       l.note, l.document_id, l.position
FROM json_each(?) q
JOIN links l ON l.rowid IN (SELECT rowid FROM links WHERE from_claim_id = q.value
                            UNION ALL SELECT rowid FROM links WHERE to_claim_id = q.value)
WHERE l.note IS NOT NULL AND l.document_id IS NOT NULL
"""
# Places asked about per query: the texts stream, only the protected quotes are held.
PLACES_PER_QUERY = 2000


def candidates(conn, in_scope=False):
    """Each protected quote with each text written from the same material:
    (claim, source, source name, quote, kind, target, text, link document, link position),
    in no particular order. A pair may come twice (a claim appearing twice in the
    document, a link note reached by its document and by its claim): it only repeats a
    comparison. ``in_scope``: only the quotes of the claims in temp.exposure_scope."""
    quotes = conn.execute(PROTECTED_QUOTES_IN_SCOPE if in_scope else PROTECTED_QUOTES).fetchall()
    # (place: the column of a quote's row that its texts are fetched by)
    for place, query in ((0, DOCUMENT_TEXTS), (1, CLAIM_TEXTS)):
        quotes_at = {}
        for row in quotes:
            quotes_at.setdefault(row[place], []).append(row[1:])
        places = sorted(quotes_at)
        for start in range(0, len(places), PLACES_PER_QUERY):
            chunk = json.dumps(places[start:start + PLACES_PER_QUERY])
            for at, kind, target, written, link_document, link_position in conn.execute(
                    query, [chunk] * query.count("?")):
                for claim_id, source_id, source_name, quote in quotes_at[at]:
                    yield (claim_id, source_id, source_name, quote, kind, target, written,
                           link_document, link_position)


@dataclasses.dataclass(frozen=True)
class Exposure:
    kind: str  # 'claim text', 'link note' or 'document note'
    target: str  # the claim id, the link, or the document id
    claim_id: str  # the claim the protected quote supports
    source_id: str
    similarity: int  # 0-100; 0 for a text that names the source
    names_source: bool = False
    link: tuple = None  # (document id, position) of a link note

    def __str__(self):
        if self.names_source:
            return (f"{self.kind} of {self.target} names protected source {self.source_id!r} "
                    f"(its quote on claim {self.claim_id})")
        return (f"{self.kind} of {self.target} renders the quote of protected source {self.source_id!r} "
                f"on claim {self.claim_id} near-verbatim (similarity {self.similarity}%)")


# A quote meets every text of its document and linked claims, and a claim text meets the
# quotes of its document: each is normalised once.
@functools.lru_cache(maxsize=65_536)
def normalise(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


def similarity(quote: str, written: str) -> int:
    """How near-verbatim ``written`` renders ``quote`` (0-100); 0 when too short to tell,
    and 0 for every score that rounds below THRESHOLD: rapidfuzz then gives up on an
    alignment as soon as it cannot reach the cutoff (half the time on a tree of large
    documents), and no score that counts changes."""
    quote, written = normalise(quote), normalise(written)
    # (a quarter of a million comparisons on a tree of large documents: no sorted(), no
    # split(); a normalised text has one space between words, none at either end)
    shorter, longer = (quote, written) if len(quote) <= len(written) else (written, quote)
    if not shorter or shorter.count(" ") + 1 < MIN_WORDS:
        return 0
    score = round(_partial_ratio()(shorter, longer, score_cutoff=THRESHOLD - 0.5))
    if score < THRESHOLD and repeats_a_run(quote, written):
        return THRESHOLD
    return score


@functools.lru_cache(maxsize=65_536)
def _runs(quote: str) -> tuple:
    """Every RUN_WORDS consecutive words of a normalised quote, padded with spaces."""
    words = quote.split(" ")
    return tuple(f" {' '.join(words[i:i + RUN_WORDS])} " for i in range(len(words) - RUN_WORDS + 1))


def repeats_a_run(quote: str, written: str) -> bool:
    """Whether the normalised ``written`` repeats RUN_WORDS words of the normalised quote in
    a row: a sentence of the source's own words lifted into a longer text scores below
    THRESHOLD when the rest of the text is the analyst's ("A Ryanggang Province source felt
    US-DPRK relations were in trouble when he began hearing ...": 72)."""
    runs = _runs(quote)
    if not runs:
        return False
    padded = f" {written} "
    return any(run in padded for run in runs)


@functools.cache
def _partial_ratio():
    # rapidfuzz (12 ms of start-up) only once something is compared: a rebuild with
    # nothing to compare (no change) never loads it
    from rapidfuzz import fuzz

    return fuzz.partial_ratio


@functools.lru_cache(maxsize=4096)
def _source_words(source_name: str) -> str:
    """The source's name as it is looked for (normalised, without the outlet in
    parentheses), padded with spaces; '' when it has fewer than two words."""
    name = normalise(re.sub(r"\([^)]*\)", " ", source_name))
    return f" {name} " if len(name.split()) >= 2 else ""


def names_source(source_name: str, written: str) -> bool:
    """Whether ``written`` names the protected source: its name (without the outlet in
    parentheses) of two words or more, as words of the text."""
    name = _source_words(source_name)
    return bool(name) and name in f" {normalise(written)} "


def best(rows, per_claim=False):
    """The nearest rendering of each written text for each protected source (and, apart,
    each naming of one) among candidates() rows: {key: Exposure}; ``per_claim``: for each
    claim whose quote it is, too (the key then starts with the claim)."""
    found = {}
    for claim_id, source_id, source_name, quote, kind, target, written, link_document, link_position in rows:
        link = (link_document, link_position) if link_document is not None else None
        score = similarity(quote, written)
        claim = claim_id if per_claim else None
        if score >= THRESHOLD:
            key = (claim, kind, target, source_id, False)
            if key not in found or found[key].similarity < score:
                found[key] = Exposure(kind, target, claim_id, source_id, score, link=link)
        elif names_source(source_name, written):
            found.setdefault((claim, kind, target, source_id, True),
                             Exposure(kind, target, claim_id, source_id, 0, names_source=True, link=link))
    return found


def worst_first(found):
    # (then by source: the order the rows of one claim used to come in, sorted by SQLite)
    return sorted(found, key=lambda e: (e.names_source, -e.similarity, e.kind, e.target, e.source_id))


def exposures(rows):
    """The near-verbatim renderings and namings among candidates() rows, worst first."""
    return worst_first(best(rows).values())


def exposures_by_claim(rows):
    """The same for each claim whose protected quote is exposed: {claim: [Exposure, worst
    first]}, in claim order. The rows may come in any order and repeat: only what is found
    is kept, never the rows (two million of them at a million claims)."""
    by_claim = {}
    for (claim_id, *_), found in best(rows, per_claim=True).items():
        by_claim.setdefault(claim_id, []).append(found)
    return {claim_id: worst_first(by_claim[claim_id]) for claim_id in sorted(by_claim)}


def find(conn):
    """Every exposure in a database (full or seed cache)."""
    return exposures(candidates(conn))


# The ids and words of the public file that are not texts but could still name a protected
# source: a document's id, seed file, title, authors, url and notes, a claim's id (the
# public file withholds the authors and url of a protected publisher's documents). An
# ingested document of a protected publisher took its id from the publisher's; an author
# header names a defector who wrote their own testimony.
PROTECTED_SOURCE_NAMES = """
SELECT id, name, aliases FROM sources WHERE sensitivity = 'protected'
"""
IDENTIFYING_FIELDS = """
SELECT 'document', id, 'id', id FROM documents
UNION ALL SELECT 'document', id, 'seed file', seed_file FROM documents
UNION ALL SELECT 'document', id, 'title', title FROM documents
UNION ALL SELECT 'document', d.id, 'authors', d.authors
          FROM documents d JOIN sources s ON s.id = d.publisher_id
          WHERE d.authors != '[]' AND s.sensitivity != 'protected'  -- (a protected publisher's are withheld)
UNION ALL SELECT 'document', d.id, 'url', d.url
          FROM documents d JOIN sources s ON s.id = d.publisher_id
          WHERE d.url IS NOT NULL AND s.sensitivity != 'protected'
UNION ALL SELECT 'document', id, 'notes', notes FROM documents WHERE notes IS NOT NULL
UNION ALL SELECT 'claim', id, 'id', id FROM claims
"""


def identifying_pattern(conn):
    """One pattern for every protected source's id and names (name without the outlet in
    parentheses, aliases) of two words or more, as whole words of a normalised text, with
    the source each alternative stands for; (None, {}) when there is none. Single words
    ("kim") would stop a publish for every text that mentions one."""
    words = {}
    for source_id, name, aliases in conn.execute(PROTECTED_SOURCE_NAMES):
        for said in [source_id, re.sub(r"\([^)]*\)", " ", name), *json.loads(aliases or "[]")]:
            said = normalise(said)
            if said.count(" ") >= 1:
                words.setdefault(said, source_id)
    if not words:
        return None, {}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), words


def identifying_fields(conn):
    """Ids and fields of documents and claims that name a protected source (by its id or
    its name), as sentences; 'tracker publish' refuses while any remains."""
    pattern, words = identifying_pattern(conn)
    if pattern is None:
        return []
    found = []
    for kind, target, field, value in conn.execute(IDENTIFYING_FIELDS):
        match = pattern.search(normalise(value))
        if match:
            found.append(f"{kind} {target}: its {field} names protected source {words[match.group(0)]!r}")
    return found
