"""One reader per input format: a file -> articles, or problems naming file, record and field.

A reader never stops at a bad record: it yields a ``Problem`` for it and goes on. A file
that is not of the named format at all (not JSON, not gzip, not HTML, not UTF-8 where
that is required) is one problem for the whole file.
"""

import dataclasses
import gzip
import json
import pathlib
import re
import zlib
from typing import Optional

from ..models import _partial_date
from ..seeds import Problem
from . import normalise

FORMATS = ("kcna-json", "kcna-jsonl", "text", "html")
# What a folder given as PATH contributes, per format.
FOLDER_SUFFIXES = {"kcna-json": (".json",), "kcna-jsonl": (".jsonl", ".jsonl.gz", ".gz"),
                   "text": (".txt",), "html": (".html", ".htm")}

# KCNA's old site (kcna.co.jp, until early 2012) served one page per day listing all of
# that day's items: such a link names the day, not an article, so it cannot tell two
# articles apart. The later per-article pages (.../news05/20120105-52ee.html) can.
KCNA_DAY_PAGE = re.compile(r"^https?://(www\.)?kcna\.co\.jp/item/\d{4}/\d{6}/\d{4}-\d{2}-\d{2}ee\.html?$")

_HEADER = re.compile(r"^(date|published|url|author|authors|publisher)\s*:\s*(.*)$", re.IGNORECASE)
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2}|\d{4}-\d{2})(?!\d)")


@dataclasses.dataclass
class Article:
    file: str
    entry: str  # "record 12" or "line 13": where in the file
    line: Optional[int]
    title: str
    published: str
    text: str  # normalised
    url: Optional[str] = None
    authors: list = dataclasses.field(default_factory=list)
    publisher: Optional[str] = None  # a name the file gives (resolved against sources.yml)
    title_from_text: bool = False

    @property
    def url_key(self) -> Optional[str]:
        return url_key(self.url)

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else f"{self.file}: {self.entry}"


def url_key(url) -> Optional[str]:
    """The url as an article's identity, or None where it names a page of many articles."""
    if not url or KCNA_DAY_PAGE.match(url):
        return None
    return url


def expand(format_name, paths):
    """PATHs as given, a folder standing for its files of the format (sorted, recursive)."""
    files = []
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(FOLDER_SUFFIXES[format_name]))
        else:
            files.append(path)
    return files


def read(format_name, path: pathlib.Path):
    """Yield Article or Problem items of one file."""
    return READERS[format_name](path)


def _problem(path, message, entry=None, field=None, line=None):
    return Problem(str(path), message, line=line, entry=entry, field=field)


def _read_bytes(path):
    try:
        return path.read_bytes(), None
    except OSError as e:
        return None, _problem(path, f"cannot read: {e.strerror or e}")


def _decode(path, raw, entry=None, line=None, what="text"):
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as e:
        before = raw[:e.start]
        at_line = (line or 1) + before.count(b"\n")
        column = e.start - (before.rfind(b"\n") + 1) + 1
        return None, _problem(path, f"not UTF-8 {what}: byte 0x{raw[e.start]:02x} at line {at_line}, column {column}",
                              entry=entry, line=at_line)


def _valid_url(url):
    return isinstance(url, str) and re.match(r"^https?://\S+$", url.strip() or "") is not None


# --- kcna-json: the 2024 collection, a JSON list of objects ---------------------------

def read_kcna_json(path):
    raw, problem = _read_bytes(path)
    if problem:
        yield problem
        return
    if raw[:2] == b"\x1f\x8b":
        yield _problem(path, "not the kcna-json format: a gzip file (kcna-jsonl reads gzip-compressed JSON lines)")
        return
    text, problem = _decode(path, raw, what="JSON")
    if problem:
        yield problem
        return
    try:
        records = json.loads(text)
    except json.JSONDecodeError as e:
        yield _problem(path, f"not the kcna-json format: not JSON ({e.msg} at line {e.lineno}, column {e.colno})",
                       line=e.lineno)
        return
    if not isinstance(records, list):
        yield _problem(path, f"not the kcna-json format: expected a JSON list of articles, found a JSON {type(records).__name__}")
        return
    for index, record in enumerate(records):
        yield kcna_json_article(path, index, record)


