"""Claims, their appearances, sources and public review decisions, read from a public
database (tracker/export/public.py) in batches: one pass, a few queries per batch."""

from __future__ import annotations

import dataclasses
import json

BATCH = 500

CLAIMS = """
SELECT id, text, kind, occurred, tags, document_id, origin_id, first_seen, status, support_groups,
       opposition_groups, support_appearances, best_reliability, credibility, credibility_by, admiralty,
       review_state
FROM claims WHERE id IN (SELECT value FROM json_each(:ids)) ORDER BY id
"""
ALL_CLAIM_IDS = "SELECT id FROM claims ORDER BY id"

# In the order the claim was published: the first is its first appearance.
APPEARANCES = """
SELECT * FROM (
    SELECT a.claim_id, a.document_id, a.position, a.source_id, a.via, a.quote, a.stance, a.verified,
           d.title, d.published, d.published_from, d.url, d.authors, d.publisher_id,
           row_number() OVER (PARTITION BY a.claim_id
                              ORDER BY d.published_from, d.published, a.document_id, a.position) AS n
    FROM appearances a JOIN documents d ON d.id = a.document_id
    WHERE a.claim_id IN (SELECT value FROM json_each(:ids)))
WHERE :limit IS NULL OR n <= :limit
ORDER BY claim_id, n
"""

REVIEWS = """
SELECT id, claim_id, action, credibility, created_at FROM review_events
WHERE claim_id IN (SELECT value FROM json_each(:ids))
ORDER BY claim_id, created_at, rowid
"""

SOURCES = "SELECT id, name, type, reliability, independence_group, url, sensitivity FROM sources"


@dataclasses.dataclass
class Appearance:
    document_id: str
    position: int
    source_id: str
    via: list
    quote: str | None
    stance: str
    verified: int
    title: str
    published: str
    url: str | None
    authors: list
    publisher_id: str


@dataclasses.dataclass
class Claim:
    id: str
    text: str
    kind: str | None
    occurred: str | None
    tags: list
    origin_id: str
    first_seen: str | None
    status: str | None
    support_groups: int | None
    opposition_groups: int | None
    support_appearances: int | None
    best_reliability: str | None
    credibility: int | None
    credibility_by: str | None
    admiralty: str | None
    review_state: str | None
    appearances: list = dataclasses.field(default_factory=list)
    reviews: list = dataclasses.field(default_factory=list)

    @property
    def first_appearance(self) -> Appearance | None:
        return self.appearances[0] if self.appearances else None


def sources(conn) -> dict:
    """Every source of the public file by its public id (a pseudonym for protected ones)."""
    return {row["id"]: dict(row) for row in conn.execute(SOURCES)}


def missing_claims(conn, claim_ids) -> list:
    known = {row[0] for row in conn.execute("SELECT id FROM claims WHERE id IN (SELECT value FROM json_each(?))",
                                            (json.dumps(list(claim_ids)),))}
    return [i for i in claim_ids if i not in known]


def claims(conn, claim_ids=None, appearance_limit: int | None = None):
    """Yield Claim objects (all claims, or those of ``claim_ids``), ordered by id."""
    ids = [row[0] for row in conn.execute(ALL_CLAIM_IDS)] if claim_ids is None else sorted(set(claim_ids))
    for start in range(0, len(ids), BATCH):
        batch = json.dumps(ids[start:start + BATCH])
        found = {}
        for row in conn.execute(CLAIMS, {"ids": batch}):
            row = dict(row)
            row.pop("document_id")
            row["tags"] = json.loads(row["tags"] or "[]")
            found[row["id"]] = Claim(**row)
        for row in conn.execute(APPEARANCES, {"ids": batch, "limit": appearance_limit}):
            claim = found.get(row["claim_id"])
            if claim is not None:
                claim.appearances.append(Appearance(
                    document_id=row["document_id"], position=row["position"], source_id=row["source_id"],
                    via=json.loads(row["via"] or "[]"), quote=row["quote"], stance=row["stance"],
                    verified=row["verified"], title=row["title"], published=row["published"], url=row["url"],
                    authors=json.loads(row["authors"] or "[]"), publisher_id=row["publisher_id"],
                ))
        for row in conn.execute(REVIEWS, {"ids": batch}):
            claim = found.get(row["claim_id"])
            if claim is not None:
                claim.reviews.append(dict(row))
        yield from found.values()
