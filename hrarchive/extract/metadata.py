"""What a page declares in standard form: JSON-LD, OpenGraph and ``article:*`` meta,
microdata, ``<link rel=canonical>``, ``<time datetime>`` and ``<html lang>``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from parsel import Selector

from hrarchive.extract.text import clean_text

WRAPPERS = re.compile(r"^\s*(<!\[CDATA\[|<!--)|(\]\]>|-->)\s*$")
ARTICLE_TYPES = frozenset({
    "Article", "NewsArticle", "BlogPosting", "Report", "ReportageNewsArticle",
    "AnalysisNewsArticle", "OpinionNewsArticle", "ScholarlyArticle", "PressRelease",
    "SocialMediaPosting"})


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        yield from _walk(node.get("@graph", []))


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    # "NewsArticle", "http://schema.org/NewsArticle", "schema:NewsArticle"
    return {str(k).rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            for k in (kind if isinstance(kind, list) else [kind])}


def json_ld_nodes(sel: Selector) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object of the page, in page order (``@graph`` members included)."""
    for script in sel.css('script[type="application/ld+json"]::text').getall():
        # wrapped in <![CDATA[ ]]> or <!-- -->, or followed by a stray ";": read what is JSON
        text = WRAPPERS.sub("", script).strip().rstrip(";")
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            continue
        yield from _walk(data)


def json_ld_article(sel: Selector) -> dict[str, Any]:
    """The first JSON-LD object typed as an article, or {}."""
    for node in json_ld_nodes(sel):
        if _types(node) & ARTICLE_TYPES:
            return node
    return {}


def json_ld_published(sel: Selector) -> str | None:
    """``datePublished`` of the first JSON-LD object of any type that has one (a WebPage,
    a VideoObject...), when no article object declares it."""
    for node in json_ld_nodes(sel):
        value = node.get("datePublished")
        if isinstance(value, str) and value.strip():
            return value
    return None


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    if isinstance(value, dict):
        value = value.get("name")
    text = clean_text(value) if isinstance(value, str) else None
    return [text] if text else []


def _image(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url")
    return value if isinstance(value, str) else None


PUBLISHED_META = (
    "article:published_time", "article:published", "og:published_time", "datepublished",
    "date", "dc.date.issued", "dc.date", "dcterms.issued", "dcterms.date", "dcterms.created",
    "dc.date.created", "publication_date", "publish_date", "publish-date", "published_date",
    "published-date", "pubdate", "parsely-pub-date", "sailthru.date", "article.published",
    "article_date_original", "cxenseparse:recs:publishtime", "citation_publication_date",
    "citation_date", "originalpublicationdate", "displaydate", "bt:pubdate")


def meta_values(sel: Selector) -> dict[str, str]:
    """Every ``<meta>`` of the page by its name, property or itemprop (lowercased): the
    first non-empty content given for each."""
    values: dict[str, str] = {}
    root = sel.root
    found = root.xpath("//meta[@content]") if not isinstance(root, str) else []
    for element in found:  # the elements themselves: a Selector per <meta> costs 4 times more
        content = (element.get("content") or "").strip()
        if not content:
            continue
        for attribute in ("name", "property", "itemprop"):
            key = (element.get(attribute) or "").strip().lower()
            if key:
                values.setdefault(key, content)
    return values


def meta(sel: Selector | dict[str, str], *names: str) -> str | None:
    """The first of ``names`` the page's ``<meta>`` gives a value for."""
    values = sel if isinstance(sel, dict) else meta_values(sel)
    for name in names:
        value = values.get(name.lower())
        if value:
            return value
    return None


def declared(sel: Selector) -> dict[str, Any]:
    """Fields the page declares, None where it declares nothing."""
    ld = json_ld_article(sel)
    metas = meta_values(sel)
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = [k for k in (clean_text(k) for k in keywords.split(",")) if k]
    tags = [t for t in (clean_text(v) for v in sel.css(
        'meta[property="article:tag"]::attr(content)').getall()) if t]
    # one pass over the page's itemprop attributes for both (a CSS union makes two passes
    # over every element: three times slower)
    microdata_date = sel.xpath('//@itemprop[. = "datePublished"]/..'
                               '/@*[name() = "content" or name() = "datetime"]').get()
    return {
        "title": clean_text(ld.get("headline")) if isinstance(ld.get("headline"), str) else None,
        "og_title": clean_text(meta(metas, "og:title", "twitter:title")),
        "description": clean_text(meta(metas, "og:description", "description")),
        "published": ld.get("datePublished") or meta(metas, *PUBLISHED_META)
        or microdata_date or json_ld_published(sel),
        "modified": ld.get("dateModified") or meta(metas, "article:modified_time",
                                                   "og:updated_time"),
        "ld_authors": _names(ld.get("author")),
        "authors": _names(ld.get("author")) or _names(meta(metas, "author")) or
        [a for a in (clean_text(" ".join(n.css("::text").getall()))
                     for n in sel.css('[itemprop="author"]')) if a],
        "tags": tags or (keywords if isinstance(keywords, list) else []),
        "image_url": _image(ld.get("image")) or meta(metas, "og:image", "twitter:image"),
        "language": ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None,
        "canonical_url": sel.css('link[rel="canonical"]::attr(href)').get(),
        "site_name": clean_text(meta(metas, "og:site_name")),
        "html_lang": sel.xpath("/html/@lang").get() or meta(metas, "og:locale", "language"),
        "time": sel.css("article time::attr(datetime), main time::attr(datetime)").get(),
    }
