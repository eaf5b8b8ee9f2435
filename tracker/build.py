"""Write a checked seed tree into the database, in one transaction (SPEC sections 3, 4, 7).

The seed-derived tables are replaced wholesale; ``review_events`` is never touched
except to add the events of ``reviews.yml`` that it does not hold yet.
"""

import dataclasses
import hashlib
import json

from . import analysis
from .database import connect, write_transaction
from .models import SOURCE_TYPE_MEANINGS, first_day
from .seeds import Seeds, load_seeds

SEED_TABLES = ("links", "appearances", "claims", "documents", "sources", "source_types")
FTS = {"claims": ["text"], "documents": ["title"]}


@dataclasses.dataclass
class BuildReport:
    sources: int
    documents: int
    claims: int
    appearances: int
    links: int
    reviews_added: int
    warnings: list


def build(seeds_dir, db_path, texts_dir=None, progress=lambda step: None) -> BuildReport:
    """Check ``seeds_dir``; if it is sound, replace the database's seed-derived content.

    Raises SeedError (nothing written) on bad input.
    """
    progress("reading and checking seeds")
    seeds = load_seeds(seeds_dir, texts_dir)
    return write(seeds, db_path, progress)


def source_rows(seeds: Seeds):
    for source in seeds.sources:
        yield {
            "id": source.id,
            "name": source.name,
            "type": source.type.value,
            "reliability": source.reliability,
            "group_id": source.group,
            "outlet_id": source.outlet,
            "independence_group": source.independence_group,
            "url": source.url,
            "notes": source.notes,
            "sensitivity": source.sensitivity,
        }


def document_rows(seeds: Seeds):
    for seed_file, document in seeds.documents:
        yield {
            "id": document.id,
            "title": document.title,
            "publisher_id": document.publisher,
            "authors": json.dumps(document.authors, ensure_ascii=False),
            "published": document.published,
            "published_from": first_day(document.published),
            "url": document.url,
            "text_file": document.text,
            "sha256": document.sha256,
            "notes": document.notes,
            "seed_file": seed_file,
        }


def appearance_rows(seeds: Seeds):
    for _, document in seeds.documents:
        for position, appearance in enumerate(document.claims):
            anchor = seeds.anchors.get((document.id, position))
            yield {
                "claim_id": appearance.claim_id,
                "document_id": document.id,
                "source_id": appearance.source,
                "via": json.dumps(appearance.via),
                "quote": appearance.quote,
                "stance": appearance.stance,
                "quote_start": anchor.quote_start if anchor else None,
                "quote_end": anchor.quote_end if anchor else None,
                "verified": anchor.verified if anchor else 0,
                "position": position,
            }


def link_rows(seeds: Seeds):
    for _, document in seeds.documents:
        for link in document.links:
            yield {
                "from_claim_id": link.from_,
                "to_claim_id": link.to,
                "relation": link.relation,
                "note": link.note,
                "document_id": document.id,
            }


def claim_rows(seeds: Seeds, fingerprints, source_types):
    for _, document in seeds.documents:
        for appearance in document.claims:
            if appearance.id:
                yield {
                    "id": appearance.id,
                    "text": appearance.text,
                    "kind": appearance.kind,
                    "occurred": appearance.occurred,
                    "tags": json.dumps(appearance.tags),
                    "document_id": document.id,
                    "origin_id": appearance.source,
                    "origin_type": source_types[appearance.source],
                    "evidence": fingerprints.get(appearance.id, ""),
                }


def insert(db, table, rows):
    """Stream dict rows into ``table`` with one prepared statement (no per-row schema work)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    columns = list(first)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    db.conn.execute(statement, first)
    db.conn.executemany(statement, rows)


def review_id(review) -> str:
    """A stable id for a hand-written review entry: a hash of its content."""
    content = json.dumps(
        [review.claim, review.action, review.actor, review.note, review.credibility, review.at],
        ensure_ascii=False,
    )
    return "h" + hashlib.sha256(content.encode()).hexdigest()[:25]


def write(seeds: Seeds, db_path, progress=lambda step: None) -> BuildReport:
    fingerprints = analysis.evidence_fingerprints(
        (
            (a.claim_id, document.id, a.source, a.stance)
            for _, document in seeds.documents
            for a in document.claims
        ),
        ((link.from_, link.to, link.relation) for _, document in seeds.documents for link in document.links),
    )
    source_types = {s.id: s.type.value for s in seeds.sources}
    db = connect(db_path)
    try:
        with write_transaction(db):
            progress("replacing seed tables")
            for table in SEED_TABLES:
                db.execute(f"DELETE FROM {table}")
            db["source_types"].insert_all(
                {"code": code, "meaning": meaning} for code, meaning in SOURCE_TYPE_MEANINGS.items()
            )
            insert(db, "sources", source_rows(seeds))
            insert(db, "documents", document_rows(seeds))
            insert(db, "claims", claim_rows(seeds, fingerprints, source_types))
            insert(db, "appearances", appearance_rows(seeds))
            insert(db, "links", link_rows(seeds))
            progress("adding reviews from reviews.yml")
            reviews_added = import_reviews(db, seeds.reviews, fingerprints)
            progress("computing statuses and ratings")
            analysis.refresh_all(db.conn)
            progress("indexing text for search")
            for table, columns in FTS.items():
                db[table].enable_fts(columns, create_triggers=False, replace=True)
                db.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
            problems = list(db.query("PRAGMA foreign_key_check"))
            if problems:
                raise RuntimeError(f"foreign key check failed after build: {problems[:5]}")
    finally:
        db.close()
    return BuildReport(
        sources=len(seeds.sources),
        documents=len(seeds.documents),
        claims=len(fingerprints),
        appearances=sum(len(d.claims) for _, d in seeds.documents),
        links=sum(len(d.links) for _, d in seeds.documents),
        reviews_added=reviews_added,
        warnings=seeds.warnings,
    )


def import_reviews(db, reviews, fingerprints) -> int:
    """Add reviews.yml entries the database does not hold yet (matched by id)."""
    before = db["review_events"].count
    db.conn.executemany(
        """
        INSERT OR IGNORE INTO review_events (id, claim_id, actor, action, note, credibility, evidence, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            (
                review.id or review_id(review),
                review.claim,
                review.actor,
                review.action,
                review.note,
                review.credibility,
                review.evidence or fingerprints.get(review.claim),
                review.at,
            )
            for review in reviews
        ],
    )
    return db["review_events"].count - before
