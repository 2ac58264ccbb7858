"""Layout alarm pipeline: fail the run loudly when a site's pages stop reading as stories.

A site that changes its layout rarely breaks the crawl; it makes it read nothing.  So a run
fails (status ``failed``, ``hrarchive crawl`` exits 1) when its listings, feeds and sitemaps
yield no story at all, or when more than ``HRARCHIVE_LAYOUT_MAX_MISSING`` of the story pages
it read (at least ``HRARCHIVE_LAYOUT_MIN_STORIES`` of them) lack a title, a readable date or
body text.  The log names the fields and the pages.  A profile selector that found nothing on
any page read with it is reported as "selector no longer matches" (a warning: generic
extraction stood in for it, so the run is not failed for that alone).  It sits after
normalise and before validate, so it also sees the stories validation drops.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from hrarchive.items import Article

logger = logging.getLogger(__name__)
FIELDS = {"title": "a title", "published": "a readable date", "body_text": "body text"}
SHOWN = 10  # pages named in the log per field
MISSED = "hrarchive/selectors/missed/"  # + "article.title": pages it found nothing on
PAGES = "hrarchive/selectors/pages/"  # + "article": pages read with the profile's selectors


def layout_problems(read: int, missing: dict[str, list[str]], max_share: float,
                    min_stories: int) -> dict[str, str]:
    """For each field that too many of the ``read`` story pages lack, what to report."""
    if read < max(min_stories, 1):
        return {}
    return {name: f"{len(urls)} of {read} story pages lack {FIELDS[name]} ({name})"
            for name, urls in missing.items() if len(urls) / read > max_share}


def stale_selectors(stats: dict[str, Any]) -> dict[str, int]:
    """Profile selectors (``article.title``, ``listing.date``...) that found nothing on any
    page of the run that was read with them: the field name and the number of pages."""
    stale = {}
    for key, missed in stats.items():
        if key.startswith(MISSED):
            name = key.removeprefix(MISSED)
            pages = int(stats.get(PAGES + name.split(".")[0], 0))
            if pages and int(missed) >= pages:
                stale[name] = pages
    return dict(sorted(stale.items()))


class LayoutAlarmPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.max_share = settings.getfloat("HRARCHIVE_LAYOUT_MAX_MISSING", 0.5)
        self.min_stories = settings.getint("HRARCHIVE_LAYOUT_MIN_STORIES", 3)
        self.read = 0
        self.missing: dict[str, list[str]] = {name: [] for name in FIELDS}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LayoutAlarmPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            self.read += 1
            for name in FIELDS:
                if not getattr(item, name):
                    self.missing[name].append(item.url)
        return item

    def close_spider(self) -> None:
        stats = self.crawler.stats
        assert stats is not None
        site = getattr(self.crawler.spider, "name", "?")
        alarms = []
        listings = int(stats.get_value("hrarchive/listing/read", 0))
        # a sitemap index whose child sitemaps are all unchanged legitimately yields nothing,
        # and so does a WordPress API asked for the posts modified since the last run
        unchanged = stats.get_value("hrarchive/sitemap/skipped_unchanged", 0) or \
            stats.get_value("hrarchive/wpapi/nothing_modified", 0)
        if listings and not unchanged and not stats.get_value("hrarchive/stories/found"):
            alarms.append(f"no stories found on {listings} listing, feed or sitemap pages")
            logger.error("Layout alarm for %s: no story links on any listing, feed or sitemap "
                         "page (has the listing markup changed?)", site)
        problems = layout_problems(self.read, self.missing, self.max_share, self.min_stories)
        for name, line in problems.items():
            urls = self.missing[name]
            more = f" and {len(urls) - SHOWN} more" if len(urls) > SHOWN else ""
            logger.error("Layout alarm for %s: %s: %s%s", site, line, ", ".join(urls[:SHOWN]),
                         more)
        alarms += problems.values()
        stale = stale_selectors(stats.get_stats())
        if stale:
            # generic extraction stood in, so the run goes on: a warning, not a failure
            line = "selector no longer matches: " + ", ".join(
                f"{name} (none of {pages} pages)" for name, pages in stale.items())
            stats.set_value("hrarchive/layout/selectors", line)
            logger.warning("Layout alarm for %s: %s; read generically instead", site, line)
        if alarms:
            stats.set_value("hrarchive/layout/alarm", "layout alarm: " + "; ".join(alarms))
