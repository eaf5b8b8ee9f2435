"""This job's Datasette hooks (a plugin of its own: entry point in pyproject.toml).

The claim page's suggested links: for signed-in team members only (the public file has
no suggestions at all, and anonymous visitors see none of the full database).
"""

from datasette import hookimpl
from datasette.utils import tilde_decode

SUGGESTIONS_SHOWN = 20

# Both directions of the pair table, each through its own index.
SUGGESTIONS = """
SELECT s.other_claim_id, s.relation, s.score, s.reason, c.text AS other_text, c.status AS other_status
FROM (
    SELECT other_claim_id, relation, score, reason FROM link_suggestions WHERE claim_id = :claim_id
    UNION ALL
    SELECT claim_id, relation, score, reason FROM link_suggestions WHERE other_claim_id = :claim_id
) s
JOIN claims c ON c.id = s.other_claim_id
ORDER BY s.score DESC, s.other_claim_id
LIMIT :limit
"""


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    if view_name != "row" or table != "claims" or request is None:
        return {}

    async def suggestions():
        actor = request.actor or {}
        if not (actor.get("reviewer") or actor.get("reader")):
            return {"claim_suggestions": None}
        db = datasette.get_database(database)
        if "link_suggestions" not in await db.table_names():  # the public file has none
            return {"claim_suggestions": None}
        claim_id = tilde_decode(request.url_vars["pks"])
        rows = await db.execute(SUGGESTIONS, {"claim_id": claim_id, "limit": SUGGESTIONS_SHOWN})
        return {"claim_suggestions": [dict(r) for r in rows.rows]}

    return suggestions


# The suggestion and search tables, shadow tables included.
PRIVATE_TABLES = ("link_suggestions", "link_search", "link_indexed", "link_terms")


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    """Suggestions are for team members: no one else may open their tables."""
    if action != "view-table" or not isinstance(resource, tuple) or len(resource) != 2:
        return None
    if not resource[1].startswith(PRIVATE_TABLES):
        return None
    actor = actor or {}
    return None if (actor.get("reviewer") or actor.get("reader")) else False
