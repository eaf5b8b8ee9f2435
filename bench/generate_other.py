#!/usr/bin/env python3
"""A second, independent seed-tree generator, of another shape than ``generate.py``.

It stands in for a tree the project did not make (issue 14 is checked on one): fewer,
larger documents (1 to 60 appearances each, about 14 on average, against 5-15), long
document notes, single-quoted and folded scalars, keys in another order, lists indented
under their key, dates quoted, few sources (about 120) so each appears very often,
more links per claim (0.4) and more denials. Same interface as ``generate.py``::

    python bench/generate_other.py OUT_DIR --claims N [--seed S] [--force]

writes ``OUT_DIR/sources.yml`` and ``OUT_DIR/documents/*.yml``; a pure function of
(claims, seed). Only the standard library is used.
"""

from __future__ import annotations

import argparse
import pathlib
import random
import shutil
import sys
import time

WORDS = ("grain harvest shortfall ministry border crossing smuggling crackdown market prices rice corn fuel "
         "electricity outage factory workers mobilisation campaign party plenum delegation visit missile launch "
         "satellite imagery construction site railway bridge flood damage relief aid shipment sanctions evasion "
         "vessel transfer port cargo inspection security bureau arrests informant reported residents complained "
         "wages rations distribution provincial committee officials purge rumour leadership health").split()
TYPES = (("news_outlet", 30), ("state_media", 10), ("informant", 30), ("defector", 20), ("academic", 20),
         ("government", 6), ("imagery", 4))


def q(text: str) -> str:
    """A single-quoted YAML scalar."""
    return "'" + text.replace("'", "''") + "'"


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return (" ".join(words)).capitalize()


def make_sources(rng: random.Random):
    sources, by_type = [], {}
    for kind, count in TYPES:
        for k in range(count):
            sid = f"{kind.replace('_', '')}-{k:03d}"
            entry = {"id": sid, "name": f"{kind.replace('_', ' ').title()} number {k}", "type": kind,
                     "reliability": rng.choice("ABCDEF")}
            if kind == "informant":
                entry["outlet"] = f"newsoutlet-{k % 5:03d}"
            if kind in ("informant", "defector") and k % 3 == 0:
                entry["sensitivity"] = "protected"
            if kind == "state_media":
                entry["group"] = "state-media"
            sources.append(entry)
            by_type.setdefault(kind, []).append(sid)
    return sources, by_type


def write_sources(path: pathlib.Path, sources) -> None:
    lines = []
    for s in sources:
        lines.append(f"- id: {s['id']}")
        lines.append(f"  type: {s['type']}")
        lines.append(f"  name: {q(s['name'])}")
        for key in ("reliability", "outlet", "group", "sensitivity"):
            if key in s:
                lines.append(f"  {key}: {s[key]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(out_dir: pathlib.Path, claims: int, seed: int = 0, force: bool = False) -> dict:
    rng = random.Random(seed)
    if out_dir.exists():
        if not force and any(out_dir.iterdir()):
            raise SystemExit(f"{out_dir} is not empty (use --force)")
        shutil.rmtree(out_dir)
    (out_dir / "documents").mkdir(parents=True)
    sources, by_type = make_sources(rng)
    write_sources(out_dir / "sources.yml", sources)
    all_sources = [s["id"] for s in sources]
    publishers = by_type["news_outlet"] + by_type["state_media"]
    defined, pairs = [], set()
    counts = {"sources": len(sources), "documents": 0, "claims": 0, "appearances": 0, "links": 0}
    n = 0
    while counts["claims"] < claims:
        size = max(1, min(60, int(rng.lognormvariate(2.4, 0.7))))
        doc_id = f"rep-{n:06d}"
        year = rng.randint(2005, 2024)
        precision = rng.random()
        published = str(year) if precision < 0.2 else (f"{year}-{rng.randint(1, 12):02d}" if precision < 0.5
                                                       else f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        lines = [f"id: {doc_id}", f"publisher: {rng.choice(publishers)}", f"published: '{published}'",
                 f"title: {q(sentence(rng, rng.randint(6, 14)) + ': a report')}"]
        if rng.random() < 0.4:
            lines += ["authors:", f"  - {q('Author ' + str(rng.randint(1, 400)))}"]
        if rng.random() < 0.5:
            lines += ["notes: >-", "  " + sentence(rng, rng.randint(40, 120)) + "."]
        lines.append("claims:")
        here = set()
        for _ in range(size):
            source = rng.choice(all_sources)
            if defined and rng.random() < 0.38:
                # a heavy tail: a few claims are repeated by many documents
                pick = defined[int(len(defined) * (rng.random() ** 3))]
                if pick in here:
                    continue
                here.add(pick)
                lines += [f"  - ref: {pick}", f"    source: {source}"]
                if rng.random() < 0.06:
                    lines.append("    stance: denies")
                counts["appearances"] += 1
            else:
                if counts["claims"] >= claims:
                    break
                cid = f"c{counts['claims']:07d}"
                counts["claims"] += 1
                defined.append(cid)
                here.add(cid)
                lines += [f"  - id: {cid}", f"    source: {source}",
                          f"    text: {q(sentence(rng, rng.randint(5, 16)) + '.')}"]
                if rng.random() < 0.5:
                    lines.append(f"    kind: {rng.choice(('event', 'statement', 'figure', 'observation'))}")
                if rng.random() < 0.3:
                    lines.append(f"    tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}x]")
                counts["appearances"] += 1
            if rng.random() < 0.7:
                lines.append(f"    quote: {q(sentence(rng, rng.randint(3, 9)).lower())}")
        links = []
        for _ in range(int(size * 0.4 + rng.random())):
            if len(defined) < 2:
                break
            # sorted: a set's order follows string hashing, which changes from run to run
            a = rng.choice(sorted(here)) if here else rng.choice(defined)
            b = rng.choice(defined)
            key = (min(a, b), max(a, b))
            if a == b or key in pairs:
                continue
            pairs.add(key)
            links += [f"  - from: {a}", f"    to: {b}",
                      f"    relation: {'contradicts' if rng.random() < 0.15 else 'corroborates'}"]
        if links:
            lines += ["links:", *links]
            counts["links"] += len(links) // 3
        (out_dir / "documents" / f"{doc_id}.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts["documents"] += 1
        n += 1
    return counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=pathlib.Path)
    ap.add_argument("--claims", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.out_dir, args.claims, args.seed, args.force)
    print(" ".join(f"{k}={v}" for k, v in counts.items()) + f" seconds={time.perf_counter() - started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
