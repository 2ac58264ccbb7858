"""Redirect loops, logged with their chain and counted instead of vanishing as duplicates.

Scrapy follows a redirect as a new request, so a loop (A -> B -> A) ends when the duplicate
filter drops the request back to A, silently.  This filter says so: a dropped request that
came by redirect to a URL already in its chain is a loop, logged with the whole chain and
counted (``hrarchive/redirect/loop``, ``hrarchive/errors``); one that came by redirect to a
page fetched before is logged too (``hrarchive/redirect/to_seen``).  A redirect off the site
is caught by the spider (``SiteSpider.off_site``).
"""

from __future__ import annotations

import logging

from scrapy import Request, Spider
from scrapy.dupefilters import RFPDupeFilter

logger = logging.getLogger(__name__)


class RedirectLoopDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, which also reports redirect loops."""

    def log(self, request: Request, spider: Spider) -> None:
        report_redirect(request, spider)
        super().log(request, spider)


def report_redirect(request: Request, spider: Spider) -> None:
    """Log and count a duplicate request that came by redirect (a loop, or a page seen)."""
    chain = request.meta.get("redirect_urls")
    if not chain:
        return
    stats = spider.crawler.stats
    assert stats is not None
    if request.url in chain:
        stats.inc_value("hrarchive/errors")
        stats.inc_value("hrarchive/redirect/loop")
        logger.warning("Redirect loop, not archived: %s (redirect loops so far: %d)",
                       " -> ".join([*chain, request.url]),
                       stats.get_value("hrarchive/redirect/loop"), extra={"spider": spider})
    else:  # two URLs of one page, say: the page is read once
        stats.inc_value("hrarchive/redirect/to_seen")
        logger.info("Redirect to a page already fetched: %s",
                    " -> ".join([*chain, request.url]), extra={"spider": spider})
