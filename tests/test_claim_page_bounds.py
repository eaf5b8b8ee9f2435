"""The page of a much repeated claim stays bounded (issue 14): the diagram draws the
CHAINS_DRAWN most repeated chains and says how many there are, the groups of support and
opposition named on each side are the GROUPS_SHOWN with the most appearances, the rest
counted, with a link to the full trail, which still lists every appearance."""

import copy

import pytest

from conftest import DOCUMENTS, SOURCES, write_seeds
from tracker.build import build
from tracker.plugin import diagram
from tracker.serve import make_datasette
from test_datasette import signed_in

OUTLETS = diagram.CHAINS_DRAWN + 5  # each its own independence group, each its own chain
CLAIM = "hardship-provinces"


def repeats(n):
    """How often outlet n repeats the claim: the first GROUPS_SHOWN outlets more than once."""
    return 3 if n < 3 else 2 if n < diagram.GROUPS_SHOWN else 1


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    root = tmp_path_factory.mktemp("repeated")
    sources = copy.deepcopy(SOURCES) + [
        {"id": f"outlet-{n:02d}", "name": f"Outlet {n:02d}", "type": "news_outlet", "reliability": "C"}
        for n in range(OUTLETS)]
    documents = copy.deepcopy(DOCUMENTS)
    for n in range(OUTLETS):
        documents[f"outlet-{n:02d}"] = {
            "id": f"outlet-{n:02d}", "title": f"Report {n}", "publisher": f"outlet-{n:02d}", "published": "2022",
            "claims": [{"ref": CLAIM, "source": f"outlet-{n:02d}"} for _ in range(repeats(n))]}
    db = root / "t.db"
    build(write_seeds(root / "seeds", sources=sources, documents=documents), db)
    return signed_in(make_datasette(db))


async def test_the_diagram_draws_the_most_repeated_chains_and_counts_the_rest(ds):
    html = (await ds.client.get(f"/tracker/claims/{CLAIM}")).text
    # the claim's own two chains (an informant, a defector) and one per outlet
    assert f"draws the {diagram.CHAINS_DRAWN} most repeated of {OUTLETS + 2:,} distinct chains" in html


async def test_the_page_names_the_heaviest_groups_and_links_to_all_of_them(ds):
    html = (await ds.client.get(f"/tracker/claims/{CLAIM}")).text
    section = html[html.index('<ul class="groups">'):html.index("<h3>Appearances</h3>")]
    assert section.count('class="group group-support"') == diagram.GROUPS_SHOWN
    # the heaviest first: the outlets repeating it more than once are named, the others not
    for n in range(OUTLETS):
        assert (f"<b>Outlet {n:02d}</b>" in section) == (n < diagram.GROUPS_SHOWN)
    groups = OUTLETS + 2  # the outlets, Daily NK's anonymous sources, the defector
    assert f"{groups - diagram.GROUPS_SHOWN:,} more support groups" in section
    assert f'href="/tracker/claim_trail?claim_id={CLAIM}"' in section


async def test_the_full_trail_still_lists_every_appearance(ds):
    rows = (await ds.client.get(f"/tracker/claim_trail.json?claim_id={CLAIM}&_shape=array&_size=max")).json()
    appearances = [r for r in rows if r["entry"] == "appearance"]
    assert len(appearances) == 2 + sum(repeats(n) for n in range(OUTLETS))
    assert any(r["origin_name"] == f"Outlet {OUTLETS - 1:02d}" for r in appearances)
