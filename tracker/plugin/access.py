"""Who may read the full database, and signing in (SPEC section 6).

metadata.yml's allow blocks let only actors with "reader": true or "reviewer": true see
the full database; this module gives them a way in that returns them to the page they
came from:

* /-/sign-in: username and password, checked against datasette-auth-passwords'
  accounts (hashes from the environment), then back to ``next`` (a local path);
* /-/sign-in?token=...: the one-time link `tracker serve` prints when no account is
  configured (like `datasette --root`): it signs in a local reviewer once, then the
  token is spent;
* a refused anonymous request answers 403 with the sign-in form, nothing else.
"""

import hmac
from http.cookies import SimpleCookie

from datasette.utils.asgi import Response
from itsdangerous import BadSignature

from ..review import default_actor

AUTH = "datasette-auth-passwords"
HOME = "/tracker/review_queue"


def safe_next(value) -> str:
    """``value`` when it is a path on this site; the review queue otherwise. Browsers drop
    tabs and line breaks from a Location ("/\t/evil.example" becomes "//evil.example",
    another site), so a path with any white space or control character is refused too."""
    if (isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value
            and all(c.isprintable() and not c.isspace() for c in value)):
        return value
    return HOME


def accounts(datasette) -> tuple[dict, dict]:
    config = datasette.plugin_config(AUTH) or {}
    hashes = {key[: -len("_password_hash")]: value for key, value in config.items()
              if key.endswith("_password_hash") and value}
    return hashes, config.get("actors") or {}


async def sign_in_page(datasette, request, next_url, error=None, username="", status=200, message=None):
    hashes, _ = accounts(datasette)
    return Response.html(
        await datasette.render_template(
            "tracker-sign-in.html",
            {"next_url": next_url, "error": error, "username": username, "message": message,
             "has_accounts": bool(hashes), "token_pending": bool(getattr(datasette, "tracker_sign_in_token", None))},
            request=request,
        ),
        status=status,
    )


def current_actor(datasette, actor):
    """The actor a sign-in cookie stands for, as the accounts are configured now; None when
    they no longer admit it. A cookie outlives a restart when DATASETTE_SECRET is fixed (as
    the README advises), so it is not taken at its word: an account removed, its password
    hash unset, or its role changed (a reviewer made reader) signs its holder out; the
    local reviewer of the one-time link is admitted by the server run that made it only."""
    if not isinstance(actor, dict):
        return None
    session = getattr(datasette, "tracker_local_session", None)
    if "session" in actor:
        return actor if session and hmac.compare_digest(str(actor["session"]), session) else None
    hashes, actors = accounts(datasette)
    name = actor.get("id")
    if not isinstance(name, str) or name not in hashes:
        return None
    return actor if actor == (actors.get(name) or {"id": name}) else None


def admit_current_actors(datasette, app):
    """ASGI wrapper: a ds_actor cookie that ``current_actor`` refuses is dropped from the
    request before Datasette reads it, so its holder is an anonymous visitor (and may sign
    in again, as the account is now)."""
    async def admitted(scope, receive, send):
        if scope.get("type") == "http":
            headers = scope.get("headers") or []
            cookies = [value for name, value in headers if name == b"cookie"]
            if any(b"ds_actor=" in value for value in cookies):
                scope = dict(scope, headers=[(name, value) for name, value in headers if name != b"cookie"]
                             + [(b"cookie", kept) for kept in
                                (drop_refused_actor(datasette, value) for value in cookies) if kept])
        await app(scope, receive, send)

    return admitted


def drop_refused_actor(datasette, header: bytes) -> bytes:
    """A Cookie header without its ds_actor cookie when that no longer admits anyone."""
    parsed = SimpleCookie()
    try:
        parsed.load(header.decode("latin-1"))
    except Exception:  # a cookie header Python cannot read: nobody is signed in by it
        return b""
    if "ds_actor" not in parsed:
        return header
    try:
        decoded = datasette.unsign(parsed["ds_actor"].value, "actor")
    except BadSignature:
        decoded = None
    if isinstance(decoded, dict) and current_actor(datasette, decoded.get("a")) is not None:
        return header
    return "; ".join(f"{name}={morsel.coded_value}" for name, morsel in parsed.items()
                     if name != "ds_actor").encode("latin-1")


def signed_in(datasette, actor, next_url):
    response = Response.redirect(next_url)
    response.set_cookie("ds_actor", datasette.sign({"a": actor}, "actor"), httponly=True, samesite="lax")
    return response


async def sign_in(request, datasette):
    from datasette_auth_passwords.utils import verify_password

    if request.method == "POST":
        form = await request.post_vars()
        next_url = safe_next(form.get("next"))
        username = (form.get("username") or "").strip()
        hashes, actors = accounts(datasette)
        password_hash = hashes.get(username)
        if password_hash and verify_password(form.get("password") or "", password_hash):
            return signed_in(datasette, actors.get(username) or {"id": username}, next_url)
        return await sign_in_page(datasette, request, next_url, "Wrong username or password.", username, 401)

    next_url = safe_next(request.args.get("next"))
    token = request.args.get("token")
    if token:
        expected = getattr(datasette, "tracker_sign_in_token", None)
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            datasette.tracker_sign_in_token = None  # usable once
            return signed_in(datasette, {"id": default_actor() or "local-reviewer", "reviewer": True,
                                         "session": datasette.tracker_local_session}, next_url)
        return await sign_in_page(
            datasette, request, next_url, status=403,
            error="This sign-in link has been used or is not valid: restart 'tracker serve' for a new one.")
    return await sign_in_page(datasette, request, next_url)


def forbidden(datasette, request, message):
    """Anonymous visitors of the full database get the sign-in form (status 403)."""
    if request.actor or request.path.startswith("/-/"):
        return None

    async def inner():
        if request.path.endswith((".json", ".csv")) or "application/json" in request.headers.get("accept", ""):
            return Response.json({"ok": False, "status": 403,
                                  "error": "You do not have permission: sign in to read the full database."},
                                 status=403)
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        return await sign_in_page(
            datasette, request, safe_next(path), status=403,
            message="You do not have permission to read this without signing in: the full database is for "
                    "signed-in team members. Anonymous visitors read the published file.")

    return inner
