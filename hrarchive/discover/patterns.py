"""Which links are stories: an ``article_url`` regex generalised from story URLs seen.

Story paths are grouped by their number of segments; in each group a segment position
becomes ``\\d+`` when every value is a number, a small alternation when a few values repeat
(a section such as ``news``, a language such as ``en``), and "any segment" otherwise; the
last segment is the story's own name or number. The regex is written without the host
(``^https?://[^/]+``), so a copy crawled with ``--base-url`` matches too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_LITERALS = 8  # more distinct values than this at one position: any segment


def _segments(url: str) -> list[str]:
    return [s for s in urlsplit(url).path.split("/") if s]


def _literal(value: str) -> str:
    return re.escape(value).replace("\\-", "-")  # a hyphen outside [...] needs no escape


def _token(values: list[str], last: bool) -> str:
    distinct = sorted(set(values))
    if all(v.isdigit() for v in values):
        lengths = {len(v) for v in values}
        return rf"\d{{{lengths.pop()}}}" if len(lengths) == 1 and not last else r"\d+"
    if last:
        return r"[^/?#]+"
    if len(distinct) <= MAX_LITERALS and (len(values) == 1 or len(distinct) < len(values)):
        return "(?:" + "|".join(map(_literal, distinct)) + ")" \
            if len(distinct) > 1 else _literal(distinct[0])
    return r"[^/?#]+"


def story_pattern(urls: Iterable[str]) -> str | None:
    """An ``article_url`` regex matching every URL given (and their siblings), or None."""
    groups: dict[int, list[list[str]]] = {}
    for url in urls:
        segments = _segments(url)
        if segments:
            groups.setdefault(len(segments), []).append(segments)
    if not groups:
        return None
    shapes = []
    for size in sorted(groups):
        rows = groups[size]
        tokens = [_token([row[i] for row in rows], i == size - 1) for i in range(size)]
        shapes.append("/" + "/".join(tokens))
    body = shapes[0] if len(shapes) == 1 else "(?:" + "|".join(shapes) + ")"
    return rf"^https?://[^/]+{body}/?(?:[?#].*)?$"


def shape(url: str) -> tuple[int, str]:
    """A story URL's rough shape (its depth and first segment), to sample varied stories."""
    segments = _segments(url)
    return len(segments), segments[0] if len(segments) > 1 else ""
