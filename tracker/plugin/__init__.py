"""The tracker's Datasette plugin: connection settings and the claim page's provenance.

Everything shown comes from the database as plain values; the templates rely on
Jinja's autoescaping and never mark user text safe.
"""

import json
import re

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from markupsafe import Markup

from ..database import BUSY_TIMEOUT_MS

APPEARANCES = """
SELECT a.document_id, a.position, d.title, d.published, d.publisher_id, p.name AS publisher_name,
       a.source_id, s.name AS source_name, s.type AS source_type, s.independence_group,
       a.via, a.quote, a.stance, a.verified
FROM appearances a
JOIN documents d ON d.id = a.document_id
JOIN sources s ON s.id = a.source_id
JOIN sources p ON p.id = d.publisher_id
WHERE a.claim_id = :claim_id
ORDER BY d.published_from, d.published, a.document_id, a.position
LIMIT :limit
"""

LINKS = """
SELECT l.relation, l.other_claim_id, c.text AS other_text, c.status AS other_status,
       c.review_decision AS other_decision, l.note, l.document_id
FROM claim_links l
JOIN claims c ON c.id = l.other_claim_id
WHERE l.claim_id = :claim_id
ORDER BY l.relation, l.other_claim_id
LIMIT :limit
"""

CLAIM = """
SELECT text, kind, occurred, status, support_groups, opposition_groups, admiralty, credibility_by,
       review_state, queue_reason, first_seen, appearances,
       (SELECT count(*) FROM links WHERE from_claim_id = :claim_id)
       + (SELECT count(*) FROM links WHERE to_claim_id = :claim_id) AS links,
       (SELECT count(*) FROM review_events WHERE claim_id = :claim_id) AS events
FROM claims WHERE id = :claim_id
"""

HISTORY = """
SELECT e.created_at, e.actor, e.action, e.note, e.credibility,
       e.evidence IS NOT (SELECT evidence FROM claims WHERE id = e.claim_id) AS stale
FROM review_events e
WHERE e.claim_id = :claim_id
ORDER BY e.created_at DESC, e.rowid DESC
LIMIT :limit
"""


# Datasette 0.65 counts the rows of a table page, and computes each facet, with a query
# over the whole table. For the two pages analysts live on (claims and the review
# queue, unfiltered) the triggers of analysis.sql keep those numbers in facet_counts;
# these are the exact statements Datasette builds for them (views/table.py, facets.py).
COUNT_STATEMENT = re.compile(r"select count\(\*\) from (claims|review_queue) ")
FACET_STATEMENT = re.compile(
    r"\s*select (\w+) as value, count\(\*\) as count from \(\s*"
    r"select [\w, ]+ from (claims|review_queue) \s*\)\s*"
    r"where \1 is not null\s*group by \1 order by count desc, value limit (\d+)\s*"
)
COUNTED_TOTAL = "SELECT count FROM facet_counts WHERE name = :name AND facet = ''"
COUNTED_FACET = """
SELECT value, count FROM facet_counts
WHERE name = :name AND facet = :facet AND count > 0
ORDER BY count DESC, value
LIMIT :limit
"""


def counted(sql, params):
    """The facet_counts query that answers ``sql``, or None when it must really run."""
    if params:
        return None
    match = COUNT_STATEMENT.fullmatch(sql)
    if match:
        return COUNTED_TOTAL, {"name": match.group(1)}
    match = FACET_STATEMENT.fullmatch(sql)
    if match and match.group(1) in COUNTED_FACETS[match.group(2)]:
        return COUNTED_FACET, {"name": match.group(2), "facet": match.group(1), "limit": int(match.group(3))}
    return None


# The facets facet_counts holds: keep in step with claim_count_changes_apply in analysis.sql.
COUNTED_FACETS = {
    "claims": {"status", "kind", "origin_type", "credibility"},
    "review_queue": {"status", "kind", "origin_type"},
}


