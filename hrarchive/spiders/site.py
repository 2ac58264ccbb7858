"""The profile-driven spider: discovers listings, feeds, sitemaps and stories of one site.

It decides what to fetch; what a page says is read by ``hrarchive.extract``.  A page that
cannot be fetched or read is logged with its URL and counted, and the crawl goes on.
Runs are incremental (see ``hrarchive.spiders.incremental``): the archive's state is read
once at the start, and archived stories are fetched again only on a signal, conditionally.
Spider arguments: ``base_url``, ``full`` (any of 1/true/yes), ``since`` (YYYY-MM-DD).
A WordPress site may be read through its REST API instead (``hrarchive.spiders.wpapi``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from hrarchive.extract import extract_article, extract_listing
from hrarchive.extract.dates import parse_date
from hrarchive.extract.feed import declared_feeds, extract_feed
from hrarchive.extract.text import clean_text
from hrarchive.extract.urls import Rebaser, normalise_url, same_site, slash_variant
from hrarchive.items import Announced, Article, Gone, NotModified, Teaser
from hrarchive.middlewares.retry import unreachable_reason
from hrarchive.profiles import SiteProfile
from hrarchive.spiders.incremental import Fetch, Planner, parse_signal_date
from hrarchive.spiders.wpapi import POST_META, WordPressApi
from hrarchive.store.state import SITEMAPS_STAT, read_site_state


class SiteSpider(WordPressApi, scrapy.Spider):
    """Crawls one site as its profile describes (no ``name``: only profile subclasses run)."""

    profile: SiteProfile
    planner: Planner
    resumed = False  # a crawler worker goes on with a frontier another worker left

    def __init__(self, *args: Any, base_url: str | None = None, full: Any = False,
                 since: str | date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rebase = Rebaser(self.profile.home, base_url)
        self.full = str(full).lower() in {"1", "true", "yes", "on"}
        try:
            self.since = date.fromisoformat(str(since)) if since else None
        except ValueError as exc:
            raise ValueError(f"since must be a date, YYYY-MM-DD: {since!r}") from exc
        self.run_options: dict[str, Any] = {"base_url": base_url} if base_url else {}
        if self.full:
            self.run_options["full"] = True
        if self.since:
            self.run_options["since"] = self.since.isoformat()
        self.announced: dict[str, datetime] = {}  # story: the newest sitemap/feed date for it
        self.read: dict[str, datetime | None] = {}  # story read (or 304): the date it carried
        self.sitemap_lastmods: dict[str, str] = {}  # child sitemap: its lastmod in the index
        self.feeds_seen = {self._key(url) for url in self.profile.feeds}
        self.unlisted_done = False  # archived stories discovery missed: revalidated once

    # --- helpers ----------------------------------------------------------------------------
    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def _request(self, url: str, callback: Any, **kwargs: Any) -> Request:
        target = self.rebase(normalise_url(url, trailing_slash=self.profile.trailing_slash))
        return Request(target, callback=callback, errback=self.failed, **kwargs)

    def _key(self, url: str) -> str:
        """A story link as the archive stores it: rebased, then normalised."""
        return normalise_url(self.rebase(url.strip()), trailing_slash=self.profile.trailing_slash)

    def _date(self, printed: str | None) -> tuple[date | None, str | None]:
        """A teaser's printed date as a day, and as the archive compares teasers: its
        normal form when it can be read, else as printed (``store.state`` keys alike)."""
        text = clean_text(printed)
        iso = parse_date(text, self.profile.languages, self.profile.date_order)
        return (date.fromisoformat(iso[:10]) if iso else None), iso or text

    def _story(self, url: str, **signals: Any) -> Request | None:
        """A request for a story the planner wants fetched, or None (counted, with why)."""
        self._count("hrarchive/stories/found")
        key = self._key(url)
        changed = signals.get("changed")
        if changed and (key not in self.announced or changed > self.announced[key]):
            self.announced[key] = changed  # the newest signal, whatever the order of reading
        decision = self.planner.story(key, **signals)
        if not isinstance(decision, Fetch):
            self._count(f"hrarchive/incremental/skipped_{decision}")
            return None
        self._count(f"hrarchive/incremental/fetch_{decision.reason}")
        if decision.known is None:
            return self._request(url, self.parse_article)
        return self._revalidate(url, decision)

    def _late_announcement(self, url: str) -> Iterator[Announced]:
        """The story's newest sitemap/feed date, when it was read after the story itself in
        this run: the store records it as the story's ``announced`` (``Archive.announce``)."""
        key = self._key(url)
        if key not in self.read or key not in self.announced:
            return
        carried, newest = self.read[key], self.announced[key]
        if carried is None or newest > carried:
            self.read[key] = newest
            yield Announced(site=self.profile.id, url=key, announced=newest.isoformat())

    def _revalidate(self, url: str, decision: Fetch) -> Request:
        """A conditional request for an archived story; a 404, 410 or redirect reaches
        parse_article, which records a takedown (see ``_gone``)."""
        assert decision.known is not None
        return self._request(url, self.parse_article, headers=decision.headers,
                             meta={"handle_httpstatus_list": [304, *GONE_STATUSES,
                                                              *REDIRECT_STATUSES],
                                   "hrarchive_known": decision.known.url})

    def on_site(self, url: str) -> bool:
        """Whether a URL is on the site, or on its --base-url copy."""
        home = self.profile.home
        return same_site(url, home) or same_site(url, self.rebase(home))

    def is_story(self, url: str) -> bool:
        """A link to a story: on the site (or its --base-url copy), matching ``article_url``."""
        return self.on_site(url) and self.profile.is_article_url(url)

    def off_site(self, response: Response, kind: str) -> bool:
        """A page that redirected off the site: logged with its chain, counted, not read."""
        chain = response.meta.get("redirect_urls")
        if not chain or self.on_site(response.url):
            return False
        self._count("hrarchive/errors")
        self._count("hrarchive/redirect/off_site")
        assert self.crawler.stats is not None
        self.logger.warning("Redirect off the site, not archived as its %s: %s "
                            "(off-site redirects so far: %d)", kind,
                            " -> ".join([*chain, response.url]),
                            self.crawler.stats.get_value("hrarchive/redirect/off_site"))
        return True

    # --- discovery --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        assert self.crawler.stats is not None
        settings = self.crawler.settings
        crawl_id = self.crawler.stats.get_value("hrarchive/crawl_id")
        if settings.get("HRARCHIVE_REDIS"):  # a crawler worker: the writer knows the archive
            from hrarchive.cluster.worker import site_state

            state = await site_state(settings, self.profile.id, crawl_id)
        else:
            state = read_site_state(settings.get("HRARCHIVE_DB"), self.profile.id, crawl_id)
        self.planner = Planner(state, full=self.full, since=self.since,
                               recent_days=settings.getfloat("HRARCHIVE_RECENT_DAYS", 14))
        self.crawler.signals.connect(self.revalidate_unlisted, signal=signals.spider_idle)
        self.crawler.stats.set_value("hrarchive/mode", self.planner.mode)
        self.logger.info("%s run of %s: %d stories archived, %d teased but not archived%s",
                         self.planner.mode, self.profile.id, len(state.stories),
                         len(state.missing),
                         f" (previous run {state.previous_status})"
                         if state.previous_status not in (None, "finished") else "")
        self.api_setup()
        for url in state.missing:  # a killed run's unfinished work, or a page that failed
            self._count("hrarchive/incremental/fetch_missing")
            yield self._request(url, self.parse_article)
        for request in self.ways_in():  # the REST API, or the HTML ways in
            yield request

    def html_ways_in(self) -> Iterator[Request]:
        """The profile's listings, feeds and sitemaps."""
        for url in self.profile.start_urls:
            yield self._request(url, self.parse_listing)
        for url in self.profile.feeds:
            yield self._request(url, self.parse_feed)
        for url in self.profile.sitemaps:
            yield self._request(url, self.parse_sitemap)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if self.off_site(response, "listing"):
            return
        held = self.api_intercept(response, "parse_listing")  # read through the API instead
        if held is not None:
            yield from held
            return
        try:
            listing = extract_listing(response.body, response.url, response.headers,
                                      self.profile.listing, self.is_story)
        except Exception:
            self._unreadable(response, "listing")
            return
        self._count("hrarchive/listing/read")
        self._selector_misses("listing", self.profile.listing, listing.selector_misses)
        if not listing.teasers:
            self._count("hrarchive/listing/empty")
            self.logger.warning("No teasers found on listing page %s", response.url)
        archived: list[bool] = []
        dates: list[date | None] = []
        for teaser in listing.teasers:
            yield Teaser(site=self.profile.id, listing_url=response.url,
                         **{**teaser, "url": self.rebase(teaser["url"])})
            published, shown = self._date(teaser.get("published"))
            archived.append(self.planner.known(self._key(teaser["url"])) is not None)
            dates.append(published)
            request = self._story(teaser["url"], published=published, teaser=(
                clean_text(teaser.get("title")), clean_text(teaser.get("summary")), shown))
            if request is not None:
                yield request
        yield from self._declared_feeds(response)
        if listing.next_page:
            stop = self.planner.keep_paging(archived, dates)
            if stop is None:
                yield self._request(listing.next_page, self.parse_listing)
            else:
                self._count(f"hrarchive/listing/stopped_{stop}")
                self.logger.info("Not paging past %s: its stories are %s", response.url,
                                 "archived" if stop == "archived" else "older than --since")

    def _declared_feeds(self, response: Response) -> Iterator[Request]:
        """The site's feeds a listing page declares (``<link rel=alternate>``), once each."""
        home = self.profile.home
        for url in declared_feeds(response.body, response.url,
                                  lambda u: same_site(u, home) or same_site(u, self.rebase(home))):
            key = self._key(url)
            if key not in self.feeds_seen:
                self.feeds_seen.add(key)
                self._count("hrarchive/feed/declared")
                yield Request(key, callback=self.parse_feed, errback=self.feed_unavailable)

    def feed_unavailable(self, failure: Failure) -> None:
        """A declared feed that cannot be fetched is logged, not counted as an error: the
        listing it was found on was read, and the site may declare a feed it does not serve."""
        self._count("hrarchive/feed/declared_unavailable")
        request = getattr(failure, "request", None)
        self.logger.warning("Declared feed %s could not be read: %s",
                            request.url if request is not None else "?",
                            failure.getErrorMessage())

    def parse_feed(self, response: Response) -> Iterator[Any]:
        held = self.api_intercept(response, "parse_feed")
        if held is not None:
            yield from held
            return
        try:
            entries = extract_feed(response.body, response.url, self.is_story)
        except ValueError:
            self._unreadable(response, "feed")
            return
        self._count("hrarchive/listing/read")
        for entry in entries:
            updated = entry.pop("updated")
            yield Teaser(site=self.profile.id, listing_url=response.url,
                         **{**entry, "url": self.rebase(entry["url"])})
            published, shown = self._date(entry["published"])
            request = self._story(
                entry["url"], published=published,
                changed=parse_signal_date(updated or entry["published"]), signal="feed",
                teaser=(entry["title"], entry["summary"], shown))
            if request is not None:
                yield request
            yield from self._late_announcement(entry["url"])

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        held = self.api_intercept(response, "parse_sitemap")
        if held is not None:
            yield from held
            return
        try:
            sitemap = Sitemap(response.body)
        except Exception:
            self._unreadable(response, "sitemap")
            return
        self._count("hrarchive/listing/read")
        for entry in sitemap:
            url = entry.get("loc", "").strip()
            lastmod = parse_signal_date(entry.get("lastmod"))
            if sitemap.type == "sitemapindex":
                if entry.get("lastmod"):
                    self.sitemap_lastmods[url] = entry["lastmod"].strip()
                    assert self.crawler.stats is not None
                    self.crawler.stats.set_value(SITEMAPS_STAT, dict(self.sitemap_lastmods))
                if self.planner.sitemap_current(url, lastmod):
                    self._count("hrarchive/sitemap/skipped_unchanged")
                else:
                    yield self._request(url, self.parse_sitemap)
            elif url and self.is_story(url):
                request = self._story(url, changed=lastmod, signal="sitemap")
                if request is not None:
                    yield request
                yield from self._late_announcement(url)

    def revalidate_unlisted(self) -> None:
        """Once discovery is done: revalidate the archived stories no listing, feed or sitemap
        showed (all in a --full run, the recent ones otherwise), to notice takedowns."""
        if self.unlisted_done or not hasattr(self, "planner"):
            return
        self.unlisted_done = True
        stories = self.planner.unlisted()
        if not stories:
            return
        assert self.crawler.engine is not None
        for known in stories:
            self._count("hrarchive/incremental/fetch_unlisted")
            self.crawler.engine.crawl(self._revalidate(known.url, Fetch("unlisted", known)))
        raise DontCloseSpider

    # --- stories ----------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        gone = self._gone(response)
        if isinstance(gone, Request):
            yield gone  # redirected to the story itself, or to a story that moved
            return
        if gone is not None:
            self._count("hrarchive/article/gone")
            self.logger.warning("Story gone from the site (%s%s): %s", gone.status,
                                f" to {gone.redirect_to}" if gone.redirect_to else "", gone.url)
            yield gone
            return
        if response.status == 304:
            self._count("hrarchive/article/not_modified")
            yield NotModified(site=self.profile.id, url=response.meta["hrarchive_known"],
                              etag=_header(response, "ETag"),
                              last_modified=_header(response, "Last-Modified"),
                              announced=self._announced(response))
            return
        if self.off_site(response, "story"):
            return
        data: dict[str, Any] | None
        try:
            data = extract_article(response.body, response.url, response.headers,
                                   self.profile.article)
        except Exception:
            self._unreadable(response, "article")
            data = None
        if POST_META in response.meta:  # requested for a post of the WordPress API
            data = self.api_merge(response, data)
        if data is None:
            return
        self._count("hrarchive/article/read")
        self._selector_misses("article", self.profile.article, data.pop("selector_misses", []))
        if b"\x00" in response.body and "\x00" in getattr(response, "text", ""):
            self._count("hrarchive/article/nul_removed")  # the parser drops them
            assert self.crawler.stats is not None
            self.logger.warning("NUL characters removed from %s (pages so far: %d)",
                                response.url,
                                self.crawler.stats.get_value("hrarchive/article/nul_removed"))
        for kind in ("related", "links", "attachments"):
            data[kind] = [{**link, "url": self.rebase(link["url"])} for link in data[kind]]
        if data["canonical_url"]:
            data["canonical_url"] = self.rebase(data["canonical_url"])
        yield Article(site=self.profile.id, etag=_header(response, "ETag"),
                      last_modified=_header(response, "Last-Modified"),
                      announced=self._announced(response), **data)

    def _gone(self, response: Response) -> Gone | Request | None:
        """An archived story's page answering 404/410, or redirecting off the story (to a
        page that is not a story: the home page, a listing, another site), is gone; a
        redirect to the story itself or to another story URL is followed."""
        known = response.meta.get("hrarchive_known")
        if not known:
            return None
        if response.status in GONE_STATUSES:
            return Gone(site=self.profile.id, url=known, status=response.status)
        if response.status not in REDIRECT_STATUSES:
            return None
        location = response.headers.get("Location")
        target = response.urljoin(location.decode("latin-1")) if location else response.url
        key = self._key(target)
        listings = {self._key(u) for u in (self.profile.home, *self.profile.start_urls)}
        hops = int(response.meta.get("hrarchive_hops", 0))
        if key not in listings and hops < 5 and \
                (key in (known, slash_variant(known)) or self.is_story(target)):
            return self._request(target, self.parse_article, dont_filter=True, meta={
                "handle_httpstatus_list": [*GONE_STATUSES, *REDIRECT_STATUSES],
                "hrarchive_known": known, "hrarchive_hops": hops + 1})
        return Gone(site=self.profile.id, url=known, status=response.status, redirect_to=target)

    def _announced(self, response: Response) -> str | None:
        """The sitemap/feed date announcing the story read (once that was read), noting the
        story as read, so a date read later is recorded too (``_late_announcement``)."""
        request_url = response.request.url if response.request else response.url
        keys = (self._key(request_url), self._key(response.url))
        newest = max((self.announced[k] for k in keys if k in self.announced), default=None)
        for key in keys:
            self.read[key] = newest
        return newest.isoformat() if newest else None

    # --- attachments: PDF reports and the like, requested by hrarchive.capture ---------------
    def parse_attachment(self, response: Response) -> Iterator[Any]:
        from hrarchive.capture.attachments import attachment_item

        self._count("hrarchive/attachment/read")
        yield attachment_item(self.profile.id, response)

    def _selector_misses(self, kind: str, selectors: Any, missed: list[str]) -> None:
        """Count a page read with profile selectors, and each field read generically instead
        (the layout alarm reports a selector that matched on none of them)."""
        if selectors:
            self._count(f"hrarchive/selectors/pages/{kind}")
            for name in missed:
                self._count(f"hrarchive/selectors/missed/{kind}.{name}")

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
            message = failure.getErrorMessage()
            reason = failure.type.__name__ if failure.type else "error"
            # Scrapy cancels a body growing past DOWNLOAD_MAXSIZE (or download_maxsize) without
            # a message, and ignores a compressed one inflating past it
            if "max size" in message or "MAXSIZE" in message or reason == "DownloadCancelledError":
                reason, message = "too_large", message or "larger than the download max size"
            message = message or reason
            self._count(f"hrarchive/errors/{reason}")
            assert self.crawler.stats is not None
            self.logger.error("Could not fetch %s: %s (%s so far: %d)", url, message, reason,
                              self.crawler.stats.get_value(f"hrarchive/errors/{reason}"))
            why = unreachable_reason(failure.value)
            if why and request is not None:
                host = urlparse_cached(request).netloc
                self.crawler.stats.set_value(f"{UNREACHABLE_STAT}{host}", why)


UNREACHABLE_STAT = "hrarchive/unreachable/"  # + host: what failed ("cannot resolve", ...)


GONE_STATUSES = (404, 410)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)  # of an archived story: decided in _gone


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def spider_for(profile: SiteProfile) -> type[SiteSpider]:
    """A spider class named after the profile's id."""
    class_name = "".join(p.capitalize() for p in re.split(r"[-_]", profile.id)) + "Spider"
    return type(class_name, (SiteSpider,), {"name": profile.id, "profile": profile,
                                            "__module__": __name__})
