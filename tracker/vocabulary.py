"""The seed formats' vocabulary that needs no pydantic (SPEC section 3): source types,
kinds, actions, and the small helpers messages and rows use.

Apart from ``models.py`` because importing pydantic and building the models is most of
the start-up of a rebuild, and a rebuild with nothing changed validates nothing.
"""

import enum
import re
import reprlib


class SourceType(str, enum.Enum):
    state_media = "state_media"
    informant = "informant"
    defector = "defector"
    academic = "academic"
    news_outlet = "news_outlet"
    imagery = "imagery"
    government = "government"
    analyst = "analyst"
    other = "other"


SOURCE_TYPE_MEANINGS = {
    "state_media": "DPRK state media: KCNA, Rodong Sinmun, KCTV, Uriminzokkiri",
    "informant": "anonymous in-country sources relayed by an outlet (e.g. Daily NK sources)",
    "defector": "testimony of people who left the DPRK, named or not",
    "academic": "academic or think-tank commentary and analysis",
    "news_outlet": "a newspaper, wire or site reporting or relaying (Bloomberg, AFP, The Straits Times)",
    "imagery": "satellite or photo imagery analysis (e.g. 38 North, NK News imagery)",
    "government": "statements of foreign governments and their agencies (e.g. South Korea's NIS)",
    "analyst": "commercial or financial research (e.g. ratings agencies)",
    "other": "anything else; say what in the source's notes",
}

KINDS = ("event", "statement", "figure", "observation", "assessment", "rumor")
ACTIONS = ("flag", "accept", "reject", "note", "link", "unlink", "dismiss")
# Decisions about a pair of claims: they name the other claim (SPEC section 6).
PAIR_ACTIONS = ("link", "unlink", "dismiss")
RELATIONS = ("corroborates", "contradicts")

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


_SHORT = reprlib.Repr()
_SHORT.maxstring = 120
_SHORT.maxother = 120
_SHORT.maxlist = _SHORT.maxdict = 6
_SHORT.maxlevel = 2


def shorten(value) -> str:
    """repr() of a value from a seed file, bounded: messages never format unbounded input."""
    return _SHORT.repr(value)


def first_day(value: str) -> str:
    """The first possible day of a partial date: '2024' -> '2024-01-01'."""
    year, month, day = _PARTIAL_DATE.match(value).groups()
    return f"{year}-{month or '01'}-{day or '01'}"
