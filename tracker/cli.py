"""The ``tracker`` command (SPEC section 8)."""

import enum
import pathlib
import sys
from typing import Optional

import typer

# The build and its parsers (yaml, sqlite, the seed cache) are imported by the commands
# that build or check: `tracker --help`, status, review and the rest start without them.
from .vocabulary import SourceType

app = typer.Typer(
    help="Claim-provenance tracker: record where each claim about North Korea came from, "
    "compute which claims rest on independent origins, and publish it with Datasette.",
    no_args_is_help=True,
    add_completion=False,
)


class LazyConsole:
    """rich's Console, made when a command first prints through it: importing rich costs
    18 ms, and build and check, the commands run most often, print plain lines (say)."""

    def __init__(self, stderr=False):
        self.stderr = stderr
        self.console = None

    def real(self):
        if self.console is None:
            from rich.console import Console

            self.console = Console(stderr=self.stderr)
        return self.console

    def print(self, *args, **kwargs):
        self.real().print(*args, **kwargs)


def escape(text):
    """``text`` shown as written where rich reads markup ([bold] and the like)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def say(text, err=False, colour=None):
    """One plain line, without rich's markup (nothing in it is read as markup), styled by
    click when the output is a terminal."""
    if colour is None:
        typer.echo(text, err=err)
    else:
        typer.secho(text, err=err, fg=colour)


out = LazyConsole()
err = LazyConsole(stderr=True)

SEEDS = typer.Argument(pathlib.Path("seeds"), help="The seed tree: sources.yml, documents/*.yml, reviews.yml.")
DB = typer.Option(pathlib.Path("db/tracker.db"), "--db", help="The tracker database file.")
TEXTS = typer.Option(
    None,
    "--texts",
    help="Folder holding the documents' text files: quotes are checked against them and "
    "anchored. Without it texts are not looked for and appearances stay unverified.",
)


def fail(problems, what="seed tree"):
    err.print(f"[bold red]{len(problems)} problem(s) in the {what}; nothing was written:[/]")
    for problem in problems:
        err.print(f"  {escape(str(problem))}", soft_wrap=True)
    raise typer.Exit(code=1)


class BuildProgress:
    """A rich progress display that the build reports its steps (and counts) to.

    It appears only on a terminal, and only once a build has run for a moment
    (``DELAY``): a rebuild that finds little or nothing changed is over before then, and
    never loads rich's progress display nor starts its refresh thread (30-80 ms of a
    half-second rebuild); a build whose output goes to a file or a pipe has nobody to
    show a bar to."""

    DELAY = 1.0  # seconds

    def __init__(self):
        import time

        self.clock = time.monotonic
        self.started = self.clock()
        self.display = self.task = None
        self.wanted = sys.stderr.isatty()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __call__(self, step, done=None, total=None):
        if self.display is None:
            if not self.wanted or self.clock() - self.started < self.DELAY:
                return
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn)

            self.display = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                    MofNCompleteColumn(), TimeElapsedColumn(), console=err.real(), transient=True)
            self.display.start()
            self.task = self.display.add_task(step, total=None)
        self.display.update(self.task, description=step, completed=done or 0, total=total)

    def stop(self):
        if self.display is not None:
            self.display.stop()


def open_db(path):
    """The built database, or a clear error (exit 1) when there is none yet."""
    from .database import OutdatedDatabase, open_existing

    try:
        return open_existing(path)
    except (FileNotFoundError, OutdatedDatabase) as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}")
        raise typer.Exit(code=1)


# A build shows its warnings as counts by kind and the first few in full, never
# thousands of lines: `tracker check --warnings` and the warnings table list them all.
WARNINGS_SHOWN = 5


def show_warnings(warnings, shown=WARNINGS_SHOWN):
    """The warnings: a summary and the first ``shown`` in full (None: all of them)."""
    if not warnings:
        return
    from collections import Counter

    from .cache import warning_kind
    from .checks import with_line

    kinds = Counter(warning_kind(warning) for warning in warnings)
    say(f"{len(warnings):,} warning(s): " + ", ".join(f"{count:,} {kind}" for kind, count in kinds.most_common()),
        err=True, colour="yellow")
    for warning in warnings[:shown] if shown is not None else warnings:
        say(f"warning: {with_line(warning)}", err=True, colour="yellow")
    if shown is not None and len(warnings) > shown:
        say(f"  ... and {len(warnings) - shown:,} more: 'tracker check --warnings' lists them all, "
            "and so does the warnings table of the database (in Datasette)", err=True)


@app.command()
def build(seeds: pathlib.Path = SEEDS, db: pathlib.Path = DB, texts: Optional[pathlib.Path] = TEXTS):
    """Check the seeds, compute statuses and ratings, and write the database.

    On any problem, every problem is listed (file, line, entry, field) and the database
    is left exactly as it was. Review events already in the database are always kept.
    """
    from . import parser_process

    # (started before the build is imported: loading the parser overlaps that too)
    with parser_process.started() as parser, BuildProgress() as progress:
        from . import build as build_module
        from .seeds import SeedError

        try:
            report = build_module.build(seeds, db, texts, progress=progress, warning_lines=WARNINGS_SHOWN,
                                        parser=parser)
        except SeedError as e:
            progress.stop()
            fail(e.problems)
    show_warnings(report.warnings)
    if not (report.files_parsed or report.documents_rewritten or report.reviews_added):
        say(f"Nothing changed since the last build: {db} is up to date "
            f"({report.claims} claims, {report.documents} documents, {report.sources} sources)")
        return
    say(
        f"Built {db}: {report.claims} claims, {report.appearances} appearances, "
        f"{report.links} links, {report.documents} documents, {report.sources} sources "
        f"({report.files_parsed} file(s) parsed, {report.documents_rewritten} document(s) rewritten, "
        f"{report.claims_refreshed} claim(s) recomputed)"
        + (f"; {report.reviews_added} review event(s) added from reviews.yml" if report.reviews_added else "")
    )


@app.command()
def check(seeds: pathlib.Path = SEEDS, texts: Optional[pathlib.Path] = TEXTS,
          warnings: bool = typer.Option(False, "--warnings", help="List every warning in full, with its line."),
          db: Optional[pathlib.Path] = typer.Option(
              None, "--db", help="Reuse the seed cache of this database's builds: only changed files are "
              "parsed (the database itself is not written).")):
    """Check the seeds without writing anything (exit 1 and list every problem if any)."""
    from . import parser_process

    with parser_process.started() as parser, BuildProgress() as progress:
        from . import build as build_module
        from .seeds import SeedError

        try:
            if db is None:
                checked = build_module.check(seeds, texts, progress=progress, parser=parser)
            else:
                cache_path = build_module.cache_path_for(db)
                cache_path.parent.mkdir(parents=True, exist_ok=True)
                with build_module.cache.locked(cache_path):
                    checked = build_module.check(seeds, texts, cache_path, progress=progress, parser=parser)
        except SeedError as e:
            progress.stop()
            fail(e.problems)
    show_warnings(checked.warnings, shown=None if warnings else WARNINGS_SHOWN)
    say(
        f"OK: {len(checked.sources)} sources, {len(checked.files)} documents"
        + (", quotes checked against texts" if texts else " (texts not checked: pass --texts DIR)")
    )


@app.command()
def status(db: pathlib.Path = DB):
    """Counts of claims by status, and of appearances by source type."""
    from rich.table import Table

    database = open_db(db)
    by_status = Table("status", "claims", title="Claims by status")
    for row in database.query("SELECT status, count(*) AS n FROM claims GROUP BY status ORDER BY n DESC"):
        by_status.add_row(row["status"], str(row["n"]))
    by_type = Table("source type", "origins", "appearances", "claims", title="By origin's source type")
    for row in database.query(
        """
        SELECT s.type, count(DISTINCT s.id) AS origins, count(*) AS appearances,
               count(DISTINCT a.claim_id) AS claims
        FROM appearances a JOIN sources s ON s.id = a.source_id
        GROUP BY s.type ORDER BY appearances DESC
        """
    ):
        by_type.add_row(row["type"], str(row["origins"]), str(row["appearances"]), str(row["claims"]))
    out.print(by_status)
    out.print(by_type)


@app.command()
def serve(
    db: pathlib.Path = DB,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8001, help="Port to listen on."),
    public: bool = typer.Option(False, "--public", help="Serve the published public database read-only."),
):
    """Serve the database with Datasette, named 'tracker' in URLs.

    The full database is for signed-in team members: they sign in at /-/sign-in with
    the accounts of TRACKER_READERS / TRACKER_REVIEWERS; with no accounts configured,
    a one-time sign-in link for a local reviewer is printed at start. Set
    DATASETTE_SECRET so that sign-ins survive a restart.
    """
    from .serve import run

    run(db, host, port, public)


class Status(str, enum.Enum):
    uncorroborated = "uncorroborated"
    circular = "circular"
    contested = "contested"
    corroborated = "corroborated"


@app.command()
def review(
    db: pathlib.Path = DB,
    status: Optional[Status] = typer.Option(None, help="Only claims with this status."),
    source_type: Optional[SourceType] = typer.Option(
        None, "--source-type", help="Only claims whose origin is of this source type."),
    limit: int = typer.Option(50, min=1, help="At most this many rows."),
):
    """The review queue in the order of work: flagged, contested, circular, uncorroborated; newest first within each."""
    from rich.table import Table

    from . import review as review_module

    rows = review_module.queue(open_db(db), status and status.value, source_type and source_type.value, limit)
    table = Table("claim", "status", "rating", "first seen", "origin type", "why", "text", title="Review queue")
    for row in rows:
        table.add_row(*(escape(str(row[k] if row[k] is not None else "")) for k in
                        ("id", "status", "admiralty", "first_seen", "origin_type", "reason", "text")))
    out.print(table)
    out.print(f"{len(rows)} claim(s) shown")


def _decide(action, claim, db, note, actor, credibility, other=None, relation=None):
    from . import review as review_module

    database = open_db(db)
    try:
        event = review_module.record(database, claim, action, actor or review_module.default_actor(),
                                     note, credibility, other, relation)
    except review_module.ReviewError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}")
        raise typer.Exit(code=1)
    what = escape(claim) if other is None else f"{escape(claim)} and {escape(other)}"
    out.print(f"{action} recorded for {what} by {escape(event['actor'])} at {event['created_at']} (event {event['id']})")
    if other is not None and action != "dismiss":
        # what the decision did, at once: both claims' status and rating now
        for row in database.query(review_module.PAIR_NOW, {"claim_id": claim, "other_claim_id": other}):
            out.print(f"  {escape(row['id'])}: {row['status']} {row['admiralty']}")


NOTE = typer.Option(None, "--note", help="Why: what you checked, what is missing.")
ACTOR = typer.Option(None, "--actor", help="Who decides (default: $TRACKER_ACTOR, else your login name).")
CREDIBILITY = typer.Option(None, "--credibility", min=1, max=6,
                           help="Override the suggested credibility (1 confirmed ... 6 cannot be judged).")
CLAIM = typer.Argument(..., help="The claim id.")


DECISIONS = {
    "flag": "Flag a claim for attention: it stays in the review queue until accepted or rejected.",
    "accept": "Accept a claim as reviewed: it leaves the queue until its evidence changes.",
    "reject": "Reject a claim: it no longer supports or opposes any other claim.",
    "note": "Add a note to a claim's review history without deciding anything.",
}


def decision_command(action, help_text):
    def command(claim: str = CLAIM, db: pathlib.Path = DB, note: Optional[str] = NOTE,
                actor: Optional[str] = ACTOR, credibility: Optional[int] = CREDIBILITY):
        _decide(action, claim, db, note, actor, credibility)

    command.__doc__ = help_text
    app.command(action)(command)


for action, help_text in DECISIONS.items():
    decision_command(action, help_text)


class Relation(str, enum.Enum):
    corroborates = "corroborates"
    contradicts = "contradicts"


OTHER = typer.Argument(..., help="The other claim's id.")


@app.command()
def link(claim: str = CLAIM, other: str = OTHER,
         relation: Relation = typer.Option(..., "--relation", help="How CLAIM relates to OTHER."),
         db: pathlib.Path = DB, note: Optional[str] = NOTE, actor: Optional[str] = ACTOR):
    """Link two claims (e.g. an accepted suggestion): it counts like a link in the seeds, at once."""
    _decide("link", claim, db, note, actor, None, other, relation.value)


@app.command()
def unlink(claim: str = CLAIM, other: str = OTHER, db: pathlib.Path = DB, note: Optional[str] = NOTE,
           actor: Optional[str] = ACTOR):
    """Withdraw a reviewer's link between two claims (links of the seeds are changed in their files)."""
    _decide("unlink", claim, db, note, actor, None, other)


