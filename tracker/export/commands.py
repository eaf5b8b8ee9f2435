"""This job's `tracker` commands; registered by tracker/cli.py.

Keep imports at the top of this module light (typer, the standard library): heavy
libraries are imported inside the commands, so `tracker build` starts fast.
"""

import enum
import pathlib
import sys
from typing import List, Optional

import typer


class Format(str, enum.Enum):
    claimreview = "claimreview"
    prov_json = "prov-json"
    prov_o = "prov-o"
    csv = "csv"


def export(
    fmt: Format = typer.Argument(..., metavar="FORMAT",
                                 help="claimreview (schema.org JSON-LD), prov-json, prov-o (Turtle) or csv."),
    db: pathlib.Path = typer.Option(pathlib.Path("db/tracker.db"), "--db",
                                    help="The full database (redacted on the way, as by publish) or a public file."),
    out_path: Optional[pathlib.Path] = typer.Option(
        None, "--out", help="Output file (default: standard output). For csv: a folder, or a file ending in .zip."),
    claim: Optional[List[str]] = typer.Option(None, "--claim", metavar="ID",
                                              help="Export only this claim (repeatable)."),
    base_url: str = typer.Option(
        "http://127.0.0.1:8001", "--base-url", envvar="TRACKER_BASE_URL",
        help="Where the tracker is published: the base of every URL and id in the export."),
    organization: str = typer.Option("North Korea claim-provenance tracker", "--organization",
                                     help="The reviewing organisation, author of every ClaimReview."),
):
    """Export claims as schema.org ClaimReview, W3C PROV or CSV: only what the public file carries."""
    from rich.console import Console
    from rich.markup import escape

    from ..database import OutdatedDatabase
    from ..publish import PublishError
    from . import csvfiles
    from .formats import render
    from .public import ExportError, connect_public, public_database
    from .read import missing_claims

    err = Console(stderr=True)

    def fail(message):
        err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
        raise typer.Exit(code=1)

    if fmt is Format.csv and out_path is None:
        raise typer.BadParameter("csv writes several files: give --out FOLDER or --out FILE.zip", param_hint="--out")
    if not base_url.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{base_url!r} is not an http or https URL", param_hint="--base-url")
    claim_ids = list(dict.fromkeys(claim)) if claim else None
    try:
        with public_database(db, claim_ids) as public:
            conn = connect_public(public)
            try:
                if claim_ids:
                    unknown = missing_claims(conn, claim_ids)
                    if unknown:
                        fail(f"{db}: no claim with id {', '.join(unknown)} (nothing was written)")
                result = render(fmt.value, conn, claim_ids, base_url=base_url, organization=organization)
                # the text formats come in pieces, read from the public copy as they are written
                if fmt is Format.csv:
                    csvfiles.write(result, out_path)
                elif out_path is None:
                    for piece in result:
                        sys.stdout.write(piece)
                else:
                    csvfiles.write_file(out_path, result)
            finally:
                conn.close()
    except (ExportError, PublishError, OutdatedDatabase) as e:
        fail(str(e))
    except OSError as e:
        fail(f"{out_path}: {e}")
    if fmt is Format.csv:
        err.print(f"Wrote {len(result)} CSV files to {escape(str(out_path))}")
    elif out_path is not None:
        err.print(f"Wrote {escape(str(out_path))}")


def register(app):
    """Add this job's commands to the `tracker` typer app."""
    app.command("export")(export)
