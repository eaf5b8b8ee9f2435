"""What the tracker's templates are given (extra_template_vars): the claim page's
sections and diagram, the columns each table shows by default, the choices of canned
queries' parameters, and who is signed in."""

import asyncio
import json
import urllib.parse

from datasette.utils import tilde_decode

from . import diagram, search

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
       c.admiralty AS other_admiralty, c.review_decision AS other_decision, l.note, l.document_id, l.review_event_id,
       d.title AS document_title
FROM claim_links l
JOIN claims c ON c.id = l.other_claim_id
LEFT JOIN documents d ON d.id = l.document_id
WHERE l.claim_id = :claim_id
ORDER BY l.relation, l.other_claim_id
LIMIT :limit
"""

CLAIM = """
SELECT text, kind, occurred, tags, status, support_groups, opposition_groups, support_appearances, admiralty,
       best_reliability, credibility, credibility_by, review_state, queue_reason, first_seen, appearances,
       (SELECT count(*) FROM links WHERE from_claim_id = :claim_id)
       + (SELECT count(*) FROM links WHERE to_claim_id = :claim_id) AS links,
       (SELECT count(*) FROM review_events WHERE claim_id = :claim_id)
       + (SELECT count(*) FROM review_events WHERE other_claim_id = :claim_id) AS events
FROM claims WHERE id = :claim_id
"""

# The claim's own events, and the pair decisions that name it as the other claim (shown
# with the claim they were recorded on as "the other").
HISTORY = """
SELECT e.created_at, e.actor, e.action, e.note, e.credibility,
       e.evidence IS NOT (SELECT evidence FROM claims WHERE id = e.claim_id) AS stale,
       CASE WHEN e.claim_id = :claim_id THEN e.other_claim_id ELSE e.claim_id END AS other_claim_id, e.relation
FROM (SELECT rowid AS written, * FROM review_events WHERE claim_id = :claim_id
      UNION ALL
      SELECT rowid, * FROM review_events WHERE other_claim_id = :claim_id) e
