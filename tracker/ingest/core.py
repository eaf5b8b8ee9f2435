"""Take articles into the seed tree as unread documents (SPEC section 8, ``tracker ingest``).

For each article, in input order, the first rule that applies decides:

1. its text (normalised, hashed) is already in the tree: *unchanged* ("already there as
   <id>"), or a *duplicate* of an article taken earlier in this run;
2. its url names a document already there or taken earlier, with another text:
   *changed*, reported with that id and never overwritten (``url`` identifies an
   article, except KCNA's old day pages, which list a whole day's items);
3. it is a *near-exact duplicate*: the same words ignoring case, spacing and
   punctuation, or the same headline and date with at least 95% of the text alike
   (rapidfuzz ``ratio``);
4. otherwise it is *taken*: its text is written to the texts folder and a document
   file (no claims yet) to ``documents/``, both atomically (a temporary file renamed
   into place), the text first, so a document file never names a missing text.

Records that cannot be read are *refused* with a problem naming the file, the record
(index or line) and the field; the others go on. Ids are ``<publisher>-<published>-<words
of the headline>``, with a short hash of the text appended when that is taken.
"""

import dataclasses
import json
import os
import pathlib
import re
from typing import Optional

from ..models import Source
from ..seeds import Problem, load_list
from . import index as index_module
from . import normalise, readers

NEAR_RATIO = 95.0
_PID = os.getpid()
KCNA_FORMATS = ("kcna-json", "kcna-jsonl")
KCNA_NAME = "KCNA"


class IngestError(Exception):
    """Nothing can be ingested (no sources.yml, unknown publisher): one message, exit 1."""


@dataclasses.dataclass
class Outcome:
    where: str
    id: Optional[str]
    message: str


@dataclasses.dataclass
class Report:
    taken: list = dataclasses.field(default_factory=list)
    unchanged: list = dataclasses.field(default_factory=list)
    duplicates: list = dataclasses.field(default_factory=list)
    changed: list = dataclasses.field(default_factory=list)
    refused: list = dataclasses.field(default_factory=list)  # Problems
    notes: list = dataclasses.field(default_factory=list)
    files_reread: int = 0
    started: Optional[pathlib.Path] = None  # the starter sources.yml, when this ingest wrote it

    @property
    def exit_code(self) -> int:
        # Refused records and changed texts need someone to look; duplicates do not.
        return 1 if self.refused or self.changed else 0

    def summary(self) -> str:
        return (f"{len(self.taken)} taken, {len(self.unchanged)} already there (unchanged), "
                f"{len(self.duplicates)} duplicate(s) skipped, {len(self.changed)} changed (not overwritten), "
                f"{len(self.refused)} refused")


# A new seed tree for a KCNA stream starts with the one source its documents need.
STARTER_SOURCES = """\
# Sources of this seed tree (SPEC section 3). Started by 'tracker ingest' for KCNA's stream.
- id: kcna
  name: Korean Central News Agency
  type: state_media
  reliability: D
  group: dprk-state-media
  url: http://www.kcna.kp
  aliases: [KCNA, the Korean Central News Agency]
  notes: Authoritative for what the regime says and decides; not usually reliable for the facts it asserts.
"""


def start_seed_tree(seeds_dir: pathlib.Path) -> bool:
    """Write a starter sources.yml into a seed tree that has none; True when it did."""
    path = seeds_dir / "sources.yml"
    if path.exists():
        return False
    seeds_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(seeds_dir, "sources.yml", STARTER_SOURCES.encode())
    return True


def load_sources(seeds_dir: pathlib.Path):
    path = seeds_dir / "sources.yml"
    if not path.is_file():
        raise IngestError(f"{path} not found: a seed tree needs sources.yml before documents can name a publisher")
    items, problems, _ = load_list(path, str(path), Source, "sources")
    if problems:
        raise IngestError("sources.yml has problems; fix them first:\n" + "\n".join(f"  {p}" for p in problems))
    return [source for _, source in items]


