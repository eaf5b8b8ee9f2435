"""This job's `tracker` commands; registered by tracker/cli.py.

Keep imports at the top of this module light (typer, the standard library): heavy
libraries are imported inside the commands, so `tracker build` starts fast.
"""

import enum
import pathlib
from typing import List, Optional

import typer


class Format(str, enum.Enum):
    kcna_json = "kcna-json"
    kcna_jsonl = "kcna-jsonl"
    text = "text"
    html = "html"


def ingest(
    format_name: Format = typer.Argument(..., metavar="FORMAT", help="kcna-json (the 2024 JSON list), kcna-jsonl "
                                         "(JSON lines, gzip too), text (UTF-8, first line the title) or html "
                                         "(saved article pages)."),
    paths: List[pathlib.Path] = typer.Argument(..., metavar="PATH...", help="Files to read; a folder stands for "
                                               "its files of the format."),
    seeds: pathlib.Path = typer.Option(pathlib.Path("seeds"), "--seeds", help="The seed tree (sources.yml, documents/)."),
    texts: pathlib.Path = typer.Option(pathlib.Path("texts"), "--texts", help="Where the normalised texts are written."),
    publisher: Optional[str] = typer.Option(None, "--publisher", help="Publisher of every article: a source id, "
                                            "name or alias (default: the file's own, or KCNA for the kcna formats)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the summary and the problems, not every duplicate."),
):
    """Take in documents: texts into --texts, one unread document file each into seeds/documents/.

    An article already there (same text) is left alone: ingesting again changes nothing.

    One whose url is there with another text is reported, never overwritten.

    Duplicates within the input (exact or near-exact) are reported with the id of the first.

    Exit 1 when a record was refused or a text changed; 0 otherwise.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .core import IngestError, ingest as run

    err = Console(stderr=True)
    out = Console()
    display = Progress(TextColumn("ingesting"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                       TimeRemainingColumn(), console=err, transient=True)
    task = display.add_task("ingesting", total=None)
    try:
        with display:
            report = run(format_name.value, paths, seeds, texts, publisher,
                         progress=lambda done, total: display.update(task, completed=done, total=total))
    except IngestError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}", soft_wrap=True)
        raise typer.Exit(code=1)

    if report.started:
        out.print(f"Created {escape(str(report.started))} with the source 'kcna' (the publisher of these "
                  "articles): add your other sources there.", soft_wrap=True)
    for problem in report.refused:
        err.print(f"[red]refused:[/] {escape(str(problem))}", soft_wrap=True)
    for outcome in report.changed:
        err.print(f"[yellow]changed:[/] {escape(outcome.where)}: {escape(outcome.message)}", soft_wrap=True)
    if not quiet:
        for outcome in report.duplicates:
            err.print(f"[dim]duplicate:[/] {escape(outcome.where)}: {escape(outcome.message)}", soft_wrap=True)
        for outcome in report.notes:
            err.print(f"[dim]note:[/] {escape(outcome.where)}: {escape(outcome.id)}: {escape(outcome.message)}",
                      soft_wrap=True)
    if report.unchanged and not report.taken:
        out.print("Nothing changed: every readable article is already in the seed tree.", soft_wrap=True)
    reasons = {}
    for problem in report.refused:
        reason = problem.message.split(":")[0].split(" (")[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    why = "; ".join(f"{count} {reason}" for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]))
    out.print(f"Ingested into {escape(str(seeds / 'documents'))} (texts in {escape(str(texts))}): "
              f"{escape(report.summary())}" + (f" ({escape(why)})" if why else ""), soft_wrap=True)
    raise typer.Exit(code=report.exit_code)


def register(app):
    """Add this job's commands to the `tracker` typer app."""
    app.command("ingest")(ingest)
