"""Statuses, ratings and first_seen exactly as SPEC sections 4 and 5 define them."""

import pathlib
import tempfile

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import write_seeds
from tracker.build import build
from tracker.models import Source

# Sources by reliability letter, each its own independence group, plus:
# two state media in one group, two informants of one outlet.
SOURCES = [
    {"id": f"src-{letter.lower()}", "name": f"Source {letter}", "type": "academic", "reliability": letter}
    for letter in "ABCDEF"
] + [
    {"id": "src-b2", "name": "Another B", "type": "government", "reliability": "B"},
    {"id": "kcna", "name": "KCNA", "type": "state_media", "reliability": "D", "group": "dprk-state-media"},
    {"id": "rodong", "name": "Rodong Sinmun", "type": "state_media", "reliability": "C", "group": "dprk-state-media"},
    {"id": "outlet", "name": "Outlet", "type": "news_outlet", "reliability": "B"},
    {"id": "informant-1", "name": "Informant 1", "type": "informant", "reliability": "C", "outlet": "outlet"},
    {"id": "informant-2", "name": "Informant 2", "type": "informant", "reliability": "C", "outlet": "outlet"},
]


def seeds_of(appearances, links=(), dates=None):
    """appearances: (claim, source, stance) in order; the first of each claim defines it.

    Each appearance gets its own document, so documents never matter to the status.
    """
    defined, documents = set(), []
    for index, (claim, source, stance) in enumerate(appearances):
        entry = {"source": source, "stance": stance}
        if claim in defined:
            entry["ref"] = claim
        else:
            entry.update(id=claim, text=f"Claim {claim}.")
            defined.add(claim)
        documents.append({
            "id": f"doc-{index}", "title": f"Document {index}", "publisher": "outlet",
            "published": (dates or {}).get(index, "2024"), "claims": [entry], "links": [],
        })
    for a, b, relation in links:
        documents[0]["links"].append({"from": a, "to": b, "relation": relation})
    return {document["id"]: document for document in documents}


def analyse(documents):
    """Build the documents (file names in the dict's order) and read back the claims."""
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        named = {f"{index:03d}-{key}": document for index, (key, document) in enumerate(documents.items())}
        build(write_seeds(folder / "seeds", SOURCES, named), folder / "t.db")
        db = sqlite_utils.Database(folder / "t.db")
        result = {row["id"]: row for row in db.query("SELECT * FROM claims")}
        db.close()
        return result


def one(appearances, links=(), claim="c", **kwargs):
    return analyse(seeds_of(appearances, links, **kwargs))[claim]


@pytest.mark.parametrize("appearances, links, status, support, opposition", [
    # uncorroborated: a single appearance
    ([("c", "src-c", "asserts")], [], "uncorroborated", 1, 0),
    # circular: two appearances, one origin
    ([("c", "src-c", "asserts"), ("c", "src-c", "asserts")], [], "circular", 1, 0),
    # circular: two state media outlets are one independence group
    ([("c", "kcna", "asserts"), ("c", "rodong", "asserts")], [], "circular", 1, 0),
    # circular: two anonymous informants of one outlet count as one channel
    ([("c", "informant-1", "asserts"), ("c", "informant-2", "asserts")], [], "circular", 1, 0),
    # circular through a corroborating link back to the same origin
    ([("c", "kcna", "asserts"), ("d", "rodong", "asserts")], [("c", "d", "corroborates")], "circular", 1, 0),
    # corroborated: two independent origins
    ([("c", "src-c", "asserts"), ("c", "src-d", "asserts")], [], "corroborated", 2, 0),
    # corroborated through a link to a claim of another origin
    ([("c", "src-c", "asserts"), ("d", "src-d", "asserts")], [("d", "c", "corroborates")], "corroborated", 2, 0),
    # contested: a denial
    ([("c", "src-c", "asserts"), ("c", "src-d", "denies")], [], "contested", 1, 1),
    # contested: a contradicting claim; contested wins over corroborated
    ([("c", "src-c", "asserts"), ("c", "src-b", "asserts"), ("d", "src-d", "asserts")],
     [("c", "d", "contradicts")], "contested", 2, 1),
])
def test_status(appearances, links, status, support, opposition):
    claim = one(appearances, links)
    assert (claim["status"], claim["support_groups"], claim["opposition_groups"]) == (status, support, opposition)


def test_corroboration_is_not_transitive():
    claims = analyse(seeds_of(
        [("a", "src-a", "asserts"), ("b", "src-b", "asserts"), ("c", "src-c", "asserts")],
        [("a", "b", "corroborates"), ("b", "c", "corroborates")],
    ))
    assert claims["a"]["support_groups"] == 2  # a and b, not c
    assert claims["b"]["support_groups"] == 3
    assert claims["c"]["support_groups"] == 2


def test_only_asserting_appearances_of_a_linked_claim_count():
    claims = analyse(seeds_of(
        [("a", "src-a", "asserts"), ("b", "src-b", "denies"), ("b", "src-c", "asserts")],
        [("a", "b", "corroborates")],
    ))
    assert claims["a"]["support_groups"] == 2  # src-a and src-c; src-b denies b
    assert claims["b"]["status"] == "contested"
    assert claims["a"]["status"] == "corroborated"


