"""The seed rules that need the whole tree (SPEC section 3), as SQL over the seed cache.

Each query returns one row per problem: the seed file, the path to the offending node
in it (for the line number), the entry, the field, the message, and the name it found
unknown (so that an entry that already failed on its own is not reported twice).
"""

import json
import pathlib

from . import exposure
from .seeds import Problem, line_of

DUPLICATE_DOCUMENTS = """
SELECT d.seed_file, json_array('id') AS loc, 'document ' || d.id AS entry, 'id' AS field,
       'duplicate document id ' || quote(d.id) || ' (also in '
       || (SELECT min(o.seed_file) FROM documents o WHERE o.id = d.id AND o.seed_file != d.seed_file)
       || ')' AS message,
       NULL AS name
FROM documents d
WHERE d.id IN (SELECT id FROM documents GROUP BY id HAVING count(*) > 1)
"""

CLAIMS_DEFINED_TWICE = """
SELECT c.seed_file, json_array('claims', c.position, 'id'), 'claims[' || c.position || '] (id ' || c.id || ')', 'id',
       'claim ' || quote(c.id) || ' is defined twice (also in '
       || (SELECT min(o.seed_file) FROM claims o WHERE o.id = c.id AND o.rowid != c.rowid)
       || '); define it once and use ''ref'' elsewhere',
       NULL
FROM claims c
WHERE c.id IN (SELECT id FROM claims GROUP BY id HAVING count(*) > 1)
"""

UNKNOWN_REFS = """
SELECT a.seed_file, json_array('claims', a.position, 'ref'), 'claims[' || a.position || '] (ref ' || a.claim_id || ')',
       'ref', 'unknown claim ' || quote(a.claim_id) || ': no document defines it with ''id'' and ''text''',
       a.claim_id
FROM appearances a
WHERE a.is_ref AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = a.claim_id)
"""

UNKNOWN_ORIGINS = """
SELECT a.seed_file, json_array('claims', a.position, 'source'),
       'claims[' || a.position || '] (' || CASE a.is_ref WHEN 1 THEN 'ref ' ELSE 'id ' END || a.claim_id || ')',
       'source', 'unknown source ' || quote(a.source_id) || ': add it to sources.yml or fix the id', a.source_id
FROM appearances a
WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = a.source_id)
"""

UNKNOWN_RELAYS = """
SELECT a.seed_file, json_array('claims', a.position, 'via', v.key),
       'claims[' || a.position || '] (' || CASE a.is_ref WHEN 1 THEN 'ref ' ELSE 'id ' END || a.claim_id || ')',
       'via[' || v.key || ']', 'unknown source ' || quote(v.value) || ': add it to sources.yml or fix the id', v.value
FROM appearances a, json_each(a.via) v
WHERE a.via != '[]' AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = v.value)
"""

UNKNOWN_PUBLISHERS = """
SELECT d.seed_file, json_array('publisher'), 'document ' || d.id, 'publisher',
       'unknown source ' || quote(d.publisher_id) || ': add it to sources.yml or fix the id', d.publisher_id
FROM documents d
WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = d.publisher_id)
"""

UNKNOWN_LINK_ENDS = """
SELECT l.seed_file, json_array('links', l.position, e.field),
       'links[' || l.position || '] (' || l.from_claim_id || ' -> ' || l.to_claim_id || ')', e.field,
       'unknown claim ' || quote(e.claim_id), e.claim_id
FROM links l
JOIN (SELECT rowid AS link, 'from' AS field, from_claim_id AS claim_id FROM links
      UNION ALL SELECT rowid, 'to', to_claim_id FROM links) e ON e.link = l.rowid
WHERE NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = e.claim_id)
"""