class Publishers:
    """Source ids by id, name and alias (case-insensitive), and by web host."""

    def __init__(self, sources):
        self.by_name, self.by_host, self.id_word = {}, {}, {}
        for source in sources:
            # New document ids start with the publisher's id, or for a protected source
            # with its type: the id is published as it is (tracker publish refuses an id
            # that names a protected source).
            self.id_word[source.id] = source.type.value if source.sensitivity == "protected" else source.id
            for name in (source.id, source.name, *source.aliases):
                self.by_name.setdefault(_fold(name), source.id)
            host = _host(source.url)
            if host:
                self.by_host.setdefault(host, source.id)

    def find(self, name) -> Optional[str]:
        if not name:
            return None
        found = self.by_name.get(_fold(name))
        if found is None and name.lower().startswith("the "):
            found = self.by_name.get(_fold(name[4:]))
        return found or self.by_host.get(_host(name) or name.lower().removeprefix("www."))

    def for_url(self, url) -> Optional[str]:
        return self.by_host.get(_host(url)) if url else None


def _fold(name):
    return " ".join(name.casefold().split())


def _host(url):
    if not url or "://" not in url:
        return None
    host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()
    return host.removeprefix("www.") or None


def resolve_publisher(format_name, publishers: Publishers, given: Optional[str]) -> Optional[str]:
    """The publisher every article gets (--publisher, or KCNA for the KCNA formats), or None."""
    if given:
        found = publishers.find(given)
        if not found:
            raise IngestError(f"unknown publisher {given!r}: no source in sources.yml has that id, name or alias")
        return found
    if format_name in KCNA_FORMATS:
        found = publishers.find(KCNA_NAME)
        if not found:
            raise IngestError(f"no source in sources.yml is named {KCNA_NAME!r} (by name or alias): add "
                              f"'aliases: [{KCNA_NAME}]' to KCNA's entry, or pass --publisher")
        return found
    return None


def write_atomic(folder, name: str, data: bytes) -> os.stat_result:
    """Nobody ever sees a half-written file ``folder/name``: write beside it, then rename.

    Plain os.open/os.write (no buffered file object: 40,000 files per corpus). Returns
    the file's stat, for the index.
    """
    path = os.path.join(folder, name)
    temporary = os.path.join(folder, f".{name}.{_PID}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        stat = os.fstat(fd)
    except BaseException:
        os.close(fd)
        os.unlink(temporary)
        raise
    os.close(fd)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return stat


# Characters a YAML double-quoted scalar must not hold raw (JSON leaves them as they are):
# C1 controls, NEL and the Unicode line and paragraph separators, BOM and non-characters.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def yaml_string(value: str) -> str:
    """A double-quoted YAML scalar: JSON's escapes are a subset of YAML's."""
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json.dumps(value, ensure_ascii=False))


