"""Source track records (view source_track_record) against an independent count.

The records are kept incrementally (recounts of queued sources, deltas on status
changes). Here each one is counted again in Python from the final claims and
appearances, after every kind of build: cold with reviews.yml, incremental, a review.
"""

import collections
import sqlite3

import pytest

from conftest import DOCUMENTS, write_seeds
from tracker import review
from tracker.build import build
from tracker.database import connect

REVIEWS = [
    {"claim": "rations-cut", "action": "reject", "actor": "analyst-1", "at": "2024-01-01T00:00:00Z"},
    {"claim": "villa-rumour", "action": "accept", "actor": "analyst-1", "at": "2024-01-02T00:00:00Z"},
    {"claim": "hardship-provinces", "action": "flag", "actor": "analyst-2", "at": "2024-01-03T00:00:00Z"},
]


def independent_records(db_path):
    conn = sqlite3.connect(db_path)
    try:
        status = dict(conn.execute("SELECT id, status FROM claims"))
        rejected = {row[0] for row in conn.execute("SELECT id FROM claims WHERE review_decision = 'reject'")}
        claims_of = collections.defaultdict(set)
        for source_id, claim_id in conn.execute("SELECT source_id, claim_id FROM appearances"):
            claims_of[source_id].add(claim_id)
        sources = [row[0] for row in conn.execute("SELECT id FROM sources")]
    finally:
        conn.close()
    records = {}
    for source in sources:
        mine = claims_of[source]
        counts = collections.Counter(status[c] for c in mine)
        records[source] = {
            "claims": len(mine),
            "corroborated": counts["corroborated"],
            "contested": counts["contested"],
            "circular": counts["circular"],
            "uncorroborated": counts["uncorroborated"],
            "rejected": len(mine & rejected),
        }
    return records


def stored_records(db_path):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return {r["source_id"]: {k: r[k] for k in ("claims", "corroborated", "contested", "circular",
                                                   "uncorroborated", "rejected")}
                for r in conn.execute("SELECT * FROM source_track_record")}
    finally:
        conn.close()


def test_a_cold_build_with_reviews_counts_every_record(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", reviews=REVIEWS)
    db_path = tmp_path / "tracker.db"
    build(seeds, db_path)
    records = stored_records(db_path)
    assert records == independent_records(db_path)
    # the reject took rations-cut's support from market-crackdown
    assert records["wire"]["rejected"] == 1
    assert records["dnk-hyesan"]["corroborated"] == 0


def test_records_follow_an_incremental_build_and_a_review(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", reviews=REVIEWS)
    db_path = tmp_path / "tracker.db"
    build(seeds, db_path)
    documents = {**DOCUMENTS}
    documents["kcna-congress"] = {**DOCUMENTS["kcna-congress"], "claims": DOCUMENTS["kcna-congress"]["claims"] + [
        {"ref": "villa-rumour", "source": "kcna", "quote": "villa"}]}
    write_seeds(seeds, documents=documents, reviews=REVIEWS)
    build(seeds, db_path)
    assert stored_records(db_path) == independent_records(db_path)

    db = connect(db_path)
    try:
        review.record(db, "rations-cut", "accept", "analyst-3")
    finally:
        db.close()
    assert stored_records(db_path) == independent_records(db_path)
    assert stored_records(db_path)["wire"]["rejected"] == 0


@pytest.mark.parametrize("with_reviews", [False, True])
def test_the_project_seeds_records(tmp_path, project_seeds, with_reviews):
    if with_reviews:
        (project_seeds / "reviews.yml").write_text(
            "- claim: dip-20x10-policy-announced\n  action: reject\n  actor: a\n  at: 2024-01-01T00:00:00Z\n")
    db_path = tmp_path / "tracker.db"
    build(project_seeds, db_path)
    records = stored_records(db_path)
    assert records == independent_records(db_path)
    assert sum(r["corroborated"] for r in records.values()) > 10
