"""schema.org ClaimReview (JSON-LD), one per claim, in the shape of Google's fact-check
structured data and schema.org's ClaimReview, Claim and Rating (README, "Exports").

Everything comes from a public database (tracker/export/public.py): a protected source
is only ever its pseudonym here.
"""

from __future__ import annotations

import datetime
import json
from urllib.parse import quote

CONTEXT = "https://schema.org"

# Admiralty information credibility (SPEC section 5): 1 is the best rating, 6 the worst.
CREDIBILITY = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "truth cannot be judged",
}
BEST_RATING, WORST_RATING = 1, 6

# Source types whose sources are people; the others are organisations.
PERSON_TYPES = {"informant", "defector", "academic"}

REVIEW_STATES = {"accept": "accepted by a reviewer", "reject": "rejected by a reviewer",
                 "flag": "flagged by a reviewer"}


class Site:
    """Where the tracker is published: the base of every URL and @id, and its name."""

    def __init__(self, base_url: str, organization: str):
        self.base = base_url.rstrip("/")
        self.organization = organization

    def row(self, table: str, key: str) -> str:
        return f"{self.base}/tracker/{table}/{quote(str(key), safe='')}"


def origins(n: int | None) -> str:
    n = n or 0
    return f"{n} independent origin{'' if n == 1 else 's'}"


def status_in_words(claim) -> str:
    status = claim.status
    if status == "corroborated":
        return f"corroborated by {origins(claim.support_groups)}"
    if status == "circular":
        n = claim.support_appearances
        return f"circular: {n} appearances lead back to one origin" if n else "circular: every path leads to one origin"
    if status == "uncorroborated":
        return "uncorroborated: a single appearance"
    if status == "contested":
        return f"contested by {origins(claim.opposition_groups)}, supported by {origins(claim.support_groups)}"
    return status or "not rated"


def explanation(claim) -> str:
    parts = [f"Admiralty code {claim.admiralty}: best source reliability {claim.best_reliability} among the "
             f"supporting origins; credibility {claim.credibility} ({CREDIBILITY.get(claim.credibility, 'unknown')}) "
             f"{'set by a reviewer' if claim.credibility_by == 'reviewer' else 'suggested by the rules'}."]
    parts.append(f"Status: {status_in_words(claim)}.")
    decision = (claim.review_state or "").split(" ")[0]
    if decision in REVIEW_STATES:
        stale = " (before the evidence last changed)" if "stale" in (claim.review_state or "") else ""
        parts.append(f"{REVIEW_STATES[decision].capitalize()}{stale}.")
    return " ".join(parts)


def party(source: dict, site: Site) -> dict:
    """A source as a schema.org Person or Organization (a pseudonym for a protected one)."""
    node = {
        "@type": "Person" if source["type"] in PERSON_TYPES else "Organization",
        "@id": site.row("sources", source["id"]),
        "name": source["name"],
    }
    if source.get("url"):
        node["sameAs"] = source["url"]
    return node


def creative_work(appearance, sources: dict, site: Site) -> dict:
    work = {
        "@type": "CreativeWork",
        "@id": site.row("documents", appearance.document_id),
        "headline": appearance.title,
        "name": appearance.title,
        "datePublished": appearance.published,  # at its recorded precision: YYYY, YYYY-MM or YYYY-MM-DD
        "publisher": party(sources[appearance.publisher_id], site),
    }
    if appearance.url:
        work["url"] = appearance.url
    if appearance.authors:
        work["author"] = [{"@type": "Person", "name": name} for name in appearance.authors]
    return work


def claim_review(claim, sources: dict, site: Site, today: str) -> dict:
    page = site.row("claims", claim.id)
    works, seen = [], set()
    for appearance in claim.appearances:  # in order of publication
        if appearance.document_id not in seen:
            seen.add(appearance.document_id)
            works.append(creative_work(appearance, sources, site))
    item = {
        "@type": "Claim",
        "@id": page,
        "text": claim.text,
        "author": party(sources[claim.origin_id], site),
    }
    if claim.first_seen:
        item["datePublished"] = claim.first_seen
    if works:
        item["appearance"] = works
        item["firstAppearance"] = works[0]
    rating = {
        "@type": "Rating",
        "bestRating": BEST_RATING,
        "worstRating": WORST_RATING,
        "alternateName": f"{claim.admiralty}, {status_in_words(claim)}",
        "ratingExplanation": explanation(claim),
    }
    if claim.credibility is not None:
        rating["ratingValue"] = claim.credibility
        rating["name"] = CREDIBILITY[claim.credibility]
    # the review is as of the latest public decision on the claim, or of this export
    decided = [r["created_at"][:10] for r in claim.reviews if r["action"] != "note"]
    return {
        "@type": "ClaimReview",
        "@id": page + "#claimreview",
        "url": page,
        "claimReviewed": claim.text,
        "itemReviewed": item,
        "author": {"@type": "Organization", "@id": site.base + "/", "name": site.organization, "url": site.base + "/"},
        "datePublished": max(decided) if decided else today,
        "reviewRating": rating,
    }


def pieces(claims, sources: dict, site: Site, today: str | None = None):
    """One JSON-LD document, every claim's ClaimReview in its @graph, as pieces of text
    written one claim at a time (memory stays flat however many claims there are)."""
    today = today or datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    yield '{\n  "@context": ' + json.dumps(CONTEXT) + ',\n  "@graph": ['
    separator = "\n"
    for claim in claims:
        node = json.dumps(claim_review(claim, sources, site, today), ensure_ascii=False, indent=2)
        yield separator + "    " + node.replace("\n", "\n    ")
        separator = ",\n"
    yield "\n  ]\n}\n"
