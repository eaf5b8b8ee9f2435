"""This job's Datasette hooks: a document's page shows its text with the recorded quotes
highlighted, and a canned query searches the texts (full database only).

The text is cut into plain segments here, in Python; the template
(row-tracker-documents.html) lets Jinja escape each one and wraps the quoted ones in
<mark>. Nothing from the text is ever marked safe. The page stays bounded: at most
TEXT_SHOWN characters of the text (SQLite's substr, so a huge text is never loaded
whole) and QUOTES_SHOWN highlights.
"""

import json

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from markupsafe import Markup

TEXT_SHOWN = 200_000
QUOTES_SHOWN = 1_000
ROWS_SHOWN = 100

DOCUMENT = """
SELECT d.id, d.title, d.publisher_id, p.name AS publisher_name, d.published, d.url, d.authors, d.text_file,
       d.notes, (SELECT count(*) FROM appearances a WHERE a.document_id = d.id) AS appearances
FROM documents d LEFT JOIN sources p ON p.id = d.publisher_id
WHERE d.id = :document_id
"""

TEXT = """
SELECT length(text) AS length, substr(text, 1, :shown) AS text
FROM document_texts WHERE document_id = :document_id
"""

# Verified quotes only: an unverified one has no offsets. Ordered as the text reads.
QUOTES = """
SELECT a.position, a.claim_id, c.text AS claim_text, a.source_id, s.name AS source_name, a.stance, a.quote,
       a.quote_start, a.quote_end
FROM appearances a LEFT JOIN claims c ON c.id = a.claim_id LEFT JOIN sources s ON s.id = a.source_id
WHERE a.document_id = :document_id AND a.verified = 1 AND a.quote_start IS NOT NULL AND a.quote_start < :shown
ORDER BY a.quote_start, a.quote_end, a.position
LIMIT :limit
"""

SEARCH_DOCUMENT_TEXTS = {
    "title": "Search the documents' texts",
    "description": "Full-text search (SQLite FTS5 syntax) over the texts the build read; the matching "
                   "words are shown between [[ and ]].",
    "sql": """SELECT d.id AS document_id, d.title, d.publisher_id, d.published,
       snippet(document_texts_fts, 0, '[[', ']]', ' ... ', 16) AS passage
FROM document_texts_fts
JOIN document_texts t ON t.text_id = document_texts_fts.rowid
JOIN documents d ON d.id = t.document_id
WHERE document_texts_fts MATCH :search
ORDER BY rank
LIMIT 200""",
}


def segments(text, quotes):
    """The text as consecutive pieces: [{"text", "quotes"}], "quotes" empty for plain text.

    Overlapping quotes make one highlighted piece that lists them all. Offsets past the
    text (a text cut at TEXT_SHOWN) are clipped.
    """
    pieces, at = [], 0
    for quote in sorted(quotes, key=lambda q: (q["quote_start"], q["quote_end"])):
        start, end = max(quote["quote_start"], 0), min(quote["quote_end"], len(text))
        if end <= start:
            continue
        if pieces and pieces[-1]["quotes"] and start < at:
            # overlaps the highlight before: extend it
            last = pieces[-1]
            if end > at:
                last["text"] += text[at:end]
                at = end
            last["quotes"].append(quote)
            continue
        if start < at:
            start = at
        if start > at:
            pieces.append({"text": text[at:start], "quotes": []})
        pieces.append({"text": text[start:end], "quotes": [quote]})
        at = end
    if at < len(text):
        pieces.append({"text": text[at:], "quotes": []})
    return pieces


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    if view_name != "row" or table != "documents" or request is None:
        return {}

    async def document_page():
        document_id = tilde_decode(request.url_vars["pks"])
        db = datasette.get_database(database)
        params = {"document_id": document_id, "shown": TEXT_SHOWN, "limit": QUOTES_SHOWN}
        document = (await db.execute(DOCUMENT, params)).first()
        text_row = None
        if "document_texts" in await db.table_names():
            text_row = (await db.execute(TEXT, params)).first()
        quotes = [dict(r) for r in (await db.execute(QUOTES, params)).rows]
        text = text_row["text"] if text_row else None
        return {
            "document_id": document_id,
            "document": dict(document, authors=", ".join(json.loads(document["authors"] or "[]")))
            if document else None,
            "document_text_length": text_row["length"] if text_row else None,
            "document_text_shown": len(text) if text is not None else 0,
            "document_segments": segments(text, quotes) if text is not None else [],
            "document_quotes": quotes[:ROWS_SHOWN],
            "document_quotes_total": len(quotes),
            "quotes_limit": QUOTES_SHOWN,
            "rows_shown": ROWS_SHOWN,
        }

    return document_page


@hookimpl
def canned_queries(datasette, database, actor):
    """The text search, where the database holds texts (the full one, not the public file)."""
    if database != "tracker":
        return None

    async def queries():
        if "document_texts" in await datasette.get_database(database).table_names():
            return {"search_document_texts": SEARCH_DOCUMENT_TEXTS}
        return {}

    return queries


# Columns that name a document on pages Datasette does not link by foreign key: the
# view's ids become links to the documents' pages (tracker/plugin/cells.py links the
# document_id of canned queries).
DOCUMENT_COLUMNS = {"unread_documents": {"id"}}


@hookimpl
def render_cell(value, column, table, database, datasette):
    if database != "tracker" or not isinstance(value, str) or column not in DOCUMENT_COLUMNS.get(table, ()):
        return None
    # Markup.format escapes both arguments: the id is shown as text, never as HTML
    return Markup('<a href="{}">{}</a>').format(datasette.urls.row(database, "documents", tilde_encode(value)), value)
