"""Read and check seed files one at a time: YAML, then the pydantic models (SPEC section 3).

Every problem is collected, never raised one at a time, so an analyst fixes a whole
batch in one pass. A problem names the file, the line where the YAML parser knows it,
the entry and the field. Rules that need the whole tree are in ``checks.py``.
"""

import dataclasses
import functools
import os
import pathlib
import re
import reprlib
from typing import Optional

# pydantic and the models are imported where entries are validated, and PyYAML (about
# 10 ms) where a file is read or a line looked up: a rebuild with nothing changed reads
# no YAML and validates nothing (tracker/vocabulary.py)
from .vocabulary import shorten


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


def __getattr__(name):
    if name == "SeedLoader":  # (made on first use, with PyYAML)
        return seed_loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def seed_loader():
    """The YAML loader of seed files (``SeedLoader``), made once PyYAML is needed."""
    import yaml

    try:
        base = yaml.CSafeLoader
    except AttributeError:  # PyYAML built without libyaml
        base = yaml.SafeLoader
    resolvers = {first: [(tag, regexp) for tag, regexp in found if tag != "tag:yaml.org,2002:timestamp"]
                 for first, found in base.yaml_implicit_resolvers.items()}
    # What BaseResolver.resolve tries for a plain scalar, by its first character ('' for
    # an empty one): that character's resolvers, then the wildcard ones.
    wildcard = tuple(resolvers.get(None, ()))
    implicit = {first: tuple(found) + wildcard for first, found in resolvers.items() if first is not None}
    scalar, sequence = yaml.ScalarNode, yaml.SequenceNode

    class SeedLoader(base):
        """Safe loading, but dates stay strings: the format keeps their precision as written.

        Parsing YAML is most of a cold build, and libyaml's composer calls back into
        Python for every node: the resolver below does what PyYAML's does for a safe
        loader (no path resolvers; the implicit resolvers by first character, looked up
        once), in fewer steps."""

        yaml_implicit_resolvers = resolvers

        def descend_resolver(self, current_node, current_index):
            pass  # path resolvers only: a safe loader has none

        def ascend_resolver(self):
            pass

        def resolve(self, kind, value, implicit_flags):
            if kind is scalar:
                if implicit_flags[0]:
                    for tag, regexp in implicit.get(value[:1], wildcard):
                        if regexp.match(value):
                            return tag
                return _STR
            return _SEQ if kind is sequence else _MAP

    return SeedLoader


def _construct(loader, node):
    """The Python data of a composed node, as PyYAML's safe constructor makes it, for the
    three kinds seed files are made of (mappings, sequences, strings), directly; every
    other node (numbers, booleans, nulls, merge keys, explicit tags) and every error goes
    through PyYAML's own constructor. Several times faster than PyYAML's generic path."""
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP:
        result = {}
        for key_node, value_node in node.value:
            if key_node.tag != _STR and key_node.tag.startswith(("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")):
                return loader.construct_object(node, deep=True)
            key = _construct(loader, key_node)
            try:
                result[key] = _construct(loader, value_node)
            except TypeError:  # an unhashable key: PyYAML's constructor says so, with its line
                return loader.construct_object(node, deep=True)
        return result
    if tag == _SEQ:
        return [_construct(loader, child) for child in node.value]
    return loader.construct_object(node, deep=True)


