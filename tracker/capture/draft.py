"""Draft claims: a document's attributions turned into `draft: true` claim entries.

For each attribution the model finds in the document's text, the draft proposes one
appearance: the quote (the longest fragment of the content, verbatim, so it anchors),
the origin (the source span resolved against the seeds' sources, or a proposed new
source with a guessed type), the relays (`via`: the wires a dateline credits, or the
author who relays what state media said), and a claim text the analyst rewrites.

Writing never reformats what the analyst wrote: entries are inserted as text after the
last claim entry of the document's file (proposed sources appended to sources.yml),
and both files are checked by the seed parser before either is replaced. A proposal
whose quote overlaps an entry already in the document is not added, so drafting twice
adds nothing; a quote that repeats a claim recorded in another document becomes a `ref`
to it.
"""

import dataclasses
import datetime
import os
import pathlib
import re
import tempfile

import yaml

from ..cache import read_text
from ..models import Source
from ..seeds import SeedLoader, load_document, load_list, read_yaml
from .origins import Resolver, guess_type, name_key, source_names

PRONOUNS = {"he", "she", "they", "it", "we", "i", "him", "her", "them", "us", "who", "which", "you", "his", "their"}
ANAPHORA = re.compile(r"^(the|this|that|these|those|both|our)\s+(sources?|residents?|informants?|man|woman|"
                      r"defectors?|officials?|analysts?|experts?|agency|ministry|leader|newspaper|paper|report)$", re.I)
POSSESSIVE_PRONOUN = re.compile(r"^(his|her|their|its|our|my)\s+\w+", re.I)
DATELINE = re.compile(r"^[A-Z][A-Z .'-]+\(([A-Z][A-Za-z ,/&.-]+)\)\s*[-–—]", re.M)
REPORTED_BY = re.compile(r"(?:according to|state media|state-run)\s+(?:the\s+)?(?P<medium>[A-Z][\w ]{1,40}?)"
                         r"(?=\s+(?:reported|said|news agency)|[,.])|(?P<medium2>\b[A-Z]{3,6}\b) reported")
TRIM = " \t\n,.;:–—-\"“”‘’'()"
MIN_QUOTE_WORDS = 3
CLAIM_TEXT_MAX = 300
CLAIM_TEXT_WORDS = 5


class DraftError(Exception):
    """Bad input: nothing was written."""


@dataclasses.dataclass
class Proposal:
    entry: dict
    start: int
    end: int
    score: float


@dataclasses.dataclass
class DraftReport:
    document_id: str
    document_file: pathlib.Path
    added: list  # entries written
    proposed_sources: list  # sources appended to sources.yml
    skipped: int  # attributions already recorded (or too short to quote)


def slug(text, limit=6):
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:limit]) or "x"


def find_document(seeds_dir, document_id):
    """(path, raw text, Document) of the seed file defining the document, or DraftError."""
    folder = seeds_dir / "documents"
    if not folder.is_dir():
        raise DraftError(f"{seeds_dir}: not a seed tree (no documents/ folder)")
    needle = document_id.encode()
    for path in sorted(folder.glob("*.y*ml")):
        raw = path.read_bytes()
        if needle not in raw:
            continue
        # read_yaml: the build's own parse (a file of aliases that would explode is refused)
        data, unreadable = read_yaml(path, str(path), raw)
        if unreadable:
            continue
        if isinstance(data, dict) and data.get("id") == document_id:
            document, problems, _ = load_document(path, str(path), raw)
            if problems:
                raise DraftError("; ".join(str(p) for p in problems) + " (fix the file before drafting)")
            return path, raw.decode("utf-8"), document
    raise DraftError(f"unknown document {document_id!r}: no file in {folder} has this id")


def read_document_text(document, path, texts_dir):
    """The document's text, or DraftError: no text, no folder, outside it, not UTF-8, empty."""
    if not document.text:
        raise DraftError(f"{path}: document {document.id}: text: the document names no text file to draft from")
    if texts_dir is None:
        raise DraftError(f"{path}: document {document.id}: text: give --texts DIR, the folder holding "
                         f"{document.text!r}")
    # the build's own reading of a text (inside the folder, sha256, UTF-8)
    text, problem = read_text(path, document, pathlib.Path(texts_dir))
    if problem:
        raise DraftError(str(problem))
    if not text.strip():
        raise DraftError(f"{path}: document {document.id}: text: {document.text!r} is empty: nothing to draft from")
    return text


