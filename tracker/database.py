"""Opening the tracker database: one place that sets the pragmas every writer needs."""

import contextlib
import importlib.resources
import pathlib
import sqlite3
import zlib

from .analysis import REVIEW_TRIGGER

SQL = importlib.resources.files("tracker")
SCHEMA_SQL = SQL.joinpath("schema.sql").read_text()
# Views and triggers: the analysis (status, rating, review state), the trigger that applies
# a review event as it is written, and the published views.
DERIVED_SQL = (SQL.joinpath("analysis.sql").read_text() + REVIEW_TRIGGER
               + SQL.joinpath("views.sql").read_text())
# Stored as PRAGMA user_version: views and triggers are recreated when their text changes.
DERIVED_VERSION = zlib.crc32(DERIVED_SQL.encode()) & 0x7FFFFFFF
# Stored as PRAGMA application_id: the shape of the tables.
TABLES_VERSION = zlib.crc32(SCHEMA_SQL.encode()) & 0x7FFFFFFF

# Everything a build derives from the seeds: when the tables change shape, these are
# dropped and the next build writes them afresh. review_events and source_pseudonyms
# are never dropped.
SEED_DERIVED = ("links", "appearances", "claims", "documents", "sources", "source_types", "claims_fts",
                "documents_fts", "facet_counts", "circular_claims", "seed_files", "analysis_queue", "source_records",
                "source_queue", "warnings", "draft_entries", "build_state",
                # ingest: the documents' texts and their search index
                "document_texts", "document_texts_fts")


# Search indexes and counts made in one pass each, for rows written while the triggers
# that keep them in step were absent (a bulk build; the copy publish makes). The counts
# go through claim_count_changes (analysis.sql) one group at a time, its sign being the
# group's size.
REINDEX_AND_RECOUNT = (
    "INSERT INTO claims_fts (claims_fts) VALUES ('rebuild')",
    "INSERT INTO documents_fts (documents_fts) VALUES ('rebuild')",
    "DELETE FROM facet_counts",
    """
    INSERT INTO claim_count_changes (sign, status, kind, origin_type, credibility, queued)
    SELECT count(*), status, kind, origin_type, credibility, queue_reason IS NOT NULL
    FROM claims
    GROUP BY status, kind, origin_type, credibility, queue_reason IS NOT NULL
    """,
)


class OutdatedDatabase(RuntimeError):
    pass

# Reviews written through Datasette wait this long for a running build instead of
# failing with "database is locked".
BUSY_TIMEOUT_MS = 120_000


def connect(path, for_build: bool = False) -> "sqlite_utils.Database":
    """Open (creating if needed) the database at ``path``, with its schema in place.

    A database whose tables were made by another version of the tracker is upgraded
    by a build (which rewrites everything derived from the seeds); anything else is
    told to run one.
    """
    # sqlite-utils (and numpy, which it imports when installed) only for the commands
    # that use it: the build opens a plain connection (start-up is part of every rebuild)
    import sqlite_utils

    return sqlite_utils.Database(open_connection(path, for_build))


def open_connection(path, for_build: bool = False) -> sqlite3.Connection:
    """``connect`` without sqlite-utils: a plain sqlite3 connection (autocommit)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    prepare(conn)
    # WAL lets Datasette keep reading the previous state while a build writes.
    conn.execute("PRAGMA journal_mode = WAL")
    tables = conn.execute("PRAGMA application_id").fetchone()[0]
    if tables != TABLES_VERSION and has_table(conn, "claims"):
        if not for_build:
            conn.close()
            raise OutdatedDatabase(f"{path} was built by another version of the tracker: run 'tracker build'")
        conn.executescript("BEGIN IMMEDIATE;\n" + "".join(
            f'DROP TABLE IF EXISTS "{table}";\n' for table in SEED_DERIVED) + "COMMIT;")
    if tables != TABLES_VERSION and has_table(conn, "review_events"):
        upgrade_review_events(conn)
    if tables != TABLES_VERSION:
        conn.executescript(SCHEMA_SQL + f"\nPRAGMA application_id = {TABLES_VERSION};")
    if conn.execute("PRAGMA user_version").fetchone()[0] != DERIVED_VERSION:
        recreate_derived(conn)
    return conn


def has_table(conn, name) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def drop_derived_script(conn) -> str:
    derived = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') AND sql IS NOT NULL"
    ).fetchall()
    return "".join(f'DROP {kind.upper()} IF EXISTS "{name}";\n' for kind, name in derived)


def recreate_derived(conn):
    """Drop and recreate every view and trigger, in one transaction."""
    conn.executescript(
        f"BEGIN IMMEDIATE;\n{drop_derived_script(conn)}{DERIVED_SQL}\nPRAGMA user_version = {DERIVED_VERSION};\nCOMMIT;"
    )


# review_events made before reviewers could link claims (no other_claim_id, relation):
# the table is made again in its new shape and every event copied with its rowid, the
# order of writing. Views and triggers go first (the next step makes them again).
UPGRADE_REVIEW_EVENTS = """
ALTER TABLE review_events RENAME TO review_events_before_links;
DROP INDEX IF EXISTS review_events_claim;
{schema}
INSERT INTO review_events (rowid, id, claim_id, actor, action, note, credibility, evidence, created_at)
SELECT rowid, id, claim_id, actor, action, note, credibility, evidence, created_at
FROM review_events_before_links ORDER BY rowid;
DROP TABLE review_events_before_links;
PRAGMA user_version = 0;
"""


def upgrade_review_events(conn):
    """Bring an older review_events to the current shape, keeping every event."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(review_events)")}
    if "other_claim_id" in columns:
        return
    conn.executescript(
        f"BEGIN IMMEDIATE;\n{drop_derived_script(conn)}{UPGRADE_REVIEW_EVENTS.format(schema=SCHEMA_SQL)}COMMIT;")


def prepare(conn):
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = OFF")  # the whole-tree checks refuse unknown names instead


def open_existing(path) -> "sqlite_utils.Database":
    """Open a database that must already have been built."""
    if not pathlib.Path(path).exists():
        raise FileNotFoundError(f"{path} does not exist: run 'tracker build' first")
    return connect(path)


@contextlib.contextmanager
def write_transaction(db):
    """One write transaction that takes the write lock up front (``db``: a sqlite-utils
    Database or a sqlite3 connection opened with isolation_level=None).

    BEGIN IMMEDIATE waits (busy timeout) for any other writer instead of failing
    half-way through; anything raised inside rolls everything back.
    """
    conn = getattr(db, "conn", db)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def suspended(conn, kind, tables=(), names=()):
    """Drop the triggers or indexes ('trigger' or 'index') on ``tables``, and those
    called ``names``, and recreate them from their own SQL when the block ends: for bulk
    writes, where building an index once beats updating it row by row, and for writes
    whose consequences the caller works out itself. Use inside a transaction."""
    objects = conn.execute(
        f"""SELECT name, sql FROM sqlite_master
            WHERE type = ? AND sql IS NOT NULL
              AND (tbl_name IN ({", ".join("?" * len(tables))}) OR name IN ({", ".join("?" * len(names))}))""",
        [kind, *tables, *names],
    ).fetchall()
    for name, _ in objects:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    yield
    for _, sql in objects:
        conn.execute(sql)
