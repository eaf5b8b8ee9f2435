"""Text, date and slug rules shared by every ingest format.

A text is stored normalised, so that the same article read from two streams hashes the
same and quotes copied from it match verbatim: Unicode NFC, one paragraph per block
separated by a blank line, runs of spaces and tabs inside a paragraph made one space,
control characters dropped, and a final newline.
"""

import datetime
import hashlib
import re
import unicodedata

try:
    import zoneinfo

    PYONGYANG = zoneinfo.ZoneInfo("Asia/Pyongyang")
except Exception:  # no time-zone database: Pyongyang has been UTC+9 since May 2018
    PYONGYANG = datetime.timezone(datetime.timedelta(hours=9), "Asia/Pyongyang")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
# runs of spaces, and any tab or odd space (a class matching single spaces would rewrite
# every space of the text: seven times slower)
_SPACES = re.compile(r"[ \t\u00a0\u3000]{2,}|[\t\u00a0\u3000]")
_WORDS = re.compile(r"[a-z0-9]+")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

SLUG_WORDS_MAX_CHARS = 60


def normalise_text(text: str) -> str:
    """Free text (lines are paragraphs; blank lines allowed) -> the stored form.

    Whole-text passes rather than one per paragraph: this runs on every article.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _SPACES.sub(" ", _CONTROL.sub("", text))
    paragraphs = [p.strip() for p in text.split("\n")]
    return "\n\n".join(p for p in paragraphs if p) + "\n" if any(paragraphs) else ""


def paragraphs_to_text(paragraphs) -> str:
    """Paragraphs -> the stored form: each cleaned, empty ones dropped, blank line between."""
    return normalise_text("\n".join(p.replace("\n", " ") for p in paragraphs))


# The 2011-2012 collection joined an R vector of paragraphs and empty strings with
# ", " (paste(collapse = ", ")): "first., ,  Second:, ,  Third" and a tail of ", , , ".
# Two commas with only spaces between never occur in KCNA's prose, so that is the break.
_JOINED_PARAGRAPHS = re.compile(r",\s*,(?:\s*,)*")


def split_joined_paragraphs(story: str) -> list:
    return _JOINED_PARAGRAPHS.split(story)


def clean_title(title: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub("", unicodedata.normalize("NFC", " ".join(title.split())))).strip()


def title_from_text(text: str, words: int = 12) -> str:
    """A stand-in title for a record without one: the opening words of its first paragraph."""
    first = text.split("\n", 1)[0].split()
    return " ".join(first[:words]) + (" ..." if len(first) > words else "")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


_NOT_ALNUM = None


def near_key(text: str) -> str:
    """Equal for texts with the same words, whatever their case, spacing and punctuation."""
    global _NOT_ALNUM
    if _NOT_ALNUM is None:  # str.translate: five times faster than a regex on every article
        _NOT_ALNUM = dict.fromkeys(c for c in range(0x10000) if not chr(c).isalnum())
    return hashlib.blake2b(text.casefold().translate(_NOT_ALNUM).encode("utf-8"), digest_size=16).hexdigest()


def title_key(title: str) -> str:
    return " ".join(_WORDS.findall(_ascii(title).lower()))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slug_words(title: str) -> str:
    """The headline's words as a slug part, cut at a word boundary."""
    words, length = [], 0
    for word in _WORDS.findall(_ascii(title).lower()):
        if words and length + 1 + len(word) > SLUG_WORDS_MAX_CHARS:
            break
        words.append(word[:SLUG_WORDS_MAX_CHARS])
        length += len(word) + (1 if len(words) > 1 else 0)
    return "-".join(words) or "untitled"


def kcna_day(milliseconds) -> str:
    """A KCNA ``date`` (milliseconds since the epoch) -> the Pyongyang calendar day.

    The 2024 collection stores UTC midnight of the day its ``date_str`` names. Read in
    Pyongyang time (UTC+9, UTC+8:30 from 2015-08-15 to 2018-05-04) that instant is
    09:00 (08:30) of the same day, so the reading is right for it, and also for a
    stream that stores Pyongyang midnight (15:00 UTC the day before), where reading
    in UTC would give the wrong day.
    """
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, (int, float)):
        raise ValueError(f"{milliseconds!r} is not a date: expected milliseconds since 1970 (a number)")
    try:
        moment = datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{milliseconds!r} is not a date: milliseconds out of range") from None
    if not 1945 <= moment.year <= 2100:
        raise ValueError(f"{milliseconds!r} is not a plausible date ({moment.date().isoformat()} UTC)")
    return moment.astimezone(PYONGYANG).date().isoformat()


def iso_day(value) -> str:
    """'YYYY-MM-DD' checked to be a real calendar day."""
    if not isinstance(value, str) or not _ISO_DAY.match(value.strip()):
        raise ValueError(f"{value!r} is not a date: expected YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a real calendar date") from None
