"""Where every export reads from: a public database, redacted by tracker.publish alone.

Exports carry only what the public file carries (SPEC sections 7 and 10), so they never
read the full database themselves:

* a database that already is a public file (it has no ``source_pseudonyms`` table:
  publish never copies it) is read as it is;
* a full database is first published, with ``tracker.publish.publish``, into a
  temporary file, and the export reads that. For a few claims (``--claim``, a Datasette
  page) publishing the whole database would be wasteful, so the claims and what they
  need are first copied, unredacted, into a temporary database of the full shape, which
  is then published the same way. The copy holds *every* protected source (with its
  pseudonym), whether the chosen claims need it or not: publish replaces protected ids
  inside group names of other sources, and can only do so for the ones it sees.

There is no second redaction here: the copy only selects rows, and publish redacts.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import sqlite3
import tempfile

from ..database import DERIVED_VERSION, SCHEMA_SQL, TABLES_VERSION
from ..publish import assign_pseudonyms, publish

# Tables copied into the subset, in an order that satisfies their foreign keys.
SUBSET_TABLES = ("source_types", "sources", "documents", "claims", "appearances", "links", "review_events",
                 "source_pseudonyms")

# What each table of the subset holds. temp.chosen: the chosen claim ids.
SUBSET_SELECT = {
    "source_types": "SELECT {columns} FROM full.source_types",
    "claims": "SELECT {columns} FROM full.claims WHERE id IN (SELECT id FROM temp.chosen)",
    # the first :limit appearances of each claim, in the order of publication
    "appearances": """
        SELECT {columns} FROM (
            SELECT a.*, row_number() OVER (
                PARTITION BY a.claim_id ORDER BY d.published_from, d.published, a.document_id, a.position) AS n
            FROM full.appearances a JOIN full.documents d ON d.id = a.document_id
            WHERE a.claim_id IN (SELECT id FROM temp.chosen))
        WHERE :limit IS NULL OR n <= :limit""",
    "links": """SELECT {columns} FROM full.links
        WHERE from_claim_id IN (SELECT id FROM temp.chosen) AND to_claim_id IN (SELECT id FROM temp.chosen)""",
    "review_events": "SELECT {columns} FROM full.review_events WHERE claim_id IN (SELECT id FROM temp.chosen)",
    "documents": """SELECT {columns} FROM full.documents WHERE id IN (
        SELECT document_id FROM main.appearances UNION SELECT document_id FROM main.claims
        UNION SELECT document_id FROM main.links)""",
    # origins, relays, publishers, every protected source, and their outlets (recursively)
    "sources": """
        WITH RECURSIVE needed(id) AS (
            SELECT source_id FROM main.appearances
            UNION SELECT j.value FROM main.appearances, json_each(main.appearances.via) j
            UNION SELECT publisher_id FROM main.documents
            UNION SELECT origin_id FROM main.claims
            UNION SELECT id FROM full.sources WHERE sensitivity = 'protected'
            UNION SELECT s.outlet_id FROM full.sources s JOIN needed ON s.id = needed.id
                  WHERE s.outlet_id IS NOT NULL)
        SELECT {columns} FROM full.sources WHERE id IN (SELECT id FROM needed)""",
    "source_pseudonyms": "SELECT {columns} FROM full.source_pseudonyms",
}
# Documents and sources are chosen from the rows copied before them.
SUBSET_ORDER = ("source_types", "claims", "appearances", "links", "review_events", "documents", "sources",
                "source_pseudonyms")


class ExportError(RuntimeError):
    """The export cannot be made (no database, unknown claims); nothing was written."""


def is_public(path) -> bool:
    """True for a file written by ``tracker publish``; False for a full database."""
    conn = _read_only(path)
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    if "claims" not in names:
        raise ExportError(f"{path} is not a tracker database: run 'tracker build' first")
    return "source_pseudonyms" not in names


@contextlib.contextmanager
def public_database(db_path, claim_ids=None, appearance_limit: int | None = None):
    """The path of a public database holding (at least) ``claim_ids`` (all claims when None).

    Temporary files are removed when the block ends. ``appearance_limit`` bounds the
    appearances copied per claim (for pages served to visitors); only with claim_ids.
    """
    db_path = pathlib.Path(db_path)
    if not db_path.is_file():
        raise ExportError(f"{db_path} does not exist: run 'tracker build' first")
    if is_public(db_path):
        yield db_path
        return
    with tempfile.TemporaryDirectory(prefix="tracker-export-", dir=_scratch(db_path, claim_ids)) as directory:
        directory = pathlib.Path(directory)
        public = directory / "public.db"
        if claim_ids is None:
            publish(db_path, public)
        else:
            subset = directory / "subset.db"
            copy_claims(db_path, subset, claim_ids, appearance_limit)
            publish(subset, public)
        yield public


def copy_claims(full_path, subset_path, claim_ids, appearance_limit=None):
    """Copy the chosen claims, and every row they need, into a new database of the full shape.

    Pseudonyms are assigned in the full database first (so they stay stable); the copy
    is read in one transaction, one consistent snapshot of the full database.
    """
    for _attempt in range(5):
        assign_pseudonyms(full_path)
        conn = sqlite3.connect(subset_path, isolation_level=None)
        try:
            # a scratch file, removed after the export: no journal, no syncing
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.executescript("BEGIN;\n" + SCHEMA_SQL + "\nCOMMIT;")
            conn.execute(f"PRAGMA application_id = {TABLES_VERSION}")
            # publish reads only tables from here: the views and triggers are not needed
            conn.execute(f"PRAGMA user_version = {DERIVED_VERSION}")
            conn.execute("ATTACH DATABASE ? AS full", (pathlib.Path(full_path).resolve().as_uri() + "?mode=ro",))
            conn.execute("BEGIN")
            conn.execute("CREATE TEMP TABLE chosen (id TEXT PRIMARY KEY)")
            conn.execute("INSERT OR IGNORE INTO temp.chosen SELECT value FROM json_each(?)",
                         (json.dumps(list(claim_ids)),))
            for table in SUBSET_ORDER:
                columns = _shared_columns(conn, table)
                conn.execute(
                    f'INSERT INTO main."{table}" ({columns}) ' + SUBSET_SELECT[table].format(columns=columns),
                    {"limit": appearance_limit} if table == "appearances" else {},
                )
            complete = not conn.execute(
                "SELECT EXISTS (SELECT 1 FROM main.sources WHERE sensitivity = 'protected' "
                "AND id NOT IN (SELECT source_id FROM main.source_pseudonyms))"
            ).fetchone()[0]
            conn.execute("COMMIT")
        finally:
            conn.close()
        if complete:
            return
        # a protected source arrived between assigning and copying (a build ran): again
        pathlib.Path(subset_path).unlink()
    raise ExportError("protected sources kept changing while exporting (a build running?): try again")


# Above this size a full database is published into the ordinary temporary folder.
SCRATCH_IN_MEMORY_UP_TO = 256 * 1024 * 1024


def _scratch(db_path, claim_ids):
    """Memory-backed scratch space where there is one, for a few claims or a small
    database: the temporary databases are written with many syncs by publish, and gone
    after the export."""
    if claim_ids is None and db_path.stat().st_size > SCRATCH_IN_MEMORY_UP_TO:
        return None
    shm = pathlib.Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _shared_columns(conn, table) -> str:
    """The columns both databases have (an older full database may lack newer ones)."""
    full = {row[1] for row in conn.execute(f'PRAGMA full.table_info("{table}")')}
    return ", ".join(f'"{row[1]}"' for row in conn.execute(f'PRAGMA main.table_info("{table}")') if row[1] in full)


def _read_only(path) -> sqlite3.Connection:
    return sqlite3.connect(pathlib.Path(path).resolve().as_uri() + "?mode=ro", uri=True)


def connect_public(path) -> sqlite3.Connection:
    """A read-only connection to a public database, rows as sqlite3.Row."""
    conn = _read_only(path)
    conn.row_factory = sqlite3.Row
    return conn
