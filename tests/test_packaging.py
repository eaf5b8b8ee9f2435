"""A normal (non-editable) install: the wheel carries metadata.yml, the SQL, the templates
and the shipped models, and `tracker serve` from it serves the canned queries."""

import json
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, write_seeds

# Run from the installed copy only: a folder outside the project, the wheel's files first.
SERVE_FROM_WHEEL = """
import asyncio, json, sys
import tracker
from tracker.build import build
from tracker.serve import make_datasette

async def main():
    ds = make_datasette(sys.argv[1])
    cookie = ds.sign({"a": {"id": "alice", "reviewer": True}}, "actor")  # an account of conftest.TEAM
    response = await ds.client.get("/tracker/claim_trail.json?claim_id=villa-rumour&_shape=array",
                                   cookies={"ds_actor": cookie})
    queries = sorted(ds.metadata("queries", database="tracker") or {})
    print(json.dumps({"file": tracker.__file__, "status": response.status_code, "queries": queries}))

build(sys.argv[2], sys.argv[1])
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(folder), str(ROOT)], check=True, cwd=folder, capture_output=True)
    (path,) = folder.glob("tracker-*.whl")
    return path


def test_the_wheel_carries_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"tracker/metadata.yml", "tracker/schema.sql", "tracker/analysis.sql", "tracker/views.sql",
            "tracker/plugin/templates/row-tracker-claims.html"} <= names


def test_an_installed_wheel_serves_its_canned_queries(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    seeds = write_seeds(tmp_path / "seeds")
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", SERVE_FROM_WHEEL, str(tmp_path / "t.db"), str(seeds)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert pathlib.Path(report["file"]).is_relative_to(target)  # not the project's own folder
    assert {"claim_trail", "flag_claim", "accept_claim", "reject_claim", "note_claim"} <= set(report["queries"])
    assert report["status"] == 200
