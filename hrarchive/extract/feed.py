"""What an RSS or Atom feed says: its stories as teasers, in feed order (raw values)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from hrarchive.extract.text import clean_text, html_to_text
from hrarchive.extract.urls import strip_tracking

FEED_ROOT = re.compile(rb"<(rss|feed|rdf:RDF)\b", re.I)
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
COMMENTS = re.compile(r"comment|коммент|комент|каментар", re.I)
HEAD_END = re.compile(rb"</head\s*>", re.I)


def is_feed(body: bytes) -> bool:
    """Whether the bytes start like an RSS, Atom or RDF feed."""
    return FEED_ROOT.search(body[:2048]) is not None


def declared_feeds(page: Selector | bytes, url: str,
                   on_site: Callable[[str], bool] = lambda u: True) -> list[str]:
    """The feeds a page declares with ``<link rel=alternate>`` (RSS, Atom), absolute, in page
    order, comment feeds left out; from page bytes, only the ``<head>`` is parsed."""
    if isinstance(page, bytes):
        end = HEAD_END.search(page, 0, 262144)
        head = page[:end.end() if end else 65536].decode("utf-8", "replace")
        page = Selector(text=head)
    found: list[str] = []
    for link in page.css("link[rel~=alternate][href]"):
        kind = link.attrib.get("type", "").split(";")[0].strip().lower()
        href = urljoin(url, link.attrib["href"].strip())
        if kind in FEED_TYPES and href.startswith("http") and on_site(href) and \
                not COMMENTS.search(f"{href} {link.attrib.get('title', '')}") and \
                href not in found:
            found.append(href)
    return found


def extract_feed(body: bytes, url: str,
                 is_story: Callable[[str], bool] = lambda u: True) -> list[dict[str, Any]]:
    """The feed's entries that link to stories, as teasers (dates as declared), each with
    the entry's ``updated`` date, where the feed gives one apart from its publication date."""
    if not is_feed(body):
        raise ValueError(f"{url}: not an RSS or Atom feed")
    sel = Selector(body=body, type="xml")
    sel.remove_namespaces()
    teasers: list[dict[str, Any]] = []
    for entry in sel.xpath("//item | //entry"):
        link = (entry.xpath("link[@rel='alternate']/@href").get()
                or entry.xpath("link/@href").get() or entry.xpath("link/text()").get())
        if not link or not link.strip():
            continue
        link = strip_tracking(urljoin(url, link.strip()))
        if not is_story(link):
            continue
        summary = entry.xpath("description/text() | summary/text()").get()
        teasers.append({
            "url": link,
            "title": clean_text(html_to_text(entry.xpath("title/text()").get())),
            "summary": clean_text(html_to_text(summary)),
            "published": clean_text(entry.xpath("pubDate/text() | published/text() | "
                                                "date/text() | updated/text()").get()),
            "image_url": entry.xpath("enclosure[starts-with(@type, 'image')]/@url | "
                                     "content[@medium='image']/@url | thumbnail/@url").get(),
            "position": len(teasers) + 1,
            "updated": clean_text(entry.xpath("updated/text()").get()),  # a change signal
        })
    return teasers
