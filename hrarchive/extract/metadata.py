"""What a page declares in standard form: JSON-LD, OpenGraph and ``article:*`` meta,
microdata, ``<link rel=canonical>``, ``<time datetime>`` and ``<html lang>``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from parsel import Selector

from hrarchive.extract.text import clean_text

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
    return {str(k) for k in (kind if isinstance(kind, list) else [kind])}


def json_ld_article(sel: Selector) -> dict[str, Any]:
    """The first JSON-LD object typed as an article, or {}."""
    for script in sel.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(script, strict=False)
        except ValueError:
            continue
        for node in _walk(data):
            if _types(node) & ARTICLE_TYPES:
                return node
    return {}


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


def meta(sel: Selector, *names: str) -> str | None:
    for name in names:
        value = sel.css(f'meta[property="{name}"]::attr(content), '
                        f'meta[name="{name}"]::attr(content)').get()
        if value and value.strip():
            return value.strip()
    return None


def declared(sel: Selector) -> dict[str, Any]:
    """Fields the page declares, None where it declares nothing."""
    ld = json_ld_article(sel)
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = [k for k in (clean_text(k) for k in keywords.split(",")) if k]
    tags = [t for t in (clean_text(v) for v in sel.css(
        'meta[property="article:tag"]::attr(content)').getall()) if t]
    microdata_date = sel.css('[itemprop="datePublished"]::attr(content), '
                             '[itemprop="datePublished"]::attr(datetime)').get()
    return {
        "title": clean_text(ld.get("headline")) if isinstance(ld.get("headline"), str) else None,
        "og_title": clean_text(meta(sel, "og:title", "twitter:title")),
        "description": clean_text(meta(sel, "og:description", "description")),
        "published": ld.get("datePublished") or meta(sel, "article:published_time",
                                                     "datePublished", "date", "DC.date.issued")
        or microdata_date,
        "modified": ld.get("dateModified") or meta(sel, "article:modified_time", "og:updated_time"),
        "ld_authors": _names(ld.get("author")),
        "authors": _names(ld.get("author")) or _names(meta(sel, "author")) or
        [a for a in (clean_text(" ".join(n.css("::text").getall()))
                     for n in sel.css('[itemprop="author"]')) if a],
        "tags": tags or (keywords if isinstance(keywords, list) else []),
        "image_url": _image(ld.get("image")) or meta(sel, "og:image", "twitter:image"),
        "language": ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None,
        "canonical_url": sel.css('link[rel="canonical"]::attr(href)').get(),
        "site_name": clean_text(meta(sel, "og:site_name")),
        "html_lang": sel.xpath("/html/@lang").get() or meta(sel, "og:locale", "language"),
        "time": sel.css("article time::attr(datetime), main time::attr(datetime)").get(),
    }
