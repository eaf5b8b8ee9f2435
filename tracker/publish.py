"""Write the public database that anonymous visitors may query with SQL (SPEC section 7).

Datasette lets anyone run SQL against the file it serves, so what must not be seen must
not be in the file. ``publish`` copies the full database into a new file with set-based
``INSERT ... SELECT`` statements that redact on the way:

* every ``protected`` source gets a stable, random pseudonym (``protected-<hex>``, kept
  in the full database's ``source_pseudonyms``; never a hash of the id, which a
  dictionary of likely ids would reverse). The pseudonym replaces the source's id and
  name wherever they occur: ``sources.id``/``name``/``outlet_id``, ``group_id`` and
  ``independence_group`` (whole values: a protected id, ``outlet:<protected id>``, or a
  group only protected sources belong to; every public source's group is kept as it is),
  ``documents.publisher_id``, ``claims.origin_id``, ``appearances.source_id``, the JSON
  lists in ``appearances.via``, and so every view built on them;
* a protected source's row keeps only the columns in ``PROTECTED_SOURCE_COLUMNS``
  (no url, no notes, nor any column added later); an appearance whose origin is
  protected keeps only ``PROTECTED_APPEARANCE_COLUMNS`` (no quote, no offsets);
* ``review_events`` keeps its columns (canned queries and the claim page work on both
  files) but ``actor`` and ``note`` are always NULL (a CHECK constraint says so);
* fingerprints that could be checked against guesses are re-keyed: ``claims.evidence``
  and ``review_events.evidence`` hash the origin ids of a claim's appearances, and a
  hand-written review's id hashes its actor and note. They are replaced by an HMAC
  under a key drawn afresh for each publish, which keeps equal values equal (so
  staleness reads the same) but lets nobody test a guess;
* ``source_pseudonyms`` and ``seed_files`` are not in the public file, working tables
  (``analysis_queue``) and tables this module does not know are there but empty
  (the report names the unknown ones: decide how to publish them); views and triggers
  are recreated from ``tracker.database.DERIVED_SQL``, then the full-text indexes, the
  facet counts and the source records are made from the public rows.

The full database is read in one read transaction (a consistent snapshot; reviewers
keep writing meanwhile). The public file is written to a temporary file beside
``out_path`` (journal_mode DELETE, VACUUMed) and moved into place with ``os.replace``:
on any error nothing at ``out_path`` changes and the temporary file is removed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import pathlib
import re
import secrets
import sqlite3
import tempfile

import sqlite_utils

from . import analysis, exposure
from .database import BUSY_TIMEOUT_MS, DERIVED_SQL, REINDEX_AND_RECOUNT, DERIVED_VERSION, SCHEMA_SQL, connect, write_transaction

PSEUDONYM_PREFIX = "protected-"

# The tables published, in the order they are copied.
TABLES = ("source_types", "sources", "documents", "claims", "appearances", "links", "review_events")
# Tables of the full database that never reach the public file.
NOT_PUBLISHED = ("source_pseudonyms", "seed_files",
                 "warnings",  # warnings quote protected texts
                 "build_state",  # what the last build of the full database was made from
                 # the documents' texts are the publishers' words: the team's only
                 "document_texts", "document_texts_fts",
                 # suggestions are the team's working material (SPEC section 7)
                 "link_suggestions")
# Published empty: working queues, and what is made afresh from the public rows.
PUBLISHED_EMPTY = ("analysis_queue", "source_queue", "source_records", "facet_counts", "circular_claims",
                   "draft_entries")  # drafts are for the team only (SPEC section 3)

# Every column that holds a source id (besides sources.id itself, appearances.via and the
# group columns, handled below). A new foreign key to sources that is not listed here
# stops the publish instead of leaking an id.
SOURCE_ID_COLUMNS = {
    ("sources", "outlet_id"),
    ("documents", "publisher_id"),
    ("claims", "origin_id"),
    ("appearances", "source_id"),
}

# What a protected source's row and an appearance with a protected origin keep; every
# other column (notes, url, quote, quote offsets, and any column added later) is NULL.
PROTECTED_SOURCE_COLUMNS = {
    "id", "name", "type", "reliability", "group_id", "outlet_id", "independence_group", "sensitivity",
}
PROTECTED_APPEARANCE_COLUMNS = {
    "id", "claim_id", "document_id", "source_id", "via", "stance", "verified", "position",
}

# What a document published by a protected source keeps: no url (the source's own page),
# no text file or sha256 (a fingerprint of its text, which a guess could be checked against),
# and its authors as an empty list (above); its id, title and notes are checked for naming it.
PROTECTED_DOCUMENT_COLUMNS = {
    "id", "title", "publisher_id", "authors", "published", "published_from", "notes", "seed_file",
}

# review_events in the public file: same columns, no reviewer names, no notes.
PUBLIC_REVIEW_EVENTS = """
CREATE TABLE review_events (
    id TEXT PRIMARY KEY,
    claim_id TEXT NOT NULL,
    actor TEXT CHECK (actor IS NULL),      -- reviewer names are not published
    action TEXT NOT NULL CHECK (action IN ('flag', 'accept', 'reject', 'note', 'link', 'unlink', 'dismiss')),
    note TEXT CHECK (note IS NULL),        -- review notes are not published
    credibility INTEGER CHECK (credibility IS NULL OR credibility BETWEEN 1 AND 6),
    evidence TEXT,
    created_at TEXT NOT NULL,
    other_claim_id TEXT,
    relation TEXT
);
CREATE INDEX review_events_claim ON review_events(claim_id, created_at);
"""
WITHHELD_REVIEW_COLUMNS = {"actor", "note"}

# A JSON list of source ids with each protected id replaced by its pseudonym, in order.
# Lists without a protected id are kept byte for byte.
VIA_SQL = """CASE
    WHEN EXISTS (SELECT 1 FROM json_each(t.via) j JOIN temp.pmap m ON m.source_id = j.value)
    THEN (SELECT json_group_array(v) FROM (
              SELECT coalesce(m.pseudonym, j.value) AS v
              FROM json_each(t.via) j LEFT JOIN temp.pmap m ON m.source_id = j.value
              ORDER BY j.key))
    ELSE t.via
