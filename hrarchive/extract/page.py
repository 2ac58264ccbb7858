"""Decoding a saved response and selecting from it with a profile's CSS or XPath selectors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from parsel import Selector, SelectorList
from w3lib.encoding import html_to_unicode

from hrarchive.extract.text import clean_text, element_text


def header(headers: Mapping[Any, Any] | None, name: str) -> str | None:
    """One response header as text, from a plain mapping or Scrapy's ``Headers``."""
    if not headers:
        return None
    for key, value in headers.items():
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == name.lower():
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            if isinstance(value, bytes):
                return value.decode("latin-1")
            return None if value is None else str(value)
    return None


def _detect(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body[:65536]).best()
    return best.encoding if best is not None else None


def decode(body: bytes, headers: Mapping[Any, Any] | None = None) -> str:
    """The page's text: by its BOM, its Content-Type charset, its ``<meta charset>`` or
    ``http-equiv``, and only when none of these is given, by detection.

    A header charset the bytes do not decode in (a windows-1251 page served as UTF-8) is
    ignored, so a wrong header does not garble the page.  Bytes that decode cleanly as UTF-8
    are read as UTF-8 whatever legacy charset ``<meta>`` declares (Shift_JIS, GBK...): in a
    legacy charset, text that happens to be valid UTF-8 is all but unheard of.
    """
    content_type = header(headers, "Content-Type")
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect)
    if encoding.replace("-", "").lower() not in {"utf8", "ascii"} and \
            encoding.lower() not in (content_type or "").lower() and not body.isascii():
        try:  # a legacy charset in <meta>, yet the bytes are valid UTF-8: they are UTF-8
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    if content_type and "\ufffd" in text and "\ufffd".encode(encoding, "ignore") not in body:
        # the header's charset does not fit the bytes: read the page without it
        _, text = html_to_unicode(None, body, auto_detect_fun=_detect)
    return str(text)


# A run of this many wrappers opened (or closed) one inside the other with nothing between
# them.  libxml2 stops building the tree at depth 256 (2,048 with huge_tree), so a page whose
# story sits under 10,000 nested <div>s parsed to a tree without the story.
DEEP_OPEN = re.compile(r"(?:<(?:div|span|section)\b[^<>]*>\s*){64,}", re.I)
DEEP_CLOSE = re.compile(r"(?:</(?:div|span|section)\s*>\s*){64,}", re.I)
WRAPPER = re.compile(r"<(?:div|span|section)", re.I | re.A)


def shallow(text: str) -> str:
    """``text`` with each run of empty nested wrappers made one: its innermost tag.

    Only a page with over a thousand wrappers can be that deep, and only such a page is
    searched (the search costs a third of a millisecond on a 100 KB page)."""
    wrappers = sum(1 for _ in WRAPPER.finditer(text))  # (a lowercased copy costs 3 times more)
    if wrappers < 1024 or not DEEP_OPEN.search(text):
        return text
    text = DEEP_OPEN.sub(lambda m: m.group(0).rstrip().rsplit("<", 1)[-1].join(("<", "")), text)
    return DEEP_CLOSE.sub("</div>", text)


def parse(body: bytes, url: str, headers: Mapping[Any, Any] | None = None) -> Selector:
    return Selector(text=shallow(decode(body, headers)), base_url=url)


def absolute(sel: Selector, href: str) -> str:
    """``href`` resolved against the page the selector belongs to."""
    base = getattr(sel.root, "base_url", None)
    try:
        return urljoin(base, href.strip()) if base else href.strip()
    except ValueError:  # "http://[x": left as written, for the normal forms to drop
        return href.strip()


def nodes(sel: Selector | SelectorList, spec: str) -> SelectorList:
    """Apply a profile selector: CSS, or XPath when prefixed ``xpath:``."""
    if spec.startswith("xpath:"):
        return sel.xpath(spec.removeprefix("xpath:"))
    return sel.css(spec)


def value_of(node: Selector) -> str:
    """An element's visible text, or a selected attribute or text node as it is."""
    root = node.root
    if isinstance(root, str):
        return root
    if hasattr(root, "tag") and isinstance(root.tag, str):
        return element_text(root)
    return str(node.get())


def texts(sel: Selector | SelectorList, spec: str | None) -> list[str]:
    """Cleaned, non-empty values a selector finds, in page order."""
    if not spec:
        return []
    found = (clean_text(value_of(n)) for n in nodes(sel, spec))
    return [t for t in found if t]


def first(sel: Selector | SelectorList, spec: str | None) -> str | None:
    values = texts(sel, spec)
    if not values:
        return None
    if spec and "::text" in spec:
        return clean_text(" ".join(values))  # a text selector may split around inline tags
    return values[0]
