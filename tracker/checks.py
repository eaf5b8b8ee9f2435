"""The seed rules that need the whole tree (SPEC section 3), as SQL over the seed cache.

Each query returns one row per problem: the seed file, the path to the offending node
in it (for the line number), the entry, the field, the message, and the name it found
unknown (so that an entry that already failed on its own is not reported twice).
"""

import atexit
import dataclasses
import json
import os
import pathlib

from .cache import BuildWarning, open_cache, shown_under
from .database import write_transaction
from .seeds import Problem, line_of

DUPLICATE_DOCUMENTS = """
SELECT d.seed_file, json_array('id') AS loc, 'document ' || d.id AS entry, 'id' AS field,
       'duplicate document id ' || quote(d.id) || ' (also in '
       || (SELECT min(o.seed_file) FROM documents o WHERE o.id = d.id AND o.seed_file != d.seed_file)
       || ')' AS message,
       NULL AS name
FROM documents d
WHERE d.id IN (SELECT id FROM documents WHERE 1 /*scope*/ GROUP BY id HAVING count(*) > 1)
"""

CLAIMS_DEFINED_TWICE = """
SELECT c.seed_file, json_array('claims', c.position, 'id'), 'claims[' || c.position || '] (id ' || c.id || ')', 'id',
       'claim ' || quote(c.id) || ' is defined twice (also in '
       || (SELECT min(o.seed_file) FROM claims o WHERE o.id = c.id AND o.rowid != c.rowid)
       || '); define it once and use ''ref'' elsewhere',
       NULL
FROM claims c
WHERE c.id IN (SELECT id FROM claims WHERE 1 /*scope*/ GROUP BY id HAVING count(*) > 1)
"""

UNKNOWN_REFS = """
SELECT a.seed_file, json_array('claims', a.position, 'ref'), 'claims[' || a.position || '] (ref ' || a.claim_id || ')',
       'ref', 'unknown claim ' || quote(a.claim_id) || ': no document defines it with ''id'' and ''text''',
       a.claim_id
FROM appearances a
WHERE a.is_ref AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = a.claim_id) /*scope*/
"""

UNKNOWN_ORIGINS = """
SELECT a.seed_file, json_array('claims', a.position, 'source'),
       'claims[' || a.position || '] (' || CASE a.is_ref WHEN 1 THEN 'ref ' ELSE 'id ' END || a.claim_id || ')',
       'source', 'unknown source ' || quote(a.source_id) || ': add it to sources.yml or fix the id', a.source_id
FROM appearances a
WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = a.source_id) /*scope*/
"""

UNKNOWN_RELAYS = """
SELECT a.seed_file, json_array('claims', a.position, 'via', v.key),
       'claims[' || a.position || '] (' || CASE a.is_ref WHEN 1 THEN 'ref ' ELSE 'id ' END || a.claim_id || ')',
       'via[' || v.key || ']', 'unknown source ' || quote(v.value) || ': add it to sources.yml or fix the id', v.value
FROM appearances a, json_each(a.via) v
WHERE a.via != '[]' AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = v.value) /*scope*/
"""

UNKNOWN_PUBLISHERS = """
SELECT d.seed_file, json_array('publisher'), 'document ' || d.id, 'publisher',
       'unknown source ' || quote(d.publisher_id) || ': add it to sources.yml or fix the id', d.publisher_id
FROM documents d
WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = d.publisher_id) /*scope*/
"""

UNKNOWN_LINK_ENDS = """
SELECT l.seed_file, json_array('links', l.position, e.field),
       'links[' || l.position || '] (' || l.from_claim_id || ' -> ' || l.to_claim_id || ')', e.field,
       'unknown claim ' || quote(e.claim_id), e.claim_id
FROM links l
JOIN (SELECT rowid AS link, 'from' AS field, from_claim_id AS claim_id FROM links WHERE 1 /*scope from*/
      UNION ALL SELECT rowid, 'to', to_claim_id FROM links WHERE 1 /*scope to*/) e ON e.link = l.rowid
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
    WHERE 1 /*scope*/
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
  AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = a.claim_id AND NOT c.draft) /*scope*/
"""