# Links are symmetric: A-B and B-A are one link, wherever each is recorded. The first
# (by file, then position) stands; every later one is the duplicate.
DUPLICATE_LINKS = """
WITH ordered AS (
    SELECT seed_file, position, from_claim_id, to_claim_id,
           min(from_claim_id, to_claim_id) AS a, max(from_claim_id, to_claim_id) AS b,
           row_number() OVER (PARTITION BY min(from_claim_id, to_claim_id), max(from_claim_id, to_claim_id)
                              ORDER BY seed_file, position) AS n,
           first_value(seed_file || ' links[' || position || ']') OVER (
               PARTITION BY min(from_claim_id, to_claim_id), max(from_claim_id, to_claim_id)
               ORDER BY seed_file, position) AS first
    FROM links
)
SELECT seed_file, json_array('links', position), 'links[' || position || '] (' || from_claim_id || ' -> ' || to_claim_id || ')',
       NULL, 'duplicate link: ' || a || ' and ' || b || ' are already linked in ' || first || ' (links are symmetric)',
       NULL
FROM ordered
WHERE n > 1
"""

# Drafts (SPEC section 3) count for nothing, so nothing that counts may rest on one: a
# confirmed ref, or a link, naming a claim that is defined only by a draft entry.
DRAFT_ONLY_REFS = """
SELECT a.seed_file, json_array('claims', a.position, 'ref'), 'claims[' || a.position || '] (ref ' || a.claim_id || ')',
       'ref', 'claim ' || quote(a.claim_id) || ' exists only as a draft (in '
       || (SELECT min(c.seed_file) FROM claims c WHERE c.id = a.claim_id)
       || '): confirm it there (remove ''draft: true'') or mark this ref as a draft too',
       a.claim_id
FROM appearances a
WHERE a.is_ref AND NOT a.draft
  AND EXISTS (SELECT 1 FROM claims c WHERE c.id = a.claim_id)
  AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = a.claim_id AND NOT c.draft)
"""

DRAFT_ONLY_LINK_ENDS = """
SELECT l.seed_file, json_array('links', l.position, e.field),
       'links[' || l.position || '] (' || l.from_claim_id || ' -> ' || l.to_claim_id || ')', e.field,
       'claim ' || quote(e.claim_id) || ' exists only as a draft: confirm it (remove ''draft: true'') before linking it',
       e.claim_id
FROM links l
JOIN (SELECT rowid AS link, 'from' AS field, from_claim_id AS claim_id FROM links
      UNION ALL SELECT rowid, 'to', to_claim_id FROM links) e ON e.link = l.rowid
WHERE EXISTS (SELECT 1 FROM claims c WHERE c.id = e.claim_id)
  AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = e.claim_id AND NOT c.draft)
"""

# A warning per file: how many draft entries remain to be confirmed or deleted.
DRAFTS_REMAINING = """
SELECT seed_file, json_array('claims'), NULL, 'claims',
       count(*) || ' draft entr' || CASE count(*) WHEN 1 THEN 'y remains' ELSE 'ies remain' END
       || ' (draft: true): they count for nothing until confirmed; check each, then remove the mark or the entry',
       NULL
FROM appearances WHERE draft GROUP BY seed_file ORDER BY seed_file
"""

ALL = (DUPLICATE_DOCUMENTS, CLAIMS_DEFINED_TWICE, UNKNOWN_REFS, UNKNOWN_ORIGINS, UNKNOWN_RELAYS,
       UNKNOWN_PUBLISHERS, UNKNOWN_LINK_ENDS, DUPLICATE_LINKS, DRAFT_ONLY_REFS, DRAFT_ONLY_LINK_ENDS)
# Asked only when sources.yml could be read: otherwise every name would be "unknown".
NAME_SOURCES = (UNKNOWN_ORIGINS, UNKNOWN_RELAYS, UNKNOWN_PUBLISHERS)


def problems_of(conn, query, seeds_dir, already_reported=frozenset()):
    """The rows of a check query as Problems, each file shown as under ``seeds_dir``."""
    found = []
    for seed_file, loc, entry, field, message, name in conn.execute(query):
        if name is not None and name in already_reported:
            continue
        path = pathlib.Path(seeds_dir) / seed_file
        found.append(Problem(str(path), message, line=line_of(path, json.loads(loc)), entry=entry, field=field))
    return found


