"""The bare Scrapy baseline: fetch the synthetic site's listings and stories, keep nothing.

Run by the crawl benchmark as ``scrapy runspider benchmarks/bare_spider.py -a
start_url=<base>/articles/ -a stats_path=<file>`` with the same concurrency settings as
``hrarchive crawl``.
It follows the same links the hrarchive profile does (listing pagination, each teaser's
story link, the sitemap) and discards every story page, so the difference in rate is what
hrarchive's extraction, pipelines and archive cost.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.utils.sitemap import Sitemap


class BareSpider(scrapy.Spider):
    """Listing pages -> story pages; nothing parsed on story pages, nothing yielded."""

    name = "bare"

    def __init__(self, start_url: str = "", sitemap_url: str = "", stats_path: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start_url]
        self.sitemap_url = sitemap_url
        self.stats_path = stats_path

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, self.parse)
        if self.sitemap_url:
            yield scrapy.Request(self.sitemap_url, self.parse_sitemap)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Sitemap index -> child sitemaps -> stories (most already requested: filtered)."""
        sitemap = Sitemap(response.body)
        for entry in sitemap:
            callback = self.parse_sitemap if sitemap.type == "sitemapindex" else self.discard
            yield scrapy.Request(entry["loc"], callback)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("article.post h2.entry-title a::attr(href)").getall():
            yield response.follow(href, self.discard)
        next_page = response.css("a.next.page-numbers::attr(href)").get()
        if next_page:
            yield response.follow(next_page, self.parse)

    def discard(self, response: Response) -> None:
        return None

    def closed(self, reason: str) -> None:
        """Write Scrapy's run time (spider open to close) where the benchmark reads it."""
        if self.stats_path and self.crawler.stats is not None:
            started = self.crawler.stats.get_value("start_time")
            elapsed = (datetime.now(UTC) - started).total_seconds()
            Path(self.stats_path).write_text(json.dumps({"elapsed_time_seconds": elapsed}))
