"""The values the archive stores for a page: extraction followed by the normal forms.

The one place a story's normal forms are applied: the normalise pipeline calls it for every
Article, and ``hrarchive extract``, the fixture tests and the benchmark call it on what
``extract_article`` returns, so they show exactly what a crawl keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hrarchive.extract.dates import parse_date
from hrarchive.extract.text import clean_block, clean_text, html_to_text
from hrarchive.extract.urls import normalise_url, same_site


def _links(links: list[Any], base: str, slash: str | None) -> list[dict[str, Any]]:
    """Links (mappings, or ``Link`` items) normalised, each URL once, in page order."""
    out: dict[str, dict[str, Any]] = {}
    for link in links:
        data = link if isinstance(link, dict) else vars(link)
        if data.get("url"):
            url = normalise_url(data["url"], base, slash)
            out.setdefault(url, {"url": url, "title": clean_text(data.get("title"))})
    return list(out.values())


def stored_article(data: dict[str, Any], languages: Sequence[str] = (),
                   date_order: str | None = None,
                   trailing_slash: str | None = None) -> dict[str, Any]:
    """``extract_article``'s raw values in the archive's normal forms.

    A date that cannot be read is ``None`` with the text kept in ``*_raw``.
    """
    base = data["url"]
    url = normalise_url(base, None, trailing_slash)
    canonical = normalise_url(data["canonical_url"], base, trailing_slash) \
        if data.get("canonical_url") else None
    out: dict[str, Any] = {"url": url,
                           "canonical_url": canonical if canonical and same_site(canonical, url)
                           else url}
    out["title"] = clean_text(data.get("title"))
    out["subtitle"] = clean_text(data.get("subtitle"))
    out["authors"] = list(dict.fromkeys(a for a in map(clean_text, data.get("authors", [])) if a))
    for name in ("published", "modified"):
        raw = clean_text(data.get(name))
        out[name] = parse_date(raw, languages, date_order)
        out[f"{name}_raw"] = raw
    language = data.get("language")
    out["language"] = clean_text(language.replace("_", "-")) if language else None
    out["tags"] = list(dict.fromkeys(t for t in map(clean_text, data.get("tags", [])) if t))
    out["image_url"] = normalise_url(data["image_url"], base, trailing_slash) \
        if data.get("image_url") else None
    out["body_text"] = clean_block(data.get("body_text")) or html_to_text(data.get("body_html"))
    out["body_html"] = data.get("body_html")
    for kind in ("related", "links", "attachments"):
        out[kind] = _links(data.get(kind, []), base, trailing_slash)
    return out
