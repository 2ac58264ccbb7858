"""What a listing page says: its story teasers, in order, and the next page.

With a profile's ``[listing]`` selectors each field is read as told; without them, teasers
are found generically as repeated blocks (``<article>``, ``.hentry``, ...) holding a link to
a story, or else from the stories' heading links, each widened to the largest element
around it that holds no other story.  The next page is ``rel=next`` or a "next"/"older"
link, never a link back to an earlier page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from parsel import Selector

from hrarchive.extract.page import absolute, first, nodes, parse, texts
from hrarchive.extract.text import clean_text
from hrarchive.extract.urls import strip_tracking

TEASER_BLOCKS = ("article", ".hentry", ".post", ".views-row", ".news-item", ".teaser",
                 ".card", "li.item")
HEADING_ANCHORS = ("h1 a[href], h2 a[href], h3 a[href], h4 a[href], h5 a[href], "
                   "a[href][class*=title], [class*=title] > a[href]")
SUMMARY = ("[class*=summary], [class*=excerpt], [class*=teaser], [class*=lead], "
           "[class*=intro], [class*=chapo], [class*=description], [class*=field-body]")
HEADINGS = "h1, h2, h3, h4, h5"
NOT_SUMMARY = re.compile(r"meta|date|byline|author|categor|tag|title|more", re.I)
DATE_ONLY = re.compile(r"^[\W\d]*$")
HEADING_LINK = ("h1 a::attr(href)", "h2 a::attr(href)", "h3 a::attr(href)", "h4 a::attr(href)",
                ".entry-title a::attr(href)", ".title a::attr(href)", "a::attr(href)")
DATE = ("time::attr(datetime)", "time", ".entry-date", ".date", ".published", ".post-date",
        "[class*=date]", "[class*=posted]", "[class*=published]")
PAGE_IN_PATH = re.compile(r"/page/(\d+)/?$")
PAGE_PARAM = re.compile(r"^(page|paged|start|offset|debut[_a-z]*|pg|pagina|strona|from)$", re.I)
PREVIOUS = re.compile(r"prev|newer|previous|назад|пред|попер|précédent|anterior|nowsze|nyere", re.I)
NEXT_LINK = re.compile(
    r"^\s*(next|older|more|след|далее|наступ|ещё|»|›|→|suivant|siguiente|neste|nast)",
    re.I)


@dataclass
class Listing:
    """A listing page's teasers (raw values, as printed) and its next page."""

    teasers: list[dict[str, Any]] = field(default_factory=list)
    next_page: str | None = None
    selector_misses: list[str] = field(default_factory=list)  # fields read generically


def _outside_chrome(node: Selector) -> bool:
    return not node.xpath("ancestor::nav | ancestor::header | ancestor::footer | ancestor::aside")


def _heading_blocks(sel: Selector, is_story: Callable[[str], bool]) -> list[Selector]:
    """Teasers found from their story links: each heading link to a story, widened to the
    largest element around it that holds no other story's heading link."""
    anchors = [a for a in sel.css(HEADING_ANCHORS)
               if _outside_chrome(a) and is_story(strip_tracking(absolute(sel, a.attrib["href"])))]
    urls = [strip_tracking(absolute(sel, a.attrib["href"])) for a in anchors]
    blocks: list[Selector] = []
    seen: set[str] = set()
    for anchor, url in zip(anchors, urls, strict=True):
        if url in seen:
            continue
        seen.add(url)
        block = anchor
        for parent in anchor.xpath("ancestor::*")[::-1]:
            if parent.root.tag in {"body", "main", "html"}:
                break
            others = {strip_tracking(absolute(sel, h)) for h in
                      parent.css(HEADING_ANCHORS).xpath("@href").getall()} - {url}
            headings = len(parent.css(HEADINGS))
            if others or headings > 1:
                break  # another story, or a heading of the page around the teaser
            block = parent
        blocks.append(block)
    return blocks


def _generic_blocks(sel: Selector, is_story: Callable[[str], bool]) -> list[Selector]:
    best: list[Selector] = []
    for spec in TEASER_BLOCKS:
        blocks = [b for b in sel.css(spec) if _outside_chrome(b) and _link(b, None, is_story)]
        if len(blocks) >= 2 and len(blocks) > len(best):
            best = blocks
    return best or _heading_blocks(sel, is_story)


def _link(block: Selector, spec: str | None, is_story: Callable[[str], bool]) -> str | None:
    for candidate in (spec,) if spec else HEADING_LINK:
        for href in block.css(candidate).getall() if not candidate.startswith("xpath:") \
                else nodes(block, candidate).getall():
            url = strip_tracking(absolute(block, href.strip()))
            if url.startswith("http") and is_story(url):
                return url
    return None


