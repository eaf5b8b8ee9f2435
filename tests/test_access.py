"""The full database is for the team (SPEC section 6; issue 8): anonymous visitors get
403 (with the sign-in form) on every kind of URL and nothing from the database; readers
read; only reviewers write; the published file stays open to anonymous visitors.
Also: accounts from the environment, signing in returns to the page, the one-time
local sign-in link."""

import re
import urllib.parse

import pytest

from tracker.publish import publish
from tracker.serve import accounts_configured, load_metadata, make_datasette

READER = {"id": "carol", "reader": True}
REVIEWER = {"id": "alice", "reviewer": True}
# Words only the database holds (claim texts, a protected source's name, a quote).
SECRETS = ("Kim is building a villa", "Secret Pyongyang Informant", "things are worse than ever",
           "Hyesan Trader Informant")

# One URL of every kind: table, row, view, canned query (read and write), SQL, JSON, CSV.
URLS = [
    "/tracker",
    "/tracker.json",
    "/tracker/claims",
    "/tracker/claims.json",
    "/tracker/claims.csv",
    "/tracker/claims/villa-rumour",
    "/tracker/claims/villa-rumour.json",
    "/tracker/sources/dnk-pyongyang",
    "/tracker/appearances.json?_shape=array",
    "/tracker/review_events",
    "/tracker/review_queue",
    "/tracker/review_queue.json",
    "/tracker/review_queue.csv",
    "/tracker/claim_provenance",
    "/tracker/source_track_record.json",
    "/tracker/claim_trail?claim_id=villa-rumour",
    "/tracker/claim_trail.json?claim_id=villa-rumour",
    "/tracker/circular_reporting.csv",
    "/tracker/flag_claim",
    "/tracker?sql=select+name+from+sources",
    "/tracker.json?sql=select+name+from+sources",
    "/tracker.csv?sql=select+quote+from+appearances",
    "/tracker/claims?_search=villa",
]
WRITES = ["/tracker/flag_claim"]


def cookie(ds, actor):
    return {"ds_actor": ds.sign({"a": actor}, "actor")}


@pytest.fixture
def ds(db_path, monkeypatch):
    monkeypatch.setenv("TRACKER_REVIEWER_PASSWORD_HASH", fast_hash("pw"))  # an account: the form shows
    datasette = make_datasette(db_path)
    yield datasette
    datasette.databases["tracker"].close()


async def test_anonymous_visitors_get_403_and_nothing_from_the_database(ds):
    # every URL against one database: one build for the whole list
    for url in URLS:
        response = await ds.client.get(url)
        assert response.status_code == 403, (url, response.text[:300])
        for secret in SECRETS:
            assert secret not in response.text, (url, secret)
        if not re.search(r"\.(json|csv)", url):
            assert "<title>Sign in</title>" in response.text, url
            assert 'action="/-/sign-in"' in response.text, url  # the sign-in form, returning here
            assert 'name="next" value="' + url.replace("&", "&amp;") in response.text, url


INSTANCE_URLS = ["/", "/-/databases.json", "/-/versions.json", "/-/plugins.json", "/-/settings.json",
                 "/-/metadata.json"]


async def test_the_instance_pages_say_nothing_to_anonymous_visitors(ds, db_path):
    for url in INSTANCE_URLS:
        response = await ds.client.get(url)
        assert response.status_code == 403, url
        assert str(db_path) not in response.text and db_path.name not in response.text, url
        reader = await ds.client.get(url, cookies=cookie(ds, READER))
        assert reader.status_code == 200, url
    assert 'action="/-/sign-in"' in (await ds.client.get("/")).text
    assert (await ds.client.get("/-/sign-in")).status_code == 200


@pytest.mark.parametrize("actor", [READER, REVIEWER], ids=["reader", "reviewer"])
async def test_readers_and_reviewers_read_every_kind_of_url(ds, actor):
    for url in URLS:
        if url in WRITES:
            continue
        response = await ds.client.get(url, cookies=cookie(ds, actor))
        assert response.status_code == 200, (url, response.text[:300])


async def test_only_reviewers_write(ds, db_path):
    import sqlite3

    def events():
        with sqlite3.connect(db_path) as conn:
            return conn.execute("SELECT actor FROM review_events").fetchall()

    for actor, status in ((None, 403), (READER, 403), ({"id": "root"}, 403), (REVIEWER, 200)):
        cookies = cookie(ds, actor) if actor else {}
        assert (await ds.client.get("/tracker/flag_claim", cookies=cookies)).status_code == status, actor
    # the form route refuses readers too, whatever they send
    response = await ds.client.post("/-/review", data={"claim_id": "villa-rumour", "action": "flag"},
                                    cookies=cookie(ds, READER))
    assert response.status_code == 403
    assert (await ds.client.post("/-/review", data={"claim_id": "villa-rumour", "action": "flag"})).status_code == 403
    assert events() == []


