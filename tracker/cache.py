"""The seed cache: every valid seed file, parsed and checked on its own, as rows.

It is a SQLite file kept beside the database (``<db>.cache``). A build parses only the
files whose content key changed since the cache last saw them (the key covers the YAML
bytes and, with ``--texts``, the text its quotes are anchored in), on every core, and
streams their rows in; the checks that need the whole tree then run as SQL over the
cache (``checks.py``). Nothing here touches the database analysts read.
"""

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import pathlib
import sqlite3
import types

from .database import suspended, write_transaction
from .listing import REVIEWS_FILE, SOURCES_FILE, document_files, seed_file_problem
from .vocabulary import SourceType, first_day
from .seeds import Problem, closest_passage, line_of, load_document, load_list, shorten

CACHE_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    content_key TEXT NOT NULL,
    text_file TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    text_size INTEGER,      -- size and mtime of the text the key hashed: an unchanged
    text_mtime_ns INTEGER   -- text is not read again (ingest: 20,000 texts per build)
);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT, title TEXT, publisher_id TEXT, authors TEXT, published TEXT, published_from TEXT,
    url TEXT, text_file TEXT, sha256 TEXT, notes TEXT, seed_file TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    id TEXT, text TEXT, kind TEXT, occurred TEXT, tags TEXT, document_id TEXT, origin_id TEXT,
    position INTEGER, seed_file TEXT NOT NULL, draft INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS appearances (
    document_id TEXT, position INTEGER, claim_id TEXT, source_id TEXT, via TEXT, quote TEXT,
    stance TEXT, quote_start INTEGER, quote_end INTEGER, verified INTEGER, is_ref INTEGER,
    seed_file TEXT NOT NULL, draft INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS links (
    document_id TEXT, position INTEGER, from_claim_id TEXT, to_claim_id TEXT, relation TEXT,
    note TEXT, seed_file TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY, name TEXT, type TEXT, reliability TEXT, group_id TEXT, outlet_id TEXT,
    independence_group TEXT, url TEXT, notes TEXT, sensitivity TEXT, aliases TEXT, position INTEGER
);
-- ingest: the texts read for anchoring, kept for the database's full-text search
CREATE TABLE IF NOT EXISTS document_texts (document_id TEXT, text TEXT, seed_file TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS document_texts_file ON document_texts(seed_file);
CREATE INDEX IF NOT EXISTS documents_file ON documents(seed_file);
CREATE INDEX IF NOT EXISTS documents_id ON documents(id);
CREATE INDEX IF NOT EXISTS claims_file ON claims(seed_file);
-- (with draft: the checks of refs and link ends to drafts read the index alone)
CREATE INDEX IF NOT EXISTS claims_id ON claims(id, draft);
CREATE INDEX IF NOT EXISTS appearances_file ON appearances(seed_file);
CREATE INDEX IF NOT EXISTS appearances_claim ON appearances(claim_id);
CREATE INDEX IF NOT EXISTS links_file ON links(seed_file);
CREATE INDEX IF NOT EXISTS appearances_document ON appearances(document_id);
CREATE INDEX IF NOT EXISTS links_document ON links(document_id);
CREATE INDEX IF NOT EXISTS links_from ON links(from_claim_id);
CREATE INDEX IF NOT EXISTS links_to ON links(to_claim_id);
-- the files that still hold draft entries (checks.DRAFTS_REMAINING, on every build)
CREATE INDEX IF NOT EXISTS appearances_draft ON appearances(seed_file) WHERE draft;
""" + """
-- Warnings, kept with the rows they came from: those a file's own parse found (by its
-- file), and the whole-tree exposure warnings (by the claim whose protected quote is
-- exposed; checks.py recomputes them for the claims a change can reach).
CREATE TABLE IF NOT EXISTS file_warnings (
    seed_file TEXT NOT NULL, kind TEXT NOT NULL, line INTEGER, entry TEXT, field TEXT, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS file_warnings_file ON file_warnings(seed_file);
CREATE TABLE IF NOT EXISTS exposure_warnings (
    claim_id TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL, source_id TEXT NOT NULL,
    names_source INTEGER NOT NULL, similarity INTEGER NOT NULL,
    seed_file TEXT NOT NULL, loc TEXT NOT NULL, entry TEXT, field TEXT, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exposure_warnings_claim ON exposure_warnings(claim_id);
-- What changed since the whole tree was last found sound: the whole-tree checks look
-- only at these files and at the names they define, defined or referenced before.
CREATE TABLE IF NOT EXISTS unchecked_files (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS unchecked_names (name TEXT PRIMARY KEY);
-- ...and the claims those files define with a text, or at a place (file and position),
-- they did not have before: only these are compared anew with the quotes of every
-- document they appear in (a title edit rewrites a file's claims as they were), and the
-- place of an exposure warning about such a text is looked up again
CREATE TABLE IF NOT EXISTS unchecked_texts (claim_id TEXT PRIMARY KEY);
-- ...and the claims whose protected quotes may meet a text they did not meet before, or
-- no longer meet one (see EXPOSURE_ROWS_CHANGED): the exposure check compares these again
CREATE TABLE IF NOT EXISTS unchecked_exposures (claim_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS checked (key TEXT PRIMARY KEY, value TEXT);
-- The entries of sources.yml and reviews.yml as last validated without a problem, by the
-- file's sha256: an unchanged file is not validated again (see load_entries)
CREATE TABLE IF NOT EXISTS valid_entries (file TEXT PRIMARY KEY, sha256 TEXT NOT NULL, entries TEXT NOT NULL);
-- The lines of the warnings a build shows, found by composing their file's YAML once
-- and kept while the file's content key is the same (checks.with_lines)
CREATE TABLE IF NOT EXISTS warning_lines (
    seed_file TEXT NOT NULL, loc TEXT NOT NULL, content_key TEXT NOT NULL, line INTEGER,
    PRIMARY KEY (seed_file, loc)
);
"""

# Bump when the rows a file turns into change shape: the whole cache is then rebuilt.
CACHE_VERSION = 14  # (14: exposure.RUN_WORDS, so the exposure warnings are found again)
FILE_TABLES = ("documents", "claims", "appearances", "links", "document_texts")
WARNING_TABLES = ("file_warnings", "exposure_warnings", "warning_lines", "unchecked_files", "unchecked_names",
                  "unchecked_texts", "unchecked_exposures", "checked")
BATCH_FILES = 500
BULK_FILES = 2000


@dataclasses.dataclass(frozen=True)
class BuildWarning(Problem):
    """A warning, with its kind (for the summary a build prints) and, when its line is
    looked up only if it is shown, the path to its node in the file."""
    kind: str = "other"
    loc: tuple = None


def warning_kind(warning) -> str:
    if getattr(warning, "kind", None):
        return warning.kind
    return "repeated quote" if warning.field == "quote" else "other"


def shown_under(seeds_dir) -> str:
    """What a seed file's path inside the tree (documents/x.yml) is prefixed with to show
    it as under ``seeds_dir``, as str(pathlib.Path(seeds_dir) / seed_file) would: 'seeds/',
    or '' for '.'. Warnings are kept by the thousand and made on every build: one pathlib
    path per row cost a no-change rebuild 5-10 ms."""
    return str(pathlib.Path(seeds_dir) / "_")[:-1]


def file_warnings(conn, seeds_dir, files):
    """The warnings the parses of ``files`` found, kept in the cache (no file is read)."""
    under = shown_under(seeds_dir)
    found = []
    for seed_file, kind, line, entry, field, message in conn.execute(
            "SELECT seed_file, kind, line, entry, field, message FROM file_warnings ORDER BY seed_file, rowid"):
        if seed_file in files:
            found.append(BuildWarning(under + seed_file, message, line, entry, field, kind))
    return found


@dataclasses.dataclass
class CacheUpdate:
    sources: list  # [(index in sources.yml, Source)]
    reviews: list  # [(index in reviews.yml, Review)]
    files: dict  # seed file (its path inside the seed tree) -> content key, for every valid file
    problems: list
    warnings: list
    already_reported: set  # ids of entries that failed on their own
    parsed: int  # document files parsed this time (the rest came from the cache)
    sources_unreadable: bool = False  # sources.yml could not be read at all
    pending_exposures: object = None  # checks.PendingExposures while they are computed beside the write
    pending_problems: object = None  # checks.Beside: a first build's SQL checks, beside the write
    under: str = ""  # what the tree's files are shown under (shown_under)


@contextlib.contextmanager
def locked(cache_path):
    """One build at a time per cache: two builds of one database take turns."""
    with open(str(cache_path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def open_cache(path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a cache: a crash costs a re-parse, nothing more
    # its indexes are made in bulk after a first parse, and the checks read it all: a
    # page cache of 128 MB at most, not 2 MB (build.BUILD_PRAGMAS)
    conn.execute("PRAGMA cache_size = -131072")
    if conn.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
        for table in ("files",) + FILE_TABLES + ("sources", "valid_entries") + WARNING_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.executescript(CACHE_SCHEMA + f"PRAGMA user_version = {CACHE_VERSION};")
    return conn


def sha256_of(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.lru_cache(maxsize=8)
def _resolved_folder(texts_dir) -> pathlib.Path:
    return pathlib.Path(texts_dir).resolve()


def text_path_of(texts_dir, text_file):
    """The text file a document names, or None when the name leads out of the texts folder
    (``../secret.txt``, an absolute path, a symlink pointing elsewhere)."""
    folder = _resolved_folder(str(texts_dir))
    path = folder / text_file
    # A plain file name that is not a symlink cannot lead out: one lstat instead of a
    # full resolve (which costs a dozen system calls, 20,000 times on an ingested corpus).
    if "/" not in text_file and "\\" not in text_file and text_file not in ("", ".", "..") and not path.is_symlink():
        return path
    path = path.resolve()
    return path if path.is_relative_to(folder) and path != folder else None


def text_stat(texts_dir, text_file):
    """(size, mtime_ns) of the document's text file, or (None, None)."""
    if texts_dir is None or not text_file:
        return None, None
    text_path = text_path_of(texts_dir, text_file)
    try:
        stat = text_path.stat() if text_path is not None else None
    except OSError:
        stat = None
    return (stat.st_size, stat.st_mtime_ns) if stat else (None, None)


def content_key(yaml_sha: str, texts_dir, text_file, previous=None) -> str:
    """What a document's rows depend on: its YAML, and the text its quotes are anchored in.

    ``previous``: (key, text size, text mtime_ns) the cache holds; a text of the same size
    and modification time keeps its hash, as make and rsync assume."""
    if texts_dir is None:
        return f"{yaml_sha}:no-texts"
    if not text_file:
        return f"{yaml_sha}:texts"
    text_path = text_path_of(texts_dir, text_file)
    if text_path is None:
        return f"{yaml_sha}:outside"
    if previous is not None and previous[1] is not None and previous[0].startswith(f"{yaml_sha}:"):
        if text_stat(texts_dir, text_file) == (previous[1], previous[2]):
            return previous[0]
    return f"{yaml_sha}:{sha256_of(text_path) if text_path.is_file() else 'missing'}"


DEFINED_IN = "SELECT seed_file, id FROM claims WHERE seed_file IN (SELECT value FROM json_each(?))"


def update(seeds_dir, cache_path, texts_dir=None, progress=lambda step, done=None, total=None: None,
           parser=None, listed=None) -> CacheUpdate:
    """Bring the cache up to date with ``seeds_dir``; report what is wrong file by file.
    ``parser``: a parser_process.ParserProcess to parse the changed files in, if few;
    ``listed``: ``document_files(seeds_dir)``, when the caller has listed the tree already."""
    seeds_dir = pathlib.Path(seeds_dir)
    conn = open_cache(cache_path)
    problems, warnings, already_reported = [], [], set()

    progress("reading sources.yml")
    sources_path = seeds_dir / SOURCES_FILE
    if not sources_path.exists():
        conn.close()
        return CacheUpdate([], [], {}, [Problem(str(sources_path), "missing: every seed tree needs sources.yml")],
                           [], set(), 0)
    source_items, found, invalid = [], [seed_file_problem(seeds_dir, sources_path)], set()
    if found[0] is None:
        source_items, found, invalid = load_entries(conn, sources_path, "sources")
    problems += found
    already_reported |= invalid
    # A sources.yml that cannot be read at all is one problem, not one "unknown source"
    # for every appearance of the tree.
    sources_unreadable = any(problem.entry is None for problem in found)
    reviews_path = seeds_dir / REVIEWS_FILE
    review_items = []
    if reviews_path.exists():
        found = [seed_file_problem(seeds_dir, reviews_path)]
        if found[0] is None:
            review_items, found, _ = load_entries(conn, reviews_path, "reviews")
        problems += found

    with write_transaction(conn):
        conn.execute("DELETE FROM sources")
        conn.executemany(
            "INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(s.id, s.name, s.type.value, s.reliability, s.group, s.outlet, s.independence_group, s.url,
              s.notes, s.sensitivity, json.dumps(s.aliases, ensure_ascii=False), index)
             for index, s in source_items],
        )

    progress("looking for changed documents")
    cached = {row[0]: row[1:] for row in conn.execute(
        "SELECT path, content_key, text_file, size, mtime_ns, text_size, text_mtime_ns FROM files")}
    files, to_parse, restated, reparsed = {}, [], [], []
    texts = None if texts_dir is None else str(texts_dir)
    listed, found = listed if listed is not None else document_files(seeds_dir)
    problems += found
    for path, name, stat in listed:
        # A file is known by its path inside the seed tree, however the tree was named on
        # the command line ('seeds', './seeds', an absolute path): the same file, the same rows.
        seed_file = "documents/" + name  # = path.relative_to(seeds_dir), without pathlib's cost
        old = cached.pop(seed_file, None)
        if old is None:
            to_parse.append((path, seed_file, None, texts))  # the parser hashes it as it reads it
            continue
        key, text_file, size, mtime_ns, text_size, text_mtime_ns = old
        # same size and modification time: the same bytes, as make and rsync assume
        same_file = (size, mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        yaml_sha = key.split(":")[0] if same_file else sha256_of(pathlib.Path(path))
        if key == content_key(yaml_sha, texts_dir, text_file, (key, text_size, text_mtime_ns)):
            files[seed_file] = key
            if not same_file:  # touched, copied or checked out again, not changed
                restated.append((stat.st_size, stat.st_mtime_ns, seed_file))
        else:
            to_parse.append((path, seed_file, yaml_sha, texts))
            reparsed.append(seed_file)
    # The new size and time of a file whose bytes did not change are kept, or every later
    # build would hash it again (after a fresh checkout: every file, on every build).
    if restated:
        with write_transaction(conn):
            conn.executemany("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", restated)

    # Many files to parse (a first build): drop the cache's indexes and make them once,
    # and let the next whole-tree check look at everything.
    bulk = FILE_TABLES if len(to_parse) > BULK_FILES else ()
    # The claims each changed file defined when it was last sound: a file that no longer
    # reads (a YAML syntax error) is one problem, not one more "unknown claim" for every
    # ref to them elsewhere. (New files defined nothing before: a first build asks nothing.)
    defined_before = {}
    if reparsed:
        for seed_file, claim_id in conn.execute(DEFINED_IN, [json.dumps(reparsed)]):
            defined_before.setdefault(seed_file, set()).add(claim_id)
    with write_transaction(conn):
        forget(conn, list(cached) + [item[1] for item in to_parse], track=not bulk)
    with write_transaction(conn), suspended(conn, "index", bulk):
        batch = []
        for index, parsed in enumerate(parse_all(to_parse, parser), 1):
            problems += parsed["problems"]
            already_reported |= parsed["defined"]
            if parsed["problems"]:
                already_reported |= defined_before.get(parsed["seed_file"], set())
            if not parsed["problems"]:
                batch.append(parsed)
                files[parsed["seed_file"]] = parsed["key"]
            if len(batch) == BATCH_FILES or index == len(to_parse):
                store(conn, batch, track=not bulk)
                batch = []
                progress("parsing changed documents", index, len(to_parse))
        if not bulk:
            exposure_rows_changed(conn)
    warnings = file_warnings(conn, seeds_dir, files)
    conn.close()
    return CacheUpdate(
        sources=source_items,
        reviews=review_items,
        files=files,
        problems=problems,
        warnings=warnings,
        already_reported=already_reported,
        parsed=len(to_parse),
        sources_unreadable=sources_unreadable,
        under=shown_under(seeds_dir),
    )


class ValidEntry(types.SimpleNamespace):
    """An entry of sources.yml or reviews.yml validated by an earlier build: the fields
    of its model (and a source's independence group), without pydantic."""


def load_entries(conn, path, kind):
    """``seeds.load_list`` of sources.yml or reviews.yml (``kind``: 'sources' or
    'reviews'), remembered while the file is unchanged and sound: validating them needs
    pydantic and the models, most of the start-up of a rebuild with nothing changed."""
    sha256 = sha256_of(path)
    row = conn.execute("SELECT entries FROM valid_entries WHERE file = ? AND sha256 = ?", [kind, sha256]).fetchone()
    if row is not None:
        items = [(index, ValidEntry(**fields)) for index, fields in json.loads(row[0])]
        if kind == "sources":
            for _, source in items:
                source.type = SourceType(source.type)
        return items, [], set()
    from .models import Review, Source

    items, problems, invalid = load_list(path, str(path), Source if kind == "sources" else Review, kind)
    entries = [(index, {**entry.model_dump(), **({"independence_group": entry.independence_group}
                                                  if kind == "sources" else {})}) for index, entry in items]
    with write_transaction(conn):
        conn.execute("DELETE FROM valid_entries WHERE file = ?", [kind])
        if not problems:
            conn.execute("INSERT INTO valid_entries VALUES (?, ?, ?)",
                         [kind, sha256, json.dumps(entries, ensure_ascii=False)])
    return items, problems, invalid


UNCHECKED_NAMES_OF_STALE = """
INSERT OR IGNORE INTO unchecked_names (name)
SELECT id FROM documents WHERE seed_file IN (SELECT path FROM temp.stale)
UNION SELECT id FROM claims WHERE seed_file IN (SELECT path FROM temp.stale)
UNION SELECT claim_id FROM appearances WHERE seed_file IN (SELECT path FROM temp.stale)
UNION SELECT from_claim_id FROM links WHERE seed_file IN (SELECT path FROM temp.stale)
UNION SELECT to_claim_id FROM links WHERE seed_file IN (SELECT path FROM temp.stale)
"""


def forget(conn, paths, track=True):
    """Drop the rows of files that changed or went away, in one pass per table."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS stale (path TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.stale")
    conn.executemany("INSERT OR IGNORE INTO temp.stale VALUES (?)", ((path,) for path in paths))
    # The whole-tree checks look again at these files and at every name they held.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS stale_texts (id TEXT, text TEXT, seed_file TEXT, position INTEGER)")
    conn.execute("CREATE INDEX IF NOT EXISTS temp.stale_texts_id ON stale_texts (id)")
    conn.execute("DELETE FROM temp.stale_texts")
    if track:
        conn.execute("INSERT OR IGNORE INTO unchecked_files SELECT path FROM temp.stale")
        conn.execute(UNCHECKED_NAMES_OF_STALE)
        # the claim texts as they were, and where, for store() to tell the new ones
        conn.execute("INSERT INTO temp.stale_texts SELECT id, text, seed_file, position FROM claims "
                     "WHERE seed_file IN (SELECT path FROM temp.stale)")
        # and what the exposure check compares, as it was (exposure_rows_changed)
        exposure_rows(conn, "stale")
    else:
        conn.execute("DELETE FROM checked")
    conn.execute("DELETE FROM files WHERE path IN (SELECT path FROM temp.stale)")
    conn.execute("DELETE FROM file_warnings WHERE seed_file IN (SELECT path FROM temp.stale)")
    for table in FILE_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE seed_file IN (SELECT path FROM temp.stale)")


def store(conn, batch, track=True):
    """Write the rows of a batch of parsed files; ``track``: note them for the next
    whole-tree check (without it, the next check looks at everything)."""
    conn.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(p["seed_file"], p["key"], p["text_file"], p["size"], p["mtime_ns"], *p["text_stat"])
                      for p in batch])
    conn.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [p["document"] for p in batch])
    conn.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (r for p in batch for r in p["claims"]))
    conn.executemany("INSERT INTO appearances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (r for p in batch for r in p["appearances"]))
    conn.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?, ?, ?)", (r for p in batch for r in p["links"]))
    conn.executemany("INSERT INTO document_texts VALUES (?, ?, ?)", (p["text"] for p in batch if p.get("text")))
    conn.executemany("INSERT INTO file_warnings VALUES (?, ?, ?, ?, ?, ?)",
                     [(p["seed_file"], kind, w.line, w.entry, w.field, w.message)
                      for p in batch for w in p["warnings"] for kind in [warning_kind(w)]])
    if not track:
        conn.execute("DELETE FROM checked")
        return
    conn.executemany("INSERT OR IGNORE INTO unchecked_files VALUES (?)", [(p["seed_file"],) for p in batch])
    conn.executemany("INSERT OR IGNORE INTO unchecked_names VALUES (?)", (
        (name,) for p in batch for name in {
            p["document"][0], *(r[0] for r in p["claims"]), *(r[2] for r in p["appearances"]),
            *(r[2] for r in p["links"]), *(r[3] for r in p["links"])}))
    conn.executemany(UNCHECKED_TEXT, ((r[0], r[0], r[1], r[8], r[7]) for p in batch for r in p["claims"]))


# What the exposure check reads of a file's rows (exposure.candidates): which claims
# appear in which document, with which source and quote; the links recorded in it, with
# their notes and places; the document's notes.
EXPOSURE_COLUMNS = {
    "appearances": "seed_file, document_id, claim_id, source_id, quote",
    "links": "seed_file, document_id, position, from_claim_id, to_claim_id, note",
    "documents": "seed_file, id, notes",
}
# The claims whose protected quotes must be compared again after the rows of the changed
# files (temp.stale) moved from temp.stale_* (forget) to temp.fresh_* (what is stored now,
# exposure_rows_changed): the quoted claims, as before and as now, of every changed file
# whose exposure rows differ (a quote there may meet a claim text, a link note or a
# document note that came or went), and both ends of every link that came or went (the
# quote of either end meets the other's text, wherever the quote is). Claims only
# mentioned by such a file are not: the new mention of a much repeated claim brings no
# quote of it elsewhere near a new text. A file rewritten with the same rows (a title
# edit) adds nothing. Changed claim texts are unchecked_texts' part.
EXPOSURE_ROWS_CHANGED = """
WITH changed_links AS (
    SELECT * FROM (SELECT * FROM temp.stale_links EXCEPT SELECT * FROM temp.fresh_links)
    UNION SELECT * FROM (SELECT * FROM temp.fresh_links EXCEPT SELECT * FROM temp.stale_links)
),
changed_files AS (
    SELECT seed_file FROM (SELECT * FROM temp.stale_appearances EXCEPT SELECT * FROM temp.fresh_appearances)
    UNION SELECT seed_file FROM (SELECT * FROM temp.fresh_appearances EXCEPT SELECT * FROM temp.stale_appearances)
    UNION SELECT seed_file FROM changed_links
    UNION SELECT seed_file FROM (SELECT * FROM temp.stale_documents EXCEPT SELECT * FROM temp.fresh_documents)
    UNION SELECT seed_file FROM (SELECT * FROM temp.fresh_documents EXCEPT SELECT * FROM temp.stale_documents)
)
INSERT OR IGNORE INTO unchecked_exposures (claim_id)
SELECT claim_id FROM temp.stale_appearances WHERE quote IS NOT NULL AND seed_file IN (SELECT seed_file FROM changed_files)
UNION SELECT claim_id FROM temp.fresh_appearances
      WHERE quote IS NOT NULL AND seed_file IN (SELECT seed_file FROM changed_files)
UNION SELECT from_claim_id FROM changed_links
UNION SELECT to_claim_id FROM changed_links
"""


def exposure_rows(conn, kept):
    """Copy the exposure rows (EXPOSURE_COLUMNS) of the files in temp.stale into
    temp.{kept}_* ('stale': as they were, before forget drops them; 'fresh': as stored)."""
    for table, columns in EXPOSURE_COLUMNS.items():
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {kept}_{table} AS SELECT {columns} FROM main.{table} WHERE 0")
        conn.execute(f"DELETE FROM temp.{kept}_{table}")
        conn.execute(f"INSERT INTO temp.{kept}_{table} SELECT {columns} FROM main.{table} "
                     "WHERE seed_file IN (SELECT path FROM temp.stale)")


def exposure_rows_changed(conn):
    """Note in unchecked_exposures the claims whose quotes the stored files' rows pair anew."""
    exposure_rows(conn, "fresh")
    conn.execute(EXPOSURE_ROWS_CHANGED)


# A claim defined with a text, or at a place, that none of the rows forget() dropped had.
UNCHECKED_TEXT = """
INSERT OR IGNORE INTO unchecked_texts (claim_id)
SELECT ? WHERE NOT EXISTS (SELECT 1 FROM temp.stale_texts
                           WHERE id = ? AND text IS ? AND seed_file IS ? AND position IS ?)
"""


def parse_all(work, parser=None):
    """Parse files on every core (YAML parsing is most of a cold build); yields in order.
    A few files go to ``parser`` (a ParserProcess) when there is one, which is ended
    unused otherwise."""
    workers = min(os.cpu_count() or 1, 8)
    few = workers < 2 or len(work) < 200
    if parser is not None:
        if few and work:
            yield from parser.parse(work)
            return
        parser.close()
    if few:
        yield from map(parse_file, work)
        return
    import concurrent.futures  # (with logging and pickle: not for a rebuild that parses little)

    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(parse_file, work, chunksize=64)


def parse_file(item):
    """One document file -> its rows (plain tuples), problems and warnings.

    ``item``: the file's path as the command line named it (shown in problems), its path
    inside the seed tree (the key of its rows), its sha256 if known, the texts folder.
    """
    path, seed_file, yaml_sha, texts_dir = item
    path = pathlib.Path(path)
    shown = str(path)
    stat = path.stat()
    raw = path.read_bytes()
    document, problems, defined = load_document(path, shown, raw)
    result = {"seed_file": seed_file, "problems": problems, "warnings": [], "defined": defined,
              "key": None, "text_file": None, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
              "text_stat": (None, None)}
    yaml_sha = yaml_sha or hashlib.sha256(raw).hexdigest()
    if document is None:
        return result
    result["text_file"] = document.text
    # stat before hashing: a text rewritten meanwhile gets a new mtime, so is hashed again
    result["text_stat"] = text_stat(texts_dir, document.text)
    result["key"] = content_key(yaml_sha, texts_dir, document.text)
    anchors, read = {}, {}
    if texts_dir is not None and document.text:
        found, result["warnings"] = anchor_quotes(path, document, texts_dir, anchors, read)
        problems += found
    if "text" in read:
        result["text"] = (document.id, read["text"], seed_file)
    if problems:
        # Reported here, once: the claims this file defines are not "unknown" elsewhere.
        result["defined"] = {a.id for a in document.claims if a.id}
    result["document"] = (
        document.id, document.title, document.publisher, json.dumps(document.authors, ensure_ascii=False),
        document.published, first_day(document.published), document.url, document.text, document.sha256,
        document.notes, seed_file,
    )
    result["claims"] = [
        (a.id, a.text, a.kind, a.occurred, json.dumps(a.tags), document.id, a.source, position, seed_file,
         1 if a.draft else 0)
        for position, a in enumerate(document.claims) if a.id
    ]
    result["appearances"] = [
        (document.id, position, a.claim_id, a.source, json.dumps(a.via), a.quote, a.stance,
         *anchors.get(position, (None, None, 0)), 1 if a.ref else 0, seed_file, 1 if a.draft else 0)
        for position, a in enumerate(document.claims)
    ]
    result["links"] = [
        (document.id, position, link.from_, link.to, link.relation, link.note, seed_file)
        for position, link in enumerate(document.links)
    ]
    return result


def read_text(path, document, texts_dir):
    """The document's text, or the Problem that stops it from being read."""
    shown, entry = str(path), f"document {document.id}"

    def problem(message, field="text"):
        return None, Problem(shown, message, line=line_of(path, (field,)), entry=entry, field=field)

    text_path = text_path_of(texts_dir, document.text)
    if text_path is None:
        return problem(f"text {shorten(document.text)} leads out of the texts folder {texts_dir}: "
                       "name a file inside it")
    if not text_path.is_file():
        return problem(f"text file {shorten(document.text)} not found in {texts_dir}")
    raw = text_path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if document.sha256 and digest != document.sha256:
        return problem(f"sha256 of {text_path} is {digest}, not the recorded value: "
                       "the text changed, or the wrong file is named", field="sha256")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return problem(f"text file {text_path} is not UTF-8 text (byte {e.start}: {e.reason}): "
                       "convert it to UTF-8")


def anchor_quotes(path, document, texts_dir, anchors, read=None):
    """Find each quote verbatim in the document's text: position -> (start, end, 1).

    ``read`` (a dict), when given, receives the text under "text": the build stores it
    for full-text search (ingest, issue 10)."""
    shown = str(path)
    text, problem = read_text(path, document, texts_dir)
    if problem:
        return [problem], []
    if read is not None:
        read["text"] = text
    problems, warnings = [], []
    for position, appearance in enumerate(document.claims):
        if appearance.quote is None:
            continue
        entry = f"claims[{position}] ({'id' if appearance.id else 'ref'} {appearance.claim_id})"
        start = text.find(appearance.quote)
        if start < 0:
            problems.append(Problem(
                shown, f"quote {shorten(appearance.quote)} not found verbatim in {document.text}; "
                f"closest passage: {shorten(closest_passage(appearance.quote, text))}",
                line=line_of(path, ("claims", position, "quote")), entry=entry, field="quote"))
            continue
        count = text.count(appearance.quote)
        if count > 1:
            warnings.append(Problem(
                shown, f"quote occurs {count} times in {document.text}; the first occurrence is anchored",
                line=line_of(path, ("claims", position, "quote")), entry=entry, field="quote"))
        anchors[position] = (start, start + len(appearance.quote), 1)
    return problems, warnings