DRAFT_ONLY_LINK_ENDS = """
SELECT l.seed_file, json_array('links', l.position, e.field),
       'links[' || l.position || '] (' || l.from_claim_id || ' -> ' || l.to_claim_id || ')', e.field,
       'claim ' || quote(e.claim_id) || ' exists only as a draft: confirm it (remove ''draft: true'') before linking it',
       e.claim_id
FROM links l
JOIN (SELECT rowid AS link, 'from' AS field, from_claim_id AS claim_id FROM links WHERE 1 /*scope from*/
      UNION ALL SELECT rowid, 'to', to_claim_id FROM links WHERE 1 /*scope to*/) e ON e.link = l.rowid
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

# A rebuild asks the queries above only about what changed since the tree was last
# found sound (the cache's unchecked_files, and unchecked_names: every id those files
# define, use or link to, now or before): a problem that involves nothing of it was
# there at that last check, which is impossible. Each /*scope*/ of a query becomes the
# clause below; a full check (a first build, sources.yml changed, or many files
# changed) leaves them empty.
UNCHECKED = "(SELECT path FROM unchecked_files)"
NAMES = "(SELECT name FROM unchecked_names)"
SCOPES = {
    DUPLICATE_DOCUMENTS: {"/*scope*/": f"AND id IN (SELECT id FROM documents WHERE seed_file IN {UNCHECKED} "
                                       f"UNION SELECT name FROM unchecked_names)"},
    CLAIMS_DEFINED_TWICE: {"/*scope*/": f"AND id IN (SELECT id FROM claims WHERE seed_file IN {UNCHECKED} "
                                        f"UNION SELECT name FROM unchecked_names)"},
    UNKNOWN_REFS: {"/*scope*/": f"AND (a.seed_file IN {UNCHECKED} OR a.claim_id IN {NAMES})"},
    UNKNOWN_ORIGINS: {"/*scope*/": f"AND a.seed_file IN {UNCHECKED}"},
    UNKNOWN_RELAYS: {"/*scope*/": f"AND a.seed_file IN {UNCHECKED}"},
    UNKNOWN_PUBLISHERS: {"/*scope*/": f"AND d.seed_file IN {UNCHECKED}"},
    UNKNOWN_LINK_ENDS: {"/*scope from*/": f"AND (seed_file IN {UNCHECKED} OR from_claim_id IN {NAMES})",
                        "/*scope to*/": f"AND (seed_file IN {UNCHECKED} OR to_claim_id IN {NAMES})"},
    # a ref or link end in a changed file, or naming a claim whose definitions changed
    DRAFT_ONLY_REFS: {"/*scope*/": f"AND (a.seed_file IN {UNCHECKED} OR a.claim_id IN {NAMES})"},
    DRAFT_ONLY_LINK_ENDS: {"/*scope from*/": f"AND (seed_file IN {UNCHECKED} OR from_claim_id IN {NAMES})",
                           "/*scope to*/": f"AND (seed_file IN {UNCHECKED} OR to_claim_id IN {NAMES})"},
    # every link touching a claim of a changed link: all the links of each pair it forms
    DUPLICATE_LINKS: {"/*scope*/": f"AND (from_claim_id IN {NAMES} OR to_claim_id IN {NAMES})"},
}
# Above this share of the tree changed, one pass over everything is cheaper.
FULL_CHECK_SHARE = 0.2


def scoped(query, full):
    """``query`` asked of the whole tree (``full``) or of what changed since its last check."""
    for marker, clause in SCOPES.get(query, {}).items():
        query = query.replace(marker, "" if full else clause)
    return query


def problems_of(conn, query, seeds_dir, already_reported=frozenset()):
    """The rows of a check query as Problems, each file shown as under ``seeds_dir``."""
    found = []
    for seed_file, loc, entry, field, message, name in conn.execute(query):
        if name is not None and name in already_reported:
            continue
        path = pathlib.Path(seeds_dir) / seed_file
        found.append(Problem(str(path), message, line=line_of(path, json.loads(loc)), entry=entry, field=field))
    return found


def query_problems(conn, queries, seeds_dir, already_reported):
    return [problem for query in queries for problem in problems_of(conn, query, seeds_dir, already_reported)]


def _query_problems_of_file(cache_path, queries, seeds_dir, already_reported):
    conn = open_cache(cache_path)
    try:
        return query_problems(conn, queries, seeds_dir, already_reported)
    finally:
        conn.close()


# What a first build does after the parse runs on one core, and the two processes beside
# it (the SQL checks, the exposure comparisons: about 15 s of CPU at a million claims)
# start together: three processes on two cores cost the build a third of its core while
# both run. Beside it at a lower priority they take what the build leaves, and still come
# back long before it waits for them (they are waited for only at the end).
BESIDE_NICENESS = 10


def _stand_back():
    os.nice(BESIDE_NICENESS)


class Beside:
    """One call computed beside the build, in a forked process of its own or (``thread``)
    on a thread; ``result()`` waits for it. A process is ended, not waited for, when the
    build stops on a problem or an interruption (multiprocessing's pool terminates its
    workers at exit, where concurrent.futures would wait for the call to finish: a
    minute of exposure comparisons at a million claims)."""

    def __init__(self, function, *args, thread=False):
        self.thread = thread
        if thread:
            # a plain thread: concurrent.futures brings logging in, about 10 ms of every
            # rebuild, which all run their scoped exposure check on a thread
            import threading

            self.outcome = None
            self.worker = threading.Thread(target=self._run, args=(function, args), daemon=True)
            self.worker.start()
        else:
            import multiprocessing

            self.pool = multiprocessing.get_context("fork").Pool(1, initializer=_stand_back)
            self.future = self.pool.apply_async(function, args)
            # Ended before the interpreter tears down: a pool left to its __del__ there
            # may write to a pipe already closed and print a traceback after the
            # build's own message ("Bad file descriptor").
            atexit.register(self.pool.terminate)

    def _run(self, function, args):
        try:
            self.outcome = (True, function(*args))
        except BaseException as error:  # raised again by result(), in the build's thread
            self.outcome = (False, error)

    def ready(self) -> bool:
        return not self.worker.is_alive() if self.thread else self.future.ready()

    def result(self):
        if self.thread:
            self.worker.join()
            finished, value = self.outcome
            if not finished:
                raise value
        else:
            value = self.future.get()
            self.pool.close()
            atexit.unregister(self.pool.terminate)
        return value


def full_check_needed(conn, sources_key) -> bool:
    """Whether the whole tree must be checked: sources.yml changed since the last sound
    check (every name may now be known or unknown), or much of the tree did."""
    last = conn.execute("SELECT value FROM checked WHERE key = 'sources'").fetchone()
    if last is None or last[0] != sources_key:
        return True
    files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
    changed = conn.execute("SELECT count(*) FROM unchecked_files").fetchone()[0]
    return changed > FULL_CHECK_SHARE * max(files, 1)


def mark_checked(conn, sources_key):
    """The tree is sound as it stands: the next check starts from here."""
    with write_transaction(conn):
        conn.execute("DELETE FROM unchecked_files")
        conn.execute("DELETE FROM unchecked_names")
        conn.execute("DELETE FROM unchecked_texts")
        conn.execute("DELETE FROM unchecked_exposures")
        conn.execute("INSERT OR REPLACE INTO checked (key, value) VALUES ('sources', ?)", [sources_key])


def whole_tree(conn, seeds_dir, update, sources_key=None, defer_exposures=False, defer_queries=False):
    """Every cross-file problem (SQL over the cache, plus sources and reviews, which are
    small), and the warnings that need the whole tree: (problems, warnings).

    With ``sources_key`` (the content key of sources.yml), only what changed since the
    last sound check is looked at (see SCOPES), and a sound tree is marked checked.
    ``defer_queries`` (a first build): the SQL checks run beside the write
    (``update.pending_problems``), which collects them before the new database is put
    in place."""
    seeds_dir = pathlib.Path(seeds_dir)
    sources, reviews, already_reported = update.sources, update.reviews, update.already_reported
    sources_file, reviews_file = str(seeds_dir / "sources.yml"), str(seeds_dir / "reviews.yml")
    problems, warnings = [], []
    full = sources_key is None or full_check_needed(conn, sources_key)
    queries = [scoped(query, full) for query in ALL
               if not (update.sources_unreadable and query in NAME_SOURCES)]
    if defer_queries:
        # A first build's SQL checks run in a process of their own while it writes its new
        # database, which is not put in place until they come back empty (a problem, and
        # it is deleted, as if the build had stopped before writing): a third to a half of
        # a second that the write no longer waits for, at 50,000 claims.
        update.pending_problems = Beside(_query_problems_of_file, cache_file(conn), queries, str(seeds_dir),
                                         frozenset(already_reported))
    else:
        problems += query_problems(conn, queries, seeds_dir, already_reported)

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
        claimed = {review.claim for _, review in reviews} | {review.other for _, review in reviews if review.other}
        known = set()
        for chunk in _chunks(sorted(claimed), 500):
            known |= {row[0] for row in conn.execute(
                f"SELECT id FROM claims WHERE id IN ({', '.join('?' * len(chunk))})", chunk)}
        reviews_path = pathlib.Path(reviews_file)
        # History is never lost and never blocks a build (SPEC section 3): the events of a
        # claim gone from the seeds are kept, orphaned, with a warning.
        for index, review in reviews:
            if review.claim not in known and review.claim not in already_reported:
                warnings.append(BuildWarning(
                    reviews_file, f"claim {review.claim!r} is no longer in the seeds: its review events are kept "
                    "as orphaned (view orphaned_review_events)", line=line_of(reviews_path, (index, "claim")),
                    entry=f"reviews[{index}] (claim {review.claim})", field="claim", kind="orphaned review"))
            elif review.other and review.other not in known and review.other not in already_reported:
                warnings.append(BuildWarning(
                    reviews_file, f"claim {review.other!r} is no longer in the seeds: this {review.action} is kept "
                    "as orphaned (view orphaned_review_events) and links nothing", line=line_of(
                        reviews_path, (index, "other")),
                    entry=f"reviews[{index}] (claim {review.claim})", field="other", kind="orphaned review"))
    # drafts: one warning per file that still holds entries marked draft: true
    warnings += [BuildWarning(**dataclasses.asdict(found), kind="draft entries")
                 for found in problems_of(conn, DRAFTS_REMAINING, seeds_dir)]
    if problems and update.pending_problems is not None:
        # the tree is refused anyway: every problem, in the usual order, at once
        problems = update.pending_problems.result() + problems
        update.pending_problems = None
    if defer_exposures and not problems:
        # the build writes the database meanwhile, and keeps them when it is done
        update.pending_exposures = PendingExposures(conn, seeds_dir, full, sources_key)
        return problems, warnings
    if not problems:
        warnings += stored_exposure_warnings(conn, seeds_dir, full)
    if sources_key is not None and not problems:
        mark_checked(conn, sources_key)
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
    and reasons for publish to refuse. Computed afresh over the whole tree."""
    return stored_exposure_warnings(conn, seeds_dir, full=True)


