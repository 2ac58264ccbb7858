"""The profile-driven spider: discovers listings, feeds, sitemaps and stories of one site.

It decides what to fetch; what a page says is read by ``hrarchive.extract``.  A page that
cannot be fetched or read is logged with its URL and counted, and the crawl goes on.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from hrarchive.extract import extract_article, extract_listing
from hrarchive.extract.urls import Rebaser, normalise_url, same_site
from hrarchive.items import Article, Teaser
from hrarchive.profiles import SiteProfile

FEED_TYPES = re.compile(rb"<(rss|feed|rdf:RDF)\b", re.I)


class SiteSpider(scrapy.Spider):
    """Crawls one site as its profile describes (no ``name``: only profile subclasses run)."""

    profile: SiteProfile

    def __init__(self, *args: Any, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rebase = Rebaser(self.profile.base_url or self.profile.start_urls[0], base_url)
        self.run_options = {"base_url": base_url} if base_url else {}

    # --- helpers ----------------------------------------------------------------------------
    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def _request(self, url: str, callback: Any, **kwargs: Any) -> Request:
        target = self.rebase(normalise_url(url, trailing_slash=self.profile.trailing_slash))
        return Request(target, callback=callback, errback=self.failed, **kwargs)

    def is_story(self, url: str) -> bool:
        on_site = any(same_site(url, base) for base in (self.profile.base_url,
                                                        self.rebase(self.profile.base_url))
                      if base) if self.profile.base_url else True
        return on_site and self.profile.is_article_url(url)

    # --- discovery --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for url in self.profile.start_urls:
            yield self._request(url, self.parse_listing)
        for url in self.profile.feeds:
            yield self._request(url, self.parse_feed)
        for url in self.profile.sitemaps:
            yield self._request(url, self.parse_sitemap)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        try:
            listing = extract_listing(response.body, response.url, response.headers,
                                      self.profile.listing, self.is_story)
        except Exception:
            self._unreadable(response, "listing")
            return
        self._count("hrarchive/listing/read")
        if not listing.teasers:
            self._count("hrarchive/listing/empty")
            self.logger.warning("No teasers found on listing page %s", response.url)
        for teaser in listing.teasers:
            yield Teaser(site=self.profile.id, listing_url=response.url,
                         **{**teaser, "url": self.rebase(teaser["url"])})
            yield self._request(teaser["url"], self.parse_article)
        if listing.next_page:
            yield self._request(listing.next_page, self.parse_listing)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        if not FEED_TYPES.search(response.body[:2048]):
            self._unreadable(response, "feed")
            return
        self._count("hrarchive/listing/read")
        selector = scrapy.Selector(body=response.body, type="xml")
        selector.remove_namespaces()
        for position, entry in enumerate(selector.xpath("//item | //entry"), start=1):
            link = entry.xpath("link/@href").get() or entry.xpath("link/text()").get()
            if not link or not self.is_story(link.strip()):
                continue
            yield Teaser(site=self.profile.id, listing_url=response.url,
                         url=self.rebase(link.strip()), title=entry.xpath("title/text()").get(),
                         summary=entry.xpath("description/text() | summary/text()").get(),
                         published=entry.xpath("pubDate/text() | published/text() | "
                                               "updated/text() | date/text()").get(),
                         position=position)
            yield self._request(link.strip(), self.parse_article)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        try:
            sitemap = Sitemap(response.body)
        except Exception:
            self._unreadable(response, "sitemap")
            return
        self._count("hrarchive/listing/read")
        for entry in sitemap:
            url = entry.get("loc", "").strip()
            if sitemap.type == "sitemapindex":
                yield self._request(url, self.parse_sitemap)
            elif url and self.is_story(url):
                yield self._request(url, self.parse_article)

    # --- stories ----------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        try:
            data = extract_article(response.body, response.url, response.headers,
                                   self.profile.article)
        except Exception:
            self._unreadable(response, "article")
            return
        self._count("hrarchive/article/read")
        for kind in ("related", "links", "attachments"):
            data[kind] = [{**link, "url": self.rebase(link["url"])} for link in data[kind]]
        if data["canonical_url"]:
            data["canonical_url"] = self.rebase(data["canonical_url"])
        yield Article(site=self.profile.id, etag=_header(response, "ETag"),
                      last_modified=_header(response, "Last-Modified"), **data)

    # --- failures ---------------------------------------------------------------------------
    def _unreadable(self, response: Response, kind: str) -> None:
        self._count("hrarchive/errors")
        self._count(f"hrarchive/{kind}/unreadable")
        self.logger.exception("Could not read %s page %s", kind, response.url)

    def failed(self, failure: Failure) -> None:
        """Errback: a page that could not be fetched is logged and counted; the crawl goes on."""
        self._count("hrarchive/errors")
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if isinstance(failure.value, HttpError):
            status = failure.value.response.status
            self._count(f"hrarchive/errors/http_{status}")
            self.logger.error("HTTP %s for %s (not archived)", status, url)
        else:
            self._count(f"hrarchive/errors/{failure.type.__name__ if failure.type else 'error'}")
            self.logger.error("Could not fetch %s: %s", url, failure.getErrorMessage())


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def spider_for(profile: SiteProfile) -> type[SiteSpider]:
    """A spider class named after the profile's id."""
    class_name = "".join(p.capitalize() for p in re.split(r"[-_]", profile.id)) + "Spider"
    return type(class_name, (SiteSpider,), {"name": profile.id, "profile": profile,
                                            "__module__": __name__})