def kcna_json_article(path, index, record):
    entry = f"record {index}"
    if not isinstance(record, dict):
        return _problem(path, f"not an article: expected a JSON object, found {type(record).__name__}", entry)
    title = record.get("headline")
    if not isinstance(title, str) or not normalise.clean_title(title):
        return _problem(path, "no headline", entry, "headline")
    if record.get("date") in (None, ""):
        return _problem(path, "no date", entry, "date")
    try:
        published = normalise.kcna_day(record["date"])
    except ValueError as e:
        return _problem(path, str(e), entry, "date")
    date_str = record.get("date_str")
    if date_str not in (None, ""):
        try:
            stated = normalise.iso_day(date_str)
        except ValueError as e:
            return _problem(path, str(e), entry, "date_str")
        if stated != published:
            return _problem(path, f"date {record['date']} is {published} in Pyongyang, but date_str says {stated}",
                            entry, "date")
    story = record.get("story_text")
    if story is not None and not isinstance(story, str):
        return _problem(path, f"story_text should be a string, found {type(story).__name__}", entry, "story_text")
    text = normalise.normalise_text(story or "")
    if not text:
        return _problem(path, "no text (story_text is empty: KCNA's photo and video items have none)",
                        entry, "story_text")
    link = record.get("link")
    if link not in (None, "") and not _valid_url(link):
        return _problem(path, f"{link!r} is not an http(s) address", entry, "link")
    return Article(str(path), entry, None, normalise.clean_title(title), published, text, url=link or None)


# --- kcna-jsonl: the 2011-2012 collection, JSON lines (gzip or not) -------------------