# The claims whose exposure warnings a change can alter (E: the claims whose quotes meet
# other rows since the changed files changed, cache.unchecked_exposures; T: the claims
# the changed files define with a text or at a place they did not have before,
# cache.unchecked_texts): E itself, the claims linked to T (a linked claim's text is
# compared with the quote), and the claims appearing in a document where a claim of T
# appears (that document's claim texts are compared). Every pairing of a quote with a
# text is a row of some file: a pairing that came or went is a row of a changed file
# (E), and a text that changed is T's. Not every name the changed files mention: the
# ref of a claim repeated in 264 documents compared all its protected quotes again,
# and a title edit compared every quote of its file (45,000 pairs on a tree of large
# documents). A claim whose definition went away took every appearance and link of it
# along, all in changed files, whose rows are in E's reckoning.
EXPOSURE_SCOPE = """
INSERT OR IGNORE INTO temp.exposure_scope (claim_id)
SELECT claim_id FROM unchecked_exposures
UNION SELECT to_claim_id FROM links WHERE from_claim_id IN (SELECT claim_id FROM unchecked_texts)
UNION SELECT from_claim_id FROM links WHERE to_claim_id IN (SELECT claim_id FROM unchecked_texts)
UNION SELECT claim_id FROM appearances WHERE seed_file IN (
    SELECT seed_file FROM appearances WHERE claim_id IN (SELECT claim_id FROM unchecked_texts))
"""
STORE_EXPOSURE = "INSERT INTO exposure_warnings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
STORED_EXPOSURES = """
SELECT claim_id, kind, target, source_id, names_source, similarity, seed_file, loc, entry, field, message
FROM exposure_warnings
"""
EXPOSURE_FIELDS = {"claim text": "text", "link note": "note", "document note": "notes"}


