"""The tracker's Datasette plugin: connection settings, access, the pages analysts use.

Modules: access (who reads, signing in), guard (bounded resources, plain 400s),
review_form (the reviewer's form), diagram (the claim's trail as SVG), cells (links
and lists in cells), pages (what the templates are given), search (searches of the
claims and the queue, bounded).

Everything shown comes from the database as plain values; the templates rely on
Jinja's autoescaping and never mark user text safe.
"""

import re

from datasette import handle_exception as datasette_errors
from datasette import hookimpl

from ..database import BUSY_TIMEOUT_MS
from . import access, cells, guard, pages, review_form, search
from .search import SEARCH_COUNT_CAP, SEARCH_SAMPLE, AtLeast  # noqa: F401 (tests, templates)

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


@hookimpl
def startup(datasette):
    # Datasette 0.65 prints every error's traceback with rich and the frames' local
    # variables (the request, its headers, the signed-in cookie) to the server's log, a
    # 404 of any visitor included. Without rich it prints a plain traceback for a 500 only.
    datasette_errors.rich = None
    for name, database in datasette.databases.items():
        if name == "tracker":
            database.execute = answer_from_counts(database.execute)


def answer_from_counts(execute):
    execute_search = search.bounded(execute)

    async def execute_counted(sql, params=None, **kwargs):
        # a search of the claims or the queue: bounded (search.py)
        results = await execute_search(sql, params, kwargs)
        if results is not None:
            return results
        replacement = counted(sql, params)
        if replacement:
            results = await execute(*replacement, **kwargs)
            # a database built before the counts existed falls back to counting
            if results.rows or replacement[0] is COUNTED_FACET:
                return results
        return await execute(sql, params, **kwargs)

    return execute_counted


PAGE_CACHE_KB = 65536


@hookimpl
def prepare_connection(conn):
    # A review posted while `tracker build` holds the write lock waits for it.
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # SQLite's default page cache is 2 MB a connection: at a million claims (a 1 GB file)
    # the pages a search's sample or a claim's trail touch are read again on every
    # request. 64 MB for each of Datasette's few connections (3 readers and a writer).
    conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KB}")
    # No value larger than a few MB, whatever SQL a visitor runs.
    guard.limit_connection(conn)


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: access.admit_current_actors(datasette, guard.asgi_wrapper(search.per_request(app)))


@hookimpl(hookwrapper=True)
def handle_exception(datasette, request, exception):
    # Replaces the default handler's answer (and its traceback in the log) for the errors
    # a visitor can provoke; anything else is left to Datasette.
    outcome = yield
    response = guard.plain_error(datasette, request, exception)
    if response is not None:
        outcome.force_result([response])


@hookimpl
def forbidden(datasette, request, message):
    return access.forbidden(datasette, request, message)


@hookimpl
def register_routes():
    return [
        (r"^/-/sign-in$", access.sign_in),
        (r"^/-/review$", review_form.review),
    ]


@hookimpl
def extra_template_vars(template, database, table, columns, view_name, request, datasette):
    return pages.template_vars(template, database, table, columns, view_name, request, datasette)


@hookimpl
def render_cell(value, column, table, database, datasette):
    return cells.render(value, column, table, database, datasette)