def _title(block: Selector, url: str, spec: str | None) -> str | None:
    if spec:
        return first(block, spec)
    for anchor in block.css("a"):
        if strip_tracking(absolute(block, anchor.attrib.get("href", ""))) == url:
            text = clean_text(" ".join(anchor.css("::text").getall()))
            if text:
                return text
    return None


def _summary(block: Selector, title: str | None, spec: str | None) -> str | None:
    if spec:
        return first(block, spec)
    candidates = [n for n in block.css(SUMMARY) if not n.css("h1, h2, h3, h4, time")]
    for node in candidates + list(block.css("p")):
        if NOT_SUMMARY.search(node.attrib.get("class", "")):
            continue
        text = clean_text(" ".join(node.xpath(
            ".//text()[not(ancestor::*[contains(@class, 'date')])]").getall()))
        if text and text != title and not DATE_ONLY.match(text) and len(text) > 20:
            return text
    return None


def _first_of(block: Selector, specs: tuple[str, ...]) -> str | None:
    for spec in specs:
        value = first(block, spec)
        if value:
            return value
    return None


def page_number(url: str) -> int:
    """The page number a listing URL names (``/page/3/``, ``?page=2``, ``?start=20``), or 0."""
    parts = urlsplit(url)
    found = PAGE_IN_PATH.search(parts.path)
    if found:
        return int(found.group(1))
    numbers = [int(v) for k, v in parse_qsl(parts.query) if PAGE_PARAM.search(k) and v.isdigit()]
    return numbers[0] if numbers else 0


def _forward(url: str, candidate: str) -> bool:
    """Whether ``candidate`` lies after ``url`` in the pagination (not a previous page)."""
    if candidate.split("#")[0] == url.split("#")[0]:
        return False
    here, there = page_number(url), page_number(candidate)
    return there > here or there == here == 0


def next_page(sel: Selector, spec: str | None = None) -> str | None:
    """The next listing page: the profile's selector alone when it gives one; otherwise
    ``rel=next``, then a link labelled next/older; never a link back to an earlier page."""
    base = str(getattr(sel.root, "base_url", "") or "")
    if spec:
        hrefs = texts(sel, spec)
    else:
        hrefs = sel.css("link[rel=next]::attr(href), a[rel=next]::attr(href)").getall()
        for anchor in sel.css("a.next, .pagination a, .pager a, .nav-links a, nav a, "
                              ".navigation a, .wp-pagenavi a"):
            label = clean_text(" ".join(anchor.css("::text").getall())) or ""
            classes = anchor.attrib.get("class", "")
            if anchor.attrib.get("href") and (NEXT_LINK.match(label) or "next" in classes) \
                    and not PREVIOUS.search(f"{label} {classes}"):
                hrefs.append(anchor.attrib["href"])
    for href in hrefs:
        url = absolute(sel, href.strip())
        if url.startswith("http") and (not base or _forward(base, url)):
            return url
    return None


def extract_listing(body: bytes, url: str, headers: Mapping[Any, Any] | None = None,
                    selectors: Mapping[str, str] | None = None,
                    is_story: Callable[[str], bool] = lambda u: True) -> Listing:
    """The teasers of a listing page, in page order, with the next page's URL.

    A profile selector that finds nothing falls back to the generic rule for its field, and
    the field is named in ``selector_misses``.
    """
    sel = parse(body, url, headers)
    spec = dict(selectors or {})
    misses: set[str] = set()

    def by_profile(name: str, found: Any) -> Any:
        if name in spec and not found:
            misses.add(name)
        return found

    blocks = [b for b in nodes(sel, spec["teaser"]) if _link(b, spec.get("url"), is_story)
              or _link(b, None, is_story)] if "teaser" in spec else []
    if not by_profile("teaser", blocks):
        blocks = _generic_blocks(sel, is_story)
    teasers: list[dict[str, Any]] = []
    for block in blocks:
        link = by_profile("url", _link(block, spec["url"], is_story) if "url" in spec else None) \
            or _link(block, None, is_story)
        if not link:
            continue
        title = by_profile("title", first(block, spec["title"]) if "title" in spec else None) \
            or _title(block, link, None)
        teasers.append({
            "url": link,
            "title": title,
            "summary": by_profile("summary", first(block, spec["summary"])
                                  if "summary" in spec else None)
            or _summary(block, title, None),
            "published": by_profile("date", first(block, spec["date"]) if "date" in spec
                                    else None) or _first_of(block, DATE),
            "image_url": by_profile("image", first(block, spec["image"]) if "image" in spec
                                    else None) or first(block, "img::attr(src)"),
            "position": len(teasers) + 1,
        })
    # the last page of a listing has no next page: not a miss, and no generic guess either
    following = next_page(sel, spec.get("next_page")) if "next_page" in spec \
        else next_page(sel)
    return Listing(teasers, following, sorted(misses))
