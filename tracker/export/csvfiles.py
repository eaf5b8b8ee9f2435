"""CSV for spreadsheets: one flat file per public table, in a folder or a zip.

Flat: JSON lists (via, tags, authors, aliases) become "; "-separated text. Files are
UTF-8 with a byte-order mark, so that spreadsheet programs read them as UTF-8, and a
text cell that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab
or a carriage return) is prefixed with an apostrophe: document titles and claim texts
come from outside.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import tempfile
import zipfile

TABLES = ("claims", "appearances", "documents", "sources", "links", "review_events", "source_types")
JSON_LISTS = {("claims", "tags"), ("appearances", "via"), ("documents", "authors"), ("sources", "aliases")}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# With chosen claims: the rows of each table that concern them (temp.chosen).
CHOSEN = {
    "claims": "id IN (SELECT id FROM temp.chosen)",
    "appearances": "claim_id IN (SELECT id FROM temp.chosen)",
    "links": "from_claim_id IN (SELECT id FROM temp.chosen) OR to_claim_id IN (SELECT id FROM temp.chosen)",
    "review_events": "claim_id IN (SELECT id FROM temp.chosen)",
    "documents": "id IN (SELECT document_id FROM appearances WHERE claim_id IN (SELECT id FROM temp.chosen) "
                 "UNION SELECT document_id FROM claims WHERE id IN (SELECT id FROM temp.chosen))",
    "sources": """id IN (
        SELECT a.source_id FROM appearances a WHERE a.claim_id IN (SELECT id FROM temp.chosen)
        UNION SELECT j.value FROM appearances a, json_each(a.via) j WHERE a.claim_id IN (SELECT id FROM temp.chosen)
        UNION SELECT d.publisher_id FROM documents d JOIN appearances a ON a.document_id = d.id
              WHERE a.claim_id IN (SELECT id FROM temp.chosen))""",
    "source_types": "1",
}


def cell(table, column, value):
    if value is None:
        return ""
    if (table, column) in JSON_LISTS:
        try:
            value = "; ".join(str(v) for v in json.loads(value))
        except (TypeError, ValueError):
            pass
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


ROWS_PER_PIECE = 2000


def table_csv(conn, table, chosen: bool):
    """The table as CSV, in pieces of text (one pass over the rows)."""
    where = CHOSEN[table] if chosen else "1"
    cursor = conn.execute(f'SELECT * FROM "{table}" WHERE {where} ORDER BY rowid')
    columns = [d[0] for d in cursor.description]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    while True:
        batch = cursor.fetchmany(ROWS_PER_PIECE)
        for row in batch:
            writer.writerow([cell(table, c, v) for c, v in zip(columns, row)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if not batch:
            return


def tables(conn, claim_ids=None) -> dict:
    """{file name: CSV text in pieces} for every table (only the chosen claims' rows,
    when given); each table is read as it is written, while ``conn`` is open."""
    if claim_ids is not None:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp.chosen")
        conn.executemany("INSERT OR IGNORE INTO temp.chosen VALUES (?)", [(i,) for i in claim_ids])
    chosen = claim_ids is not None
    return {f"{table}.csv": (lambda table=table: table_csv(conn, table, chosen)) for table in TABLES}


def write(files: dict, out: pathlib.Path):
    """Into a zip when ``out`` ends in .zip, else into the folder ``out``; each file
    written beside its place and moved in whole. ``files``: {name: pieces of text, or a
    function giving them}."""
    out = pathlib.Path(out)
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        try:
            with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
                for file_name, text in files.items():
                    with archive.open(file_name, "w", force_zip64=True) as member:
                        for piece in _pieces(text):
                            member.write(piece.encode("utf-8"))
            os.chmod(name, 0o644)  # as the folder's files (mkstemp makes it 0600)
            os.replace(name, out)
        except BaseException:
            pathlib.Path(name).unlink(missing_ok=True)
            raise
        return
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file: give a folder, or a name ending in .zip")
    out.mkdir(parents=True, exist_ok=True)
    for file_name, text in files.items():
        write_file(out / file_name, text)


def _pieces(text):
    if callable(text):
        text = text()
    return [text] if isinstance(text, str) else text


def write_file(path: pathlib.Path, text):
    """Write ``text`` (a string, or pieces of one) to ``path`` through a temporary file
    beside it: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for piece in _pieces(text):
                handle.write(piece)
        os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        pathlib.Path(name).unlink(missing_ok=True)
        raise
