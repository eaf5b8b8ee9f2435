"""How much of the analysts' seed corpus `tracker draft` recovers from the texts alone.

    python bench/draft_recovery.py [--seeds seeds] [--texts ../shared/seeds] [--out bench/draft_recovery.json]

For each seed document: copy the seed tree, set that document's claims aside (its file
keeps no claims; every other file is unchanged), draft it from its text, and compare
with what the analyst recorded. An analyst's appearance is *recovered* when its quote
shares a character with a drafted quote; a recovered appearance's *origin matches* when
an overlapping draft names the same source id, or proposes a new source of the same
type. Reported for all appearances and for those whose origin is not the publisher
(nor the document's author, who speaks in the publisher's voice).
"""

import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.capture.attribution import Labeller  # noqa: E402
from tracker.capture.draft import draft  # noqa: E402
from tracker.models import Source  # noqa: E402
from tracker.seeds import SeedLoader, load_list  # noqa: E402


def spans(text, quote):
    at = text.find(quote)
    return (at, at + len(quote)) if at >= 0 else None


def statuses(db_path):
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        return sorted(conn.execute("SELECT id, status, support_groups, opposition_groups, queue_reason FROM claims"))
    finally:
        conn.close()


def drafts_on_the_recorded_tree(seeds, texts, labeller):
    """Draft every document of the seed tree as recorded: does it still check, and do the
    statuses of a build stay exactly those of a build without the drafts?"""
    from tracker.build import build, check
    from tracker.seeds import SeedError

    with tempfile.TemporaryDirectory() as folder:
        tree = pathlib.Path(shutil.copytree(seeds, pathlib.Path(folder) / "seeds"))
        build(tree, pathlib.Path(folder) / "before.db", texts)
        added = proposed = 0
        for doc_path in sorted((tree / "documents").glob("*.yml")):
            doc_id = yaml.load(doc_path.read_text(encoding="utf-8"), Loader=SeedLoader)["id"]
            report = draft(doc_id, tree, texts, labeller=labeller)
            added += len(report.added)
            proposed += len(report.proposed_sources)
        again = sum(len(draft(yaml.load(p.read_text(encoding="utf-8"), Loader=SeedLoader)["id"], tree, texts,
                              labeller=labeller).added) for p in sorted((tree / "documents").glob("*.yml")))
        try:
            check(tree, texts)
            checks = "passes"
        except SeedError as e:
            checks = f"fails: {e}"
        build(tree, pathlib.Path(folder) / "after.db", texts)
        same = statuses(pathlib.Path(folder) / "before.db") == statuses(pathlib.Path(folder) / "after.db")
    return {"draft_entries_added": added, "sources_proposed": proposed, "added_by_a_second_run": again,
            "tracker_check": checks, "statuses_unchanged_by_drafts": same}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=pathlib.Path, default=ROOT / "seeds")
    parser.add_argument("--texts", type=pathlib.Path, default=ROOT.parent / "shared" / "seeds")
    parser.add_argument("--out", type=pathlib.Path)
    a = parser.parse_args()
    if not a.texts.is_dir():
        sys.exit(f"{a.texts}: the seed texts are not here; give --texts")
    labeller = Labeller()
    items, _, _ = load_list(a.seeds / "sources.yml", "sources.yml", Source, "sources")
    types = {s.id: s.type.value for _, s in items}
    totals = {"all": [0, 0, 0], "not_publisher": [0, 0, 0]}
    per_doc = []
    t0 = time.time()
    for doc_path in sorted((a.seeds / "documents").glob("*.yml")):
        data = yaml.load(doc_path.read_text(encoding="utf-8"), Loader=SeedLoader)
        text = (a.texts / data["text"]).read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as folder:
            tree = pathlib.Path(shutil.copytree(a.seeds, pathlib.Path(folder) / "seeds"))
            bare = dict(data, claims=[])
            (tree / "documents" / doc_path.name).write_text(yaml.safe_dump(bare, sort_keys=False, allow_unicode=True))
            report = draft(data["id"], tree, a.texts, labeller=labeller, write=False)
            proposed_types = {s["id"]: s["type"] for s in report.proposed_sources}
        drafted = []
        for entry in report.added:
            span = spans(text, entry["quote"])
            drafted.append((span, entry["source"], proposed_types.get(entry["source"])))
        own = {data["publisher"]} | {sid for sid, _ in []}
        author_ids = {s.id for _, s in items if s.name in data.get("authors", [])}
        doc_counts = {"all": [0, 0, 0], "not_publisher": [0, 0, 0]}
        for entry in data.get("claims") or []:
            gold = spans(text, entry["quote"]) if entry.get("quote") else None
            if gold is None:
                continue
            hits = [d for d in drafted if d[0] and d[0][0] < gold[1] and gold[0] < d[0][1]]
            match = any(d[1] == entry["source"] or (d[2] and d[2] == types.get(entry["source"])) for d in hits)
            groups = ["all"] + ([] if entry["source"] in own | author_ids else ["not_publisher"])
            for g in groups:
                doc_counts[g][0] += 1
                doc_counts[g][1] += bool(hits)
                doc_counts[g][2] += bool(hits) and match
        for g in totals:
            totals[g] = [x + y for x, y in zip(totals[g], doc_counts[g])]
        per_doc.append({"document": data["id"], "drafts": len(report.added),
                        "proposed_sources": len(report.proposed_sources),
                        **{g: dict(zip(("appearances", "recovered", "origin_matches"), c)) for g, c in doc_counts.items()}})

    def shares(c):
        return {"appearances": c[0], "recovered": c[1], "origin_matches": c[2],
                "recovered_share": round(c[1] / c[0], 3) if c[0] else None,
                "origin_match_share": round(c[2] / c[1], 3) if c[1] else None}

    result_tree = drafts_on_the_recorded_tree(a.seeds, a.texts, labeller)
    result = {"documents": per_doc, "recorded_tree": result_tree, "all": shares(totals["all"]), "not_publisher": shares(totals["not_publisher"]),
              "goal": {"recovered_share": 0.6, "origin_match_share": 0.7},
              "seconds": round(time.time() - t0, 1)}
    print(json.dumps(result, indent=2))
    if a.out:
        a.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