END"""

# Per table: FROM clause (the full table is "t"; "p" is the pseudonym of the row's own
# source where it has one), column expressions other than a plain copy, the condition
# under which a row is protected, and the order rows are written in.
PLANS = {
    "source_types": {"from": "full.source_types t", "order": "t.rowid"},
    "sources": {
        "from": "full.sources t LEFT JOIN temp.pmap p ON p.source_id = t.id "
                "LEFT JOIN temp.pmap o ON o.source_id = t.outlet_id",
        "columns": {
            "id": "coalesce(p.pseudonym, t.id)",
            "name": "CASE WHEN p.source_id IS NULL THEN t.name ELSE p.pseudonym END",
            "outlet_id": "coalesce(o.pseudonym, t.outlet_id)",
            "group_id": "tracker_public_group(t.group_id)",
            "independence_group": "tracker_public_group(t.independence_group)",
        },
        "protected": ("p.source_id IS NOT NULL", PROTECTED_SOURCE_COLUMNS),
        # by public id, so that row order says nothing about where a source was listed
        "order": "coalesce(p.pseudonym, t.id)",
    },
    "documents": {
        "from": "full.documents t LEFT JOIN temp.pmap p ON p.source_id = t.publisher_id",
        "columns": {
            "publisher_id": "coalesce(p.pseudonym, t.publisher_id)",
            # the authors of a protected publisher's document are, most often, that source
            "authors": "CASE WHEN p.source_id IS NULL THEN t.authors ELSE '[]' END",
        },
        "protected": ("p.source_id IS NOT NULL", PROTECTED_DOCUMENT_COLUMNS),
        "order": "t.rowid",
    },
    "claims": {
        "from": "full.claims t LEFT JOIN temp.pmap p ON p.source_id = t.origin_id",
        "columns": {
            "origin_id": "coalesce(p.pseudonym, t.origin_id)",
            "evidence": "tracker_keyed(t.evidence)",
        },
        "order": "t.rowid",
    },
    "appearances": {
        "from": "full.appearances t LEFT JOIN temp.pmap p ON p.source_id = t.source_id",
        "columns": {"source_id": "coalesce(p.pseudonym, t.source_id)", "via": VIA_SQL},
        "protected": ("p.source_id IS NOT NULL", PROTECTED_APPEARANCE_COLUMNS),
        "order": "t.rowid",
    },
    "links": {
        "from": "full.links t",
        # a reviewer's link is published (it counts), its note is not (a review note);
        # its event id is keyed as the published review_events' ids are
        "columns": {
            "note": "CASE WHEN t.review_event_id IS NULL THEN t.note END",
            "review_event_id": "tracker_keyed(t.review_event_id)",
        },
        "order": "t.rowid",
    },
    "review_events": {
        "from": "full.review_events t",
        "columns": {
            "id": "tracker_keyed(t.id)",
            "evidence": "tracker_keyed(t.evidence)",
            **{column: "NULL" for column in WITHHELD_REVIEW_COLUMNS},
        },
        # keeps "order of writing", the tie-break of "latest" (SPEC section 6)
        "order": "t.rowid",
    },
}


class PublishError(RuntimeError):
    """The public database could not be written safely; nothing at out_path changed."""


class _SnapshotChanged(Exception):
    """A protected source appeared after pseudonyms were assigned: assign and try again."""


@dataclasses.dataclass
class PublishReport:
    path: str
    sources: int
    protected_sources: int
    new_pseudonyms: int
    documents: int
    claims: int
    appearances: int
    quotes_withheld: int
    links: int
    review_events: int
    left_empty: list = dataclasses.field(default_factory=list)

    def __str__(self):
        text = (
            f"{self.sources} sources ({self.protected_sources} protected, pseudonymised; "
            f"{self.new_pseudonyms} new pseudonym(s)), {self.documents} documents, {self.claims} claims, "
            f"{self.appearances} appearances ({self.quotes_withheld} quote(s) withheld), {self.links} links, "
            f"{self.review_events} review events (no reviewer names or notes)"
        )
        if self.left_empty:
            text += f"; tables not known to publish, left empty: {', '.join(self.left_empty)}"
        return text


def new_pseudonym() -> str:
    return PSEUDONYM_PREFIX + secrets.token_hex(8)


def publish(db_path, out_path) -> PublishReport:
    """Write the redacted public copy of the database at ``db_path`` to ``out_path``."""
    db_path = pathlib.Path(db_path)
    out_path = pathlib.Path(out_path)
    if not db_path.is_file():
        raise FileNotFoundError(f"{db_path} does not exist: run 'tracker build' first")
    if out_path.resolve() == db_path.resolve():
        raise PublishError(f"{out_path} is the full database: publish to another file")
    out_path.parent.mkdir(parents=True, exist_ok=True)

    # Held open to the end, so that the last connection to close is a read-write one
    # (it checkpoints and removes the full database's -wal, which a read-only one cannot).
    full = connect(db_path)
    try:
        # Withheld quotes must not be published in the analysts' own words either.
        rendered = [found for found in exposure.find(full.conn) if not found.names_source]
        if rendered:
            raise PublishError(
                f"{len(rendered)} text(s) render a protected source's quote near-verbatim; nothing was "
                "written. Reword each in the seeds and rebuild:\n" + "\n".join(f"  {found}" for found in rendered))
        # Ids and document fields are published as they are: none may name a protected source.
        named = exposure.identifying_fields(full.conn)
        if named:
            raise PublishError(
                f"{len(named)} id(s) or document field(s) name a protected source; nothing was written. "
                "Rename or reword each in the seeds and rebuild:\n" + "\n".join(f"  {n}" for n in named))
        return _publish(full, db_path, out_path)
    finally:
        full.close()


def _publish(full, db_path: pathlib.Path, out_path: pathlib.Path) -> PublishReport:
    new_pseudonyms = 0
    for _attempt in range(5):
        new_pseudonyms += assign_pseudonyms(full)
        fd, name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
        os.close(fd)
        temporary = pathlib.Path(name)
        try:
            report = _write_public(db_path, temporary)
            _finish_file(temporary, out_path)
            os.replace(temporary, out_path)
        except _SnapshotChanged:
            _remove(temporary)
            continue
        except BaseException:
            _remove(temporary)
            raise
        _fsync_directory(out_path.parent)
        report.path = str(out_path)
        report.new_pseudonyms = new_pseudonyms
        return report
    raise PublishError("protected sources kept changing while publishing (a build running?): try again")


def assign_pseudonyms(db) -> int:
    """Give every protected source without a pseudonym a new random one; return how many.

    ``db``: the full database (a path, or a connection from ``tracker.database.connect``).
    One short write transaction, taken only when some pseudonym is missing.
    """
    if isinstance(db, (str, os.PathLike)):
        db = connect(db)
        try:
            return assign_pseudonyms(db)
        finally:
            db.close()
    missing = (
        "FROM sources WHERE sensitivity = 'protected' "
        "AND id NOT IN (SELECT source_id FROM source_pseudonyms)"
    )
    if not db.execute(f"SELECT EXISTS (SELECT 1 {missing})").fetchone()[0]:
        return 0
    db.conn.create_function("tracker_new_pseudonym", 0, new_pseudonym)
    with write_transaction(db):
        return db.execute(
            f"INSERT INTO source_pseudonyms (source_id, pseudonym) SELECT id, tracker_new_pseudonym() {missing}"
        ).rowcount


def _write_public(db_path: pathlib.Path, path: pathlib.Path) -> PublishReport:
    conn = sqlite3.connect(path.resolve().as_uri(), uri=True, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        # Read-only: publishing never writes to the full database through this connection.
        conn.execute("ATTACH DATABASE ? AS full", (db_path.resolve().as_uri() + "?mode=ro",))
        indexes, left_empty = _create_schema(conn)

        # One transaction: every read of the full database sees one snapshot.
        conn.execute("BEGIN")
        conn.execute("CREATE TEMP TABLE pmap (source_id TEXT PRIMARY KEY, pseudonym TEXT UNIQUE)")
        conn.execute(
            """
            INSERT INTO temp.pmap (source_id, pseudonym)
            SELECT s.id, p.pseudonym FROM full.sources s
            LEFT JOIN full.source_pseudonyms p ON p.source_id = s.id
            WHERE s.sensitivity = 'protected'
            """
        )
        if conn.execute("SELECT EXISTS (SELECT 1 FROM temp.pmap WHERE pseudonym IS NULL)").fetchone()[0]:
            raise _SnapshotChanged()
        pseudonyms = dict(conn.execute("SELECT source_id, pseudonym FROM temp.pmap"))
        groups = conn.execute(
            "SELECT id, group_id, independence_group, sensitivity = 'protected' FROM full.sources").fetchall()
        conn.create_function("tracker_public_group", 1, _group_mapper(pseudonyms, groups), deterministic=True)
        key = secrets.token_bytes(32)
        conn.create_function("tracker_keyed", 1, _keyed(key), deterministic=True)

        for table in TABLES:
            conn.execute(_insert_sql(conn, table))
        counts = {
            table: conn.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
            for table in ("sources", "documents", "claims", "appearances", "links", "review_events")
        }
        quotes_withheld = conn.execute(
            "SELECT count(*) FROM full.appearances WHERE quote IS NOT NULL AND source_id IN (SELECT source_id FROM temp.pmap)"
        ).fetchone()[0]
        conn.execute("COMMIT")  # ends the read snapshot of the full database

        conn.execute("DETACH DATABASE full")
        conn.execute("DROP TABLE temp.pmap")
        conn.execute("BEGIN")
        for sql in indexes:
            conn.execute(sql)
        db = sqlite_utils.Database(conn)
        db.executescript(DERIVED_SQL)  # statement by statement: no implicit COMMIT
        # the rows were copied before the triggers that index and count them existed
        for statement in REINDEX_AND_RECOUNT:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {DERIVED_VERSION}")
        # source records are counted afresh from the public rows (they are keyed by
        # source id, so a copy would carry protected ids)
        analysis.recount_sources(conn, every_source=True)
        # and the ranking of circular reporting, from the public rows
        for statement in (analysis.QUEUE_CIRCULAR, *analysis.CIRCULAR_REFRESH, analysis.EMPTY_ANALYSIS_QUEUE):
            conn.execute(statement)
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise PublishError(f"foreign key check failed in the public database: {problems[:5]}")
        conn.execute("COMMIT")
        conn.execute("VACUUM")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "delete":
            raise PublishError("the public database is not in journal_mode DELETE")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
    return PublishReport(
        path=str(path),
        sources=counts["sources"],
        protected_sources=len(pseudonyms),
        new_pseudonyms=0,
        documents=counts["documents"],
        claims=counts["claims"],
        appearances=counts["appearances"],
        quotes_withheld=quotes_withheld,
        links=counts["links"],
        review_events=counts["review_events"],
        left_empty=left_empty,
    )


def _create_schema(conn):
    """The full database's tables in the new file, without their secondary indexes.

    Returns the CREATE INDEX statements (run after the rows are in) and the names of
    tables this module does not know how to publish (created, left empty).
    """
    conn.executescript(SCHEMA_SQL)
    for table in NOT_PUBLISHED + ("review_events",):
        conn.execute(f'DROP TABLE IF EXISTS main."{table}"')
    conn.executescript(PUBLIC_REVIEW_EVENTS)
    indexes = conn.execute(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX main."{name}"')
    tables = [row[0] for row in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")]
    for table in TABLES:
        for row in conn.execute(f'PRAGMA main.foreign_key_list("{table}")'):
            if row[2] == "sources" and (table, row[3]) not in SOURCE_ID_COLUMNS:
                raise PublishError(
                    f"{table}.{row[3]} refers to sources, but tracker/publish.py does not pseudonymise it: "
                    "add it to SOURCE_ID_COLUMNS"
                )
    # full-text indexes (and their shadow tables) are made afresh from the public rows
    made_afresh = {table for table in tables if re.fullmatch(r"\w+_fts(_\w+)?", table)}
    left_empty = sorted(set(tables) - set(TABLES) - set(PUBLISHED_EMPTY) - made_afresh - {"sqlite_sequence"})
    return [sql for _, sql in indexes], left_empty


def _insert_sql(conn, table) -> str:
    """INSERT ... SELECT copying ``table`` from the full database with the redactions."""
    plan = PLANS[table]
    public = conn.execute(f'PRAGMA main.table_info("{table}")').fetchall()
    full = {row[1] for row in conn.execute(f'PRAGMA full.table_info("{table}")')}
    condition, kept = plan.get("protected", (None, None))
    names, expressions = [], []
    for _, column, _, notnull, default, _ in public:
        if column not in full and column not in plan.get("columns", {}):
            continue  # an older full database: the column takes its default
        expression = plan.get("columns", {}).get(column, f't."{column}"')
        if condition and column not in kept:
            if notnull:
                raise PublishError(
                    f"{table}.{column} is NOT NULL, and tracker/publish.py does not know whether it may be "
                    "published for protected sources: decide, and list it in tracker/publish.py"
                )
            expression = f"CASE WHEN {condition} THEN NULL ELSE {expression} END"
        names.append(f'"{column}"')
        expressions.append(f"{expression} AS \"{column}\"")
    return (
        f'INSERT INTO main."{table}" ({", ".join(names)})\n'
        f'SELECT {", ".join(expressions)}\nFROM {plan["from"]}\nORDER BY {plan["order"]}'
    )


def _group_mapper(pseudonyms: dict, groups: list):
    """A function giving the public name of an independence group (or group_id).

    Whole values only, never substrings (a public ``src-bob`` stays ``src-bob`` beside a
    protected ``src-b``): a protected source's own id becomes its pseudonym, the channel
    ``outlet:<protected outlet>`` becomes ``outlet:<its pseudonym>``, and a group named
    in the seeds that only protected sources belong to (its name may say who they are)
    becomes ``<the pseudonym of its first member>-group``. Every group that a public
    source belongs to is kept exactly as it is.

    ``groups``: (source id, group_id, independence_group, protected) of every source.
    """
    public = {value for _, group_id, group, protected in groups if not protected for value in (group_id, group)}
    names = dict(pseudonyms)
    names.update({f"outlet:{source_id}": f"outlet:{pseudonym}" for source_id, pseudonym in pseudonyms.items()})
    for source_id, group_id, _, protected in sorted(groups):
        if protected and group_id and group_id not in public and group_id not in names:
            names[group_id] = f"{pseudonyms[source_id]}-group"

    def public_group(value):
        if value in public:
            return value
        return names.get(value, value)

    return public_group


def _keyed(key: bytes):
    def keyed(value):
        if value is None:
            return None
        return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:32]

    return keyed


def _finish_file(temporary: pathlib.Path, out_path: pathlib.Path):
    """Permissions like an ordinary new file (mkstemp makes it 0600), flushed to disk,
    and no stale journal or WAL beside ``out_path`` that SQLite would apply to it."""
    if out_path.exists():
        mode = out_path.stat().st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temporary, mode)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-journal", "-wal", "-shm"):
        _unlink(out_path.with_name(out_path.name + suffix))


def _remove(temporary: pathlib.Path):
    for suffix in ("", "-journal", "-wal", "-shm"):
        _unlink(temporary.with_name(temporary.name + suffix))


def _unlink(path: pathlib.Path):
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _fsync_directory(directory: pathlib.Path):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
