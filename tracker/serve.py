"""Datasette, configured for the tracker: the database named 'tracker', metadata.yml, the plugin."""

import copy
import os
import pathlib

import yaml
from datasette.app import Datasette
from datasette.database import Database

# Shipped inside the package, so that a wheel install serves its canned queries and permissions.
METADATA = pathlib.Path(__file__).resolve().parent / "metadata.yml"


def load_metadata(public: bool = False, path: pathlib.Path = METADATA) -> dict:
    """metadata.yml, plus reviewer accounts from the environment.

    For the public database the writable canned queries and the login are removed: it
    is served read-only and nobody writes to it.
    """
    metadata = yaml.safe_load(path.read_text(encoding="utf-8"))
    tracker = metadata["databases"]["tracker"]
    if public:
        tracker["queries"] = {name: q for name, q in tracker["queries"].items() if not q.get("write")}
        metadata.get("plugins", {}).pop("datasette-auth-passwords", None)
        for name in ("review_events", "source_pseudonyms", "seed_files"):
            tracker["tables"].get(name, {}).pop("facets", None)
        return metadata
    auth = metadata.setdefault("plugins", {}).setdefault("datasette-auth-passwords", {})
    # TRACKER_REVIEWERS=alice,bob adds reviewer accounts whose password hashes come from
    # TRACKER_PASSWORD_HASH_ALICE and TRACKER_PASSWORD_HASH_BOB.
    for name in filter(None, (n.strip() for n in os.environ.get("TRACKER_REVIEWERS", "").split(","))):
        auth.setdefault("actors", {})[name] = {"id": name, "reviewer": True}
        auth[f"{name}_password_hash"] = {"$env": "TRACKER_PASSWORD_HASH_" + name.upper().replace("-", "_")}
    return metadata


# Suggested facets cost one query per column on every table page, a scan of the whole
# table each at a million claims; metadata.yml names the useful facets instead.
SETTINGS = {"suggest_facets": False}


def make_datasette(db_path, public: bool = False, metadata: dict | None = None, **settings) -> Datasette:
    """A Datasette instance serving ``db_path`` as 'tracker' (immutable when public)."""
    datasette = Datasette(
        metadata=copy.deepcopy(metadata) if metadata is not None else load_metadata(public),
        secret=os.environ.get("DATASETTE_SECRET"),
        settings={**SETTINGS, **settings},
    )
    datasette.add_database(Database(datasette, path=str(db_path), is_mutable=not public), name="tracker")
    return datasette


def run(db_path, host: str, port: int, public: bool):
    import uvicorn

    if not pathlib.Path(db_path).exists():
        raise SystemExit(f"{db_path} does not exist: run 'tracker build' (or 'tracker publish') first")
    if not public:
        # Make sure the schema (views, triggers) matches this version of the code.
        from .database import OutdatedDatabase, connect

        try:
            connect(db_path).close()
        except OutdatedDatabase as e:
            raise SystemExit(str(e)) from None
    datasette = make_datasette(db_path, public)
    print(f"Serving {db_path} as 'tracker' on http://{host}:{port}/tracker")
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
