"""How well sampled stories read, field by field, and the selector to set where they do not.

A field counts as found on a story when the archive would keep it: a title, a readable
date, at least one author, a body of at least ``MIN_BODY`` characters, at least one related
link. For a missing field, a hint names the profile key and, where the pages show one, the
element to point it at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lxml.html
from parsel import Selector

from hrarchive.discover.fetch import Fetched
from hrarchive.extract.article import NOT_DATE
from hrarchive.extract.dates import DATE_IN_TEXT, parse_date
from hrarchive.extract.page import first, parse
from hrarchive.extract.text import clean_text, element_text

MIN_BODY = 200
CSS_NAME = re.compile(r"^-?[A-Za-z_][\w-]*$")
CHROME = {"nav", "aside", "footer", "form", "script", "style", "noscript"}
AUTHOR = re.compile(r"author|byline", re.I)


@dataclass
class FieldReport:
    """One field over the sampled stories: how many had it, an example, and a hint."""

    name: str
    found: int
    sampled: int
    example: str | None = None
    hint: str | None = None


def _short(text: str | None, size: int = 70) -> str:
    text = clean_text(text) or ""
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


def selector_of(element: lxml.html.HtmlElement) -> str:
    """A CSS selector for an element: its tag with its id or classes, under its parent's when
    that alone is not specific."""
    def own(node: lxml.html.HtmlElement) -> str:
        ident = node.get("id", "")
        if ident and CSS_NAME.match(ident):
            return f"{node.tag}#{ident}"
        classes = [c for c in node.get("class", "").split() if CSS_NAME.match(c)]
        return node.tag + "".join(f".{c}" for c in classes[:2])

    spec = own(element)
    parent = element.getparent()
    if ("." not in spec and "#" not in spec) and parent is not None:
        spec = f"{own(parent)} > {spec}"
    return spec


def _in_chrome(element: lxml.html.HtmlElement) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in CHROME:
            return True
        classes = f"{node.get('class', '')} {node.get('id', '')}"
        if node is not element and classes.strip() and NOT_DATE.search(classes):
            return True
    return False


def _date_candidates(sel: Selector, languages: Sequence[str], order: str | None) -> list[str]:
    """Selectors of the elements printing a readable date, in page order, innermost."""
    found: list[str] = []
    root = sel.root
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in CHROME:
            continue
        text = clean_text(element_text(element)) or ""
        if not text or len(text) > 60 or not DATE_IN_TEXT.search(text):
            continue
        if any(DATE_IN_TEXT.search(element_text(child) or "") for child in element
               if isinstance(child.tag, str)):
            continue  # a child prints it: that child is the better candidate
        if _in_chrome(element) or parse_date(text, languages, order) is None:
            continue
        spec = selector_of(element)
        if spec not in found:
            found.append(spec)
    return found


def _dated(pages: Sequence[Selector], spec: str | None, languages: Sequence[str],
           order: str | None) -> int:
    return sum(1 for sel in pages if spec and
               parse_date(first(sel, spec), languages, order) is not None)


def date_selector(pages: Sequence[Fetched], languages: Sequence[str],
                  order: str | None) -> str | None:
    """A selector reading a date on more sampled stories than generic extraction does, or
    None. Candidates are elements printing a date on a page where none was read."""
    from hrarchive.extract.article import extract_article

    sels = [parse(p.body, p.url, p.headers) for p in pages]
    generic = [parse_date(extract_article(p.body, p.url, p.headers)["published"], languages,
                          order) for p in pages]
    best, best_count = None, sum(1 for g in generic if g is not None)
    for sel, date in zip(sels, generic, strict=True):
        if date is not None:
            continue
        for spec in _date_candidates(sel, languages, order):
            count = _dated(sels, spec, languages, order)
            if count > best_count:
                best, best_count = spec, count
    return best


def _hint_title(sels: list[Selector]) -> str:
    for sel in sels:
        h1 = sel.css("h1")
        if h1 and not isinstance(h1[0].root, str):
            return f'set [article] title = "{selector_of(h1[0].root)}::text"'
    return "no <h1> on these pages: set [article] title to the element with the headline"


def _hint_author(sels: list[Selector]) -> str:
    for sel in sels:
        for element in sel.root.iter():
            if not isinstance(element.tag, str) or _in_chrome(element):
                continue
            classes = f"{element.get('class', '')} {element.get('itemprop', '')}"
            text = clean_text(element_text(element)) or ""
            if AUTHOR.search(classes) and 0 < len(text) < 80:
                return f'the pages print one: set [article] authors = "{selector_of(element)}"'
    return "no byline found (JSON-LD author, meta author); many sites print none"


def _hint_body(sels: list[Selector]) -> str:
    for sel in sels:
        best, size = None, 0
        for parent in sel.xpath("//*[p]"):
            length = sum(len(" ".join(p.css("::text").getall())) for p in parent.xpath("./p"))
            if length > size and not isinstance(parent.root, str):
                best, size = parent.root, length
        if best is not None and size >= MIN_BODY:
            return f'set [article] body = "{selector_of(best)}"'
    return "the story text is not in paragraphs: set [article] body to its container"


def _example(name: str, story: dict[str, Any]) -> str:
    if name == "title":
        return _short(story["title"])
    if name == "date":
        printed = story.get("published_raw")
        return story["published"] + (f' (as printed: "{_short(printed, 40)}")'
                                     if printed and printed != story["published"] else "")
    if name == "author":
        return _short(", ".join(story["authors"]))
    if name == "body":
        return f'{len(story["body_text"])} characters: "{_short(story["body_text"], 50)}"'
    link = story["related"][0]
    return f'{len(story["related"])} links, e.g. "{_short(link["title"], 40)}" {link["url"]}'


def _has(name: str, story: dict[str, Any]) -> bool:
    if name == "title":
        return bool(story.get("title"))
    if name == "date":
        return story.get("published") is not None
    if name == "author":
        return bool(story.get("authors"))
    if name == "body":
        return len(story.get("body_text") or "") >= MIN_BODY
    return bool(story.get("related"))


FIELDS = ("title", "date", "author", "body", "related")


def _hint(name: str, lacking: list[Selector], selectors: dict[str, str]) -> str:
    """What to do about a field missing on the ``lacking`` pages."""
    if name == "title":
        return _hint_title(lacking)
    if name == "author":
        return _hint_author(lacking)
    if name == "body":
        return _hint_body(lacking)
    if name == "date":
        return ("the [article] date selector proposed misses some pages" if "date" in selectors
                else "no date declared or printed near the story: set [article] date to the "
                "element that prints it")
    return 'no "Related" block found: if the site shows one, set [article] related to its links'


def field_reports(samples: list[dict[str, Any]], pages: Sequence[Fetched],
                  selectors: dict[str, str]) -> list[FieldReport]:
    """One report per field over the sampled stories, with hints where a field is missing."""
    reports = []
    for name in FIELDS:
        having = [s for s in samples if _has(name, s)]
        report = FieldReport(name, len(having), len(samples),
                             _example(name, having[0]) if having else None)
        lacking = [parse(p.body, p.url, p.headers) for p, s in zip(pages, samples, strict=True)
                   if not _has(name, s)]
        if lacking:
            report.hint = _hint(name, lacking, selectors)
        reports.append(report)
    return reports

