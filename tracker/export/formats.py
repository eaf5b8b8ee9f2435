"""The export formats, each made from a public database (tracker/export/public.py)."""

from __future__ import annotations

from . import read

FORMATS = ("claimreview", "prov-json", "prov-o", "csv")
CONTENT_TYPES = {
    "claimreview": "application/ld+json; charset=utf-8",
    "prov-json": "application/json; charset=utf-8",  # PROV-JSON is JSON (W3C member submission)
    "prov-o": "text/turtle; charset=utf-8",
}
DEFAULT_BASE_URL = "http://127.0.0.1:8001"
DEFAULT_ORGANIZATION = "North Korea claim-provenance tracker"


def render(fmt: str, conn, claim_ids=None, base_url: str = DEFAULT_BASE_URL,
           organization: str = DEFAULT_ORGANIZATION, appearance_limit=None, today=None):
    """The export of the claims (all, or ``claim_ids``) read through ``conn``, a public
    database: pieces of text (an iterator, to be written in order, while ``conn`` is
    open) for the JSON and Turtle formats, {file name: text} for csv."""
    if fmt == "csv":
        from . import csvfiles

        return csvfiles.tables(conn, claim_ids)
    sources = read.sources(conn)
    claims = read.claims(conn, claim_ids, appearance_limit)
    if fmt == "claimreview":
        from . import claimreview

        site = claimreview.Site(base_url, organization)
        return claimreview.pieces(claims, sources, site, today)
    if fmt == "prov-json":
        from . import provenance

        return provenance.json_pieces(claims, sources, base_url)
    if fmt == "prov-o":
        from . import provenance

        return provenance.turtle_pieces(claims, sources, base_url)
    raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