def _lines(path, raw):
    """The file's lines as bytes, un-gzipping when it is gzip (by its magic bytes)."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            return None, _problem(path, f"not the kcna-jsonl format: a damaged gzip file ({e})")
    return raw.split(b"\n"), None


def read_kcna_jsonl(path):
    raw, problem = _read_bytes(path)
    if problem:
        yield problem
        return
    lines, problem = _lines(path, raw)
    if problem:
        yield problem
        return
    seen_record = False
    for number, line_bytes in enumerate(lines, 1):
        if not line_bytes.strip():
            continue
        entry = f"line {number}"
        line, problem = _decode(path, line_bytes, entry=entry, line=number, what="text")
        if problem:
            yield problem
            seen_record = True
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if not seen_record:
                # the first record already fails: this is not a JSON-lines file at all
                yield _problem(path, f"not the kcna-jsonl format: line {number} is not JSON ({e.msg})", line=number)
                return
            yield _problem(path, f"not JSON ({e.msg} at column {e.colno})", entry, line=number)
            continue
        seen_record = True
        yield kcna_jsonl_article(path, number, record)


def kcna_jsonl_article(path, number, record):
    entry = f"line {number}"
    if not isinstance(record, dict):
        return _problem(path, f"not an article: expected a JSON object, found {type(record).__name__}", entry, line=number)
    if record.get("date") in (None, ""):
        return _problem(path, "no date", entry, "date", number)
    try:
        published = normalise.iso_day(record["date"])
    except ValueError as e:
        return _problem(path, str(e), entry, "date", number)
    story = record.get("story")
    if story is not None and not isinstance(story, str):
        return _problem(path, f"story should be a string, found {type(story).__name__}", entry, "story", number)
    text = normalise.paragraphs_to_text(normalise.split_joined_paragraphs(story or ""))
    if not text:
        return _problem(path, "no text (story is empty)", entry, "story", number)
    link = record.get("link")
    if link not in (None, "") and not _valid_url(link):
        return _problem(path, f"{link!r} is not an http(s) address", entry, "link", number)
    title = record.get("title")
    title = normalise.clean_title(title) if isinstance(title, str) else ""
    article = Article(str(path), entry, number, title, published, text, url=link or None)
    if not title:
        # 688 records of the collection have no headline; the article is still worth having
        article.title, article.title_from_text = normalise.title_from_text(text), True
    return article


# --- text: plain UTF-8, first line the title -----------------------------------------

def read_text(path):
    raw, problem = _read_bytes(path)
    if problem:
        yield problem
        return
    if b"\x00" in raw:
        yield _problem(path, "not the text format: a binary file (it holds NUL bytes)")
        return
    content, problem = _decode(path, raw)
    if problem:
        yield problem
        return
    yield text_article(path, content.lstrip("\ufeff"))


def text_article(path, content):
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    title = normalise.clean_title(lines[0]) if lines else ""
    if not title:
        return _problem(path, "no title: the first line is the title, and it is empty", "line 1", "title", 1)
    headers, body_start = {}, 1
    for number, line in enumerate(lines[1:], 2):
        match = _HEADER.match(line.strip())
        if not match:
            body_start = number - 1
            break
        headers[match.group(1).lower()] = (match.group(2).strip(), number)
    else:
        body_start = len(lines)
    text = normalise.normalise_text("\n".join(lines[body_start:]))
    if not text:
        return _problem(path, "no text: nothing follows the title", "body", "text", body_start + 1)
    date, date_line = headers.get("date") or headers.get("published") or (None, None)
    field = "date"
    if date is None:
        match = _DATE_IN_NAME.search(path.name)
        if not match:
            return _problem(path, "no date: add a line 'Date: YYYY-MM-DD' (or YYYY-MM, YYYY) after the title, "
                            "or put the date in the file name", "header", "date", 2)
        date, field = match.group(1), "file name"
    try:
        published = _partial_date(date)
    except ValueError as e:
        return _problem(path, str(e), "header" if field == "date" else "file name", field, date_line)
    url = (headers.get("url") or (None, None))[0]
    if url and not _valid_url(url):
        return _problem(path, f"{url!r} is not an http(s) address", "header", "url", headers["url"][1])
    authors = (headers.get("authors") or headers.get("author") or ("", None))[0]
    return Article(str(path), "file", None, title, published, text, url=url or None,
                   authors=[a.strip() for a in re.split(r"[;,]", authors) if a.strip()],
                   publisher=(headers.get("publisher") or (None, None))[0] or None)


# --- html: saved article pages, read by trafilatura -----------------------------------

def read_html(path):
    raw, problem = _read_bytes(path)
    if problem:
        yield problem
        return
    yield html_article(path, raw)


def html_article(path, raw):
    import trafilatura  # heavy: only when HTML is ingested

    head = raw[:4096].lower()
    if b"\x00" in raw or not any(tag in head or tag in raw.lower() for tag in (b"<html", b"<body", b"<p", b"<article")):
        return _problem(path, "not the html format: no HTML markup found")
    document = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=False,
                                           favor_precision=True)
    if document is None or not (document.text or "").strip():
        return _problem(path, "no text: trafilatura found no main text in the page", "page", "text")
    title = normalise.clean_title(document.title or "")
    if not title:
        return _problem(path, "no title: the page has none that trafilatura could find", "page", "title")
    lines = document.text.split("\n")
    if lines and normalise.clean_title(lines[0]) == title:
        lines = lines[1:]  # trafilatura keeps the headline as the first line of the text
    text = normalise.normalise_text("\n".join(lines))
    if not text:
        return _problem(path, "no text: the page holds only its headline", "page", "text")
    published, field = document.date, "date"
    if not published:
        match = _DATE_IN_NAME.search(path.name)
        if not match:
            return _problem(path, "no date: the page states none that trafilatura could find, and the file name "
                            "holds none (YYYY-MM-DD)", "page", "date")
        published, field = match.group(1), "file name"
    try:
        published = _partial_date(published)
    except ValueError as e:
        return _problem(path, str(e), "page", field)
    url = document.url if _valid_url(document.url) else None
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return Article(str(path), "page", None, title, published, text, url=url, authors=authors,
                   publisher=document.sitename or document.hostname or None)


READERS = {"kcna-json": read_kcna_json, "kcna-jsonl": read_kcna_jsonl, "text": read_text, "html": read_html}
