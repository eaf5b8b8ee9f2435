"""The reviewer's form (/-/review, issue 9 item 7): a decision returns to the claim or to
the next queued claim with a message naming the claim; bad values come back as a
sentence with the form still filled in, never SQL; a reject asks for confirmation."""

import html
import re
import sqlite3

import pytest

from tracker.serve import make_datasette

REVIEWER = {"id": "alice", "reviewer": True}


class Reviewer:
    def __init__(self, ds):
        self.ds = ds
        self.cookies = {"ds_actor": ds.sign({"a": REVIEWER}, "actor")}

    async def post(self, **form):
        page = await self.ds.client.get("/-/review", cookies=self.cookies)
        assert page.status_code == 200, page.text[:300]
        self.cookies["ds_csrftoken"] = page.cookies.get("ds_csrftoken", self.cookies.get("ds_csrftoken"))
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        return await self.ds.client.post("/-/review", data={**form, "csrftoken": token}, cookies=self.cookies)

    def message(self, response):
        return " ".join(m for m, _ in self.ds.unsign(response.cookies["ds_messages"], "messages"))


@pytest.fixture
def reviewer(db_path):
    ds = make_datasette(db_path)
    yield Reviewer(ds)
    ds.databases["tracker"].close()


def events(db_path):
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT claim_id, action, actor, note, credibility FROM review_events").fetchall()


@pytest.mark.parametrize("form, sentence", [
    ({"claim_id": "villa-rumour", "action": "flag", "credibility": "9"},
     "Credibility must be a digit from 1 (confirmed) to 6 (cannot be judged), not '9'."),
    ({"claim_id": "villa-rumour", "action": "accept", "credibility": "two"},
     "Credibility must be a digit from 1 (confirmed) to 6 (cannot be judged), not 'two'."),
    ({"claim_id": "no-such-claim", "action": "flag"}, "There is no claim 'no-such-claim'"),
    ({"claim_id": "", "action": "flag"}, "Say which claim: the claim id is empty."),
    ({"claim_id": "villa-rumour", "action": "delete"}, "Choose flag, accept, reject or note (not 'delete')."),
])
async def test_bad_values_come_back_as_a_sentence_with_the_form_filled(reviewer, db_path, form, sentence):
    form = {"note": "Checked the Seoul desk <b>notes</b>", **form}
    response = await reviewer.post(**form)
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert sentence in text
    for leak in ("INSERT", "CHECK constraint", "sqlite", "Traceback"):
        assert leak not in text
    # the form is still filled in (the note escaped, as text)
    assert "Checked the Seoul desk &lt;b&gt;notes&lt;/b&gt;</textarea>" in response.text
    assert f'name="claim_id" value="{form["claim_id"]}"' in response.text
    assert events(db_path) == []


async def test_a_flag_returns_to_the_claim_with_a_message_naming_it(reviewer, db_path):
    response = await reviewer.post(claim_id="hardship-provinces", action="flag", note="timeline?", credibility="")
    assert response.status_code == 302
    assert response.headers["location"] == "/tracker/claims/hardship-provinces"
    assert reviewer.message(response).startswith(
        "Flag recorded for claim hardship-provinces: “Living conditions in the provinces worsened in 2019.”")
    assert events(db_path) == [("hardship-provinces", "flag", "alice", "timeline?", None)]


async def test_an_accept_goes_on_to_the_next_claim_in_the_queue(reviewer, db_path):
    # the queue's order: contested (sanctions-biting), circular (kim-plan-failed), uncorroborated (villa-rumour)
    response = await reviewer.post(claim_id="sanctions-biting", action="accept", credibility="3", note="")
    assert response.status_code == 302
    assert response.headers["location"] == "/tracker/claims/kim-plan-failed"
    assert "Accept recorded for claim sanctions-biting" in reviewer.message(response)
    assert "Next in the review queue: kim-plan-failed." in reviewer.message(response)
    assert events(db_path) == [("sanctions-biting", "accept", "alice", None, 3)]


async def test_a_reject_asks_for_confirmation_first(reviewer, db_path):
    response = await reviewer.post(claim_id="rations-cut", action="reject", note="retracted", credibility="")
    assert response.status_code == 200
    assert "Reject this claim?" in response.text and "the 1 claim linked to it recompute" in response.text
    assert 'name="confirm" value="yes"' in response.text and 'value="retracted"' in response.text
    assert events(db_path) == []
    response = await reviewer.post(claim_id="rations-cut", action="reject", note="retracted", credibility="",
                                   confirm="yes")
    assert response.status_code == 302
    assert "Reject recorded for claim rations-cut" in reviewer.message(response)
    assert events(db_path) == [("rations-cut", "reject", "alice", "retracted", None)]
