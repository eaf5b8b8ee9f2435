"""What the seed tree already holds, for ingest's duplicate checks, without re-reading it.

A small SQLite file beside the seeds (``<seeds>/.ingest-index.sqlite``) keeps, per
document file, the few facts ingest compares (id, url, text hash, near-duplicate key,
headline key, date, text file) with the file's size and modification time. Each ingest
lists ``documents/`` (one ``stat`` per file) and re-reads only the files that are new
or changed since; files that went away are dropped. The index holds nothing that the
files do not: delete it and the next ingest rebuilds it from them.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import pathlib
import sqlite3
from typing import Optional

from ..seeds import read_yaml
from . import normalise
from .readers import url_key

INDEX_FILE = ".ingest-index.sqlite"
INDEX_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    name TEXT PRIMARY KEY,   -- file name in documents/
    size INTEGER, mtime_ns INTEGER,
    id TEXT, url_key TEXT, sha256 TEXT, near_key TEXT, title_key TEXT, published TEXT,
    length INTEGER, text_file TEXT
);
"""


@dataclasses.dataclass
class Known:
    """One document the tree holds (or this run has taken)."""

    id: str
    sha256: Optional[str]
    text_file: Optional[str]
    published: Optional[str]
    length: Optional[int]
    in_this_run: bool = False


class Index:
    def __init__(self, seeds_dir, texts_dir):
        self.seeds_dir = pathlib.Path(seeds_dir)
        self.documents_dir = self.seeds_dir / "documents"
        self.texts_dir = pathlib.Path(texts_dir)
        self.path = self.seeds_dir / INDEX_FILE
        self.conn = None
        self.ids, self.file_names, self.text_files = set(), set(), set()
        self.by_sha, self.by_url, self.by_near, self.by_title = {}, {}, {}, {}
        self.reread = 0
        self.pending = []  # index rows of files written, inserted at the next commit
        self.texts_present = set()  # file names in the texts folder, named by a document or not

    # --- loading ---------------------------------------------------------------

    def open(self):
        self.conn = _connect(self.path)
        rows = {row[0]: row for row in self.conn.execute(
            "SELECT name, size, mtime_ns, id, url_key, sha256, near_key, title_key, published, length, text_file "
            "FROM files")}
        fresh, stale = [], []
        if self.documents_dir.is_dir():
            for entry in os.scandir(self.documents_dir):
                if not entry.name.endswith((".yml", ".yaml")) or not entry.is_file():
                    continue
                stat = entry.stat()
                row = rows.pop(entry.name, None)
                if row is not None and (row[1], row[2]) == (stat.st_size, stat.st_mtime_ns):
                    fresh.append(row)
                else:
                    stale.append((entry.name, stat))
        with self.conn:
            self.conn.executemany("DELETE FROM files WHERE name = ?", [(name,) for name in rows])
            for name, stat in sorted(stale):
                row = self._read_file(name, stat)
                self.conn.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                fresh.append(row)
        self.reread = len(stale)
        if self.texts_dir.is_dir():
            self.texts_present = {entry.name for entry in os.scandir(self.texts_dir)}
        for row in sorted(fresh):
            self._remember(*row[3:], name=row[0])
        return self

    def _read_file(self, name, stat):
        """The index row of one document file (every fact None where it cannot be read)."""
        path = self.documents_dir / name
        try:
            data, _ = read_yaml(path, name)  # the build's own parse; unreadable: None
        except OSError:
            data = None
        if not isinstance(data, dict):
            return (name, stat.st_size, stat.st_mtime_ns) + (None,) * 8
        text_file = data.get("text") if isinstance(data.get("text"), str) else None
        sha, near, length = data.get("sha256"), None, None
        if text_file:
            text_path = self.texts_dir / text_file
            if text_path.is_file():
                raw = text_path.read_bytes()
                sha = sha or hashlib.sha256(raw).hexdigest()
                text = raw.decode("utf-8", "replace")
                near, length = normalise.near_key(text), len(text)
        title = data.get("title") if isinstance(data.get("title"), str) else ""
        url = data.get("url") if isinstance(data.get("url"), str) else None
        document_id = data.get("id") if isinstance(data.get("id"), str) else None
        published = str(data["published"]) if data.get("published") is not None else None
        return (name, stat.st_size, stat.st_mtime_ns, document_id, url_key(url), sha if isinstance(sha, str) else None,
                near, normalise.title_key(title), published, length, text_file)

    def _remember(self, document_id, url, sha, near, title, published, length, text_file, name=None,
                  in_this_run=False):
        if name:
            self.file_names.add(name)
        if text_file:
            self.text_files.add(text_file)
        if not document_id:
            return
        self.ids.add(document_id)
        known = Known(document_id, sha, text_file, published, length, in_this_run)
        if sha:
            self.by_sha.setdefault(sha, known)
        if url:
            self.by_url.setdefault(url, known)
        if near:
            self.by_near.setdefault(near, known)
        if title:
            self.by_title.setdefault(title, []).append(known)

    # --- adding ----------------------------------------------------------------

    def add(self, name, stat, document_id, url, sha, near, title, published, length, text_file):
        """A document file this run wrote, with its stat (so the next run trusts it)."""
        self.pending.append((name, stat.st_size, stat.st_mtime_ns, document_id, url, sha, near, title, published,
                             length, text_file))
        self._remember(document_id, url, sha, near, title, published, length, text_file, name=name, in_this_run=True)

    def commit(self):
        if self.pending:
            self.conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.pending)
            self.pending = []
        self.conn.commit()

    def close(self):
        if self.conn is not None:
            self.commit()
            self.conn.close()
            self.conn = None

    def text_of(self, known: Known) -> Optional[str]:
        if not known.text_file:
            return None
        try:
            return (self.texts_dir / known.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def _connect(path):
    try:
        conn = sqlite3.connect(str(path))
        # rebuildable from the files: a crash costs a re-read, so no waiting on the disk
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA journal_mode = WAL")
        if conn.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
            conn.execute("DROP TABLE IF EXISTS files")
            conn.executescript(SCHEMA + f"PRAGMA user_version = {INDEX_VERSION};")
        conn.execute("SELECT count(*) FROM files").fetchone()
        return conn
    except sqlite3.DatabaseError:
        # damaged or not an index at all: it holds nothing the files do not, so start afresh
        with contextlib.suppress(Exception):
            conn.close()
        pathlib.Path(path).unlink(missing_ok=True)
        conn = sqlite3.connect(str(path))
        conn.executescript(SCHEMA + f"PRAGMA user_version = {INDEX_VERSION};")
        return conn


@contextlib.contextmanager
def locked(seeds_dir):
    """One ingest at a time per seed tree."""
    with open(pathlib.Path(seeds_dir) / (INDEX_FILE + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
