"""The reviewer's form on a claim page, as a route that checks what it is given.

POST /-/review (claim_id, action, note, credibility[, confirm]) records the decision
through tracker.review.record, the same code the terminal uses, and redirects: back to
the claim after a flag or a note, to the next claim in the queue after an accept or a
reject, with a message naming the claim. A pair decision (link, unlink, dismiss: the
claim page's suggestions and reviewer's links) also gives other_claim_id and, for a
link, relation; it returns to the claim, saying what both claims are now. A bad value comes back as a sentence on a
page whose form is still filled in; a reject first asks for confirmation. The canned
queries (flag_claim, ...) stay for API clients.
"""

from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

from ..vocabulary import PAIR_ACTIONS, RELATIONS

# The review form's buttons (PAIR_ACTIONS come from the claim page's suggestions and links).
ACTIONS = {"flag": "Flag", "accept": "Accept", "reject": "Reject", "note": "Note"}

CREDIBILITY = {1: "confirmed", 2: "probably true", 3: "possibly true", 4: "doubtful", 5: "improbable",
               6: "cannot be judged"}
NOTE_LIMIT = 10_000

CLAIM = "SELECT id, text, status, admiralty FROM claims WHERE id = :claim_id"
# The first claim of the queue in its default order, other than the one just decided.
NEXT_IN_QUEUE = "SELECT id FROM review_queue WHERE id != :claim_id LIMIT 1"
LINKED = """
SELECT count(*) FROM (SELECT to_claim_id FROM links WHERE from_claim_id = :claim_id
                      UNION SELECT from_claim_id FROM links WHERE to_claim_id = :claim_id)
"""


PAIR_DONE = {"link": "Link recorded: {claim} {relation} {other}.", "unlink": "Link withdrawn between {claim} and {other}.",
             "dismiss": "Suggestion dismissed: {claim} and {other} will not be suggested again."}
async def pair_message(db, values) -> str:
    """What a pair decision did, with both claims' status and rating as they are now."""
    message = PAIR_DONE[values["action"]].format(claim=values["claim_id"], other=values["other_claim_id"],
                                                 relation=values["relation"])
    if values["action"] == "dismiss":
        return message
    from ..review import PAIR_NOW

    now = (await db.execute(PAIR_NOW, values)).rows
    return message + " Now: " + "; ".join(f"{row['id']} {row['status']} {row['admiralty']}" for row in now) + "."


def is_reviewer(request, db) -> bool:
    return bool((request.actor or {}).get("reviewer")) and db.is_mutable


async def review_page(datasette, request, form, claim=None, errors=(), confirm=False, linked=0, status=200):
    return Response.html(
        await datasette.render_template(
            "tracker-review.html",
            {"form": form, "claim": claim, "errors": list(errors), "confirm": confirm, "linked": linked,
             "actions": ACTIONS, "credibility_choices": CREDIBILITY},
            request=request,
        ),
        status=status,
    )


def check(form) -> tuple[dict, list]:
    """The form's values, cleaned, and the problems with them (sentences)."""
    errors = []
    claim_id = (form.get("claim_id") or "").strip()
    other_claim_id = (form.get("other_claim_id") or "").strip() or None
    relation = form.get("relation") or None
    action = form.get("action") or ""
    note = (form.get("note") or "").strip() or None
    credibility = (form.get("credibility") or "").strip()
    if not claim_id:
        errors.append("Say which claim: the claim id is empty.")
    if action not in ACTIONS and action not in PAIR_ACTIONS:
        errors.append(f"Choose flag, accept, reject or note (not '{action[:40]}').")
    if action in PAIR_ACTIONS:
        if other_claim_id is None:
            errors.append(f"Say which other claim to {action}: the other claim id is empty.")
        if action == "link" and relation not in RELATIONS:
            errors.append(f"Choose how the claims relate: corroborates or contradicts (not '{(relation or '')[:40]}').")
    else:
        other_claim_id = relation = None
    if action != "link":
        relation = None
    if credibility:
        if credibility.isdigit() and int(credibility) in CREDIBILITY:
            credibility = int(credibility)
        else:
            errors.append(f"Credibility must be a digit from 1 (confirmed) to 6 (cannot be judged), "
                          f"not '{credibility[:40]}'.")
    else:
        credibility = None
    if action in PAIR_ACTIONS:
        credibility = None  # a pair decision rates neither claim
    if note and len(note) > NOTE_LIMIT:
        errors.append(f"The note is {len(note):,} characters long; keep it under {NOTE_LIMIT:,}.")
    return {"claim_id": claim_id, "action": action, "note": note, "credibility": credibility,
            "other_claim_id": other_claim_id, "relation": relation}, errors


async def review(request, datasette):
    db = datasette.get_database("tracker")
    if not is_reviewer(request, db):
        return Response.html(
            await datasette.render_template(
                "error.html", {"title": "Forbidden", "error": "Only signed-in reviewers record decisions."},
                request=request),
            status=403,
        )
    if request.method != "POST":
        # the form on its own (a claim id may be given), nothing checked yet
        form = {key: request.args.get(key) for key in ("claim_id", "action", "note", "credibility")}
        row = (await db.execute(CLAIM, {"claim_id": form["claim_id"] or ""})).first()
        return await review_page(datasette, request, {k: v or "" for k, v in form.items()},
                                 dict(row) if row else None)
    form = await request.post_vars()
    values, errors = check(form)
    shown = {**form, "credibility": form.get("credibility") or ""}
    claim = None
    if values["claim_id"]:
        row = (await db.execute(CLAIM, {"claim_id": values["claim_id"]})).first()
        claim = dict(row) if row else None
        if claim is None:
            errors.insert(0, f"There is no claim '{values['claim_id'][:80]}': check the id "
                             "(it is the last part of a claim page's address).")
    if errors:
        return await review_page(datasette, request, shown, claim, errors, status=400)
    if values["action"] == "reject" and form.get("confirm") != "yes":
        linked = (await db.execute(LINKED, {"claim_id": values["claim_id"]})).rows[0][0]
        return await review_page(datasette, request, shown, claim, confirm=True, linked=linked)

    actor = request.actor["id"]

    def write(conn):
        import sqlite_utils

        from ..review import record

        return record(sqlite_utils.Database(conn), values["claim_id"], values["action"], actor,
                      values["note"], values["credibility"], values["other_claim_id"], values["relation"])

    try:
        await db.execute_write_fn(write)
    except Exception as e:  # noqa: BLE001 - shown to the reviewer as a sentence, the form kept
        return await review_page(datasette, request, shown, claim,
                                 [f"The decision was not recorded: {e}"], status=400)

    claim_url = datasette.urls.row("tracker", "claims", tilde_encode(values["claim_id"]))
    if values["action"] in PAIR_ACTIONS:
        datasette.add_message(request, await pair_message(db, values), datasette.INFO)
        return Response.redirect(claim_url)
    message = f"{ACTIONS[values['action']]} recorded for claim {values['claim_id']}: “{claim['text'][:100]}”."
    target = claim_url
    if values["action"] in ("accept", "reject"):
        row = (await db.execute(NEXT_IN_QUEUE, {"claim_id": values["claim_id"]})).first()
        if row:
            target = datasette.urls.row("tracker", "claims", tilde_encode(row[0]))
            message += f" Next in the review queue: {row[0]}."
        else:
            target = datasette.urls.table("tracker", "review_queue")
            message += " The review queue is empty."
    datasette.add_message(request, message, datasette.INFO)
    return Response.redirect(target)
