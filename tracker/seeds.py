"""Read and check a seed tree: sources.yml, documents/*.yml, reviews.yml (SPEC section 3).

Every problem is collected, never raised one at a time, so an analyst fixes a whole
batch in one pass. A problem names the file, the line where the YAML parser knows it,
the entry and the field.
"""

import dataclasses
import hashlib
import pathlib
from typing import Optional

import pydantic
import yaml
from rapidfuzz import fuzz

from .models import Document, Review, Source

try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class SeedLoader(_BaseLoader):
    """Safe loading, but dates stay strings: the format keeps their precision as written."""


SeedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


@dataclasses.dataclass(frozen=True)
class Problem:
    file: str
    message: str
    line: Optional[int] = None
    entry: Optional[str] = None
    field: Optional[str] = None

    def __str__(self):
        where = self.file + (f":{self.line}" if self.line else "")
        what = ": ".join(part for part in (self.entry, self.field) if part)
        return f"{where}: {what}: {self.message}" if what else f"{where}: {self.message}"


class SeedError(Exception):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclasses.dataclass
class Anchor:
    quote_start: Optional[int]
    quote_end: Optional[int]
    verified: int


@dataclasses.dataclass
class Seeds:
    sources: list  # [Source]
    documents: list  # [(relative path, Document)]
    reviews: list  # [Review]
    anchors: dict  # (document id, index in claims) -> Anchor
    warnings: list  # [Problem]


def read_yaml(path: pathlib.Path, shown: str):
    """Parse one YAML file; a syntax error becomes a Problem with its line."""
    try:
        return yaml.load(path.read_bytes(), Loader=SeedLoader), None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return None, Problem(
            shown,
            f"not valid YAML: {getattr(e, 'problem', None) or e}",
            line=mark.line + 1 if mark else None,
        )
    except UnicodeDecodeError as e:
        return None, Problem(shown, f"not UTF-8 text: {e}")


def line_of(path: pathlib.Path, loc) -> Optional[int]:
    """The line of the node at ``loc`` (keys and list indexes), or of its nearest parent.

    Only called when a problem is reported, so the happy path never pays for marks.
    """
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=SeedLoader)
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return None
    line = node.start_mark.line + 1 if node else None
    for step in loc:
        if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == step:
                    node = value
                    break
            else:
                break
        else:
            break
        line = node.start_mark.line + 1
    return line


def _describe(item, index, kind):
    if isinstance(item, dict):
        for key in ("id", "ref", "claim"):
            if isinstance(item.get(key), (str, int)):
                return f"{kind}[{index}] ({key} {item[key]})"
    return f"{kind}[{index}]"


def _message(error) -> str:
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] in ("literal_error", "enum"):
        return f"{error['input']!r} is not one of {msg.removeprefix('Input should be ')}"
    if error["type"] == "string_pattern_mismatch":
        return f"{error['input']!r} is not a slug (lower-case letters, digits and '-', starting with a letter or digit)"
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling against SPEC section 3)"
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] in ("string_type", "int_type", "list_type") or "input" in error and error["type"].endswith("_parsing"):
        return f"{msg} (got {error['input']!r}; quote it if YAML read it as a number)"
    return msg