def test_every_writable_query_keeps_its_allow_block():
    queries = load_metadata()["databases"]["tracker"]["queries"]
    writable = [name for name, q in queries.items() if q.get("write")]
    assert writable and all(queries[name]["allow"] == {"reviewer": True} for name in writable)
    database = load_metadata()["databases"]["tracker"]
    assert database["allow"] == database["allow_sql"] == {"reader": True, "reviewer": True}


async def test_the_published_file_stays_open_to_anonymous_visitors(db_path, tmp_path):
    out = tmp_path / "public.db"
    publish(db_path, out)
    ds = make_datasette(out, public=True)
    for url in ("/tracker/claims", "/tracker/claims/villa-rumour", "/tracker/review_queue.json",
                "/tracker/claim_trail?claim_id=villa-rumour", "/tracker.json?sql=select+1"):
        assert (await ds.client.get(url)).status_code == 200, url
    assert (await ds.client.get("/tracker/flag_claim")).status_code == 404
    assert "Sign in" not in (await ds.client.get("/tracker/claims/villa-rumour")).text


def fast_hash(password):
    from datasette_auth_passwords.utils import hash_password

    return hash_password(password, iterations=1000)


async def sign_in(ds, username, password, next_url):
    page = await ds.client.get("/-/sign-in?next=" + urllib.parse.quote(next_url, safe=""))
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
    return await ds.client.post(
        "/-/sign-in", data={"username": username, "password": password, "next": next_url, "csrftoken": token},
        cookies={"ds_csrftoken": page.cookies["ds_csrftoken"]})


async def test_readers_and_reviewers_from_the_environment_sign_in_and_return(db_path, monkeypatch):
    monkeypatch.setenv("TRACKER_READERS", "carol")
    monkeypatch.setenv("TRACKER_REVIEWERS", "alice")
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_CAROL", fast_hash("carol pw"))
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_ALICE", fast_hash("alice pw"))
    monkeypatch.delenv("TRACKER_REVIEWER_PASSWORD_HASH", raising=False)
    metadata = load_metadata()
    assert accounts_configured(metadata)
    ds = make_datasette(db_path, metadata=metadata)
    for username, password, role in (("carol", "carol pw", "reader"), ("alice", "alice pw", "reviewer")):
        response = await sign_in(ds, username, password, "/tracker/claims/villa-rumour")
        assert response.status_code == 302, response.text[:300]
        assert response.headers["location"] == "/tracker/claims/villa-rumour"  # back to the claim
        actor = ds.unsign(response.cookies["ds_actor"], "actor")["a"]
        assert actor == {"id": username, role: True}
    response = await sign_in(ds, "carol", "wrong", "/tracker/claims")
    assert response.status_code == 401 and "ds_actor" not in response.cookies
    assert "Wrong username or password." in response.text
    # next must be a path on this site
    response = await sign_in(ds, "carol", "carol pw", "https://evil.example/")
    assert response.headers["location"] == "/tracker/review_queue"
    # the hashes are not in the metadata anybody can read
    metadata_json = (await ds.client.get("/-/metadata.json")).text
    for name in ("TRACKER_PASSWORD_HASH_CAROL", "TRACKER_PASSWORD_HASH_ALICE"):
        import os

        assert os.environ[name] not in metadata_json


async def test_one_time_sign_in_link_for_a_local_reviewer(db_path, monkeypatch):
    for name in ("TRACKER_READERS", "TRACKER_REVIEWERS", "TRACKER_REVIEWER_PASSWORD_HASH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_ACTOR", "analyst-7")
    monkeypatch.setenv("DATASETTE_SECRET", "a-secret-kept-across-restarts")
    metadata = load_metadata()
    assert not accounts_configured(metadata)
    ds = make_datasette(db_path, metadata=metadata, sign_in_token="a-token-made-at-start")
    assert (await ds.client.get("/-/sign-in?token=wrong")).status_code == 403
    response = await ds.client.get("/-/sign-in?token=a-token-made-at-start&next=/tracker/claims")
    assert response.status_code == 302 and response.headers["location"] == "/tracker/claims"
    actor = ds.unsign(response.cookies["ds_actor"], "actor")["a"]
    assert actor == {"id": "analyst-7", "reviewer": True, "session": ds.tracker_local_session}
    assert (await ds.client.get("/tracker/flag_claim", cookies=response.cookies)).status_code == 200
    # usable once
    again = await ds.client.get("/-/sign-in?token=a-token-made-at-start")
    assert again.status_code == 403 and "ds_actor" not in again.cookies
    # the cookie signs in for this server run only: restarted with the same secret, it is refused
    restarted = make_datasette(db_path, metadata=metadata)
    cookie = {"ds_actor": response.cookies["ds_actor"]}
    assert (await restarted.client.get("/tracker/claims.json", cookies=cookie)).status_code == 403