def tree_claims(seeds_dir, skip_path):
    """Claim ids of the whole tree, and {normalised quote: claim id} of the other documents."""
    ids, quotes = set(), {}
    for path in sorted((seeds_dir / "documents").glob("*.y*ml")):
        data, unreadable = read_yaml(path, str(path))
        if unreadable:
            continue
        for entry in (data or {}).get("claims") or [] if isinstance(data, dict) else []:
            if not isinstance(entry, dict):
                continue
            if isinstance(entry.get("id"), str):
                ids.add(entry["id"])
            claim = entry.get("id") or entry.get("ref")
            if path != skip_path and isinstance(entry.get("quote"), str) and isinstance(claim, str) \
                    and not entry.get("draft"):
                quotes.setdefault(quote_key(entry["quote"]), claim)
    return ids, quotes


def quote_key(quote):
    return " ".join(re.findall(r"\w+", quote.lower()))


def trim_span(text, start, end):
    """Shrink a span past surrounding spaces, quotation marks and punctuation."""
    while start < end and text[start] in TRIM:
        start += 1
    while end > start and text[end - 1] in TRIM:
        end -= 1
    return start, end


def wire_relays(text, resolver, publisher):
    """Source ids of the wires a dateline credits ("SEOUL (BLOOMBERG, AFP) -")."""
    relays = []
    for m in DATELINE.finditer(text):
        for name in re.split(r",|/|&| and ", m.group(1)):
            found = resolver.resolve(name.strip())
            if found and found.id != publisher and found.id not in relays:
                relays.append(found.id)
    return relays


class _Proposed:
    """A source proposed earlier in this run, shaped like a Source for `origin`."""

    def __init__(self, entry):
        self.id, self.name = entry["id"], entry["name"]
        self.type = type("T", (), {"value": entry["type"]})


