"""Normalise pipeline: URLs to canonical form, dates to ISO 8601, text to NFC plain text."""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from hrarchive.extract.dates import parse_date
from hrarchive.extract.text import clean_block, clean_text, html_to_text
from hrarchive.extract.urls import normalise_url, same_site
from hrarchive.items import Article, Link, Teaser
from hrarchive.profiles import SiteProfile

logger = logging.getLogger(__name__)


class NormalisePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    @property
    def profile(self) -> SiteProfile | None:
        return getattr(self.crawler.spider, "profile", None)

    def _url(self, url: str | None, base: str) -> str | None:
        if not url:
            return None
        slash = self.profile.trailing_slash if self.profile else None
        return normalise_url(url, base, slash)

    def _date(self, item: ItemAdapter, name: str) -> None:
        raw = clean_text(item.get(name))
        item[f"{name}_raw"] = raw
        profile = self.profile
        value = parse_date(raw, profile.languages if profile else (),
                           profile.date_order if profile else None)
        if raw and value is None:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"hrarchive/normalise/unreadable_{name}")
            logger.warning("Unreadable %s date %r on %s (kept raw)", name, raw, item.get("url"))
        item[name] = value

    def _links(self, links: list[Any], base: str, kind: str) -> list[Link]:
        out: dict[str, Link] = {}
        for link in links:
            data = ItemAdapter(link) if not isinstance(link, dict) else link
            url = self._url(data.get("url"), base)
            if url and url not in out:
                out[url] = Link(url, clean_text(data.get("title")), kind)
        return list(out.values())

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Teaser | Article):
            return item  # NotModified, Attachment: nothing to normalise
        adapter = ItemAdapter(item)
        base = adapter["url"]
        if isinstance(item, Teaser):
            base = item.listing_url
            item.listing_url = self._url(item.listing_url, base) or item.listing_url
        adapter["url"] = self._url(adapter["url"], base)
        for name in ("title", "summary", "subtitle"):
            if name in adapter.field_names():
                adapter[name] = clean_text(adapter.get(name))
        self._date(adapter, "published")
        adapter["image_url"] = self._url(adapter.get("image_url"), base)
        if isinstance(item, Article):
            self._article(item, base)
        return item

    def _article(self, item: Article, base: str) -> None:
        canonical = self._url(item.canonical_url, base)
        # rel=canonical wins when it names the same site; elsewhere it is not trusted
        item.canonical_url = canonical if canonical and same_site(canonical, item.url) else item.url
        self._date(ItemAdapter(item), "modified")
        item.authors = list(dict.fromkeys(a for a in map(clean_text, item.authors) if a))
        item.tags = list(dict.fromkeys(t for t in map(clean_text, item.tags) if t))
        item.body_text = clean_block(item.body_text) or html_to_text(item.body_html)
        item.language = clean_text(item.language.replace("_", "-")) if item.language else None
        item.related = self._links(item.related, base, "related")
        item.links = self._links(item.links, base, "body")
        item.attachments = self._links(item.attachments, base, "attachment")