def document_yaml(document: dict) -> bytes:
    """The document file. Written by hand, not by yaml.dump (a quarter of the ingest's
    time at 20,000 articles); tests load every shape back with the seed loader."""
    lines = []
    for key, value in document.items():
        if isinstance(value, list):
            lines.append(f"{key}: [{', '.join(yaml_string(v) for v in value)}]")
        else:
            lines.append(f"{key}: {yaml_string(value)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def ingest(format_name, paths, seeds_dir, texts_dir, publisher=None, progress=lambda done, total: None) -> Report:
    if format_name not in readers.FORMATS:
        raise IngestError(f"unknown format {format_name!r}: one of {', '.join(readers.FORMATS)}")
    seeds_dir, texts_dir = pathlib.Path(seeds_dir), pathlib.Path(texts_dir)
    files = readers.expand(format_name, paths)
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise IngestError(f"not found: {', '.join(missing)}")
    report = Report()
    if format_name.startswith("kcna") and publisher in (None, "kcna") and start_seed_tree(seeds_dir):
        report.started = seeds_dir / "sources.yml"
    publishers = Publishers(load_sources(seeds_dir))
    fixed_publisher = resolve_publisher(format_name, publishers, publisher)
    (seeds_dir / "documents").mkdir(parents=True, exist_ok=True)
    texts_dir.mkdir(parents=True, exist_ok=True)

    with index_module.locked(seeds_dir):
        known = index_module.Index(seeds_dir, texts_dir).open()
        report.files_reread = known.reread
        try:
            sizes = [p.stat().st_size or 1 for p in files]
            total, done = sum(sizes), 0
            progress(0, total)
            for path, size in zip(files, sizes):
                items = list(readers.read(format_name, path))
                for number, item in enumerate(items, 1):
                    if isinstance(item, Problem):
                        report.refused.append(item)
                    else:
                        take(item, known, report, publishers, fixed_publisher, seeds_dir, texts_dir)
                    if number % 200 == 0:
                        known.commit()
                        progress(done + size * number // len(items), total)
                done += size
                progress(done, total)
        finally:
            known.close()
    return report


def take(article, known, report, publishers, fixed_publisher, seeds_dir, texts_dir):
    where = article.where()
    sha = normalise.sha256_text(article.text)

    match = known.by_sha.get(sha)
    if match is not None:
        if match.in_this_run:
            report.duplicates.append(Outcome(where, match.id, f"duplicate of {match.id} (the same text)"))
        else:
            report.unchanged.append(Outcome(where, match.id, f"already there as {match.id}: nothing changed"))
        return
    url = article.url_key
    match = known.by_url.get(url) if url else None
    if match is not None:
        report.changed.append(Outcome(where, match.id, f"{match.id} has the same url but another text: not "
                                      "overwritten (compare them, and edit the document by hand if the new one "
                                      "should replace it)"))
        return
    near = normalise.near_key(article.text)
    match = known.by_near.get(near) or similar(article, known)
    if match is not None:
        report.duplicates.append(Outcome(where, match.id, f"near-exact duplicate of {match.id}"))
        return

    publisher_id = fixed_publisher or publishers.find(article.publisher) or publishers.for_url(article.url)
    if publisher_id is None:
        field = "publisher"
        message = (f"unknown publisher {article.publisher!r}: add it (or an alias) to sources.yml, or pass --publisher"
                   if article.publisher else "no publisher: the file names none; pass --publisher")
        report.refused.append(Problem(article.file, message, line=article.line, entry=article.entry, field=field))
        return

    document_id = new_id(publishers.id_word.get(publisher_id, publisher_id), article, sha, known, seeds_dir, texts_dir)
    text_file = f"{document_id}.txt"
    write_atomic(texts_dir, text_file, article.text.encode("utf-8"))
    known.texts_present.add(text_file)
    document = {"id": document_id, "title": article.title, "publisher": publisher_id, "published": article.published}
    if article.url:
        document["url"] = article.url
    if article.authors:
        document["authors"] = article.authors
    document["text"] = text_file
    document["sha256"] = sha
    if article.title_from_text:
        document["notes"] = "The record has no headline: the title is the opening words of the text."
        report.notes.append(Outcome(where, document_id, "no headline: titled by the opening words of its text"))
    document["claims"] = []
    name = f"{document_id}.yml"
    stat = write_atomic(known.documents_dir, name, document_yaml(document))
    known.add(name, stat, document_id, url, sha, near, normalise.title_key(article.title), article.published,
              len(article.text), text_file)
    report.taken.append(Outcome(where, document_id, "taken"))


def similar(article, known):
    """A document with the same headline and date whose text is at least NEAR_RATIO% alike."""
    candidates = known.by_title.get(normalise.title_key(article.title), ())
    length = len(article.text)
    for candidate in candidates:
        if candidate.published != article.published or not candidate.length:
            continue
        if abs(candidate.length - length) > 0.1 * max(candidate.length, length):
            continue
        from rapidfuzz import fuzz

        other = known.text_of(candidate)
        if other is not None and fuzz.ratio(article.text, other, score_cutoff=NEAR_RATIO):
            return candidate
    return None


def new_id(first_word, article, sha, known, seeds_dir, texts_dir):
    """A readable slug, free in the tree (ids, file names, text files); stable for the same input."""
    base = f"{first_word}-{article.published}-{normalise.slug_words(article.title)}"
    for candidate in (base, f"{base}-{sha[:6]}", f"{base}-{sha[:12]}", f"{base}-{sha}"):
        text_file = f"{candidate}.txt"
        if candidate in known.ids or f"{candidate}.yml" in known.file_names or text_file in known.text_files:
            continue
        # a text no document names is ours to reuse only when it is this very text (a
        # run stopped between writing the text and its document file)
        if text_file in known.texts_present and normalise.sha256_file(os.path.join(texts_dir, text_file)) != sha:
            continue
        return candidate
    raise IngestError(f"no free id for {article.where()}: {base} and its hashed forms are all taken")
