"""Opening the tracker database: one place that sets the pragmas every writer needs."""

import contextlib
import importlib.resources
import pathlib
import sqlite3

import sqlite_utils

from .analysis import ANALYSIS_SQL

SCHEMA_SQL = importlib.resources.files("tracker").joinpath("schema.sql").read_text()
VIEWS_SQL = importlib.resources.files("tracker").joinpath("views.sql").read_text()

# Reviews written through Datasette wait this long for a running build instead of
# failing with "database is locked".
BUSY_TIMEOUT_MS = 120_000


def connect(path) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``, with its schema in place."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    db = sqlite_utils.Database(conn)
    prepare(conn)
    # WAL lets Datasette keep reading the previous state while a build writes.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(SCHEMA_SQL + ANALYSIS_SQL + VIEWS_SQL)
    return db


def prepare(conn):
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = OFF")  # checked after each build instead


def open_existing(path) -> sqlite_utils.Database:
    """Open a database that must already have been built."""
    if not pathlib.Path(path).exists():
        raise FileNotFoundError(f"{path} does not exist: run 'tracker build' first")
    return connect(path)


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """One short write transaction that takes the write lock up front.

    BEGIN IMMEDIATE waits (busy timeout) for any other writer instead of failing
    half-way through; anything raised inside rolls everything back.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