@pytest.mark.parametrize("appearances, links, credibility, admiralty", [
    # 5 improbable: contested, opposition outnumbers support
    ([("c", "src-b", "asserts"), ("c", "src-c", "denies"), ("c", "src-d", "denies")], [], 5, "B5"),
    # 4 doubtful: contested, opposition does not outnumber support
    ([("c", "src-b", "asserts"), ("c", "src-c", "denies")], [], 4, "B4"),
    # 4 doubtful: not corroborated, best reliability D
    ([("c", "src-d", "asserts")], [], 4, "D4"),
    # 4 doubtful: circular, best reliability E
    ([("c", "src-e", "asserts"), ("c", "src-e", "asserts")], [], 4, "E4"),
    # 1 confirmed: corroborated with best reliability A or B
    ([("c", "src-a", "asserts"), ("c", "src-d", "asserts")], [], 1, "A1"),
    ([("c", "src-b", "asserts"), ("c", "src-b2", "asserts")], [], 1, "B1"),
    # 2 probably true: corroborated, best reliability C or worse
    ([("c", "src-c", "asserts"), ("c", "src-f", "asserts")], [], 2, "C2"),
    # 6 cannot be judged: best reliability F
    ([("c", "src-f", "asserts")], [], 6, "F6"),
    # 3 possibly true: otherwise (uncorroborated C; circular B)
    ([("c", "src-c", "asserts")], [], 3, "C3"),
    ([("c", "src-b", "asserts"), ("c", "src-b", "asserts")], [], 3, "B3"),
])
def test_credibility(appearances, links, credibility, admiralty):
    claim = one(appearances, links)
    assert (claim["credibility"], claim["admiralty"], claim["credibility_by"]) == (credibility, admiralty, "rules")


def test_no_support_means_reliability_f():
    claim = one([("c", "src-a", "denies")])
    assert claim["best_reliability"] == "F"
    assert claim["status"] == "contested"
    assert claim["admiralty"] == "F5"  # opposition (1) outnumbers support (0)


def test_best_reliability_counts_only_support():
    claim = one([("c", "src-d", "asserts"), ("c", "src-a", "denies")])
    assert claim["best_reliability"] == "D"


@pytest.mark.parametrize("dates, first_seen", [
    ({0: "2024-03-02", 1: "2024"}, "2024"),
    ({0: "2024-03-02", 1: "2024-03"}, "2024-03"),
    ({0: "2024-02-28", 1: "2024-03"}, "2024-02-28"),
    ({0: "2023", 1: "2024-01-01"}, "2023"),
])
def test_first_seen_compares_partial_dates_by_their_first_day(dates, first_seen):
    claim = one([("c", "src-a", "asserts"), ("c", "src-b", "asserts")], dates=dates)
    assert claim["first_seen"] == first_seen


# Properties over random worlds.

SOURCE_IDS = [s["id"] for s in SOURCES if s["type"] != "news_outlet"]
GROUP = {s["id"]: Source.model_validate(s).independence_group for s in SOURCES}
CLAIMS = ["p", "q", "r", "s"]

appearance = st.tuples(st.sampled_from(CLAIMS), st.sampled_from(SOURCE_IDS),
                       st.sampled_from(["asserts", "asserts", "denies"]))
link = st.tuples(st.sampled_from(CLAIMS), st.sampled_from(CLAIMS), st.sampled_from(["corroborates", "contradicts"]))


def worlds():
    return st.tuples(
        st.lists(appearance, min_size=1, max_size=8),
        st.lists(link, max_size=4).map(
            lambda ls: list({frozenset((a, b)): (a, b, r) for a, b, r in ls if a != b}.values())
        ),
    )


def usable(appearances, links):
    claims = {c for c, _, _ in appearances}
    return [(a, b, r) for a, b, r in links if a in claims and b in claims]


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(worlds(), st.sampled_from(SOURCE_IDS), st.data())
def test_a_new_independent_origin_never_lowers_support(world, new_source, data):
    appearances, links = world
    links = usable(appearances, links)
    claim = data.draw(st.sampled_from(sorted({c for c, _, _ in appearances})))
    before = analyse(seeds_of(appearances, links))
    after = analyse(seeds_of(appearances + [(claim, new_source, "asserts")], links))
    for claim_id in before:
        assert after[claim_id]["support_groups"] >= before[claim_id]["support_groups"]
    groups_before = before[claim]["support_groups"]
    assert after[claim]["support_groups"] in (groups_before, groups_before + 1)


@PROPERTY
@given(worlds(), st.randoms(use_true_random=False))
def test_status_does_not_depend_on_the_order_of_files(world, random):
    appearances, links = world
    links = usable(appearances, links)
    documents = seeds_of(appearances, links)
    keys = list(documents)
    random.shuffle(keys)
    reordered = {key: documents[key] for key in keys}
    columns = ("status", "support_groups", "opposition_groups", "credibility", "admiralty", "first_seen", "evidence")
    first, second = analyse(documents), analyse(reordered)
    assert {k: tuple(v[c] for c in columns) for k, v in first.items()} == \
           {k: tuple(v[c] for c in columns) for k, v in second.items()}


@PROPERTY
@given(worlds())
def test_status_agrees_with_a_direct_reading_of_the_rules(world):
    appearances, links = world
    links = usable(appearances, links)
    claims = analyse(seeds_of(appearances, links))
    for claim_id, row in claims.items():
        support = [s for c, s, stance in appearances if c == claim_id and stance == "asserts"]
        opposition = [s for c, s, stance in appearances if c == claim_id and stance == "denies"]
        for a, b, relation in links:
            if claim_id in (a, b):
                other = b if a == claim_id else a
                asserting = [s for c, s, stance in appearances if c == other and stance == "asserts"]
                (support if relation == "corroborates" else opposition).extend(asserting)
        support_groups = len({GROUP[s] for s in support})
        opposition_groups = len({GROUP[s] for s in opposition})
        if opposition_groups:
            status = "contested"
        elif support_groups >= 2:
            status = "corroborated"
        elif len(support) >= 2:
            status = "circular"
        else:
            status = "uncorroborated"
        assert (row["status"], row["support_groups"], row["opposition_groups"]) == \
               (status, support_groups, opposition_groups)
