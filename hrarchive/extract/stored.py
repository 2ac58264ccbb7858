"""The values the archive stores for a page: extraction followed by the normal forms.

The one place a story's normal forms are applied: the normalise pipeline calls it for every
Article, and ``hrarchive extract``, the fixture tests and the benchmark call it on what
``extract_article`` returns, so they show exactly what a crawl keeps.

A value that cannot be put in its normal form (a tag list holding a list, a link whose port
is not a number) never costs the story: it is left out and named in ``dropped``, which the
normalise pipeline counts and logs with the page's URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hrarchive.extract.dates import parse_date, reader_day
from hrarchive.extract.text import clean_block, clean_text, html_to_text
from hrarchive.extract.urls import normalise_url, same_site


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


class _Normaliser:
    """Normal forms of one page's values, remembering each value it had to leave out."""

    def __init__(self, base: str, slash: str | None, dropped: list[str]) -> None:
        self.base, self.slash, self.dropped = base, slash, dropped

    def drop(self, name: str, value: Any) -> None:
        self.dropped.append(f"{name}: {_short(value)}")

    def text(self, name: str, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return clean_text(value)
        self.drop(name, value)
        return None

    def texts(self, name: str, values: Any) -> list[str]:
        if values is None:
            return []
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list | tuple):
            self.drop(name, values)
            return []
        kept = (self.text(name, v) for v in values)
        return list(dict.fromkeys(t for t in kept if t))

    def url(self, name: str, value: Any) -> str | None:
        if not value:
            return None
        if not isinstance(value, str):
            self.drop(name, value)
            return None
        try:
            return normalise_url(value, self.base, self.slash)
        except ValueError:  # "http://Name: text" (port is not a number), "http://[x"
            self.drop(name, value)
            return None

    def links(self, name: str, links: Any) -> list[dict[str, Any]]:
        """Links (mappings, or ``Link`` items) normalised, each URL once, in page order."""
        out: dict[str, dict[str, Any]] = {}
        for link in links if isinstance(links, list | tuple) else []:
            data = link if isinstance(link, dict) else getattr(link, "__dict__", {})
            url = self.url(name, data.get("url"))
            if url:
                out.setdefault(url, {"url": url, "title": self.text(name, data.get("title"))})
        return list(out.values())

    def date(self, name: str, value: Any, languages: Sequence[str],
             order: str | None) -> tuple[str | None, str | None]:
        raw = self.text(name, value)
        try:
            return parse_date(raw, languages, order), raw
        except (ValueError, TypeError, OverflowError):  # unreadable: kept raw, as any other
            return None, raw


def stored_article(data: dict[str, Any], languages: Sequence[str] = (),
                   date_order: str | None = None, trailing_slash: str | None = None,
                   dropped: list[str] | None = None) -> dict[str, Any]:
    """``extract_article``'s raw values in the archive's normal forms.

    A date that cannot be read is ``None`` with the text kept in ``*_raw``.  Values that
    cannot be normalised are left out and described in ``dropped`` (when given).
    """
    base = data["url"]
    norm = _Normaliser(base, trailing_slash, dropped if dropped is not None else [])
    url = norm.url("url", base) or base
    canonical = norm.url("canonical_url", data.get("canonical_url"))
    out: dict[str, Any] = {"url": url,
                           "canonical_url": canonical if canonical and same_site(canonical, url)
                           else url}
    out["title"] = norm.text("title", data.get("title"))
    out["subtitle"] = norm.text("subtitle", data.get("subtitle"))
    out["authors"] = norm.texts("authors", data.get("authors"))
    for name in ("published", "modified"):
        out[name], out[f"{name}_raw"] = norm.date(name, data.get(name), languages, date_order)
    language = norm.text("language", data.get("language"))
    out["language"] = clean_text(language.replace("_", "-")) if language else None
    printed = data.get("published_printed")
    if isinstance(printed, str):  # a declared UTC instant, on the day the page prints
        # read in the page's own language when no profile names one: guessing it among all
        # of dateparser's languages costs more than the rest of the page's extraction
        page_language = (out["language"] or "").split("-")[0].lower()
        out["published"] = reader_day(out["published"], printed,
                                      languages or ((page_language,) if page_language else ()),
                                      date_order)
    out["tags"] = norm.texts("tags", data.get("tags"))
    out["image_url"] = norm.url("image_url", data.get("image_url"))
    body_text = data.get("body_text")
    body_html = data.get("body_html")
    if not isinstance(body_html, str | None):
        norm.drop("body_html", body_html)
        body_html = None
    out["body_text"] = (clean_block(body_text) if isinstance(body_text, str) else None) \
        or html_to_text(body_html)
    out["body_html"] = body_html
    for kind in ("related", "links", "attachments"):
        out[kind] = norm.links(kind, data.get(kind, []))
    return out
