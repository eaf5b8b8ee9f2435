"""This job's `tracker` commands; registered by tracker/cli.py.

Keep imports at the top of this module light (typer, the standard library): heavy
libraries are imported inside the commands, so `tracker build` starts fast.
"""

import enum
import json
import pathlib
import sys
from typing import List, Optional

import typer


class OutputFormat(str, enum.Enum):
    jsonl = "jsonl"


def _fail(message):
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code=1)


def read_text(path: pathlib.Path) -> str:
    """A text file decoded as UTF-8, or a clear error naming it."""
    from .texts import TextError, read_utf8

    try:
        return read_utf8(path)
    except TextError as e:
        _fail(str(e))


def load_sources(seeds: pathlib.Path):
    """The seed tree's sources, or a clear error when sources.yml is broken."""
    from ..models import Source
    from ..seeds import load_list

    path = seeds / "sources.yml"
    items, problems, _ = load_list(path, str(path), Source, "sources")
    if problems:
        _fail("; ".join(str(p) for p in problems))
    return [s for _, s in items]


def attributions(
    files: List[pathlib.Path] = typer.Argument(..., help="UTF-8 text files."),
    format: OutputFormat = typer.Option(OutputFormat.jsonl, "--format", help="Output format: one JSON object a line."),
    seeds: Optional[pathlib.Path] = typer.Option(
        None, "--seeds", help="Seed tree whose sources name the origins (default: ./seeds when it exists)."),
):
    """Attributions found in UTF-8 texts (cue, source, content offsets), as JSON lines (SPEC section 9)."""
    texts = [(str(f), read_text(f)) for f in files]  # every file checked before any output
    resolver = None
    tree = seeds if seeds is not None else (pathlib.Path("seeds") if (pathlib.Path("seeds") / "sources.yml").is_file() else None)
    if tree is not None:
        if not (tree / "sources.yml").is_file():
            _fail(f"{tree}: no sources.yml in this seed tree")
        from .origins import Resolver

        resolver = Resolver(load_sources(tree))
    from .attribution import Labeller

    try:
        labeller = Labeller()
    except FileNotFoundError as e:
        _fail(str(e))
    out = sys.stdout
    for name, text in texts:
        for att in labeller.attributions(text):
            source_id = source_type = None
            if resolver and att["source"]:
                found = resolver.resolve(" ".join(text[a:b] for a, b in att["source"]))
                if found:
                    source_id, source_type = found.id, found.type.value
            out.write(json.dumps({"file": name, "cue": att["cue"], "source": att["source"],
                                  "content": att["content"], "source_id": source_id,
                                  "source_type": source_type, "score": att["score"]}, ensure_ascii=False) + "\n")
    out.flush()


def draft(
    document_id: str = typer.Argument(..., help="Id of the document to draft claims for."),
    seeds: pathlib.Path = typer.Argument(pathlib.Path("seeds"), help="The seed tree."),
    texts: Optional[pathlib.Path] = typer.Option(None, "--texts", help="Folder holding the document's text file."),
):
    """Propose the document's attributed claims, written into its file as `draft: true` entries."""
    from rich.console import Console
    from rich.markup import escape

    from .draft import DraftError, draft as run_draft

    try:
        report = run_draft(document_id, seeds, texts)
    except DraftError as e:
        _fail(f"{e}; nothing was written")
    except FileNotFoundError as e:
        _fail(str(e))
    console = Console(stderr=True)
    if not report.added:
        console.print(f"No new drafts for {escape(document_id)} ({report.skipped} attribution(s) already recorded).")
        return
    refs = sum(1 for e in report.added if "ref" in e)
    console.print(f"{len(report.added)} draft entr{'y' if len(report.added) == 1 else 'ies'} added to "
                  f"{escape(str(report.document_file))} ({refs} as ref to an existing claim); "
                  f"{len(report.proposed_sources)} proposed source(s) appended to sources.yml. "
                  "Check each, rewrite its text, then remove `draft: true`.")


def register(app):
    """Add this job's commands to the `tracker` typer app."""
    app.command("attributions")(attributions)
    app.command("draft")(draft)