class Drafter:
    """Turns one document's attributions into entries (and the sources they need)."""

    def __init__(self, document, text, sources, labeller):
        self.document, self.text = document, text
        self.sources = {s.id: s for s in sources}
        self.resolver = Resolver(sources)
        self.labeller = labeller
        self.publisher = self.sources.get(document.publisher)
        self.author = None
        for name in document.authors:
            found = self.resolver.resolve(name)
            if found:
                self.author = found
                break
        self.own_voice = self.author or self.publisher
        self.wires = wire_relays(text, self.resolver, document.publisher)
        self.reporting_medium = self.named_state_medium()
        self.new_sources = {}  # id -> dict, proposed this run
        self.mentioned = []  # origins in text order, for surnames and pronouns

    def propose_source(self, span):
        """A new source for a span the seeds do not know, typed by a guess."""
        name = re.sub(r"^(a|an|the|one|two|three|several|some)\s+", "", span.strip(TRIM), flags=re.I)
        name = name[:1].upper() + name[1:]
        kind = guess_type(span)
        if kind == "informant":
            outlet = self.publisher
            name = f"{name} ({outlet.name})"
            entry = {"id": slug(name), "name": name, "type": "informant", "outlet": outlet.id}
        else:
            entry = {"id": slug(name), "name": name, "type": kind}
        base, n = entry["id"], 2
        while entry["id"] in self.sources:
            entry["id"] = f"{base}-{n}"
            n += 1
        entry["notes"] = (f"PROPOSED by tracker draft from {self.document.id} ({span.strip()!r}): "
                          "check the name, type and reliability, then remove this mark.")
        entry["aliases"] = [span.strip(TRIM)]
        key = name_key(name)
        for known in self.new_sources.values():
            if name_key(known["name"]) == key:
                return known["id"], known["type"]
        self.new_sources[entry["id"]] = entry
        return entry["id"], kind

    def named_state_medium(self):
        """In a wire story, the state medium it says reported ("state media KCNA reported")."""
        for m in REPORTED_BY.finditer(self.text):
            found = self.resolver.resolve(m.group("medium") or m.group("medium2"))
            if found and found.type.value == "state_media":
                return found
        return None

    def relayed_by_medium(self, source_id):
        """The leadership's words, relayed by a wire or an author, reach them through state media.

        The medium is the one the text names as reporting ("state media KCNA reported"),
        else the state news agency of the same independence group: the leadership speaks
        to the outside world only through it. Without a relay (a paper quoting Kim's
        remarks directly) the origin stays as resolved.
        """
        source = self.sources.get(source_id)
        medium = self.reporting_medium
        if medium is None and source is not None and source.type.value == "state_media":
            medium = next((s for s in self.sources.values() if s.type.value == "state_media"
                           and s.independence_group == source.independence_group
                           and re.search(r"news agency", s.name, re.I)), None)
        if medium and source and source.id != medium.id and source.type.value == "state_media" \
                and source.independence_group == medium.independence_group:
            return medium.id
        return source_id

    def outlet_informant(self, source_text):
        """"Sources" with no place named: the publisher's informant they must be.

        Plural: the outlet's informant recorded as several sources; else the informant
        of the outlet named last; else its only one.
        """
        mine = [s for s in self.sources.values() if s.type.value == "informant" and s.outlet == self.document.publisher]
        if re.search(r"\bsources\b", source_text, re.I):
            plural = [s for s in mine if re.search(r"\bsources\b", s.name, re.I)]
            if len(plural) == 1:
                return plural[0]
        for sid in reversed(self.mentioned):
            if any(s.id == sid for s in mine):
                return self.sources[sid]
        return mine[0] if len(mine) == 1 else None

    def by_surname(self, word):
        """A source named earlier whose name holds this one word ("Kim", "Go")."""
        for sid in reversed(self.mentioned):
            source = self.sources.get(sid)
            name = source.name if source else self.new_sources[sid]["name"]
            if word in re.findall(r"[\w’'-]+", name):
                return source or _Proposed(self.new_sources[sid])
        # else the one seed source (not an outlet's informant) whose name holds it
        named = [s for s in self.sources.values() if s.type.value != "informant"
                 and word in re.findall(r"[\w’'-]+", re.sub(r"\(.*?\)", " ", s.name))]
        return named[0] if len(named) == 1 else None

    def origin(self, source_text, previous):
        """(source id, type, own voice?) for a source span; `previous` resolves pronouns."""
        words = source_text.strip(TRIM).lower()
        if not words:
            return self.own_voice.id, self.own_voice.type.value, True
        if words in PRONOUNS or ANAPHORA.match(words):
            if previous:
                return previous
            return self.own_voice.id, self.own_voice.type.value, True
        if POSSESSIVE_PRONOUN.match(words):  # "his comments", "their statement"
            if previous:
                return previous
            return self.own_voice.id, self.own_voice.type.value, True
        possessor = re.match(r"^(?:the\s+)?(.+?)[’']s\s+\w", source_text.strip(TRIM))
        if possessor:  # "Kim's remarks", "the ministry's statement": who said it
            source_text = possessor.group(1)
        found = self.resolver.resolve(source_text, outlet=self.document.publisher)
        if not found and re.fullmatch(r"[A-Z][\w’'-]+", source_text.strip(TRIM)):
            found = self.by_surname(source_text.strip(TRIM))
        if not found and guess_type(source_text) == "informant":
            found = self.outlet_informant(source_text)
        if found:
            own = found.id in (self.document.publisher, self.author.id if self.author else None)
            return found.id, found.type.value, own
        sid, kind = self.propose_source(source_text)
        return sid, kind, False

    def source_mentions(self):
        """(offset, source id) of every place the text names a seed source (not the
        publisher or author) by a name or alias of two words or more, in text order."""
        own = {self.document.publisher, self.author.id if self.author else None}
        found = []
        lower = self.text.lower()
        for source in self.sources.values():
            if source.id in own:
                continue
            for name in source_names(source):
                name = re.sub(r"\(.*?\)", " ", name).strip().lower()
                if len(name.split()) < 2:
                    continue
                for m in re.finditer(r"\b" + re.escape(name) + r"\b", lower):
                    found.append((m.start(), source.id))
        return sorted(found)

    def proposals(self):
        previous, previous_at = None, -1
        mentions = self.source_mentions()
        out = []
        for att in self.labeller.attributions(self.text):
            source_text = " ".join(self.text[a:b] for a, b in att["source"])
            at = att["source"][0][0] if att["source"] else att["cue"][0][0]
            # a pronoun names whoever was named last: an earlier origin, or a source the
            # text mentioned since ("a member of the central Pyongyang elite ... he said")
            named = [sid for pos, sid in mentions if previous_at < pos < at]
            if named and source_text.strip(TRIM).lower() in PRONOUNS:
                source = self.sources[named[-1]]
                previous = (source.id, source.type.value, False)
            origin = self.origin(source_text, previous)
            if not origin[2]:
                previous, previous_at = origin, at
                self.mentioned.append(origin[0])
            if not att["content"]:
                continue
            a, b = max(att["content"], key=lambda f: f[1] - f[0])
            start, end = trim_span(self.text, a, b)
            quote = self.text[start:end]
            if len(re.findall(r"\w+", quote)) < MIN_QUOTE_WORDS:
                continue
            source_id, _kind, own = origin
            if own:
                via = []
            elif self.wires:
                via = [w for w in self.wires if w != source_id]
            elif self.author and self.author.id != source_id:
                via = [self.author.id]
            else:
                via = []
            if via:
                source_id = self.relayed_by_medium(source_id)
            also = self.fellow_informants(source_text, source_id)
            out.append((start, end, quote, source_id, via, att["score"], also))
        return out

    def fellow_informants(self, source_text, source_id):
        """For "the sources" (plural): the outlet's other informants named so far.

        Anonymous sources of one outlet speaking together are recorded as one appearance
        each (they are one independence group, so this adds no false corroboration).
        """
        if not re.search(r"\bsources\b", source_text, re.I):
            return []
        source = self.sources.get(source_id)
        if not source or source.type.value != "informant":
            return []
        seen = []
        for sid in self.mentioned:
            other = self.sources.get(sid)
            if other and other.type.value == "informant" and other.outlet == source.outlet \
                    and sid != source_id and sid not in seen:
                seen.append(sid)
        return seen


