"""Date normal form: ISO 8601, read from what a page prints or declares, never guessed.

A date alone stays a date (``2018-10-18``); a datetime keeps its offset.  A datetime without
an offset is reduced to its date: the site's time zone is unknown, and the printed day is
what the site said.  A numeric date whose day and month could be swapped (``05/06/2018``) is
read only when the site's profile gives its ``date_order``; so is one with a two-digit year
(``26.07.21``).  Relative dates ("yesterday", "3 days ago") are never read: they depend on when
the page was fetched.  A text that holds a date among other words ("Johannesburg, 24 August
2012: ...") gives the first complete date found in it.  ``reader_day`` puts a declared UTC
instant on the day the page prints beside it for its readers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

ISO_LIKE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
NUMERIC = re.compile(r"^\s*(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{2,4})"
                     r"(?:,?\s+(?:at\s+)?\d{1,2}[:.h]\d{2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?)?\s*$",
                     re.I)
COMPACT_ISO = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?)?"
                         r"(Z|[+-]\d{2}:?\d{2})?$")
WORD = r"[^\W\d_]+\.?"
DATE_IN_TEXT = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\b\d{1,2}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{2,4}\b"
    r"|\b\d{4}[./]\d{1,2}[./]\d{1,2}\b"
    rf"|\b\d{{1,2}}\.?\s+(?:de\s+)?{WORD}\s+(?:de\s+)?\d{{4}}\b"
    rf"|\b{WORD}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b\d{{4}}\s+(?:{WORD}\s+)?\d{{1,2}}\s+{WORD}")
NAME = re.compile(r"(?!(?:UTC|GMT|[A-Z]{2,4}T)\b)[^\W\d_]{3,}")  # a month or day name
HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
HAS_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2}|\b(UTC|GMT)\b)\s*$")
NOISE = re.compile(r"^\s*(posted|published|updated|date|on|опубликовано|дата)\b[\s:]*", re.I)


def _iso(value: datetime, has_time: bool, has_offset: bool) -> str:
    if has_time and has_offset and value.tzinfo is not None:
        return value.isoformat()
    return value.date().isoformat()


def _from_iso(text: str) -> str | None:
    compact = COMPACT_ISO.match(text)
    if compact:  # 20201123T11:02:35Z, 20201123
        year, month, day, hour, minute, second, zone = compact.groups()
        text = f"{year}-{month}-{day}" + (
            f"T{hour}:{minute}:{second or '00'}{zone or ''}" if hour else "")
    if not ISO_LIKE.match(text):
        return None
    try:
        value = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return _iso(value, "T" in text or " " in text, value.tzinfo is not None)


RFC_822 = re.compile(r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+"
                    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+"
                    r"\d{1,2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|GMT|UTC)")


def _from_rfc_822(text: str) -> str | None:
    """A feed's date (``Fri, 17 Nov 2023 02:35:00 +0000``), read by the standard library as
    dateparser reads it, without its start-up (half a second) and its millisecond a date."""
    if not RFC_822.fullmatch(text) or text.endswith("-0000"):  # -0000: no zone known
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None or not date(1900, 1, 1) <= value.date() <= date(2100, 1, 1):
        return None
    return value.isoformat()


def _ambiguous(text: str, order: str | None) -> bool:
    match = NUMERIC.match(text)
    if not match or order:
        return False
    first, second = int(match.group(1)), int(match.group(2))
    return len(match.group(3)) < 4 or (first <= 12 and second <= 12 and first != second)


@lru_cache(maxsize=8)
def _settings(order: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "STRICT_PARSING": True,
        "REQUIRE_PARTS": ["day", "month", "year"],
        "PREFER_DATES_FROM": "past",
        "PARSERS": ["custom-formats", "absolute-time"],  # no relative dates, no timestamps
    }
    if order:
        settings["DATE_ORDER"] = order
    return settings


def parse_date(raw: str | None, languages: Sequence[str] = (),
               order: str | None = None) -> str | None:
    """ISO 8601 for a date as printed or declared, or None when it cannot be read for sure."""
    if raw is None:
        return None
    text = " ".join(raw.split())
    if not text:
        return None
    value = _parse_whole(text, languages, order)
    if value is not None or len(text) > 500:
        return value
    for found in DATE_IN_TEXT.finditer(text):
        value = _parse_whole(found.group(0), languages, order)
        if value is not None:
            return value
    return None


def _parse_whole(text: str, languages: Sequence[str], order: str | None) -> str | None:
    iso = _from_iso(text)
    if iso:
        return iso
    text = NOISE.sub("", text)
    if _ambiguous(text, order):
        return None
    rfc = _from_rfc_822(text)
    if rfc:
        return rfc
    import dateparser  # imported late: it is slow to import and needed only here

    value = None
    if not languages and text.isascii():
        # most dates printed in Latin letters are English: trying English alone first spares
        # detecting the language among all of dateparser's (slow the first time each is met)
        value = dateparser.parse(text, languages=["en"], settings=_settings(order))
    if value is None and (languages or not text.isascii() or NAME.search(text)):
        # (a text of digits alone is no more readable in another language: and detecting
        # the language of "2018-10-29T10:15-500" takes dateparser seconds)
        value = dateparser.parse(text, languages=list(languages) or None,
                                 settings=_settings(order))
    if value is None or not (date(1900, 1, 1) <= value.date() <= date(2100, 1, 1)):
        return None
    return _iso(value, bool(HAS_TIME.search(text)), bool(HAS_OFFSET.search(text)))


NUMBER = re.compile(r"\d+")


def _may_name_next_day(instant: datetime, printed: str) -> bool:
    """Whether ``printed`` may name the day before or after ``instant``'s: unless it writes
    the instant's own day number and neither neighbour's, in digits (of any script).

    Reading a printed date is the slowest step of a story page's normal forms (about a
    millisecond in dateparser), and most pages print the declared day: this spares it."""
    numbers = {int(n) for n in NUMBER.findall(printed) if len(n) <= 2}
    neighbours = {(instant + timedelta(days=k)).day for k in (-1, 1)}
    return instant.day not in numbers or bool(numbers & neighbours)


PRINTED_TIME = re.compile(r"(?<![\d:])(\d{1,2})[:.h](\d{2})(?![\d:])(?:\s*([ap])\.?\s*m\b\.?)?",
                          re.I)


def _printed_minutes(printed: str) -> int | None:
    """The one time of day a printed date shows, as minutes after midnight (None when it
    shows none, or more than one: a published and an updated time, say)."""
    found = {(int(h), int(m), (ap or "").lower()) for h, m, ap in PRINTED_TIME.findall(printed)}
    if len(found) != 1:
        return None
    hour, minute, half = found.pop()
    if minute > 59 or hour > 23 or (half and not 1 <= hour <= 12):
        return None
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return hour * 60 + minute


def reader_day(declared: str | None, printed: str | None, languages: Sequence[str] = (),
               order: str | None = None) -> str | None:
    """A declared UTC instant put on the day the page prints for its readers.

    Only a UTC instant (``Z``, ``+00:00``) whose day is one day off the printed one changes:
    when the page prints a time that puts the instant on the printed day at a real offset
    (a whole quarter hour, -12:00 to +14:00), the instant is given in that offset
    (``2023-11-09T01:09:55Z`` printed "November 8, 2023 8:09 pm" is
    ``2023-11-08T20:09:55-05:00``); when it prints no time, the offset is unknown and the
    printed day alone is kept (``2023-11-08``).  A printed time that does not agree leaves
    the instant as declared: the two may not name the same event.
    """
    if not declared or not printed or "T" not in declared:
        return declared
    try:
        instant = datetime.fromisoformat(declared)
    except ValueError:
        return declared
    if instant.tzinfo is None or instant.utcoffset() != timedelta(0) or \
            not _may_name_next_day(instant, printed):
        return declared
    try:
        day_text = parse_date(printed, languages, order)
    except (ValueError, TypeError, OverflowError):
        return declared
    if not day_text:
        return declared
    day = date.fromisoformat(day_text[:10])
    if abs((day - instant.date()).days) != 1:
        return declared
    minutes = _printed_minutes(printed)
    if minutes is None:
        return declared if HAS_TIME.search(printed) else day.isoformat()
    local = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes)
    offset = local - instant.replace(tzinfo=None, second=0, microsecond=0)
    if offset % timedelta(minutes=15) or not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        return declared
    return instant.astimezone(timezone(offset)).isoformat()
