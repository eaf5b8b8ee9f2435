"""Bounded resources and plain answers for whatever a visitor sends (issue 9, item 8).

* Every connection Datasette opens gets SQLite's length limit, so no value (randomblob,
  zeroblob, printf, group_concat, replace, ...) grows past LENGTH_LIMIT bytes; SQLite
  refuses with "string or blob too big" at once. printf/format with a huge width or
  precision would still spend seconds of CPU in one VM step (Datasette's time limit
  cannot interrupt it), so both are replaced by a version that refuses such widths.
* Searches are escaped: FTS syntax never reaches SQLite as syntax.
* Errors a visitor can provoke (an unknown sort column, a bad page token, a POST to a
  table) answer 400 with a sentence, without a traceback in the log.
"""

import re
import sqlite3
import urllib.parse

from datasette.utils.asgi import Response

# Large enough for any claim text, note or page of JSON; far below a gigabyte.
LENGTH_LIMIT = 5_000_000
# Widths and precisions printf may be asked for (SQLite's own maximum is 2^31).
PRINTF_WIDTH_LIMIT = 100_000


def limit_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, LENGTH_LIMIT)
    for name in ("printf", "format"):
        conn.create_function(name, -1, bounded_printf, deterministic=True)


_printf_conn = None


def bounded_printf(fmt, *args):
    """SQLite's printf, refusing widths and precisions over PRINTF_WIDTH_LIMIT."""
    if fmt is None:
        return None
    fmt = str(fmt)
    # a width or precision given in the format ('%999999999c') or as an argument ('%.*c')
    for number in re.findall(r"%[-+ 0#,!]*(\d*|\*)(?:\.(\d*|\*))?", fmt):
        for part in number:
            if part.isdigit() and int(part) > PRINTF_WIDTH_LIMIT:
                raise ValueError(f"printf width or precision over {PRINTF_WIDTH_LIMIT:,} is refused")
    if "*" in fmt:
        for arg in args:
            if isinstance(arg, (int, float)) and abs(arg) > PRINTF_WIDTH_LIMIT:
                raise ValueError(f"printf width or precision over {PRINTF_WIDTH_LIMIT:,} is refused")
    global _printf_conn
    if _printf_conn is None:
        # SQLite's own printf, in a private in-memory connection with the same limit
        _printf_conn = sqlite3.connect(":memory:", check_same_thread=False)
        _printf_conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, LENGTH_LIMIT)
    marks = ", ".join(["?"] * (len(args) + 1))
    return _printf_conn.execute(f"SELECT printf({marks})", (fmt, *args)).fetchone()[0]


def escape_search(value: str) -> str:
    """A search as plain words: quotes and FTS operators lose their meaning."""
    return " ".join(re.findall(r"[^\s\"*^():+\-{}\[\]]+", value))


def clean_query_string(query_string: bytes) -> bytes:
    """_search* parameters escaped (blank ones dropped), _searchmode=raw ignored."""
    pairs = urllib.parse.parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if not any(key.startswith("_search") for key, _ in pairs):
        return query_string
    cleaned = []
    for key, value in pairs:
        if key == "_searchmode":
            continue
        if key.startswith("_search"):
            value = escape_search(value)
            if not value:
                continue
        cleaned.append((key, value))
    return urllib.parse.urlencode(cleaned).encode("latin-1")


def asgi_wrapper(app):
    async def guarded(scope, receive, send):
        if scope.get("type") == "http" and scope.get("query_string"):
            scope = dict(scope, query_string=clean_query_string(scope["query_string"]))
        await app(scope, receive, send)

    return guarded


def plain_error(datasette, request, exception):
    """A 400 with a sentence for the errors visitors can provoke; None for the others."""
    text = str(exception)
    message = None
    if text.startswith("Cannot sort table by "):
        column = text[len("Cannot sort table by "):]
        message = f"There is no column '{column}' to sort by: pick a column heading to sort by it."
    elif isinstance(exception, ValueError) and "_next" in request.args and "int()" in text:
        message = "That page token (_next) is not one this page gave out: go back to the first page."
    elif isinstance(exception, AssertionError) and "only POST to a canned query" in text:
        message = ("Tables and views cannot be written to here: reviewers record decisions "
                   "with the form on a claim's page.")
    elif isinstance(exception, sqlite3.DataError) or "string or blob too big" in text:
        message = f"That value is too large: no value may exceed {LENGTH_LIMIT:,} bytes."
    if message is None:
        return None

    async def inner():
        if request.path.endswith(".json"):
            return Response.json({"ok": False, "error": message, "status": 400}, status=400)
        return Response.html(
            await datasette.render_template("error.html", {"title": "Bad request", "error": message},
                                            request=request),
            status=400,
        )

    return inner
