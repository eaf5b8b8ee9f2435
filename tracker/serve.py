"""Datasette, configured for the tracker: the database named 'tracker', metadata.yml, the plugin.

The full database is for the team (SPEC section 6): metadata.yml lets only actors with
"reader": true or "reviewer": true see it; accounts come from the environment. With no
account configured, `tracker serve` makes a one-time sign-in link for a local reviewer.
The public file (--public) is the anonymous face: no allow blocks, no writes.
"""

import copy
import os
import pathlib
import secrets

import yaml
from datasette.app import Datasette
from datasette.database import Database

# Shipped inside the package, so that a wheel install serves its canned queries and permissions.
METADATA = pathlib.Path(__file__).resolve().parent / "metadata.yml"

AUTH = "datasette-auth-passwords"
# The local reviewer's actor id when signed in by the one-time link.
LOCAL_REVIEWER = "local-reviewer"


def team_accounts() -> dict:
    """Accounts named in the environment: {username: {"id", "reviewer" or "reader": True}}.

    TRACKER_REVIEWERS=alice,bob and TRACKER_READERS=carol name them; each one's password
    hash comes from TRACKER_PASSWORD_HASH_<NAME> (upper case, '-' as '_').
    """
    accounts = {}
    for variable, role in (("TRACKER_READERS", "reader"), ("TRACKER_REVIEWERS", "reviewer")):
        for name in filter(None, (n.strip() for n in os.environ.get(variable, "").split(","))):
            accounts[name] = {"id": name, role: True}  # a reviewer named twice stays a reviewer
    return accounts


def hash_variable(name: str) -> str:
    return "TRACKER_PASSWORD_HASH_" + name.upper().replace("-", "_")


def load_metadata(public: bool = False, path: pathlib.Path = METADATA) -> dict:
    """metadata.yml, plus reader and reviewer accounts from the environment.

    For the public database the writable canned queries, the login and the team-only
    allow blocks are removed: it is served read-only to everybody.
    """
    metadata = yaml.safe_load(path.read_text(encoding="utf-8"))
    tracker = metadata["databases"]["tracker"]
    if public:
        tracker["queries"] = {name: q for name, q in tracker["queries"].items() if not q.get("write")}
        metadata.get("plugins", {}).pop(AUTH, None)
        metadata.pop("allow", None)
        tracker.pop("allow", None)
        tracker.pop("allow_sql", None)
        for name in ("review_events", "source_pseudonyms", "seed_files"):
            tracker["tables"].get(name, {}).pop("facets", None)
        return metadata
    auth = metadata.setdefault("plugins", {}).setdefault(AUTH, {})
    for name, actor in team_accounts().items():
        auth.setdefault("actors", {})[name] = actor
        auth[f"{name}_password_hash"] = {"$env": hash_variable(name)}
    return metadata


def accounts_configured(metadata: dict) -> bool:
    """Whether any account of the auth plugin has a password hash set in the environment."""
    auth = metadata.get("plugins", {}).get(AUTH, {})
    for key, value in auth.items():
        if key.endswith("_password_hash"):
            if isinstance(value, dict) and "$env" in value:
                value = os.environ.get(value["$env"])
            if value:
                return True
    return False


# Suggested facets cost one query per column on every table page, a scan of the whole
# table each at a million claims; metadata.yml names the useful facets instead.
SETTINGS = {"suggest_facets": False}


def make_datasette(db_path, public: bool = False, metadata: dict | None = None,
                   sign_in_token: str | None = None, **settings) -> Datasette:
    """A Datasette instance serving ``db_path`` as 'tracker' (immutable when public).

    ``sign_in_token``: a secret that signs in a local reviewer once, at
    /-/sign-in?token=... (tracker.plugin.access).
    """
    datasette = Datasette(
        metadata=copy.deepcopy(metadata) if metadata is not None else load_metadata(public),
        secret=os.environ.get("DATASETTE_SECRET"),
        settings={**SETTINGS, **settings},
    )
    # The empty in-memory database Datasette adds when given no files is noise on every page.
    if "_memory" in datasette.databases:
        datasette.remove_database("_memory")
    datasette.add_database(Database(datasette, path=str(db_path), is_mutable=not public), name="tracker")
    datasette.tracker_sign_in_token = None if public else sign_in_token
    # Names this server run: the local reviewer's cookie is good for this run only.
    datasette.tracker_local_session = None if public else secrets.token_urlsafe(16)
    return datasette


def run(db_path, host: str, port: int, public: bool):
    import uvicorn

    if not pathlib.Path(db_path).exists():
        raise SystemExit(f"{db_path} does not exist: run 'tracker build' (or 'tracker publish') first")
    if public:
        from .export.public import ExportError, is_public

        try:
            full = not is_public(db_path)
        except ExportError as e:
            raise SystemExit(str(e)) from None
        if full:
            # --public drops every allow block: the full database would be open to anyone.
            raise SystemExit(f"{db_path} is the full database (it holds the protected sources), not a published "
                             f"file: --public serves only what 'tracker publish' wrote. Run 'tracker publish --db "
                             f"{db_path} --out PUBLIC.db' and serve that, or serve this file without --public.")
    else:
        # Make sure the schema (views, triggers) matches this version of the code.
        from .database import OutdatedDatabase, connect

        try:
            connect(db_path).close()
        except OutdatedDatabase as e:
            raise SystemExit(str(e)) from None
    metadata = load_metadata(public)
    token = None
    if not public and not accounts_configured(metadata):
        token = secrets.token_urlsafe(32)
    datasette = make_datasette(db_path, public, metadata=metadata, sign_in_token=token)
    base = f"http://{host}:{port}"
    print(f"Serving {db_path} as 'tracker' on {base}/tracker", flush=True)
    if public:
        print("Public file: read-only, open to anonymous visitors.", flush=True)
    elif token:
        print("No accounts configured: the full database is for signed-in team members.", flush=True)
        print(f"Sign in once as a local reviewer: {base}/-/sign-in?token={token}", flush=True)
    else:
        print(f"Team members sign in at {base}/-/sign-in", flush=True)
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