def compute_exposures(cache_path, seeds_dir, full):
    """The exposure warnings brought up to date, read-only (it may run beside the write of
    the database, on a connection of its own): (claims recomputed, or None for all; their
    new rows for exposure_warnings; the tree's warnings, old and new merged)."""
    from . import exposure  # rapidfuzz: only when something is to be compared

    conn = open_cache(cache_path)
    try:
        scope, kept = None, STORED_EXPOSURES
        if not full:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS exposure_scope (claim_id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM temp.exposure_scope")
            conn.execute(EXPOSURE_SCOPE)
            scope = [row[0] for row in conn.execute("SELECT claim_id FROM temp.exposure_scope")]
            kept += " WHERE claim_id NOT IN (SELECT claim_id FROM temp.exposure_scope)"
        # the candidates streamed (two million pairs at a million claims: they never sit
        # in memory, nor are they sorted), what is found kept by claim, in claim order
        rows = []
        for claim_id, exposed in exposure.exposures_by_claim(exposure.candidates(conn, in_scope=not full)).items():
            for found in exposed:
                params = found.link if found.kind == "link note" else (found.target,)
                seed_file, loc, entry = conn.execute(EXPOSED_PLACES[found.kind], params).fetchone()
                advice = ("reword it, or 'tracker publish' refuses to publish the quote" if not found.names_source
                          else "say less about who the source is")
                rows.append((claim_id, found.kind, found.target, found.source_id, int(found.names_source),
                             found.similarity, seed_file, loc, entry, EXPOSURE_FIELDS[found.kind],
                             f"{found}: {advice}"))
        old = conn.execute(kept).fetchall() if scope is not None else []
        return scope, rows, merged_exposures(old + rows, seeds_dir)
    finally:
        conn.close()


def store_exposures(conn, scope, rows):
    """Keep the recomputed exposure rows in the cache (``scope``: the claims recomputed)."""
    with write_transaction(conn):
        if scope is None:
            conn.execute("DELETE FROM exposure_warnings")
        else:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS exposure_scope (claim_id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM temp.exposure_scope")
            conn.executemany("INSERT INTO temp.exposure_scope VALUES (?)", [(c,) for c in scope])
            conn.execute("DELETE FROM exposure_warnings WHERE claim_id IN (SELECT claim_id FROM temp.exposure_scope)")
        conn.executemany(STORE_EXPOSURE, rows)


def cache_file(conn) -> str:
    return next(row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main")


def stored_exposure_warnings(conn, seeds_dir, full):
    """The exposure warnings of the tree, brought up to date and kept (see
    compute_exposures): one per written text and protected source, the nearest rendering
    first. No seed file is read: a warning's line is looked up only when it is shown
    (``with_line``)."""
    scope, rows, warnings = compute_exposures(cache_file(conn), seeds_dir, full)
    store_exposures(conn, scope, rows)
    return warnings


def merged_exposures(rows, seeds_dir):
    best = {}
    for row in rows:
        claim_id, kind, target, source_id, names, similarity = row[:6]
        key = (kind, target, source_id, names)
        if key not in best or (-similarity, claim_id) < (-best[key][5], best[key][0]):
            best[key] = row
    warnings, under = [], shown_under(seeds_dir)
    for row in sorted(best.values(), key=lambda r: (r[4], -r[5], r[1], r[2])):
        seed_file, loc, entry, field, message = row[6:]
        warnings.append(BuildWarning(under + seed_file, message, None, entry, field,
                                     "protected source named" if row[4] else "protected quote exposed",
                                     tuple(json.loads(loc))))
    return warnings


class PendingExposures:
    """The exposure warnings, computed beside the build while it writes the database;
    ``warnings()`` waits for them, ``finish()`` keeps them in the cache and marks the tree
    checked once the database has them.

    A full check runs in a process of its own: on a thread, its comparisons (Python
    between rapidfuzz calls) held the GIL that the build's own Python functions inside
    SQL statements wait for (the evidence fingerprints: 0.27 s alone, 0.71 s beside the
    thread, on a 50,000-claim tree of bench/generate_other.py; the cold build 5.2 -> 4.6
    s). A scoped check compares a few claims: a thread costs less than a process."""

    def __init__(self, conn, seeds_dir, full, sources_key):
        self.sources_key = sources_key
        self.pending = Beside(compute_exposures, cache_file(conn), str(seeds_dir), full, thread=not full)
        self.found = None

    def warnings(self):
        if self.found is None:
            self.found = self.pending.result()
        return self.found[2]

    def finish(self, conn):
        self.warnings()
        scope, rows, _ = self.found
        store_exposures(conn, scope, rows)
        mark_checked(conn, self.sources_key)


# A warning's line is found by composing its file's YAML (5-10 ms a file at 100,000
# claims). A build shows its first few warnings on every run, mostly the same ones: their
# lines are kept in the cache while their file's content key is the same.
KNOWN_LINE = """
SELECT w.line FROM warning_lines w JOIN files f ON f.path = w.seed_file AND f.content_key = w.content_key
WHERE w.seed_file = ? AND w.loc = ?
"""
REMEMBER_LINE = """
INSERT OR REPLACE INTO warning_lines (seed_file, loc, content_key, line)
SELECT path, ?, content_key, ? FROM files WHERE path = ?
"""


def with_lines(conn, warnings, seeds_dir, count):
    """``warnings``, the first ``count`` of them with their lines (KNOWN_LINE)."""
    shown = []
    with write_transaction(conn):
        for warning in warnings[:count]:
            loc = getattr(warning, "loc", None)
            if warning.line is None and loc is not None and pathlib.Path(warning.file).is_relative_to(seeds_dir):
                seed_file = pathlib.Path(warning.file).relative_to(seeds_dir).as_posix()
                key = json.dumps(list(loc))
                known = conn.execute(KNOWN_LINE, [seed_file, key]).fetchone()
                if known is None:
                    warning = with_line(warning)
                    conn.execute(REMEMBER_LINE, [key, warning.line, seed_file])
                else:
                    warning = dataclasses.replace(warning, line=known[0])
            shown.append(warning)
    return shown + warnings[count:]


def with_line(warning):
    """The warning with its line in the seed file (looked up now, for the few shown)."""
    loc = getattr(warning, "loc", None)
    if warning.line is not None or loc is None:
        return warning
    return dataclasses.replace(warning, line=line_of(pathlib.Path(warning.file), loc))


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]
