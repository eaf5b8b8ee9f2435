"""How cells read on pages Datasette does not link by itself (views, canned queries),
and JSON lists shown as what they are (tags as tags, relays as a chain).

Every value goes through Markup.format, which escapes it: ids and names are text.
"""

import json

from datasette.utils import tilde_encode
from markupsafe import Markup

# Columns that hold an id of the given table, on views and canned queries (table None).
# Tables are linked by their foreign keys already.
ID_COLUMNS = {
    "claims": {"id": "review_queue", "claim_id": None, "other_claim_id": None},
    "sources": {"origin_id": None, "source_id": None, "publisher_id": None, "origin": None},
    "documents": {"document_id": None},
}
VIEWS = {"review_queue", "claim_provenance", "source_track_record"}
JSON_LISTS = {"tags": "tag", "authors": "list", "aliases": "list", "via": "chain"}


def target_table(column, table):
    for target, columns in ID_COLUMNS.items():
        if column in columns and (columns[column] is None or columns[column] == table):
            if table is None or table in VIEWS:
                return target
    return None


def render(value, column, table, database, datasette):
    if database != "tracker" or not isinstance(value, str):
        return None
    target = target_table(column, table)
    if target == "claims" and column == "id" and table != "review_queue":
        target = None
    if target:
        url = datasette.urls.row(database, target, tilde_encode(value))
        return Markup('<a href="{}">{}</a>').format(url, value)
    kind = JSON_LISTS.get(column)
    if kind and value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return None
        if not isinstance(items, list):
            return None
        if not items:
            return Markup('<span class="empty-list">none</span>') if kind == "chain" else Markup("")
        if kind == "tag":
            return Markup(" ").join(Markup('<span class="tag">{}</span>').format(i) for i in items)
        if kind == "chain":
            return Markup(" → ").join(
                Markup('<a href="{}">{}</a>').format(datasette.urls.row(database, "sources", tilde_encode(str(i))), i)
                for i in items)
        return Markup(", ").join(Markup("{}").format(i) for i in items)
    return None