# --- Search counts, bounded -------------------------------------------------------------
# A search of a common word matches tens of thousands of claims at a million; the page
# shows 100 of them, and "1,000+ rows" says as much as the exact number. So the count of
# a search page on claims or the review queue stops at SEARCH_COUNT_CAP + 1 matches: up to
# the cap it is exact, beyond it the page says "1,000+" (AtLeast formats itself so).
SEARCH_COUNT_CAP = 1000
SEARCH_COUNT_STATEMENT = re.compile(r"select count\(\*\) (from (?:claims|review_queue) where .* match .*)", re.S)
CAPPED_COUNT = "select count(*) from (select 1 {from_where} limit {limit})"


class AtLeast(int):
    """A count that is at least this much: '1,000+' on the page, 1000 in JSON."""

    def __format__(self, spec):
        return format(int(self), spec) + "+"


def capped(sql):
    """The bounded count that answers a search page's ``select count(*)``, or None."""
    match = SEARCH_COUNT_STATEMENT.fullmatch(sql.strip())
    if not match:
        return None
    return CAPPED_COUNT.format(from_where=match.group(1), limit=SEARCH_COUNT_CAP + 1)


async def capped_count(execute, sql, params, kwargs):
    from datasette.database import Results

    results = await execute(sql, params, **kwargs)
    count = results.rows[0][0]
    if count > SEARCH_COUNT_CAP:
        return Results([(AtLeast(SEARCH_COUNT_CAP),)], False, results.description)
    return results
# -----------------------------------------------------------------------------------------


@hookimpl
def startup(datasette):
    for name, database in datasette.databases.items():
        if name == "tracker":
            database.execute = answer_from_counts(database.execute)


def answer_from_counts(execute):
    async def execute_counted(sql, params=None, **kwargs):
        bounded = capped(sql)
        if bounded:
            return await capped_count(execute, bounded, params, kwargs)
        replacement = counted(sql, params)
        if replacement:
            results = await execute(*replacement, **kwargs)
            # a database built before the counts existed falls back to counting
            if results.rows or replacement[0] is COUNTED_FACET:
                return results
        return await execute(sql, params, **kwargs)

    return execute_counted


ROWS_SHOWN = 100


@hookimpl
def prepare_connection(conn):
    # A review posted while `tracker build` holds the write lock waits for it.
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    if view_name != "row" or table != "claims" or request is None:
        return {}

    async def claim_page():
        claim_id = tilde_decode(request.url_vars["pks"])
        db = datasette.get_database(database)
        # A claim repeated by thousands of documents keeps a page of bounded size: the
        # first rows of each list here, the rest one click away as a table.
        params = {"claim_id": claim_id, "limit": ROWS_SHOWN}
        appearances = [dict(r) for r in (await db.execute(APPEARANCES, params)).rows]
        for appearance in appearances:
            appearance["via"] = json.loads(appearance["via"] or "[]")
        claim = (await db.execute(CLAIM, params)).first()
        has_events = "review_events" in await db.table_names()
        actor = request.actor or {}
        return {
            "claim_id": claim_id,
            "claim": dict(claim) if claim else None,
            "rows_shown": ROWS_SHOWN,
            "claim_appearances": appearances,
            "claim_links": [dict(r) for r in (await db.execute(LINKS, params)).rows],
            "claim_history": [dict(r) for r in (await db.execute(HISTORY, params)).rows] if has_events else [],
            "is_reviewer": bool(actor.get("reviewer")) and db.is_mutable,
            "database_url": datasette.urls.database(database),
        }

    return claim_page


# Columns that name a claim on pages Datasette does not link by foreign key (views and
# canned queries): each becomes a link to the claim's page.
CLAIM_COLUMNS = {
    "review_queue": {"id"},
    "claim_provenance": {"claim_id"},
    None: {"claim_id", "other_claim_id"},  # canned queries
}


@hookimpl
def render_cell(value, column, table, database, datasette):
    if database != "tracker" or not isinstance(value, str) or column not in CLAIM_COLUMNS.get(table, ()):
        return None
    url = datasette.urls.row(database, "claims", tilde_encode(value))
    # Markup.format escapes both arguments: the id is shown as text, never as HTML
    return Markup('<a href="{}">{}</a>').format(url, value)
