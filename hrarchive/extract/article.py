"""What a story page says: generic extraction, with a profile's selectors per field.

``extract_article`` is pure: bytes and a URL in, a mapping of raw values out (dates as
declared or printed; the normalise pipeline makes them ISO 8601).  It never makes
requests, reads settings or opens the database.

Generic extraction reads what the page declares first (``metadata.declared``); without a
declared date it takes a date printed in an element classed as one before the body's end,
then a dateline opening the body, then a ``/YYYY/MM/DD/`` URL.  Beside a date, it returns
the date the page prints before the body ends (``published_printed``), with which
``stored_article`` puts a declared UTC instant on the day readers see.  The body is a known
article container, else the densest block of paragraphs, pruned of page chrome.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

import lxml.html
from parsel import Selector

from hrarchive.extract.dates import DATE_IN_TEXT
from hrarchive.extract.libraries import (
    holds,
    htmldate_published,
    trafilatura_authors,
    trafilatura_body,
    words,
)
from hrarchive.extract.metadata import declared
from hrarchive.extract.page import absolute, first, nodes, parse, texts
from hrarchive.extract.text import clean_html, clean_text, element_text, html_to_text

BODY_CANDIDATES = ('[itemprop="articleBody"]', ".entry-content", ".post-content", ".article-body",
                   ".article__body", ".field--name-body", ".node__content", ".single-content",
                   ".news-text", ".content-body", "article .content", "article", "main")
GENERIC_CONTAINERS = frozenset({"article", "main", "article .content"})
BOILERPLATE = re.compile(
    r"share|social|related|newsletter|subscribe|cookie|comment|breadcrumb|sidebar|advert|"
    r"promo|donat|author-box|print|widget|tags|post-meta|entry-meta|pagination|nav", re.I)
RELATED_HEADING = re.compile(
    r"related|read (also|more)|see also|more on|more from|читайте также|похожие|по теме|"
    r"глядзіце|чытайце|à lire aussi|lire aussi|voir aussi|relacionad|les også", re.I)
TITLE_SEPARATOR = re.compile("\\s+[|\u2013\u2014-]\\s+")
DATE_CLASS = re.compile(
    r"(?<![a-z])(date|time|posted|published|submitted|dateline|datum|fecha)", re.I)
NOT_DATE = re.compile(r"modif|updat|comment|related|sidebar|widget|breadcrumb|promo|share|"
                      r"footer|nav|teaser|card|post-item|listing|latest", re.I)
OTHER_STORIES = re.compile(r"(?<![a-z])(related|sidebar|widget|teaser|comment|promo|footer|"
                           r"recommend|trending|popular|latest|more-stories|read-more)", re.I)
DATELINE_PLACE = re.compile(r"[^\W\d_][^\W\d_ .'-]*(?:[ .'-]+[^\W\d_]+){0,3},\s*")
DATELINE_END = re.compile(r"\s*[:.\u2013\u2014-]")
URL_DATE = re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/")
HTMLDATE_EXTENSIVE = False
ATTACHMENT = re.compile(r"\.(pdf|docx?|odt|rtf|xlsx?|pptx?)(\?|$)", re.I)
DROP_TAGS = ("script", "style", "noscript", "nav", "aside", "form", "header", "footer",
             "iframe", "button", "svg", "template")


def _title(sel: Selector, meta: dict[str, Any], spec: str | None) -> str | None:
    """JSON-LD's headline; else the page's ``<h1>`` when the declared or ``<title>`` title
    holds its words (an ``<h1>`` they do not hold is a logo or a section name), else the
    declared title; else ``<title>`` without its site name."""
    if spec:
        return first(sel, spec)
    if meta["title"]:
        return str(meta["title"])
    h1 = first(sel, "article h1") or first(sel, "main h1") or first(sel, "h1")
    page_title = clean_text(" ".join(sel.css("title::text").getall()))
    declared_title = meta["og_title"] or page_title
    if h1 and (not declared_title or _holds_words(declared_title, h1)):
        return h1
    if meta["og_title"]:
        return str(meta["og_title"])
    if h1 and not page_title:
        return h1
    if not page_title:
        return None
    part = TITLE_SEPARATOR.split(page_title)[0]  # "Story title | Site name"
    site = meta["site_name"]
    if h1 and (not part or _holds_words(part, h1)):
        return h1
    return None if site and part.lower() == site.lower() else part


def _holds_words(text: str, part: str) -> bool:
    """Whether most (80 %) of ``part``'s words occur in ``text``."""
    have, want = set(words(text)), words(part)
    return bool(want) and sum(w in have for w in want) >= 0.8 * len(want)


