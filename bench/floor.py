#!/usr/bin/env python3
"""The floor: the least work any loader of a seed tree must do.

Parse every seed file with PyYAML's ``CSafeLoader`` (libyaml) and write the same rows
the tracker stores (sources, documents, claims, appearances, links) with a bare
``executemany`` into plain tables of a new SQLite file: no indexes, no constraints, no
validation, no derived columns, one transaction, one process.

Usage::

    python bench/floor.py SEEDS_DIR OUT_DB

prints one JSON line: {"seconds": ..., "files": ..., "rows": {...}}. ``bench/run.py``
runs it in a subprocess and measures wall time and peak memory from outside.
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import sys
import time

import yaml

Loader = yaml.CSafeLoader  # the floor is defined with libyaml; fail loudly without it

SCHEMA = """
CREATE TABLE sources (id, name, type, reliability, group_id, outlet_id, url, notes, sensitivity);
CREATE TABLE documents (id, title, publisher_id, authors, published, url, text_file, sha256, notes, seed_file);
CREATE TABLE claims (id, text, kind, occurred, tags, document_id, origin_id);
CREATE TABLE appearances (document_id, position, claim_id, source_id, via, quote, stance);
CREATE TABLE links (document_id, position, from_claim_id, to_claim_id, relation, note);
"""

INSERT = {
    "sources": "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "documents": "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "claims": "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?)",
    "appearances": "INSERT INTO appearances VALUES (?, ?, ?, ?, ?, ?, ?)",
    "links": "INSERT INTO links VALUES (?, ?, ?, ?, ?, ?)",
}

BATCH_FILES = 2000  # flush rows every this many files, so memory stays flat


def _s(value):
    """Dates and years come back from YAML 1.1 as date / int: store them as text."""
    return None if value is None else str(value)


def load(seeds_dir: pathlib.Path, db_path: pathlib.Path) -> dict:
    if db_path.exists():
        db_path.unlink()
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    dumps = json.dumps
    counts = dict.fromkeys(INSERT, 0)

    sources = yaml.load((seeds_dir / "sources.yml").read_bytes(), Loader=Loader) or []
    rows = [(s.get("id"), s.get("name"), s.get("type"), s.get("reliability", "F"), s.get("group"),
             s.get("outlet"), s.get("url"), s.get("notes"), s.get("sensitivity", "public")) for s in sources]
    conn.executemany(INSERT["sources"], rows)
    counts["sources"] = len(rows)

    folder = seeds_dir / "documents"
    paths = sorted(e.path for e in os.scandir(folder) if e.name.endswith((".yml", ".yaml")))
    batch = {name: [] for name in ("documents", "claims", "appearances", "links")}

    def flush():
        for name, rows in batch.items():
            if rows:
                conn.executemany(INSERT[name], rows)
                counts[name] += len(rows)
                rows.clear()

    for index, path in enumerate(paths):
        with open(path, "rb") as fh:
            d = yaml.load(fh.read(), Loader=Loader)
        doc_id = d["id"]
        batch["documents"].append((
            doc_id, d.get("title"), d.get("publisher"), dumps(d.get("authors") or [], ensure_ascii=False),
            _s(d.get("published")), d.get("url"), d.get("text"), d.get("sha256"), d.get("notes"), path,
        ))
        for position, a in enumerate(d.get("claims") or ()):
            cid = a.get("id")
            if cid:
                batch["claims"].append((cid, a.get("text"), a.get("kind"), _s(a.get("occurred")),
                                        dumps(a.get("tags") or []), doc_id, a.get("source")))
            batch["appearances"].append((doc_id, position, cid or a.get("ref"), a.get("source"),
                                         dumps(a.get("via") or []), a.get("quote"), a.get("stance", "asserts")))
        for position, link in enumerate(d.get("links") or ()):
            batch["links"].append((doc_id, position, link.get("from"), link.get("to"), link.get("relation"),
                                   link.get("note")))
        if index % BATCH_FILES == BATCH_FILES - 1:
            flush()
    flush()
    conn.execute("COMMIT")
    conn.close()
    return {"files": len(paths) + 1, "rows": counts}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = load(pathlib.Path(argv[0]), pathlib.Path(argv[1]))
    result["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