def claim_text(quote, origin):
    """A placeholder claim text the analyst rewrites: who, and the quote's first words.

    Never the whole quote, nor a protected source's name: a claim text is published as
    written, and one that renders a protected quote or names the source gives it away
    (tracker/exposure.py warns, and publish refuses).
    """
    words = re.sub(r"\s+", " ", quote.strip(TRIM)).split(" ")
    opening = " ".join(words[:CLAIM_TEXT_WORDS]) + ("…" if len(words) > CLAIM_TEXT_WORDS else "")
    who = origin["name"] if not origin["protected"] else f"a protected {origin['type']} source"
    return f"DRAFT, rewrite: {who} on “{opening}”"[:CLAIM_TEXT_MAX]


def existing_spans(document, text):
    spans, quotes = [], set()
    for entry in document.claims:
        if entry.quote:
            quotes.add(quote_key(entry.quote))
            at = text.find(entry.quote)
            if at >= 0:
                spans.append((at, at + len(entry.quote)))
    return spans, quotes


def render_entries(entries, indent):
    """Block YAML for a list of claim entries, indented like the file's own."""
    dumped = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False)
    dumped = re.sub(r"^(\s*)via: \[\]\n", "", dumped, flags=re.M)
    # short lists in flow style, as the analysts write them
    dumped = re.sub(r"via:\n((?:\s+- \S+\n)+)",
                    lambda m: "via: [" + ", ".join(re.findall(r"- (\S+)", m.group(1))) + "]\n", dumped)
    dumped = re.sub(r"aliases:\n((?:\s+- .+\n)+)",
                    lambda m: "aliases: [" + ", ".join(re.findall(r"- (.+)", m.group(1))) + "]\n", dumped)
    pad = " " * indent
    return "".join(pad + line + "\n" for line in dumped.splitlines())


def insert_entries(raw, entries_text_for):
    """The file's text with claim entries inserted after its last claim (nothing else moves)."""
    node = yaml.compose(raw, Loader=SeedLoader)
    claims = None
    for key, value in node.value:
        if key.value == "claims":
            claims = (key, value)
    if claims is None:
        body = raw if raw.endswith("\n") else raw + "\n"
        return body + "claims:\n" + entries_text_for(2)
    key, value = claims
    if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
        indent = value.value[0].start_mark.column - 2
        last = value.value[-1]
        while isinstance(last, (yaml.MappingNode, yaml.SequenceNode)) and last.value:
            last = last.value[-1][1] if isinstance(last, yaml.MappingNode) else last.value[-1]
        at = last.end_mark.index
        if raw[at - 1:at] != "\n":
            newline = raw.find("\n", at)
            at = len(raw) if newline < 0 else newline + 1
        prefix = raw[:at] if raw[:at].endswith("\n") else raw[:at] + "\n"
        return prefix + entries_text_for(indent) + raw[at:]
    # `claims: []` or an empty `claims:`: the entries replace the empty value.
    start, end = value.start_mark.index, value.end_mark.index
    if isinstance(value, yaml.SequenceNode) and value.value:
        raise DraftError("claims are written in flow style ([...]); write them as a block list to draft into it")
    rest = raw[end:]
    return raw[:start].rstrip(" ") + "\n" + entries_text_for(2).rstrip("\n") + ("" if rest.startswith("\n") else "\n") + rest