def _drop(element: Any) -> None:
    """Remove an element and its children, keeping the text that follows it."""
    if hasattr(element, "drop_tree"):
        element.drop_tree()
        return
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _prune(root: lxml.html.HtmlElement) -> None:
    """Remove navigation, share buttons, related lists, comments and other chrome."""
    for element in list(root.iter()):
        if element is root or element.getparent() is None or not isinstance(element.tag, str):
            continue
        classes = f"{element.get('class', '')} {element.get('id', '')}"
        if element.tag in DROP_TAGS or (classes.strip() and BOILERPLATE.search(classes)):
            _drop(element)


def _text_length(element: lxml.html.HtmlElement) -> int:
    """Length of an element's text nodes joined by single spaces."""
    parts = element.xpath(".//text()")
    return sum(map(len, parts)) + max(len(parts) - 1, 0)


def _paragraph_text(node: Selector) -> int:
    root = node.root
    if isinstance(root, str):
        return 0
    return sum(_text_length(p) for p in root.iter("p"))


def _densest(sel: Selector, within: bool = False) -> Selector | None:
    """The element whose direct paragraphs hold the most text."""
    root = sel.root
    if isinstance(root, str):
        return None
    best, best_len = None, 0
    for parent in root.xpath(".//*[p]" if within else "//*[p]"):
        length = sum(_text_length(p) for p in parent if p.tag == "p")
        if length > best_len:
            best, best_len = parent, length
    return Selector(root=best, type="html") if best is not None else None


def _boilerplate(element: lxml.html.HtmlElement) -> bool:
    """Whether an element sits in navigation, a related list, a sidebar, comments, ..."""
    for node in element.iterancestors():
        if node.tag in {"nav", "aside", "footer", "form"}:
            return True
        classes = f"{node.get('class', '')} {node.get('id', '')}"
        if classes.strip() and NOT_DATE.search(classes):
            return True
    return False


def _printed_date(sel: Selector, body: Selector | None) -> str | None:
    """A date printed near the story, when the page declares none: an element classed as a
    date before the body's end, else a dateline opening the body, else a date in the URL."""
    root = sel.root
    body_root = body.root if body is not None and not isinstance(body.root, str) else None
    for element in root.iter():  # before the body: in document order, up to its element
        if element is body_root:
            break
        if not isinstance(element.tag, str):
            continue
        classes = f"{element.get('class', '')} {element.get('id', '')} " \
                  f"{element.get('itemprop', '')}"
        if element.tag == "time" and element.get("datetime") and \
                not NOT_DATE.search(classes) and not _boilerplate(element):
            return str(element.get("datetime"))  # <time> in the page's header, say
        if not DATE_CLASS.search(classes) or NOT_DATE.search(classes) or _boilerplate(element):
            continue
        text = clean_text(element_text(element)) or ""
        found = DATE_IN_TEXT.search(text)
        if found and len(text) < 200:
            return found.group(0)
    if body_root is not None:
        opening = (clean_text(element_text(body_root)) or "")[:120]
        place = DATELINE_PLACE.match(opening)
        found = DATE_IN_TEXT.match(opening, place.end()) if place else None
        # a dateline: "Johannesburg, 24 August 2012: ..." (place, comma, date, colon or dash)
        if found and DATELINE_END.match(opening, found.end()):
            return found.group(0)
    in_url = URL_DATE.search(str(getattr(root, "base_url", "") or ""))
    return "-".join(in_url.groups()) if in_url else None


