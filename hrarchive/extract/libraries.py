"""Second opinions from extraction libraries, used where the development set says they help.

- trafilatura (fast mode, no metadata, no comments) reads a story's body: its rules keep a
  story's text and drop page chrome better than the densest-block rule alone.  Its reading
  of bylines (``extract_author``) finds authors printed in the page.
- htmldate reads a publication date when the page declares none and prints none where
  hrarchive's own rules look.

All of it is pure: the page's parsed tree in, values out.  The libraries copy the tree
before they change it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

import lxml.html

WORD = re.compile(r"\w+")
logger = logging.getLogger(__name__)


def words(text: str | None) -> list[str]:
    return WORD.findall((text or "").lower())


def trafilatura_body(root: lxml.html.HtmlElement, url: str) -> str | None:
    """The story's body as trafilatura reads it, as HTML (``<p>``, ``<h2>``, ``<a>``...)."""
    from trafilatura import bare_extraction
    from trafilatura.htmlprocessing import convert_to_html

    try:
        document: Any = bare_extraction(root, url=url, fast=True, include_comments=False,
                                        include_links=True, include_formatting=True,
                                        include_tables=True)
    except Exception:
        logger.debug("trafilatura could not read %s", url, exc_info=True)
        return None
    if document is None or document.body is None:
        return None
    body = convert_to_html(document.body)[0]
    body.tag = "div"  # a fragment of the page, like hrarchive's own body
    html = lxml.html.tostring(body, encoding="unicode")
    return html if isinstance(html, str) else None


def holds(longer: str | None, shorter: str | None, share: float = 0.8) -> bool:
    """Whether ``longer`` has more words than ``shorter`` and holds at least ``share`` of
    ``shorter``'s words (counted with repeats)."""
    big, small = Counter(words(longer)), Counter(words(shorter))
    size = sum(small.values())
    return bool(size) and sum(big.values()) > size and \
        sum((big & small).values()) >= share * size


def trafilatura_authors(root: lxml.html.HtmlElement) -> list[str]:
    """The story's authors as trafilatura reads them: meta names, JSON-LD, then the byline
    printed in the page (``.byline``, ``rel=author``, "By ..."), not every name on it."""
    from trafilatura.metadata import examine_meta, extract_author, extract_meta_json

    try:
        found = examine_meta(root)
        if found.author and " " not in found.author:
            found.author = None  # a lone word in <meta name=author> is rarely a name
        found = extract_meta_json(root, found)
        author = found.author or extract_author(root)
    except Exception:
        logger.debug("trafilatura could not read the authors", exc_info=True)
        return []
    return [a.strip() for a in (author or "").split(";") if a.strip()]


def htmldate_published(root: lxml.html.HtmlElement, url: str,
                       extensive: bool = False) -> str | None:
    """The publication day htmldate reads (``YYYY-MM-DD``): its own search of meta, JSON and
    date-like elements and, with ``extensive``, of the page's text."""
    from htmldate import find_date

    try:
        found = find_date(root, url=url, original_date=True, extensive_search=extensive)
    except Exception:  # a library's failure leaves the date unread
        logger.debug("htmldate could not read %s", url, exc_info=True)
        return None
    return found if isinstance(found, str) else None
