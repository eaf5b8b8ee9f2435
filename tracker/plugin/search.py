"""Full-text searches of the claims and the review queue, bounded (issue 14).

A search of a common word matches tens of thousands of claims at a million. Datasette
0.65 answers its page with statements that each read every match: the rows (every match
looked up, then sorted for the page), the count, and one GROUP BY per facet. Through the
database's execute (tracker.plugin.startup) the statements of a search are answered so
that none looks up every match (reading the index's list of matches stays: about 35 ns a
match, against a lookup's microsecond or more):

- the count stops at SEARCH_COUNT_CAP + 1 matches: exact up to the cap, "1,000+" beyond
  (AtLeast formats itself so); with nothing but the search it is read from the
  full-text index alone on the claims, and driven by it on the queue;
- each facet counts a sample of about SEARCH_SAMPLE of the matches, one in ``every``
  (sample_rate), picked by a hash of the rowid from the full-text index's own list of
  matches, which costs a pass over that list but no lookup of the rest; exact when the
  search matches no more than SEARCH_SAMPLE, and said so on the page otherwise
  (table.html). Not the first matches in the index's order: that is the claims' id
  order (the build inserts by id), so the first thousand would be one topic;
- the rows, when the search matches more than the cap: the page's order is read from its
  index (claims_first_seen, claims_queue_order), each entry checked against the matches,
  until the page is full, instead of every match being looked up and sorted.
"""

import asyncio
import contextvars
import json
import re

SEARCH_COUNT_CAP = 1000
SEARCH_SAMPLE = 500

# Datasette's search clause (filters.py search_filters): `rowid in (...)` on the claims,
# `fts_rowid in (...)` on the queue (metadata.yml fts_pk); escape_fts(:search), or
# :search in raw search mode.
MATCHES = re.compile(r"(\b(?:fts_)?rowid) in (\(select rowid from claims_fts where claims_fts match "
                     r"(escape_fts\(:\w+\)|:\w+)\))")
COUNT_STATEMENT = re.compile(r"select count\(\*\) (from (claims|review_queue) where (.*))", re.S)
FACET_STATEMENT = re.compile(r"\s*select .+ as value, count\(\*\) as count from \(\s*"
                             r"select [\w, ]+ from (?:claims|review_queue) where .*", re.S)
ROWS_STATEMENT = re.compile(r"select [\w, ]+ from (claims|review_queue) where .* "
                            r"order by ((\w+)(?: desc)?)(, \w+)? limit \d+(?: offset \d+)?", re.S)
# The orders an index gives, with the search's matches as the only condition to check.
INDEXED_ORDERS = {"claims": {"first_seen"}, "review_queue": {"queue_order"}}

MATCHES_UP_TO = "select count(*) from (select rowid from claims_fts where claims_fts match {match} limit {limit})"
ALL_MATCHES = "select count(*) from claims_fts where claims_fts match {match}"
ROWS_UP_TO = "select count(*) from (select 1 {from_where} limit {limit})"
# the queue's matches, the index's list driving (a join, where `in (...)` would first
# collect every match): it stops at the limit
QUEUED_UP_TO = """select count(*) from (select 1 from claims_fts f join review_queue q on q.fts_rowid = f.rowid
                  where f.claims_fts match {match} limit {limit})"""
# One match in `every`, spread over them all: Knuth's multiplicative hash of the rowid
# (mod 2^32) taken mod `every`, so that neither id order nor any period decides.
SAMPLE = ("select rowid from claims_fts where claims_fts match {match} "
          "and ((rowid * 2654435761) % 4294967296) % {every} = 0")
# what a facet of a sampled search reads instead of every match
SAMPLED_MATCHES = "(select value from json_each(:tracker_sample))"

# A page's statements share what they need of a search (its number of matches, its
# sample), computed once per request: Datasette runs the facets at once, each in its own
# task, and a task starts with a copy of the request's context, this dict included.
_per_request = contextvars.ContextVar("tracker_search_per_request", default=None)