def _onwards(element: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """``element``, then every node after it, in document order (its ancestors precede it)."""
    yield from element.iter()
    node: lxml.html.HtmlElement | None = element
    while node is not None:
        for sibling in node.itersiblings():
            yield from sibling.iter()
        node = node.getparent()


BYLINE_CLASS = re.compile(r"(?<![a-z])(byline|meta)", re.I)


def _printed_beside(sel: Selector, body: Selector | None) -> str | None:
    """The publication date as the page prints it for its readers, beside one it declares:
    the text of the first ``<time>``, date-classed or byline element in the story's header
    (from its ``<article>`` or ``<h1>`` to the body, outside related lists, sidebars, ...)
    that holds a date."""
    root = sel.root
    if isinstance(root, str):
        return None
    body_root = body.root if body is not None and not isinstance(body.root, str) else None
    # the story's header begins at its <article> or its <h1> (a date printed above them is
    # the site's: today's date, say) and ends at the body; elements in document order
    start = root.xpath("(//article|//h1)[1]")
    if not start:
        return None
    for element in _onwards(start[0]):
        if element is body_root:
            return None
        if not isinstance(element.tag, str):
            continue
        classes = f"{element.get('class', '')} {element.get('id', '')} " \
                  f"{element.get('itemprop', '')}"
        if element.tag != "time" and not DATE_CLASS.search(classes) and \
                not BYLINE_CLASS.search(classes):
            continue
        if NOT_DATE.search(classes) or _boilerplate(element):
            continue
        text = clean_text(element_text(element)) or ""
        if len(text) < 200 and DATE_IN_TEXT.search(text):
            return text
    return None


def _htmldate(sel: Selector, url: str) -> str | None:
    """htmldate's reading of the page without its chrome: related stories, sidebars, teaser
    cards and comments print other stories' dates, and a date read there is a guess."""
    if isinstance(sel.root, str):
        return None
    root = copy.deepcopy(sel.root)
    for element in list(root.iter()):
        if element.getparent() is None or not isinstance(element.tag, str):
            continue
        classes = f"{element.get('class', '')} {element.get('id', '')}"
        if (element.tag in {"nav", "aside", "footer", "form"} or
                (classes.strip() and OTHER_STORIES.search(classes))) and \
                element.tag != "body" and element.find(".//h1") is None:
            _drop(element)
    return htmldate_published(root, url, HTMLDATE_EXTENSIVE)


def _body_node(sel: Selector, spec: str | None) -> Selector | None:
    if spec:
        found = nodes(sel, spec)
        return found[0] if found else None
    for candidate in BODY_CANDIDATES:
        found = sel.css(candidate)
        if found and len(" ".join(found[0].css("p ::text").getall())) > 200:
            if candidate not in GENERIC_CONTAINERS:
                return found[0]
            # a whole <article> or <main> also holds the title, dates and tags: take the
            # block inside it that holds most of its paragraphs
            inner = _densest(found[0], within=True)
            if inner is not None and _paragraph_text(inner) >= 0.6 * _paragraph_text(found[0]):
                return inner
            return found[0]
    return _densest(sel)


def _detached(node: Selector) -> lxml.html.HtmlElement:
    """A copy of the body element to prune, without serialising and re-parsing it.

    ``<html>`` and ``<body>`` are re-parsed as before: lxml.html.fromstring treats their
    markup differently from other elements (a document, or a fragment's children).
    """
    element = node.root
    if element.tag in ("html", "body") or not isinstance(element.tag, str):
        return lxml.html.fromstring(node.get())
    twin = copy.deepcopy(element)
    twin.tail = None
    return twin


def _body(node: Selector | None) -> tuple[str | None, str | None, lxml.html.HtmlElement | None]:
    if node is None or isinstance(node.root, str):
        return None, None, None
    root = _detached(node)
    _prune(root)
    for heading in root.xpath(".//h2|.//h3|.//h4"):
        if RELATED_HEADING.search(heading.text_content()):
            _drop(heading)  # a related block left inside the body
    html = clean_html(lxml.html.tostring(root, encoding="unicode"))
    return html_to_text(html), html, root


def _second_opinion(sel: Selector, url: str, title: str | None, text: str | None,
                    html: str | None, root: lxml.html.HtmlElement | None) -> tuple[
                        str | None, str | None, lxml.html.HtmlElement | None]:
    """The generic body, or trafilatura's reading of it: hrarchive's own block wins when it
    holds most of trafilatura's words and more (trafilatura cut the story short)."""
    if isinstance(sel.root, str):
        return text, html, root
    other = clean_html(trafilatura_body(sel.root, url))
    if not other or holds(text, html_to_text(other)):
        return text, html, root
    other_root = lxml.html.fragment_fromstring(other, create_parent="div")
    if len(other_root) == 1 and other_root[0].tag == "div" and not (other_root.text or "").strip():
        other_root = other_root[0]  # trafilatura's body, in its own <div>
    opening = next(iter(other_root), None)
    if opening is not None and (opening.tag == "h1" or (opening.tag in {"h2", "h3"} and title
                                and words(opening.text_content()) == words(title))):
        _drop(opening)  # the story's title, kept in title alone
        other = lxml.html.tostring(other_root, encoding="unicode")
    return html_to_text(other), other, other_root


def _authors(sel: Selector, meta: dict[str, Any]) -> list[str]:
    """The story's own authors: JSON-LD's, else the names trafilatura reads from meta and
    the printed byline (spelled as the page's declared names spell them), else the names
    the page marks up as authors."""
    if meta["ld_authors"]:
        return list(meta["ld_authors"])
    found = trafilatura_authors(sel.root) if not isinstance(sel.root, str) else []
    spelled = {" ".join(words(name)): name for name in meta["authors"]}
    return [spelled.get(" ".join(words(name)), name) for name in found] or meta["authors"]


def fragment_body(html: str) -> tuple[str | None, str | None]:
    """Body text and cleaned HTML of a body given as an HTML fragment (a CMS's rendered
    content), cleaned as a page's body is: share buttons, related lists... removed."""
    found = Selector(text=f"<div>{html}</div>").xpath("//body/div")
    text, cleaned, _root = _body(found[0] if found else None)
    return text, cleaned


def _links(anchors: list[Selector], base: Selector) -> list[dict[str, str | None]]:
    seen: set[str] = set()
    links = []
    for anchor in anchors:
        href = anchor.attrib.get("href", "").strip()
        url = absolute(base, href) if href else ""
        if not url.startswith("http") or url in seen:
            continue
        seen.add(url)
        links.append({"url": url, "title": clean_text(" ".join(anchor.css("::text").getall()))})
    return links


def _related(sel: Selector, spec: str | None) -> list[dict[str, str | None]]:
    if spec:
        found = nodes(sel, spec)
        anchors = [a for n in found for a in ([n] if n.root.tag == "a" else n.css("a"))] \
            if found and not isinstance(found[0].root, str) else []
        return _links(anchors, sel)
    for heading in sel.css("h2, h3, h4, .widget-title, .section-title"):
        if RELATED_HEADING.search(" ".join(heading.css("::text").getall())):
            container = heading.xpath("./following-sibling::*[.//a][1]")
            anchors = container.css("h2 a, h3 a, h4 a, .title a") or container.css("a")
            if anchors:
                return [link for link in _links(list(anchors), sel) if link["title"]]
    return []


def extract_article(body: bytes, url: str, headers: Mapping[Any, Any] | None = None,
                    selectors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything the archive keeps of a story page, as raw values.

    A profile selector that finds nothing falls back to the generic rule for its field, and
    the field is named in ``selector_misses`` (a theme change degrades to generic extraction).
    """
    sel = parse(body, url, headers)
    spec = dict(selectors or {})
    misses: list[str] = []

    def by_profile(name: str, found: Any) -> Any:
        """The selector's value; a selector that found nothing is noted as missed."""
        if name in spec and not found:
            misses.append(name)
        return found

    meta = declared(sel)
    title = by_profile("title", first(sel, spec["title"]) if "title" in spec else None) \
        or _title(sel, meta, None)
    body_node = by_profile("body", _body_node(sel, spec["body"]) if "body" in spec else None) \
        or _body_node(sel, None)
    body_text, body_html, body_root = _body(body_node)
    if "body" not in spec or "body" in misses:
        body_text, body_html, body_root = _second_opinion(sel, url, title, body_text,
                                                          body_html, body_root)
    body_links = _links(list(Selector(root=body_root).css("a")), sel) if body_root is not None \
        else []
    published = by_profile("date", first(sel, spec["date"]) if "date" in spec else None) or \
        meta["published"] or meta["time"] or _printed_date(sel, body_node) or \
        _htmldate(sel, url)
    canonical = meta["canonical_url"]
    return {
        "url": url,
        "canonical_url": absolute(sel, canonical) if canonical else None,
        "title": title,
        "subtitle": by_profile("subtitle", first(sel, spec["subtitle"])
                               if "subtitle" in spec else None),
        "authors": by_profile("authors", texts(sel, spec["authors"]) if "authors" in spec
                              else None) or _authors(sel, meta),
        "published": published,
        "published_printed": _printed_beside(sel, body_node) if published else None,
        "modified": by_profile("modified", first(sel, spec["modified"])
                               if "modified" in spec else None) or meta["modified"],
        "language": by_profile("language", first(sel, spec["language"])
                               if "language" in spec else None)
        or meta["language"] or meta["html_lang"],
        "body_text": body_text,
        "body_html": body_html,
        "tags": by_profile("tags", texts(sel, spec["tags"]) if "tags" in spec else None)
        or meta["tags"],
        "image_url": by_profile("image", first(sel, spec["image"]) if "image" in spec else None)
        or meta["image_url"],
        "related": by_profile("related", _related(sel, spec["related"])
                              if "related" in spec else None) or _related(sel, None),
        "links": [link for link in body_links if not ATTACHMENT.search(link["url"] or "")],
        "attachments": [link for link in body_links if ATTACHMENT.search(link["url"] or "")],
        "selector_misses": misses,
    }