ORDER BY e.created_at DESC, e.written DESC
LIMIT :limit
"""

NAMES = "SELECT id, name FROM sources WHERE id IN (SELECT value FROM json_each(:ids))"

# What the status does not say, for the claims a queue page shows (views.sql queue_words).
QUEUE_WORDS = "SELECT id, missing FROM queue_words WHERE id IN (SELECT value FROM json_each(:ids))"

ROWS_SHOWN = 100

# The tables whose searches are bounded (search.py).
SEARCHED = {"claims", "review_queue"}

# What each table page shows by default; JSON, CSV and SQL keep every column, and
# ?_col=... or "all columns" shows the rest.
HIDDEN_COLUMNS = {
    "claims": {"evidence", "support_groups", "opposition_groups", "support_appearances", "best_reliability",
               "rules_credibility", "credibility_by", "review_decision", "credibility_override",
               "queue_reason", "queue_rank", "queue_order", "document_id", "occurred", "credibility"},
    "documents": {"sha256", "seed_file", "published_from", "text_file"},
    "appearances": {"quote_start", "quote_end", "position"},
    "claim_provenance": {"quote_start", "quote_end", "position", "claim_text"},
    "review_events": {"evidence", "id"},
    "sources": {"group_id", "url"},
    "review_queue": {"fts_rowid", "queue_rank", "queue_order", "credibility", "origin_id", "review_state"},
}

CREDIBILITY = [(1, "confirmed by other sources"), (2, "probably true"), (3, "possibly true"), (4, "doubtful"),
               (5, "improbable"), (6, "truth cannot be judged")]
RELIABILITY = [("A", "completely reliable"), ("B", "usually reliable"), ("C", "fairly reliable"),
               ("D", "not usually reliable"), ("E", "unreliable"), ("F", "reliability cannot be judged")]
STATUSES = [
    ("contested", "an independent origin denies it, or a linked claim contradicts it"),
    ("corroborated", "two or more independent origin groups support it"),
    ("circular", "repeated by several appearances that all trace to one origin group"),
    ("uncorroborated", "a single appearance supports it"),
]

# Canned queries' parameters whose valid values are known: offered as choices.
CHOICES = {
    "source_type": "SELECT code AS value, code || ': ' || meaning AS label FROM source_types ORDER BY code",
    "source_id": "SELECT id AS value, name || ' (' || type || ')' AS label FROM sources ORDER BY name LIMIT 2000",
    "claim_id": """SELECT id AS value, substr(text, 1, 90) AS label FROM claims
                   ORDER BY first_seen DESC, id LIMIT 500""",
}
# shown as a <select> (the whole set); the others as a datalist beside a text box
SELECT_PARAMETERS = {"source_type", "source_id"}


def template_vars(template, database, table, columns, view_name, request, datasette):
    if request is None:
        return {}
    actor = request.actor or {}
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    tracker = datasette.databases.get("tracker")
    common = {
        "tracker_public": tracker is None or not tracker.is_mutable,
        "tracker_actor": actor,
        "tracker_sign_in_url": "/-/sign-in?" + urllib.parse.urlencode({"next": path}),
        "tracker_legend": {"credibility": CREDIBILITY, "reliability": RELIABILITY, "statuses": STATUSES},
        "tracker_hidden_columns": set() if (view_name != "table" or request.args.get("_col")
                                            or request.args.get("_all")) else HIDDEN_COLUMNS.get(table, set()),
    }
    if database != "tracker":
        return common
    if view_name == "table" and table in SEARCHED and request.args.get("_search"):
        async def searched_vars():
            return {**common, **table_extras(datasette, database, table),
                    "tracker_search_sample": await search_sample(datasette, database, request)}
        return searched_vars
    if view_name == "table" and table == "review_queue":
        return {**common, **table_extras(datasette, database, table)}
    if view_name == "row" and table == "claims":
        async def claim_vars():
            return {**common, **await claim_page(datasette, database, request)}
        return claim_vars
    if (template or "").startswith("query"):  # canned queries render from the table view
        async def query_vars():
            return {**common, **await query_choices(datasette, database, request)}
        return query_vars
    return common


def table_extras(datasette, database, table):
    if table != "review_queue":
        return {}

    async def queue_words(ids):
        db = datasette.get_database(database)
        if "queue_words" not in await db.view_names():
            return {}
        rows = (await db.execute(QUEUE_WORDS, {"ids": json.dumps(list(ids)[:1000])})).rows
        return {r["id"]: r["missing"] for r in rows}
    return {"tracker_queue_words": queue_words}


async def search_sample(datasette, database, request):
    """How many claims the search matches and one in how many its facets count, when they
    count a sample (search.py); else None. (guard.py has already made the search plain
    words, and dropped _searchmode=raw.)"""
    db = datasette.get_database(database)
    count = await search.match_count(db.execute, "escape_fts(:search)", {"search": request.args["_search"]})
    every = search.sample_rate(count)
    return {"matches": count, "every": every} if every > 1 else None


async def query_choices(datasette, database, request):
    db = datasette.get_database(database)
    choices = {}
    canned = request.url_vars.get("table")
    query = await datasette.get_canned_query(database, canned, request.actor) if canned else None
    if not query:
        return {"tracker_choices": {}, "tracker_select_parameters": SELECT_PARAMETERS}
    for name, sql in CHOICES.items():
        if f":{name}" in query["sql"]:
            choices[name] = [dict(r) for r in (await db.execute(sql)).rows]
    return {"tracker_choices": choices, "tracker_select_parameters": SELECT_PARAMETERS}


async def claim_page(datasette, database, request):
    claim_id = tilde_decode(request.url_vars["pks"])
    db = datasette.get_database(database)
    # A claim repeated by thousands of documents keeps a page of bounded size: the
    # first rows of each list here, the rest one click away as a table.
    params = {"claim_id": claim_id, "limit": ROWS_SHOWN}
    # independent reads, each on one of Datasette's SQL threads
    appearances, claim, links = await asyncio.gather(
        db.execute(APPEARANCES, params), db.execute(CLAIM, params), db.execute(LINKS, params))
    appearances, claim, links = [dict(r) for r in appearances.rows], claim.first(), [dict(r) for r in links.rows]
    trail = await diagram.trail(db, claim_id, links)
    names = {k: v["name"] for k, v in trail["names"].items()}
    wanted = {relay for a in appearances for relay in json.loads(a["via"] or "[]")} - set(names)
    if wanted:
        names.update({r["id"]: r["name"] for r in (await db.execute(NAMES, {"ids": json.dumps(sorted(wanted))})).rows})
    for appearance in appearances:
        appearance["via"] = [{"id": relay, "name": names.get(relay, relay)}
                             for relay in json.loads(appearance["via"] or "[]")]
        appearance["group_label"] = trail["group_labels"].get(
            appearance["independence_group"], diagram.group_label(appearance["independence_group"], trail["names"]))
    claim = dict(claim) if claim else None
    if claim:
        claim["tags"] = json.loads(claim["tags"] or "[]")
        claim["queue_words"] = None
        if claim["queue_reason"] and "queue_words" in await db.view_names():
            words = (await db.execute(QUEUE_WORDS, {"ids": json.dumps([claim_id])})).first()
            claim["queue_words"] = words["missing"] if words else None
    has_events = "review_events" in await db.table_names()
    actor = request.actor or {}
    return {
        "claim_id": claim_id,
        "claim": claim,
        "rows_shown": ROWS_SHOWN,
        "claim_appearances": appearances,
        "claim_links": links,
        "claim_history": [dict(r) for r in (await db.execute(HISTORY, params)).rows] if has_events else [],
        "claim_trail": trail,
        "is_reviewer": bool(actor.get("reviewer")) and db.is_mutable,
        "database_url": datasette.urls.database(database),
    }