def append_sources(raw, sources, document_id):
    node = yaml.compose(raw, Loader=SeedLoader)
    indent = node.value[0].start_mark.column - 2 if isinstance(node, yaml.SequenceNode) and node.value else 0
    body = raw if raw.endswith("\n") or not raw else raw + "\n"
    header = (f"\n# --- PROPOSED by `tracker draft {document_id}` on {datetime.date.today().isoformat()}: "
              "check each source, then remove its PROPOSED note ---\n")
    return body + header + render_entries(sources, indent)


def replace_files(writes):
    """Write every (path, text) to a temporary file first, then move them all into place."""
    temps = []
    try:
        for path, content in writes:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(content)
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o777)
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def draft(document_id, seeds_dir, texts_dir=None, labeller=None, write=True) -> DraftReport:
    """Propose the document's attributed claims; write them (unless write=False)."""
    seeds_dir = pathlib.Path(seeds_dir)
    sources_path = seeds_dir / "sources.yml"
    if not sources_path.is_file():
        raise DraftError(f"{seeds_dir}: not a seed tree (no sources.yml)")
    path, raw, document = find_document(seeds_dir, document_id)
    text = read_document_text(document, path, texts_dir)
    items, problems, _ = load_list(sources_path, str(sources_path), Source, "sources")
    if problems:
        raise DraftError("; ".join(str(p) for p in problems) + " (fix sources.yml before drafting)")
    sources = [s for _, s in items]
    if document.publisher not in {s.id for s in sources}:
        raise DraftError(f"{path}: document {document.id}: publisher: unknown source {document.publisher!r}")
    if labeller is None:
        from .attribution import Labeller

        labeller = Labeller()
    drafter = Drafter(document, text, sources, labeller)
    claim_ids, other_quotes = tree_claims(seeds_dir, path)
    taken_spans, taken_quotes = existing_spans(document, text)
    names = {s.id: {"name": s.name, "type": s.type.value, "protected": s.sensitivity == "protected"}
             for s in sources}
    entries, used_sources, skipped = [], set(), 0
    for start, end, quote, source_id, via, score, also in drafter.proposals():
        key = quote_key(quote)
        if key in taken_quotes or any(start < b and a < end for a, b in taken_spans):
            skipped += 1
            continue
        taken_spans.append((start, end))
        taken_quotes.add(key)
        names.update({s["id"]: {"name": s["name"], "type": s["type"], "protected": False}
                      for s in drafter.new_sources.values()})
        ref = other_quotes.get(key)
        if ref:
            entry = {"ref": ref}
        else:
            base = cid = f"draft-{slug(document.id, 3)}-{slug(quote, 5)}"
            n = 2
            while cid in claim_ids:
                cid = f"{base}-{n}"
                n += 1
            claim_ids.add(cid)
            entry = {"id": cid, "text": claim_text(quote, names[source_id])}
        entry |= {"source": source_id, "via": via, "quote": quote, "draft": True}
        used_sources |= {source_id, *via}
        entries.append(entry)
        for other in also:  # the same words, from each of the outlet's informants
            entries.append({"ref": entry.get("ref") or entry["id"], "source": other, "via": via, "quote": quote,
                            "draft": True})
    proposed = [s for sid, s in drafter.new_sources.items() if sid in used_sources]
    report = DraftReport(document.id, path, entries, proposed, skipped)
    if not write or not entries:
        return report
    new_doc = insert_entries(raw, lambda indent: render_entries(entries, indent))
    writes = [(path, new_doc)]
    if proposed:
        writes.append((sources_path, append_sources(sources_path.read_text(encoding="utf-8"), proposed, document.id)))
    # Both files must still parse and validate before either replaces the analyst's.
    checked, problems, _ = load_document(path, str(path), new_doc.encode("utf-8"))
    if problems or len(checked.claims) != len(document.claims) + len(entries):
        raise DraftError(f"{path}: the drafted file would not be valid ({'; '.join(map(str, problems))}); nothing written")
    if proposed:
        tmp_items, problems, _ = _validate_sources(writes[1][1], sources_path)
        if problems:
            raise DraftError(f"{sources_path}: the proposed sources would not be valid "
                             f"({'; '.join(map(str, problems))}); nothing written")
    replace_files(writes)
    return report


def _validate_sources(content, sources_path):
    with tempfile.TemporaryDirectory() as folder:
        tmp = pathlib.Path(folder) / "sources.yml"
        tmp.write_text(content, encoding="utf-8")
        return load_list(tmp, str(sources_path), Source, "sources")