def whole_tree(conn, seeds_dir, update):
    """Every cross-file problem (SQL over the cache, plus sources and reviews, which are
    small), and the warnings that need the whole tree: (problems, warnings)."""
    seeds_dir = pathlib.Path(seeds_dir)
    sources, reviews, already_reported = update.sources, update.reviews, update.already_reported
    sources_file, reviews_file = str(seeds_dir / "sources.yml"), str(seeds_dir / "reviews.yml")
    problems, warnings = [], []
    for query in ALL:
        if update.sources_unreadable and query in NAME_SOURCES:
            continue
        problems += problems_of(conn, query, seeds_dir, already_reported)

    sources_path = pathlib.Path(sources_file)
    first_index = {}
    for index, source in sources:
        if source.id in first_index:
            problems.append(Problem(
                sources_file, f"duplicate source id {source.id!r} (first defined as sources[{first_index[source.id]}])",
                line=line_of(sources_path, (index, "id")), entry=f"sources[{index}] (id {source.id})", field="id"))
        first_index.setdefault(source.id, index)
    for index, source in sources:
        if source.outlet and source.outlet not in first_index and source.outlet not in already_reported \
                and not update.sources_unreadable:
            problems.append(Problem(
                sources_file, f"unknown source {source.outlet!r}: add it to sources.yml or fix the id",
                line=line_of(sources_path, (index, "outlet")), entry=f"sources[{index}] (id {source.id})",
                field="outlet"))

    if reviews:
        claimed = {review.claim for _, review in reviews}
        known = set()
        for chunk in _chunks(sorted(claimed), 500):
            known |= {row[0] for row in conn.execute(
                f"SELECT id FROM claims WHERE id IN ({', '.join('?' * len(chunk))})", chunk)}
        reviews_path = pathlib.Path(reviews_file)
        # History is never lost and never blocks a build (SPEC section 3): the events of a
        # claim gone from the seeds are kept, orphaned, with a warning.
        for index, review in reviews:
            if review.claim not in known and review.claim not in already_reported:
                warnings.append(Problem(
                    reviews_file, f"claim {review.claim!r} is no longer in the seeds: its review events are kept "
                    "as orphaned (view orphaned_review_events)", line=line_of(reviews_path, (index, "claim")),
                    entry=f"reviews[{index}] (claim {review.claim})", field="claim"))
    warnings += exposure_warnings(conn, seeds_dir)
    warnings += problems_of(conn, DRAFTS_REMAINING, seeds_dir)
    return problems, warnings


# Where each kind of written text sits in the seed files (for the warning's line).
EXPOSED_PLACES = {
    "claim text": ("SELECT seed_file, json_array('claims', position, 'text'), "
                   "'claims[' || position || '] (id ' || id || ')' FROM claims WHERE id = ?"),
    "link note": ("SELECT seed_file, json_array('links', position, 'note'), 'links[' || position || ']' "
                  "FROM links WHERE document_id = ? AND position = ?"),
    "document note": "SELECT seed_file, json_array('notes'), 'document ' || id FROM documents WHERE id = ?",
}


def exposure_warnings(conn, seeds_dir):
    """Claim texts, link notes and document notes that render a protected source's quote
    near-verbatim, or name the source (tracker/exposure.py): warnings at build time,
    and reasons for publish to refuse."""
    warnings = []
    for found in exposure.find(conn):
        field = {"claim text": "text", "link note": "note", "document note": "notes"}[found.kind]
        params = found.link if found.kind == "link note" else (found.target,)
        seed_file, loc, entry = conn.execute(EXPOSED_PLACES[found.kind], params).fetchone()
        path = pathlib.Path(seeds_dir) / seed_file
        advice = ("reword it, or 'tracker publish' refuses to publish the quote" if not found.names_source
                  else "say less about who the source is")
        warnings.append(Problem(str(path), f"{found}: {advice}", line=line_of(path, json.loads(loc)),
                                entry=entry, field=field))
    return warnings


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]
