"""The seed file formats of SPEC section 3, as pydantic models.

Each model checks what can be checked of one entry on its own; rules that need the
whole seed tree (unknown ids, duplicate links) live in ``seeds.py``.
"""

import calendar
import datetime
import os
import urllib.parse
from typing import Annotated, Literal, Optional

# pydantic looks for plugins in the entry points of every installed distribution when a
# model is first built (10 ms of each command that validates a seed file); the tracker
# uses none. Set before pydantic is imported; a PYDANTIC_DISABLE_PLUGINS already set wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import (  # noqa: E402
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

# The names without pydantic (what the command line and an unchanged rebuild need),
# kept importable from here.
from .vocabulary import (  # noqa: F401
    _PARTIAL_DATE,
    _UTC_TIME,
    ACTIONS,
    KINDS,
    PAIR_ACTIONS,
    RELATIONS,
    SOURCE_TYPE_MEANINGS,
    SourceType,
    first_day,
    shorten,
)


def _partial_date(value):
    # YAML reads an unquoted 2024 as an int; a year is still a valid partial date.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{shorten(value)} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    match = _PARTIAL_DATE.match(value)
    if not match:
        raise ValueError(f"{shorten(value)} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    if month and not 1 <= int(month) <= 12:
        raise ValueError(f"{shorten(value)} has no month {month}")
    if day and not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        raise ValueError(f"{shorten(value)} is not a real calendar date")
    return value


def _web_url(value):
    # A url is shown as a link on every page: only http(s), never javascript: or data:.
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{shorten(value)} is not an http or https address")
    return value


def _utc_time(value):
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(value, str) or not _UTC_TIME.match(value):
        raise ValueError(f"{shorten(value)} is not a UTC time; write YYYY-MM-DDTHH:MM:SSZ")
    try:
        datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ValueError(f"{shorten(value)} is not a real date and time") from None
    return value


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$"),
]
PartialDate = Annotated[str, BeforeValidator(_partial_date)]
UtcTime = Annotated[str, BeforeValidator(_utc_time)]
WebUrl = Annotated[str, AfterValidator(_web_url)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(Strict):
    id: Slug
    name: Text
    type: SourceType
    reliability: Literal["A", "B", "C", "D", "E", "F"] = "F"
    group: Optional[Slug] = None
    outlet: Optional[Slug] = None
    url: Optional[WebUrl] = None
    notes: Optional[str] = None
    sensitivity: Literal["public", "protected"] = "public"
    # Other names texts use for the source ("KCNA", "the Korean Central News Agency"):
    # ingest picks publishers by them, drafting recognises origins by them.
    aliases: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _outlet_for_informants(self):
        if self.type == SourceType.informant and not self.outlet:
            raise ValueError(
                "an informant needs 'outlet': the source id of the outlet that relays it"
            )
        return self

    @property
    def independence_group(self) -> str:
        if self.group:
            return self.group
        if self.type == SourceType.informant:
            return f"outlet:{self.outlet}"
        return self.id


class Appearance(Strict):
    """One entry of a document's ``claims``: a new claim (id + text) or a ``ref``."""

    id: Optional[Slug] = None
    ref: Optional[Slug] = None
    text: Optional[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]] = None
    kind: Optional[Literal[KINDS]] = None
    occurred: Optional[PartialDate] = None
    tags: list[Slug] = Field(default_factory=list)
    source: Slug
    via: list[Slug] = Field(default_factory=list)
    quote: Optional[Annotated[str, StringConstraints(min_length=1)]] = None
    stance: Literal["asserts", "denies"] = "asserts"
    # Proposed by `tracker draft`, not yet confirmed: checked like any other entry but
    # counts for nothing (SPEC sections 3 and 4) until the analyst removes the mark.
    draft: bool = False

    @model_validator(mode="after")
    def _new_claim_or_ref(self):
        if self.id and self.ref:
            raise ValueError("give either 'id' (a new claim) or 'ref' (another appearance), not both")
        if not self.id and not self.ref:
            raise ValueError("give 'id' and 'text' for a new claim, or 'ref' for an appearance of a claim defined elsewhere")
        if self.id and not self.text:
            raise ValueError(f"new claim {self.id!r} needs 'text'")
        if self.ref:
            extra = [f for f in ("text", "kind", "occurred") if getattr(self, f)] + (["tags"] if self.tags else [])
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} belong to the claim's definition, not to a 'ref' appearance"
                )
        return self

    @property
    def claim_id(self) -> str:
        return self.id or self.ref


class Link(Strict):
    from_: Slug = Field(alias="from")
    to: Slug
    relation: Literal[RELATIONS]
    note: Optional[str] = None

    @model_validator(mode="after")
    def _not_to_itself(self):
        if self.from_ == self.to:
            raise ValueError(f"a link from claim {self.to!r} to itself")
        return self


class Document(Strict):
    id: Slug
    title: Text
    publisher: Slug
    authors: list[Text] = Field(default_factory=list)
    published: PartialDate
    url: Optional[WebUrl] = None
    text: Optional[str] = None
    sha256: Optional[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]] = None
    notes: Optional[str] = None
    claims: list[Appearance] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)


class Review(Strict):
    id: Optional[Annotated[str, StringConstraints(min_length=1)]] = None
    claim: Slug
    action: Literal[ACTIONS]
    actor: Text
    note: Optional[str] = None
    credibility: Optional[Annotated[int, Field(ge=1, le=6)]] = None
    evidence: Optional[str] = None
    at: UtcTime
    other: Optional[Slug] = None
    relation: Optional[Literal[RELATIONS]] = None

    @model_validator(mode="after")
    def _pair(self):
        if self.action in PAIR_ACTIONS and self.other is None:
            raise ValueError(f"a {self.action} names the other claim: add other: <claim id>")
        if self.action not in PAIR_ACTIONS and self.other is not None:
            raise ValueError(f"a {self.action} is about one claim: remove other:")
        if self.action == "link" and self.relation is None:
            raise ValueError("a link says how the claims relate: add relation: corroborates or contradicts")
        if self.action != "link" and self.relation is not None:
            raise ValueError(f"only a link has a relation: remove relation: from this {self.action}")
        if self.action in PAIR_ACTIONS and self.credibility is not None:
            raise ValueError(f"a {self.action} rates neither claim: remove credibility:")
        if self.other is not None and self.other == self.claim:
            raise ValueError(f"a {self.action} of claim {self.claim!r} with itself: name two different claims")
        return self