def _validation_problems(exc, path, shown, data, entry_prefix=(), kind="entries"):
    """pydantic errors -> Problems naming entry and field, with the YAML line."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = entry_prefix + tuple(error["loc"])
        entry, fields, node = None, [], data
        for i, step in enumerate(loc):
            if isinstance(step, int) and isinstance(node, list) and step < len(node):
                parent = loc[i - 1] if i else kind
                entry = _describe(node[step], step, parent)
                fields = []
                node = node[step]
            else:
                fields.append(str(step))
                node = node.get(step) if isinstance(node, dict) else None
        problems.append(
            Problem(
                shown,
                _message(error),
                line=line_of(path, loc),
                entry=entry,
                field=".".join(fields) or None,
            )
        )
    return problems


def _load_list(path, shown, model, kind):
    """A YAML file holding a list of entries of ``model`` (sources.yml, reviews.yml)."""
    data, problem = read_yaml(path, shown)
    if problem:
        return [], [problem]
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Problem(shown, f"should be a list of {kind} (each starting with '- id:')", line=1)]
    items, problems, invalid_ids = [], [], set()
    for index, raw in enumerate(data):
        try:
            items.append((index, model.model_validate(raw)))
        except pydantic.ValidationError as e:
            problems += _validation_problems(e, path, shown, data, (index,), kind)
            # An entry already reported should not also show up as "unknown" elsewhere.
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                invalid_ids.add(raw["id"])
    return items, problems, invalid_ids


def load_document(path: pathlib.Path, shown: str):
    """One documents/*.yml file -> (Document or None, problems, claim ids it tries to define)."""
    data, problem = read_yaml(path, shown)
    if problem:
        return None, [problem], set()
    if not isinstance(data, dict):
        return None, [Problem(shown, "should be a mapping with id, title, publisher, published, claims", line=1)], set()
    try:
        return Document.model_validate(data), [], set()
    except pydantic.ValidationError as e:
        claims = data.get("claims") if isinstance(data.get("claims"), list) else []
        defined = {c["id"] for c in claims if isinstance(c, dict) and isinstance(c.get("id"), str)}
        return None, _validation_problems(e, path, shown, data), defined


def document_files(seeds_dir: pathlib.Path):
    return sorted((seeds_dir / "documents").glob("*.yml")) + sorted(
        (seeds_dir / "documents").glob("*.yaml")
    )


def load_seeds(seeds_dir, texts_dir=None) -> Seeds:
    """Load and check a whole seed tree; raise SeedError listing every problem."""
    seeds_dir = pathlib.Path(seeds_dir)
    problems, warnings = [], []

    def shown(path):
        return str(path)

    sources_path = seeds_dir / "sources.yml"
    if not sources_path.exists():
        raise SeedError([Problem(shown(sources_path), "missing: every seed tree needs sources.yml")])
    source_items, found, invalid_sources = _load_list(sources_path, shown(sources_path), Source, "sources")
    problems += found

    documents, invalid_claims = [], set()
    for path in document_files(seeds_dir):
        document, found, defined = load_document(path, shown(path))
        problems += found
        invalid_claims |= defined
        if document:
            documents.append((shown(path), path, document))

    reviews_path = seeds_dir / "reviews.yml"
    review_items = []
    if reviews_path.exists():
        review_items, found, _ = _load_list(reviews_path, shown(reviews_path), Review, "reviews")
        problems += found

    problems += check_references(
        shown(sources_path), source_items, documents, shown(reviews_path), review_items,
        already_reported=invalid_sources | invalid_claims,
    )
    anchors = {}
    if texts_dir is not None:
        found, warnings = anchor_quotes(pathlib.Path(texts_dir), documents, anchors)
        problems += found
    if problems:
        raise SeedError(problems)
    return Seeds(
        sources=[s for _, s in source_items],
        documents=[(name, d) for name, _, d in documents],
        reviews=[r for _, r in review_items],
        anchors=anchors,
        warnings=warnings,
    )


def check_references(sources_file, source_items, documents, reviews_file, review_items, already_reported=()):
    """The rules that need the whole tree: unique ids, names that exist, links.

    Names in ``already_reported`` belong to entries that failed on their own; they are
    not reported again as unknown wherever they are used.
    """
    problems = []

    def at(file, path, loc, entry, field, message):
        if "unknown" in message and any(f"{name!r}" in message for name in already_reported):
            return
        problems.append(Problem(file, message, line=line_of(path, loc), entry=entry, field=field))

    sources_path = pathlib.Path(sources_file)
    source_ids = {}
    for index, source in source_items:
        if source.id in source_ids:
            at(sources_file, sources_path, (index, "id"), f"sources[{index}] (id {source.id})", "id",
               f"duplicate source id {source.id!r} (first defined as sources[{source_ids[source.id]}])")
        source_ids.setdefault(source.id, index)
    for index, source in source_items:
        if source.outlet and source.outlet not in source_ids:
            at(sources_file, sources_path, (index, "outlet"), f"sources[{index}] (id {source.id})", "outlet",
               f"unknown source {source.outlet!r}: add it to sources.yml or fix the id")

    document_ids, claim_defined = {}, {}
    for shown, path, document in documents:
        if document.id in document_ids:
            at(shown, path, ("id",), f"document {document.id}", "id",
               f"duplicate document id {document.id!r} (also in {document_ids[document.id]})")
        document_ids.setdefault(document.id, shown)
        for index, appearance in enumerate(document.claims):
            if appearance.id:
                if appearance.id in claim_defined:
                    at(shown, path, ("claims", index, "id"), f"claims[{index}] (id {appearance.id})", "id",
                       f"claim {appearance.id!r} is defined twice (also in {claim_defined[appearance.id]}); "
                       "define it once and use 'ref' elsewhere")
                claim_defined.setdefault(appearance.id, shown)

    seen_links = {}
    for shown, path, document in documents:
        if document.publisher not in source_ids:
            at(shown, path, ("publisher",), f"document {document.id}", "publisher",
               f"unknown source {document.publisher!r}: add it to sources.yml or fix the id")
        for index, appearance in enumerate(document.claims):
            entry = f"claims[{index}] ({'id' if appearance.id else 'ref'} {appearance.claim_id})"
            if appearance.ref and appearance.ref not in claim_defined:
                at(shown, path, ("claims", index, "ref"), entry, "ref",
                   f"unknown claim {appearance.ref!r}: no document defines it with 'id' and 'text'")
            if appearance.source not in source_ids:
                at(shown, path, ("claims", index, "source"), entry, "source",
                   f"unknown source {appearance.source!r}: add it to sources.yml or fix the id")
            for position, relay in enumerate(appearance.via):
                if relay not in source_ids:
                    at(shown, path, ("claims", index, "via", position), entry, f"via[{position}]",
                       f"unknown source {relay!r}: add it to sources.yml or fix the id")
        for index, link in enumerate(document.links):
            entry = f"links[{index}] ({link.from_} -> {link.to})"
            for end, claim_id in (("from", link.from_), ("to", link.to)):
                if claim_id not in claim_defined:
                    at(shown, path, ("links", index, end), entry, end, f"unknown claim {claim_id!r}")
            pair = frozenset((link.from_, link.to))
            if pair in seen_links:
                at(shown, path, ("links", index), entry, None,
                   f"duplicate link: {link.from_} and {link.to} are already linked in {seen_links[pair]} "
                   "(links are symmetric)")
            seen_links.setdefault(pair, f"{shown} links[{index}]")

    reviews_path = pathlib.Path(reviews_file)
    for index, review in review_items:
        if review.claim not in claim_defined:
            at(reviews_file, reviews_path, (index, "claim"), f"reviews[{index}] (claim {review.claim})", "claim",
               f"unknown claim {review.claim!r}")
    return problems


def anchor_quotes(texts_dir: pathlib.Path, documents, anchors):
    """Find each quote verbatim in its document's text; fill ``anchors``.

    Returns (problems, warnings). Documents without a ``text`` stay unverified.
    """
    problems, warnings = [], []
    for shown, path, document in documents:
        if not document.text:
            continue
        text_path = texts_dir / document.text
        if not text_path.is_file():
            problems.append(Problem(shown, f"text file {document.text!r} not found in {texts_dir}",
                                    line=line_of(path, ("text",)), entry=f"document {document.id}", field="text"))
            continue
        raw = text_path.read_bytes()
        if document.sha256 and hashlib.sha256(raw).hexdigest() != document.sha256:
            problems.append(Problem(
                shown,
                f"sha256 of {text_path} is {hashlib.sha256(raw).hexdigest()}, not the recorded value: "
                "the text changed, or the wrong file is named",
                line=line_of(path, ("sha256",)), entry=f"document {document.id}", field="sha256"))
            continue
        text = raw.decode("utf-8")
        for index, appearance in enumerate(document.claims):
            if appearance.quote is None:
                continue
            entry = f"claims[{index}] ({'id' if appearance.id else 'ref'} {appearance.claim_id})"
            start = text.find(appearance.quote)
            if start < 0:
                problems.append(Problem(
                    shown,
                    f"quote not found verbatim in {document.text}; closest passage: "
                    f"{closest_passage(appearance.quote, text)!r}",
                    line=line_of(path, ("claims", index, "quote")), entry=entry, field="quote"))
                continue
            count = text.count(appearance.quote)
            if count > 1:
                warnings.append(Problem(
                    shown, f"quote occurs {count} times in {document.text}; the first occurrence is anchored",
                    line=line_of(path, ("claims", index, "quote")), entry=entry, field="quote"))
            anchors[(document.id, index)] = Anchor(start, start + len(appearance.quote), 1)
    return problems, warnings


def closest_passage(quote: str, text: str) -> str:
    alignment = fuzz.partial_ratio_alignment(quote, text)
    return text[alignment.dest_start:alignment.dest_end]