def per_request(app):
    """ASGI wrapper: a fresh memo for each request."""
    async def with_memo(scope, receive, send):
        token = _per_request.set({})
        try:
            await app(scope, receive, send)
        finally:
            _per_request.reset(token)
    return with_memo


async def once(key, make):
    """``await make()``, once per request and key (every time outside a request)."""
    memo = _per_request.get()
    if memo is None:
        return await make()
    if key not in memo:
        memo[key] = asyncio.ensure_future(make())
    return await memo[key]


async def match_count(execute, match, params):
    """How many claims the search ``match`` (with ``params``) matches, by the index alone."""
    async def count():
        return (await execute(ALL_MATCHES.format(match=match), params)).rows[0][0]
    return await once(("count", match, search_value(match, params)), count)


def search_value(match, params):
    return params.get(re.search(r":(\w+)", match).group(1))


class AtLeast(int):
    """A count that is at least this much: '1,000+' on the page, 1000 in JSON."""

    def __format__(self, spec):
        return format(int(self), spec) + "+"


def sample_rate(match_count: int) -> int:
    """A search's facets count one match in this many (1: every match)."""
    return max(1, -(-match_count // SEARCH_SAMPLE))


def in_sample(rowid: int, every: int) -> bool:
    """Whether the claim of this rowid is in a search's sample (SAMPLE, in Python)."""
    return (rowid * 2654435761) % 4294967296 % every == 0


def bounded(execute):
    """``execute`` with the statements of a claims or queue search bounded (see above);
    any other statement goes through unchanged (None: not a search statement)."""

    async def matches_up_to(match, params, limit, kwargs):
        sql = MATCHES_UP_TO.format(match=match, limit=limit)
        return (await execute(sql, params, **kwargs)).rows[0][0]

    async def execute_search(sql, params, kwargs):
        matches = MATCHES.search(sql)
        if not matches:
            return None
        column, subquery, match = matches.groups()
        count = COUNT_STATEMENT.fullmatch(sql.strip())
        if count:
            from_where, table, where = count.groups()
            only_search = where.strip() == matches.group(0)
            if table == "claims" and only_search:
                # every row of claims_fts is a claim: the index alone counts them
                sql = MATCHES_UP_TO.format(match=match, limit=SEARCH_COUNT_CAP + 1)
            elif only_search:
                sql = QUEUED_UP_TO.format(match=match, limit=SEARCH_COUNT_CAP + 1)
            else:
                sql = ROWS_UP_TO.format(from_where=from_where, limit=SEARCH_COUNT_CAP + 1)
            results = await execute(sql, params, **kwargs)
            if results.rows[0][0] > SEARCH_COUNT_CAP:
                from datasette.database import Results

                return Results([(AtLeast(SEARCH_COUNT_CAP),)], False, results.description)
            return results
        if FACET_STATEMENT.fullmatch(sql):
            every = sample_rate(await match_count(execute, match, params))
            if every == 1:
                return await execute(sql, params, **kwargs)

            async def sample():
                rows = (await execute(SAMPLE.format(match=match, every=every), params)).rows
                return json.dumps([r[0] for r in rows])
            rowids = await once(("sample", match, search_value(match, params)), sample)
            return await execute(sql.replace(subquery, SAMPLED_MATCHES), {**params, "tracker_sample": rowids},
                                 **kwargs)
        rows = ROWS_STATEMENT.fullmatch(sql.strip())
        if rows:
            table, order, order_column, tie_break = rows.groups()
            if table == "claims" and not tie_break:
                # Datasette orders the next pages by (order, id) and takes the rows after
                # the last one shown; the first page must be in that order too.
                sql = sql.replace(f"order by {order} limit", f"order by {order}, id limit")
            if order_column in INDEXED_ORDERS[table]:
                # Few matches: looking each up and sorting them is cheapest. Many: walk the
                # order's index, which finds a page of matches long before its end.
                if await matches_up_to(match, params, SEARCH_COUNT_CAP + 1, kwargs) > SEARCH_COUNT_CAP:
                    sql = sql.replace(matches.group(0), f"+{column} in {subquery}")
        return await execute(sql, params, **kwargs)

    return execute_search
