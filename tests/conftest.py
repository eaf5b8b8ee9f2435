"""Shared fixtures: small seed trees written to tmp_path, and databases built from them."""

import pathlib
import shutil

import pytest
import yaml

from tracker.build import build

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_SEEDS = SHARED / "seeds"
needs_shared = pytest.mark.skipif(
    not SHARED_SEEDS.is_dir(), reason="../shared/seeds is absent (CI has it): cannot check quotes against real texts"
)

# The team the tests sign in as: a cookie is honoured only for an account configured now
# (tracker.plugin.access.current_actor). Their password hashes are of a password no test
# uses; tests of signing in with a password set their own.
TEAM = {"TRACKER_REVIEWERS": "alice,analyst", "TRACKER_READERS": "carol,rita"}


@pytest.fixture(scope="session", autouse=True)
def team_accounts():
    # (session-wide, so that module-scoped fixtures serve with these accounts too; a test's
    # own monkeypatch of them is undone after it, back to these)
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in team_environment().items():
            patch.setenv(variable, value)
        yield


def team_environment() -> dict:
    """TEAM as environment variables (for servers a test starts in a process of their own)."""
    env = dict(TEAM)
    for variable, names in TEAM.items():
        for name in names.split(","):
            env["TRACKER_PASSWORD_HASH_" + name.upper()] = TEAM_HASH
    return env


def _team_hash():
    from datasette_auth_passwords.utils import hash_password

    return hash_password("not a password any test types", iterations=1000)


TEAM_HASH = _team_hash()


# A small world that produces every status:
# - kim-plan-failed: KCNA and Rodong (one group) -> circular
# - hardship-provinces: Daily NK informant + defector -> corroborated
# - villa-rumour: one informant -> uncorroborated
# - sanctions-biting: asserted by an academic, denied by the NIS -> contested
# - market-crackdown / rations-cut: linked by corroborates across origins
SOURCES = [
    {"id": "kcna", "name": "Korean Central News Agency", "type": "state_media", "reliability": "D",
     "group": "dprk-state-media", "url": "http://www.kcna.kp", "notes": "Regime voice."},
    {"id": "rodong", "name": "Rodong Sinmun", "type": "state_media", "reliability": "D", "group": "dprk-state-media"},
    {"id": "dailynk", "name": "Daily NK", "type": "news_outlet", "reliability": "C"},
    {"id": "wire", "name": "A Wire", "type": "news_outlet", "reliability": "B"},
    {"id": "dnk-pyongyang", "name": "Secret Pyongyang Informant", "type": "informant", "reliability": "C",
     "outlet": "dailynk", "sensitivity": "protected", "notes": "Lives near the Ryugyong Hotel.",
     "url": "https://example.org/secret-contact"},
    {"id": "dnk-hyesan", "name": "Hyesan Trader Informant", "type": "informant", "reliability": "C",
     "outlet": "dailynk", "sensitivity": "protected"},
    {"id": "defector-kim", "name": "Kim Defector Witness", "type": "defector", "reliability": "B",
     "sensitivity": "protected", "notes": "Left Chongjin in 2019."},
    {"id": "prof-lee", "name": "Professor Lee", "type": "academic", "reliability": "B"},
    {"id": "nis", "name": "National Intelligence Service", "type": "government", "reliability": "A"},
]

DOCUMENTS = {
    "dailynk-report": {
        "id": "dailynk-report", "title": "Hard times in the provinces", "publisher": "dailynk",
        "published": "2020-01-07", "authors": ["A Reporter"],
        "claims": [
            {"id": "hardship-provinces", "text": "Living conditions in the provinces worsened in 2019.",
             "kind": "observation", "occurred": "2019", "tags": ["provinces"], "source": "dnk-pyongyang",
             "quote": "things are worse than ever"},
            {"id": "villa-rumour", "text": "Kim is building a villa at Mt. Myohyang.", "kind": "rumor",
             "source": "dnk-hyesan", "quote": "a villa is going up"},
            {"id": "market-crackdown", "text": "Authorities cracked down on markets in Hyesan.",
             "kind": "event", "occurred": "2019-12", "source": "dnk-hyesan", "quote": "the market was raided"},
        ],
    },
    "kcna-congress": {
        "id": "kcna-congress", "title": "Party congress opens", "publisher": "kcna", "published": "2021-01",
        "claims": [
            {"id": "kim-plan-failed", "text": "Kim said the five-year plan failed its goals.", "kind": "statement",
             "occurred": "2021-01-05", "source": "kcna", "quote": "fell short"},
        ],
    },
    "wire-story": {
        "id": "wire-story", "title": "Kim admits failure", "publisher": "wire", "published": "2021",
        "claims": [
            {"ref": "kim-plan-failed", "source": "rodong", "via": ["kcna"], "quote": "failed"},
            {"ref": "hardship-provinces", "source": "defector-kim", "quote": "we starved"},
            {"id": "sanctions-biting", "text": "Sanctions are cutting imports sharply.", "kind": "assessment",
             "source": "prof-lee", "quote": "imports collapsed"},
            {"ref": "sanctions-biting", "source": "nis", "stance": "denies", "quote": "imports are steady"},
            {"id": "rations-cut", "text": "Rations in Hyesan were cut.", "kind": "observation",
             "source": "wire", "quote": "rations were cut"},
        ],
        "links": [
            {"from": "rations-cut", "to": "market-crackdown", "relation": "corroborates",
             "note": "Same squeeze, two channels."},
        ],
    },
}


def write_seeds(root: pathlib.Path, sources=None, documents=None, reviews=None) -> pathlib.Path:
    """Write a seed tree under ``root`` (documents named by their keys); return its path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "documents").mkdir(exist_ok=True)
    (root / "sources.yml").write_text(yaml.safe_dump(SOURCES if sources is None else sources, sort_keys=False))
    for name, document in (DOCUMENTS if documents is None else documents).items():
        (root / "documents" / f"{name}.yml").write_text(
            yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        )
    if reviews is not None:
        (root / "reviews.yml").write_text(yaml.safe_dump(reviews, sort_keys=False))
    return root


@pytest.fixture
def seeds(tmp_path):
    return write_seeds(tmp_path / "seeds")


@pytest.fixture
def db_path(tmp_path, seeds):
    path = tmp_path / "db" / "tracker.db"
    build(seeds, path)
    return path


@pytest.fixture
def project_seeds(tmp_path):
    """A copy of the project's own seeds/, so tests may write reviews.yml beside it."""
    return pathlib.Path(shutil.copytree(ROOT / "seeds", tmp_path / "project-seeds"))
