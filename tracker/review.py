"""Review events: writing them, reading the queue, and the round trip to reviews.yml (SPEC 6).

The database does the bookkeeping: triggers keep review_events append-only and apply
each new event to the claims it touches, so a decision written here and one written
through a Datasette canned query behave the same.
"""

import datetime
import getpass
import os
import pathlib
import sqlite3
import uuid

import yaml

from .database import write_transaction

# The same statement backs the terminal and (with magic parameters) the canned queries
# in metadata.yml: the evidence fingerprint is read from the claim at the moment of writing.
INSERT_EVENT = """
INSERT INTO review_events (id, claim_id, actor, action, note, credibility, evidence, created_at, other_claim_id,
                           relation)
SELECT :id, claims.id, :actor, :action, :note, :credibility, claims.evidence, :created_at, :other_claim_id, :relation
FROM claims WHERE claims.id = :claim_id
"""

QUEUE = """
SELECT q.id, q.status, q.admiralty, q.first_seen, q.origin_type, q.reason, q.text
FROM review_queue q
WHERE (:status IS NULL OR q.status = :status)
  AND (:source_type IS NULL OR q.origin_type = :source_type)
ORDER BY q.queue_order
LIMIT :limit
"""

# Both claims of a pair decision as they are now, the decided claim first (the terminal
# and the reviewer's form say what a link or an unlink did).
PAIR_NOW = """
SELECT id, status, admiralty FROM claims WHERE id IN (:claim_id, :other_claim_id)
ORDER BY id != :claim_id
"""

EXPORT = """
SELECT id, claim_id AS claim, action, actor, note, credibility, evidence, created_at AS at,
       other_claim_id AS other, relation
FROM review_events
ORDER BY created_at, rowid
"""
# Keys only pair decisions carry (SPEC section 6): left out of the other entries.
PAIR_KEYS = ("other", "relation")


class ReviewError(ValueError):
    """A review that cannot be recorded; the message says why (for the CLI to print)."""


class UnknownClaim(ReviewError):
    pass


def default_actor() -> str:
    return os.environ.get("TRACKER_ACTOR") or getpass.getuser()


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(db, claim_id, action, actor, note=None, credibility=None, other_claim_id=None, relation=None) -> dict:
    """Append one review event; it takes effect at once. Returns the event as written.

    ``other_claim_id`` (and, for a link, ``relation``): the other claim of a pair decision
    (link, unlink, dismiss). The database's triggers refuse what does not fit (a link of
    claims already linked, an unlink of no reviewer's link...): raised as ReviewError."""
    # reviews.yml strips the actor when read back (models.Review.actor): store it stripped,
    # or the export -> build -> export round trip would change the name.
    actor = (actor or "").strip()
    if not actor:
        raise ReviewError("the actor (who decides) must not be blank: give --actor or set TRACKER_ACTOR")
    event = {
        "id": str(uuid.uuid4()),
        "claim_id": claim_id,
        "actor": actor,
        "action": action,
        "note": note,
        "credibility": credibility,
        "created_at": utc_now(),
        "other_claim_id": other_claim_id,
        "relation": relation,
    }
    with write_transaction(db):
        for named in (claim_id, other_claim_id):
            if named is not None and not db.conn.execute("SELECT 1 FROM claims WHERE id = ?", [named]).fetchone():
                raise UnknownClaim(f"unknown claim {named!r}: check the id with 'tracker review' or in Datasette")
        try:
            db.conn.execute(INSERT_EVENT, event)
        except sqlite3.IntegrityError as e:  # a trigger's or a CHECK's sentence
            raise ReviewError(str(e)) from None
    return db["review_events"].get(event["id"])


def queue(db, status=None, source_type=None, limit=50):
    return list(db.query(QUEUE, {"status": status, "source_type": source_type, "limit": limit}))


def without_empty_pair_keys(event: dict) -> dict:
    for key in PAIR_KEYS:
        if event[key] is None:
            del event[key]
    return event


def export(db, out: pathlib.Path) -> int:
    """Write every review event to ``out`` as reviews.yml (atomically). Returns the count."""
    events = [without_empty_pair_keys(dict(row)) for row in db.query(EXPORT)]
    text = (
        "# Review decisions exported by 'tracker export-reviews'; 'tracker build' reads them back.\n"
        + (yaml.safe_dump(events, sort_keys=False, allow_unicode=True, width=100) if events else "[]\n")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, out)
    return len(events)
