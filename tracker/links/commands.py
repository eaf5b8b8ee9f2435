"""This job's `tracker` commands; registered by tracker/cli.py.

Keep imports at the top of this module light (typer, the standard library): heavy
libraries are imported inside the commands, so `tracker build` starts fast.
"""

import json
import pathlib
import sys
from typing import Optional

import typer


def _error(message):
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code=1)


def read_stance_requests(path):
    """The (id, claim, text) lines of a stance request file, or a clear error.

    Every line is checked before anything is printed: one bad line is one problem,
    named by file and line, and nothing is written.
    """
    problems, requests = [], []
    try:
        lines = pathlib.Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        _error(f"{path}: cannot read ({e})")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{path}: line {number}: not JSON ({e.msg})")
            continue
        if not isinstance(item, dict):
            problems.append(f"{path}: line {number}: expected an object with id, claim and text")
            continue
        bad = [f for f in ("claim", "text") if not isinstance(item.get(f), str)]
        if "id" not in item:
            bad.insert(0, "id")
        if bad:
            problems.append(f"{path}: line {number}: field(s) {', '.join(bad)} missing or not text")
            continue
        requests.append((item["id"], item["claim"], item["text"]))
    if problems:
        _error(f"{len(problems)} problem(s), nothing was scored:\n  " + "\n  ".join(problems))
    return requests


def register(app):
    """Add this job's commands to the `tracker` typer app."""

    @app.command()
    def stance(file: pathlib.Path = typer.Argument(..., help="JSON lines: {\"id\", \"claim\", \"text\"}.")):
        """Stance of each text toward its claim, as JSON lines: for (asserts it), against
        (denies it) or observing (reports it without taking a side), with a score (the
        model's probability of that stance)."""
        from .stance import model

        requests = read_stance_requests(file)
        shipped = model()
        out = sys.stdout
        for id_, claim, text in requests:
            label, score = shipped.predict(claim, text)
            out.write(json.dumps({"id": id_, "stance": label, "score": round(score, 4)}) + "\n")
        out.flush()

    @app.command("suggest-links")
    def suggest_links(
        db: pathlib.Path = typer.Option(pathlib.Path("db/tracker.db"), "--db", help="The tracker database file."),
        claim: Optional[list[str]] = typer.Option(
            None, "--claim", help="Only this claim's suggestions (repeat for several); default all claims."),
        limit: int = typer.Option(5, "--limit", min=1, max=100, help="Suggestions kept per claim."),
    ):
        """Fill link_suggestions: for each claim, the unlinked claims most likely about the
        same thing (shared words, tags, period, names), with a proposed relation."""
        import time

        from ..database import open_existing, write_transaction
        from .suggest import refresh

        try:
            database = open_existing(db)
        except Exception as e:  # FileNotFoundError, OutdatedDatabase
            _error(str(e))
        conn = database.conn
        if claim:
            known = {row[0] for row in conn.execute(
                f"SELECT id FROM claims WHERE id IN ({', '.join('?' * len(claim))})", claim)}
            unknown = [c for c in claim if c not in known]
            if unknown:
                _error(f"{db}: no claim with id {', '.join(unknown)}")
        started = time.perf_counter()
        with write_transaction(conn):
            written = refresh(conn, claim or None, limit)
        scope = f"{len(claim)} claim(s)" if claim else "every claim"
        print(f"{written} suggestion(s) written for {scope} in {time.perf_counter() - started:.1f} s; "
              "a claim's page lists its own, to link or dismiss")