@pytest.mark.parametrize("team_now, expected", [
    ({"TRACKER_READERS": "carol", "TRACKER_REVIEWERS": "alice"}, {"carol": 200, "alice": 200}),
    ({"TRACKER_READERS": "", "TRACKER_REVIEWERS": ""}, {"carol": 403, "alice": 403}),  # accounts removed
    ({"TRACKER_READERS": "carol,alice", "TRACKER_REVIEWERS": ""}, {"carol": 200, "alice": 403}),  # demoted
    ({"TRACKER_READERS": "carol", "TRACKER_REVIEWERS": "alice", "TRACKER_PASSWORD_HASH_CAROL": ""},
     {"carol": 403, "alice": 200}),  # password hash unset
])
async def test_a_sign_in_counts_only_while_the_account_is_configured(db_path, monkeypatch, team_now, expected):
    """With a fixed DATASETTE_SECRET a cookie outlives a restart: it must not outlive the
    account (SPEC section 6: the full database is for the team as it is now)."""
    monkeypatch.setenv("TRACKER_READERS", "carol")
    monkeypatch.setenv("TRACKER_REVIEWERS", "alice")
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_CAROL", fast_hash("carol pw"))
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_ALICE", fast_hash("alice pw"))
    monkeypatch.setenv("DATASETTE_SECRET", "a-secret-kept-across-restarts")
    ds = make_datasette(db_path)
    cookies = {}
    for username in ("carol", "alice"):
        response = await sign_in(ds, username, username + " pw", "/tracker/claims")
        cookies[username] = {"ds_actor": response.cookies["ds_actor"]}
    for variable, value in team_now.items():
        monkeypatch.setenv(variable, value)
    restarted = make_datasette(db_path)
    for username, status in expected.items():
        response = await restarted.client.get("/tracker/claims.json", cookies=cookies[username])
        assert response.status_code == status, username
    # a reviewer's write needs the reviewer's role now, not the one the cookie was signed with
    page = await restarted.client.get("/tracker/flag_claim", cookies=cookies["alice"])
    assert page.status_code == (200 if "alice" in team_now["TRACKER_REVIEWERS"] else 403)


@pytest.mark.parametrize("next_url", [
    "/\t/evil.example", "/\n/evil.example", "/ /evil.example", "//evil.example", "/\\evil.example",
    "https://evil.example/", "javascript:alert(1)",
])
async def test_sign_in_never_leaves_the_site(db_path, monkeypatch, next_url):
    monkeypatch.setenv("TRACKER_READERS", "carol")
    monkeypatch.setenv("TRACKER_PASSWORD_HASH_CAROL", fast_hash("carol pw"))
    ds = make_datasette(db_path)
    response = await sign_in(ds, "carol", "carol pw", next_url)
    assert response.status_code == 302
    assert response.headers["location"] == "/tracker/review_queue"


def test_serve_prints_the_one_time_link_only_without_accounts(db_path, tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    import time

    from test_browser import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "DATASETTE_"))}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "serve", "--db", str(db_path), "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    link = next((line for line in lines if "/-/sign-in?token=" in line), None)
    assert link, lines
    assert re.search(rf"http://127\.0\.0\.1:{port}/-/sign-in\?token=[\w-]{{30,}}", link)


def test_serve_public_refuses_the_full_database(db_path, tmp_path):
    """--public drops the allow blocks: only a published file may be served that way."""
    from typer.testing import CliRunner

    from tracker.cli import app

    before = db_path.read_bytes()
    result = CliRunner().invoke(app, ["serve", "--db", str(db_path), "--public", "--port", "1"])
    assert result.exit_code == 1
    assert "is the full database" in result.output and "tracker publish" in result.output
    assert db_path.read_bytes() == before


async def test_errors_leave_no_cookie_or_locals_in_the_server_log(db_path, capfd):
    """A visitor's error (a page that does not exist, a bad page size) is not logged with
    the frames' local variables: those hold the request and its sign-in cookie."""
    ds = make_datasette(db_path)
    cookie = ds.sign({"a": {"id": "carol", "reader": True}}, "actor")
    await ds.invoke_startup()
    for path in ("/tracker/no_such_table", "/tracker/claims.json?_size=-1"):
        response = await ds.client.get(path, cookies={"ds_actor": cookie})
        assert response.status_code in (400, 404), path
    logged = capfd.readouterr()
    assert cookie not in logged.out + logged.err
    assert "locals" not in (logged.out + logged.err).lower()
