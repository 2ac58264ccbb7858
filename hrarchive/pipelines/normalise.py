"""Normalise pipeline: URLs to canonical form, dates to ISO 8601, text to NFC plain text."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from hrarchive.extract.dates import parse_date
from hrarchive.extract.stored import stored_article
from hrarchive.extract.text import clean_text
from hrarchive.extract.urls import normalise_url
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

    def _unreadable(self, raw: str | None, value: str | None, name: str, url: str) -> None:
        if raw and value is None:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"hrarchive/normalise/unreadable_{name}")
            logger.warning("Unreadable %s date %r on %s (kept raw)", name, raw, url)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            self._article(item)
        elif isinstance(item, Teaser):
            self._teaser(item)
        return item  # NotModified, Attachment: nothing to normalise

    def _teaser(self, item: Teaser) -> None:
        profile = self.profile
        base = item.listing_url
        item.listing_url = self._url(base, base) or base
        item.url = self._url(item.url, base) or item.url
        item.title = clean_text(item.title)
        item.summary = clean_text(item.summary)
        item.published_raw = clean_text(item.published)
        item.published = parse_date(item.published_raw, profile.languages if profile else (),
                                    profile.date_order if profile else None)
        self._unreadable(item.published_raw, item.published, "published", item.url)
        item.image_url = self._url(item.image_url, base)

    def _article(self, item: Article) -> None:
        profile = self.profile
        dropped: list[str] = []
        data = stored_article(vars(item), profile.languages if profile else (),
                              profile.date_order if profile else None,
                              profile.trailing_slash if profile else None, dropped)
        for value in dropped:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("hrarchive/normalise/dropped_values")
            self.crawler.stats.inc_value(
                f"hrarchive/normalise/dropped/{value.split(':', 1)[0]}")
            logger.warning("Dropped a value that cannot be normalised on %s: %s (story kept)",
                           data["url"], value)
        for name in ("published", "modified"):
            self._unreadable(data[f"{name}_raw"], data[name], name, data["url"])
        for kind, link_kind in (("related", "related"), ("links", "body"),
                                ("attachments", "attachment")):
            data[kind] = [Link(link["url"], link["title"], link_kind) for link in data[kind]]
        for name, value in data.items():
            setattr(item, name, value)