def load_yaml(raw: bytes):
    """``yaml.load(raw, Loader=SeedLoader)``, for a file without anchors (one with them
    takes PyYAML's own path: its aliases share objects, and their expansion is checked
    first)."""
    loader = seed_loader()(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _construct(loader, node)
        except RecursionError:  # nested very deep: PyYAML's constructor does not recurse
            return loader.construct_document(node)
    finally:
        loader.dispose()


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


# An anchor (&name) outside quoted text: only files that have one can hold an alias bomb.
_ANCHOR = re.compile(rb"(?:^|[\s\[{,:-])&[^\s]")
# Aliases may repeat this many nodes in all beyond the file's own: plenty for shared
# lists, nothing like the billions of a "billion laughs" document.
ALIAS_EXPANSION_LIMIT = 100_000


def expanded_size(node, sizes=None) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (each distinct node
    is sized once, so this is linear in the composed file, not in its expansion)."""
    import yaml

    sizes = {} if sizes is None else sizes
    stack = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        if id(current) in sizes:
            continue
        children = []
        if isinstance(current, yaml.SequenceNode):
            children = current.value
        elif isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        if children_done or not children:
            sizes[id(current)] = 1 + sum(sizes[id(child)] for child in children)
        else:
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(node)]


def alias_problem(raw: bytes, shown: str) -> Optional[Problem]:
    """A Problem when the YAML's aliases would expand it far beyond its own size."""
    if not _ANCHOR.search(raw):
        return None
    import yaml

    root = yaml.compose(raw, Loader=seed_loader())
    if root is None:
        return None
    sizes = {}
    total = expanded_size(root, sizes)
    if total - len(sizes) > ALIAS_EXPANSION_LIMIT:
        return Problem(shown, f"YAML aliases (*name) expand this file to more than {ALIAS_EXPANSION_LIMIT:,} "
                       "repeated nodes: write the entries out instead of repeating anchors")
    return None


def read_yaml(path: pathlib.Path, shown: str, raw: bytes | None = None):
    """Parse one YAML file (or its bytes, already read); a syntax error becomes a Problem with its line."""
    import yaml

    raw = path.read_bytes() if raw is None else raw
    try:
        # (most files have no '&' at all: a byte search is 50 times cheaper than the
        # pattern, which cost 8% of parsing a file)
        if b"&" not in raw or not _ANCHOR.search(raw):
            return load_yaml(raw), None
        problem = alias_problem(raw, shown)
        if problem:
            return None, problem
        return yaml.load(raw, Loader=seed_loader()), None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return None, Problem(
            shown,
            f"not valid YAML: {getattr(e, 'problem', None) or e}",
            line=mark.line + 1 if mark else None,
        )
    except UnicodeDecodeError as e:
        return None, Problem(shown, f"not UTF-8 text: {e}")


@functools.lru_cache(maxsize=4)
def _composed(path: str, size: int, mtime_ns: int):
    """The file's node tree, composed once however many problems it has."""
    import yaml

    try:
        return yaml.compose(pathlib.Path(path).read_text(encoding="utf-8"), Loader=seed_loader())
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return None


def line_of(path: pathlib.Path, loc) -> Optional[int]:
    """The line of the node at ``loc`` (keys and list indexes), or of its nearest parent.

    Only called when a problem is reported, so the happy path never pays for marks.
    """
    import yaml

    try:
        stat = os.stat(path)
    except OSError:
        return None
    node = _composed(str(path), stat.st_size, stat.st_mtime_ns)
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
        return f"{shorten(error['input'])} is not one of {msg.removeprefix('Input should be ')}"
    if error["type"] == "string_pattern_mismatch":
        return f"{shorten(error['input'])} is not a slug (lower-case letters, digits and '-', starting with a letter or digit)"
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling against SPEC section 3)"
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] in ("string_type", "int_type", "list_type") or "input" in error and error["type"].endswith("_parsing"):
        return f"{msg} (got {shorten(error['input'])}; quote it if YAML read it as a number)"
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


def load_list(path, shown, model, kind):
    """A YAML file holding a list of entries of ``model`` (sources.yml, reviews.yml).

    Returns ([(index, entry)], problems, ids of the entries that failed).
    """
    data, problem = read_yaml(path, shown)
    if problem:
        return [], [problem], set()
    if data is None:
        return [], [], set()
    if not isinstance(data, list):
        return [], [Problem(shown, f"should be a list of {kind} (each starting with '- id:')", line=1)], set()
    import pydantic

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


def load_document(path: pathlib.Path, shown: str, raw: bytes | None = None):
    """One documents/*.yml file -> (Document or None, problems, claim ids it tries to define)."""
    import pydantic

    from .models import Document

    raw = path.read_bytes() if raw is None else raw
    data, problem = read_yaml(path, shown, raw)
    if problem:
        return None, [problem], ids_written_in(raw)
    if not isinstance(data, dict):
        return None, [Problem(shown, "should be a mapping with id, title, publisher, published, claims", line=1)], set()
    try:
        return Document.model_validate(data), [], set()
    except pydantic.ValidationError as e:
        claims = data.get("claims") if isinstance(data.get("claims"), list) else []
        defined = {c["id"] for c in claims if isinstance(c, dict) and isinstance(c.get("id"), str)}
        return None, _validation_problems(e, path, shown, data), defined


# An id as a seed file writes it on a line of its own ("- id: x", "  id: 'x'").
_ID_LINE = re.compile(rb"""^[ \t-]*id:[ \t]*['"]?([a-z0-9][a-z0-9-]*)['"]?[ \t]*(?:#.*)?$""", re.M)


def ids_written_in(raw: bytes) -> set:
    """The ids a file that does not read as YAML seems to define, found line by line: its
    mistake is its one problem, not one more "unknown claim" for every ref and link to
    its claims in other files (a rebuild knows them from the file's last sound parse; a
    first build has only this)."""
    return {match.decode() for match in _ID_LINE.findall(raw)}


def closest_passage(quote: str, text: str) -> str:
    """The passage of ``text`` most like ``quote``, widened to whole words."""
    from rapidfuzz import fuzz  # only when a quote is not found: not on every start-up

    alignment = fuzz.partial_ratio_alignment(quote, text)
    start, end = alignment.dest_start, alignment.dest_end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end].strip()
