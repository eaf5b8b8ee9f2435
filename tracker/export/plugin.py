"""This job's Datasette hooks (a plugin of its own: entry point in pyproject.toml).

Output renderers: any page whose rows name claims (the claims table, a claim's row page,
the review queue, appearances, claim_provenance, review_events, a canned query or SQL
with a ``claim_id`` column) can be had as ``.claimreview`` (JSON-LD), ``.provjson`` (PROV-JSON)
or ``.provo`` (PROV-O, Turtle): /tracker/claims/<id>.claimreview, /tracker/review_queue.provjson ...

Only the claim ids are taken from the page's rows. The export itself is made as by
``tracker export``: from the public file itself when that is what is served, else from a
public copy of just those claims that tracker.publish writes (tracker/export/public.py),
so even a team member's export of the full database never holds a protected source's
id, name or quotes, nor a reviewer's name or note.
"""

import asyncio
import shlex

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import Response

from .formats import CONTENT_TYPES, DEFAULT_ORGANIZATION

# Datasette takes the extension as \w+: no hyphens.
EXTENSIONS = {"claimreview": "claimreview", "prov-json": "provjson", "prov-o": "provo"}
LABELS = {"claimreview": "ClaimReview (schema.org JSON-LD)", "prov-json": "W3C PROV-JSON",
          "prov-o": "W3C PROV-O (Turtle)"}

# Where the claim id is, by table; elsewhere a claim_id column, and for SQL an id column.
CLAIM_ID_COLUMN = {"claims": "id", "review_queue": "id"}

# A page export is bounded: at most this many appearances in all (spread over its
# claims, at least MIN_PER_CLAIM each); `tracker export` has no such bound.
MAX_APPEARANCES = 20_000
MIN_PER_CLAIM = 20


def claim_column(columns, table):
    if table in CLAIM_ID_COLUMN and CLAIM_ID_COLUMN[table] in columns:
        return CLAIM_ID_COLUMN[table]
    if "claim_id" in columns:
        return "claim_id"
    if table is None and "id" in columns:
        return "id"  # SQL such as "select id from claims where ...": ids that are not claims give nothing
    return None


def make_renderer(fmt):
    def can_render(columns, table, database):
        return database == "tracker" and claim_column(columns or [], table) is not None

    async def render(datasette, columns, rows, database, table, request, query_name):
        column = claim_column(columns or [], table)
        if database == "tracker" and column is not None:
            index = list(columns).index(column)
            claim_ids = list(dict.fromkeys(row[index] for row in rows if isinstance(row[index], str)))
        elif database == "tracker" and query_name and request.args.get("claim_id"):
            claim_ids = [request.args["claim_id"]]  # a canned query about one claim (claim_trail)
        else:
            return Response.text(f"Only pages whose rows name claims can be exported as .{fmt}", status=400)
        db = datasette.get_database(database)
        if not db.path:
            return Response.text("This database has no file to export from", status=400)
        base = datasette.absolute_url(request, datasette.urls.instance()).rstrip("/")
        organization = datasette.metadata("title") or DEFAULT_ORGANIZATION
        limit = max(MIN_PER_CLAIM, MAX_APPEARANCES // max(1, len(claim_ids)))
        body = await asyncio.get_running_loop().run_in_executor(
            None, export_claims, fmt, db.path, claim_ids, base, organization, limit)
        return Response(body, content_type=CONTENT_TYPES[fmt], headers={"x-content-type-options": "nosniff"})

    return {"extension": EXTENSIONS[fmt], "render": render, "can_render": can_render}


def export_claims(fmt, path, claim_ids, base, organization, limit):
    from .formats import render
    from .public import connect_public, public_database

    with public_database(path, claim_ids, appearance_limit=limit) as public:
        conn = connect_public(public)
        try:
            return "".join(render(fmt, conn, claim_ids, base_url=base, organization=organization,
                                  appearance_limit=limit))
        finally:
            conn.close()


@hookimpl
def register_output_renderer(datasette):
    return [make_renderer(fmt) for fmt in EXTENSIONS]


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    """The claim page's export links (template tracker-claim-exports.html)."""
    if view_name != "row" or table != "claims" or database != "tracker" or request is None:
        return {}
    claim_id = tilde_decode(request.url_vars["pks"])
    # the row's own URL, as Datasette encodes it, plus the extension
    row = datasette.urls.row(database, "claims", request.url_vars["pks"])
    return {
        "claim_exports": [
            {"label": LABELS[fmt], "url": f"{row}.{EXTENSIONS[fmt]}", "format": fmt} for fmt in EXTENSIONS
        ],
        "claim_exports_command": f"tracker export claimreview --claim {shlex.quote(claim_id)}",
        "claim_exports_queue": datasette.urls.table(database, "review_queue") + ".claimreview",
    }