@app.command()
def dismiss(claim: str = CLAIM, other: str = OTHER, db: pathlib.Path = DB, note: Optional[str] = NOTE,
            actor: Optional[str] = ACTOR):
    """Dismiss a suggested link: the two claims are not linked, and not suggested again."""
    _decide("dismiss", claim, db, note, actor, None, other)


@app.command("export-reviews")
def export_reviews(db: pathlib.Path = DB,
                   out_path: pathlib.Path = typer.Option(pathlib.Path("seeds/reviews.yml"), "--out",
                                                         help="Where to write the reviews file.")):
    """Write every review event to seeds/reviews.yml, to keep decisions in git."""
    from . import review as review_module

    count = review_module.export(open_db(db), out_path)
    out.print(f"Wrote {count} review event(s) to {escape(str(out_path))}")


@app.command()
def publish(db: pathlib.Path = DB,
            out_path: pathlib.Path = typer.Option(pathlib.Path("db/public.db"), "--out",
                                                  help="Where to write the public database.")):
    """Write the redacted public database: protected sources pseudonymised, no review notes or reviewer names."""
    from .publish import PublishError, publish as publish_database

    open_db(db).close()
    try:
        report = publish_database(db, out_path)
    except PublishError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}")
        raise typer.Exit(code=1)
    out.print(f"Wrote {escape(str(out_path))}: {report}")


# The commands of the other jobs live beside their code (each module imports its heavy
# libraries only inside its commands).
from .ingest import commands as ingest_commands  # noqa: E402
from .capture import commands as capture_commands  # noqa: E402
from .links import commands as links_commands  # noqa: E402
from .export import commands as export_commands  # noqa: E402

for _job in (ingest_commands, capture_commands, links_commands, export_commands):
    _job.register(app)


def main():
    app()


if __name__ == "__main__":
    main()
