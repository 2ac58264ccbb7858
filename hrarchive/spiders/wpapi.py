"""The WordPress REST API as a way in: a site's posts read from ``/wp-json/wp/v2/<type>``.

A site is read through its API when its profile says ``api = "wordpress"``, or when a
listing, feed or sitemap it serves announces the API (``Link: <…/wp-json/>;
rel="https://api.w.org/"`` or the same ``<link>`` in its HTML) and its profile does not say
``api = "none"``.  Then:

- each of the profile's ``post_types`` (REST bases, default ``posts``) is read newest first,
  ``HRARCHIVE_WP_API_PER_PAGE`` posts a request, with ``_fields`` (only what a story needs)
  and ``_embed=author,wp:term`` (author, tag and category names in the same answer); every
  page on a first, ``--full`` or recovery run, and on a daily run only the posts modified
  since the last finished run began, less ``HRARCHIVE_WP_API_MARGIN`` hours
  (``modified_after``), which is one request when little changed;
- each post is a teaser (date, title, excerpt, position) and, when the planner wants the
  story, its own page is fetched (and so captured) carrying the post: the stored story has
  the post's title, dates, authors, tags and body, and the page's related links, language
  and image; fields where page and post disagree are counted (``hrarchive/wpapi/disagree_*``);
  a page that cannot be read still gives a story from the post;
- an API answer that cannot be used (an error status after retries, such as the 401 of a
  disabled API or the 404 of an unknown post type; HTML instead of JSON; a request robots.txt
  forbids or that fails) makes the spider read the HTML listings, feeds and sitemaps as it
  does without the API, once per run, with one log line saying why.  API pages already read
  keep their stories.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from hrarchive.extract.urls import same_site
from hrarchive.extract.wpapi import (
    FIELDS,
    ApiUnavailable,
    announced_root,
    default_root,
    endpoint,
    merge_story,
    modified_utc,
    page_of,
    post_story,
    read_posts,
)
from hrarchive.items import Teaser

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from hrarchive.extract.urls import Rebaser
    from hrarchive.profiles import SiteProfile
    from hrarchive.spiders.incremental import Planner

logger = logging.getLogger(__name__)
PAGE_META = "hrarchive_wp_page"  # on an API request: which root, post type and page
POST_META = "hrarchive_wp"  # on a story request: the story's values from its post


class WordPressApi:
    """Mixin of :class:`~hrarchive.spiders.site.SiteSpider`: the REST API way in."""

    profile: SiteProfile
    planner: Planner
    rebase: Rebaser
    crawler: Crawler
    since: date | None
    wp_state = "off"  # off | probing | on | fallen_back | replay (hrarchive reparse)
    wp_per_page = 50
    wp_modified_after: datetime | None = None

    if TYPE_CHECKING:  # provided by SiteSpider
        def _count(self, key: str) -> None: ...
        def _key(self, url: str) -> str: ...
        def _story(self, url: str, **signals: Any) -> Request | None: ...
        def _late_announcement(self, url: str) -> Iterator[Any]: ...
        def html_ways_in(self) -> Iterator[Request]: ...

    # --- the run's first requests -----------------------------------------------------------
    def api_setup(self) -> None:
        """Per-run settings, once the planner knows the run's mode."""
        settings = self.crawler.settings
        self.wp_per_page = max(1, min(100, settings.getint("HRARCHIVE_WP_API_PER_PAGE", 50)))
        margin = timedelta(hours=settings.getfloat("HRARCHIVE_WP_API_MARGIN", 24))
        previous = self.planner.state.previous_finished
        self.wp_modified_after = (previous - margin).astimezone(UTC) \
            if self.planner.mode == "incremental" and previous is not None else None
        self.wp_state = "probing" if self.profile.api == "wordpress" else "off"
        self.wp_held: list[tuple[Response, str]] = []

    def ways_in(self) -> Iterator[Request]:
        """The API's first page (profile ``api = "wordpress"``), else the HTML ways in."""
        if self.wp_state == "probing":
            yield self._api_page(default_root(self.profile.home), self.profile.post_types[0], 1)
        else:
            yield from self.html_ways_in()

    def api_intercept(self, response: Response, callback: str) -> list[Request] | None:
        """For a listing, feed or sitemap response: None to read it as usual; else the
        requests to make instead (the API's first page when this response announces it),
        the response being held to be read only if the API fails."""
        if self.wp_state == "off" and self.profile.api is None:
            root = announced_root(response.body, response.url, response.headers)
            if root:
                logger.info("%s announces the WordPress REST API at %s: reading posts there",
                            response.url, root)
                self.wp_state = "probing"
                self.wp_held.append((response, callback))
                return [self._api_page(root, self.profile.post_types[0], 1)]
        if self.wp_state in ("probing", "on"):
            self.wp_held.append((response, callback))
            return []
        return None

    def _api_page(self, root: str, post_type: str, page: int) -> Request:
        params = [("per_page", str(self.wp_per_page)), ("page", str(page)),
                  ("orderby", "date"), ("order", "desc"), ("_embed", "author,wp:term"),
                  ("_fields", ",".join(FIELDS))]
        if self.wp_modified_after is not None:
            params.append(("modified_after", self.wp_modified_after.strftime(
                "%Y-%m-%dT%H:%M:%S")))  # UTC; WordPress 5.7+ reads it as site time: the
            # margin covers the difference
        if self.since is not None:
            params.append(("after", f"{self.since.isoformat()}T00:00:00"))
        url = self.rebase(endpoint(root, f"wp/v2/{post_type}", params))
        return Request(url, callback=self.parse_api, errback=self.api_failed,
                       meta={"handle_httpstatus_all": True,
                             PAGE_META: {"root": root, "type": post_type, "page": page}})

    # --- API pages --------------------------------------------------------------------------
    def parse_api(self, response: Response) -> Iterator[Any]:
        # (hrarchive reparse hands over a captured page without the request's meta)
        post_type, page = page_of(response.url)
        where = response.meta.get(PAGE_META) or {"root": None, "type": post_type, "page": page}
        try:
            posts, pages = read_posts(response.status, response.body, response.headers)
        except ApiUnavailable as exc:
            yield from self._fall_back(f"{exc}: {response.url}")
            return
        self._count("hrarchive/listing/read")
        self._count("hrarchive/wpapi/pages")
        if self.wp_state == "probing":
            self.wp_state = "on"
            for other in self.profile.post_types[1:] if where["root"] else ():
                yield self._api_page(where["root"], other, 1)
        if not posts and self.wp_modified_after is not None:
            self._count("hrarchive/wpapi/nothing_modified")  # not a layout alarm
        archived: list[bool] = []
        dates: list[date | None] = []
        filtered = self.wp_modified_after is not None
        first = (where["page"] - 1) * self.wp_per_page + 1
        for position, post in enumerate(posts, start=first):
            story = post_story(post)
            home = self.profile.home
            if not story["url"] or not (same_site(story["url"], home)
                                        or same_site(story["url"], self.rebase(home))):
                continue
            changed = modified_utc(post)
            if filtered and changed is not None and self.wp_modified_after is not None \
                    and changed < self.wp_modified_after:
                filtered = False  # an older WordPress ignores modified_after
            yield Teaser(site=self.profile.id, listing_url=response.url,
                         url=self.rebase(story["url"]), title=story["title"],
                         summary=story["summary"], published=story["published"],
                         position=position)
            day = date.fromisoformat(story["published"][:10]) if story["published"] else None
            known = self.planner.known(self._key(story["url"]))
            # modified_gmt is exact: no need to compare the teaser with the archived ones
            request = self._story(story["url"], published=day, changed=changed, signal="api")
            yield from self._late_announcement(story["url"])
            archived.append(known is not None and request is None)
            dates.append(day)
            if request is None:
                continue
            reference = known and (known.announced or known.last_seen)
            if changed is not None and reference and changed > reference:
                # the post says it changed: fetch the page whole, not "if modified since"
                request = request.replace(headers={}, meta={
                    k: v for k, v in request.meta.items() if k != "handle_httpstatus_list"})
            request.meta[POST_META] = story
            yield request
        if where["page"] < pages:
            # a filtered answer holds only changed posts: all of its pages are wanted
            stop = None if filtered else self.planner.keep_paging(archived, dates)
            if stop is None:
                if where["root"]:  # (none when reparse replays a captured page)
                    yield self._api_page(where["root"], where["type"], where["page"] + 1)
            else:
                self._count(f"hrarchive/listing/stopped_{stop}")
                logger.info("Not paging past %s: its posts are %s", response.url,
                            "archived" if stop == "archived" else "older than --since")

    def api_failed(self, failure: Failure) -> Iterator[Any]:
        """Errback of an API request: forbidden by robots.txt, or not fetched at all."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        why = "forbidden by robots.txt" if isinstance(failure.value, IgnoreRequest) \
            else failure.getErrorMessage()
        yield from self._fall_back(f"{why}: {url}")

    def _fall_back(self, why: str) -> Iterator[Any]:
        """Read the HTML listings, feeds and sitemaps instead (once per run)."""
        assert self.crawler.stats is not None
        self._count("hrarchive/wpapi/failed_requests")
        if self.wp_state == "fallen_back":
            logger.info("WordPress REST API request failed too: %s", why)
            return
        explicit = self.profile.api == "wordpress"
        self.wp_state = "fallen_back"
        self.crawler.stats.set_value("hrarchive/wpapi/fallback", why)
        logger.warning("WordPress REST API of %s not used (%s): reading its HTML listings, "
                       "feeds and sitemaps instead", self.profile.id, why)
        if explicit:
            yield from self.html_ways_in()
        held, self.wp_held = self.wp_held, []
        for response, callback in held:
            yield from getattr(self, callback)(response)

    # --- story pages ------------------------------------------------------------------------
    def api_merge(self, response: Response, page: dict[str, Any] | None) -> dict[str, Any]:
        """The story from its page (None: unreadable) and the post it was requested for."""
        post = response.meta[POST_META]
        story, disagree = merge_story(page, post)
        story["url"] = response.url
        self._count("hrarchive/wpapi/stories")
        for name in disagree:
            self._count(f"hrarchive/wpapi/disagree_{name}")
            logger.info("Page and WordPress API disagree on the %s of %s (keeping the API's)",
                        name, response.url)
        return story
