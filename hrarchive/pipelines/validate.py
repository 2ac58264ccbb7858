"""Validate pipeline: drop what cannot be archived, with a reason and a stats counter.

A story needs a URL, a title and body text; a teaser needs a URL and a title.  A story
without a readable date is kept (its raw date, if any, is stored) and counted.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from hrarchive.items import Article, Teaser

logger = logging.getLogger(__name__)
REQUIRED = {Article: ("url", "title", "body_text"), Teaser: ("url", "title")}


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        stats = self.crawler.stats
        assert stats is not None
        adapter = ItemAdapter(item)
        kind = type(item).__name__.lower()
        for name in REQUIRED.get(type(item), ()):
            if not adapter.get(name):
                stats.inc_value(f"hrarchive/validate/dropped_{kind}_no_{name}")
                raise DropItem(f"{kind} without {name}: {adapter.get('url')}")
        if isinstance(item, Article) and not item.published:
            stats.inc_value("hrarchive/validate/article_no_date")
            logger.warning("Story without a readable date (kept): %s", item.url)
        return item
