"""A scenario site for crawl tests: an hrhouse-like site of N stories that a test can grow,
edit and serve slowly.

Pages are built from the hrhouse fixtures' markup (a listing page and a story page of
``tests/fixtures/hrhouse``) with generated titles, dates and text, so the hrhouse profile's
selectors read them; listing pages hold ``per_page`` teasers, newest first, and
``/post-sitemap.xml`` is a Yoast-style sitemap with each story's ``lastmod``.  Every page
has an ``ETag`` (a hash of its body) and a ``Last-Modified``, so the server answers
conditional requests as a real one would.  Story text is invented.  With ``wp_api`` the site
also serves a WordPress REST API of its stories (``tests/wpapi.py``) and its pages announce
it; without, the announcement the hrhouse templates carry is removed.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.fixtureserver import FIXTURES, FixtureSite, Page
from tests.wpapi import Post, WpApi

REAL = "https://humanrightshouse.org"
PROFILE = """\
# The scenario site: hrhouse's markup, one listing and a Yoast-style post sitemap.
id = "scenario"
name = "Scenario site (hrhouse markup)"
base_url = "https://humanrightshouse.org"
languages = ["en"]
start_urls = ["https://humanrightshouse.org/articles/"]
sitemaps = ["https://humanrightshouse.org/post-sitemap.xml"]
article_url = '/articles/(?!page/)[^/?#]+/?$'
date_order = "MDY"
trailing_slash = "add"

[listing]
teaser = "article.post-item"
url = "h3.post-item__title a::attr(href)"
title = "h3.post-item__title a::text"
date = "span.post-item__date::text"
summary = "div.post-item__excerpt p::text"
next_page = "a.next.page-numbers::attr(href)"

[article]
title = "h1.entry-title::text"
date = "header.entry-header span.entry-date::text"
body = "div.entry-content"
"""
ROBOTS = b"User-agent: *\nDisallow: /wp-admin/\n"
API_LINK = re.compile(r'<link rel="https://api\.w\.org/"[^>]*>\n?')
FIRST_DAY = date(2021, 3, 1)


def _template(case: str) -> str:
    return (FIXTURES / "hrhouse" / case / "body.html").read_text("utf-8")


def _printed(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


@dataclass
class Story:
    number: int
    day: date
    edits: int = 0
    teaser_note: str = ""  # prefixed to the listing's summary: a changed teaser
    modified: datetime | None = None  # what the sitemap announces; None: the publication
    added: datetime | None = None  # when a test published it ...
    edited: datetime | None = None  # ... or last edited it (the API's modified date)
    gone: int | None = None  # taken down: 404, 410, or 301 (redirects to the listing)

    @property
    def path(self) -> str:
        return f"/articles/story-{self.number}-on-the-rights-of-defenders/"

    @property
    def url(self) -> str:
        return REAL + self.path

    @property
    def title(self) -> str:
        return f"Story {self.number}: defenders in court"

    @property
    def summary(self) -> str:
        return f"{self.teaser_note}Summary of story {self.number}, as the listing shows it."

    @property
    def lastmod(self) -> datetime:
        return self.modified or datetime(self.day.year, self.day.month, self.day.day, 10,
                                         tzinfo=UTC)

    def paragraphs(self) -> list[str]:
        text = [f"Human rights defenders of story {self.number} went to court on "
                f"{_printed(self.day)}; observers from the network attended the hearing.",
                f"The court adjourned; this is paragraph two of story {self.number}."]
        text += [f"Correction {k}: the hearing resumed and the court heard witness {k}."
                 for k in range(1, self.edits + 1)]
        return text


class ScenarioSite:
    """An hrhouse-like site whose stories a test can add and edit while it is served."""

    def __init__(self, stories: int, per_page: int = 5, delay: float = 0.0,
                 wp_api: bool = False) -> None:
        self.per_page = per_page
        self.stories = [Story(i, FIRST_DAY + timedelta(days=i)) for i in range(1, stories + 1)]
        self._article = _template("interview-intigam-aliyev")
        self._listing = _template("articles-page-1")
        if not wp_api:
            self._article, self._listing = (API_LINK.sub("", self._article),
                                            API_LINK.sub("", self._listing))
        self.server = FixtureSite(self.routes(), delay=delay)
        if wp_api:
            self.server.handlers.append(WpApi(self.posts, home=REAL))

    # --- changes a test makes --------------------------------------------------------------
    def publish(self, count: int) -> list[Story]:
        """Add ``count`` stories, newest first on the listing and in the sitemap."""
        start = len(self.stories) + 1
        new = [Story(i, FIRST_DAY + timedelta(days=i), added=datetime.now(UTC))
               for i in range(start, start + count)]
        self.stories += new
        self.sync()
        return new

    def edit(self, number: int, announce: bool = True) -> Story:
        """Add a paragraph to a story; ``announce`` updates its sitemap ``lastmod``."""
        story = self.stories[number - 1]
        story.edits += 1
        story.edited = datetime.now(UTC)
        if announce:
            story.modified = datetime.now(UTC)
        self.sync()
        return story

    def take_down(self, number: int, status: int = 404) -> Story:
        """Remove a story: off the listings and the sitemap, its page answers ``status``
        (404, 410, or 301 to the listing, as a site that redirects dead links does)."""
        story = self.stories[number - 1]
        story.gone = status
        self.sync()
        return story

    def restore(self, number: int) -> Story:
        """Put a taken-down story back, as it was."""
        story = self.stories[number - 1]
        story.gone = None
        self.sync()
        return story

    def sync(self) -> None:
        for path, page in self.routes().items():
            self.server.put(path, page)

    # --- pages -----------------------------------------------------------------------------
    def routes(self) -> dict[str, Page]:
        routes = {"/robots.txt": Page(ROBOTS, headers={"Content-Type": "text/plain"}),
                  "/post-sitemap.xml": self._page(self.sitemap(), "application/xml", None)}
        newest = [s for s in reversed(self.stories) if s.gone is None]
        pages = [newest[i:i + self.per_page] for i in range(0, len(newest), self.per_page)]
        for number, teasers in enumerate(pages, start=1):
            path = "/articles/" if number == 1 else f"/articles/page/{number}/"
            routes[path] = self._page(self.listing(number, teasers, len(pages)), "text/html",
                                      teasers[0].lastmod)
        for story in self.stories:
            routes[story.path] = self._page(self.article(story), "text/html", story.lastmod) \
                if story.gone is None else self._gone(story.gone)
        return routes

    @staticmethod
    def _gone(status: int) -> Page:
        if status in (301, 302):
            return Page(b"", status, {"Location": "/articles/"})
        return Page(b"<html><body><h1>Page not found</h1></body></html>", status,
                    {"Content-Type": "text/html; charset=UTF-8"})

    @staticmethod
    def _page(body: str, kind: str, modified: datetime | None) -> Page:
        data = body.encode("utf-8")
        headers = {"Content-Type": f"{kind}; charset=UTF-8",
                   "ETag": f'W/"{hashlib.sha1(data).hexdigest()[:20]}"'}
        if modified is not None:
            headers["Last-Modified"] = format_datetime(modified.replace(microsecond=0),
                                                       usegmt=True)
        return Page(data, 200, headers)

    def article(self, story: Story) -> str:
        page = self._article
        old_url = (f"{REAL}/interviews/the-most-important-thing-for-a-political-prisoner-is-"
                   "to-know-they-are-remembered/")
        old_title = ("“The most important thing for a political prisoner is to know they are "
                     "remembered.”")
        page = page.replace(old_url, story.url).replace(old_title, html.escape(story.title))
        page = page.replace("July 11, 2023", _printed(story.day))
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs())
        return re.sub(r'(<div class="entry-content container">).*?(</div><!-- \.entry-content)',
                      lambda m: f"{m.group(1)}\n{body}\n{m.group(2)}", page, flags=re.S)

    def listing(self, number: int, teasers: list[Story], pages: int) -> str:
        page = self._listing
        url = f"{REAL}/articles/" + ("" if number == 1 else f"page/{number}/")
        items = "".join(
            f'  <article class="post-item">\n    <div class="post-item__content">\n'
            f'      <span class="post-item__date">{_printed(s.day)}</span>\n'
            f'      <h3 class="post-item__title"><a href="{s.url}">{html.escape(s.title)}'
            f'</a></h3>\n      <div class="post-item__excerpt"><p>{html.escape(s.summary)}'
            f'</p></div>\n    </div>\n  </article>\n' for s in teasers)
        nav = f'<a class="next page-numbers" href="{REAL}/articles/page/{number + 1}/">' \
              f'Next &raquo;</a>' if number < pages else ""
        page = re.sub(r'<link rel="next"[^>]*>\n', "", page)
        page = page.replace(f'<link rel="canonical" href="{REAL}/articles/" />',
                            f'<link rel="canonical" href="{url}" />')
        return re.sub(r'(<div class="posts-list">\n).*?(</nav>)',
                      lambda m: f'{m.group(1)}{items}</div>\n<nav class="navigation pagination">'
                                f'<div class="nav-links">{nav}</div>\n{m.group(2)}',
                      page, flags=re.S)

    def sitemap(self) -> str:
        entries = "".join(f"\t<url>\n\t\t<loc>{s.url}</loc>\n\t\t<lastmod>"
                          f"{s.lastmod.isoformat()}</lastmod>\n\t</url>\n"
                          for s in self.stories if s.gone is None)
        return ('<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" '
                'href="//humanrightshouse.org/wp-content/plugins/wordpress-seo/css/'
                'main-sitemap.xsl"?>\n<urlset xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
                'instance" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" '
                'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + entries +
                "</urlset>\n<!-- XML Sitemap generated by Yoast SEO -->")

    def posts(self) -> list[Post]:
        """The stories as WordPress posts: published at 10:00 UTC on their day, modified
        when a test published (``added``) or edited them."""
        return [Post(id=s.number, link=s.url, date=datetime.combine(s.day, time(10), UTC),
                     title=s.title, excerpt=s.summary,
                     content="\n".join(f"<p>{html.escape(p)}</p>" for p in s.paragraphs()),
                     modified=s.edited or s.added) for s in self.stories]

    # --- serving ---------------------------------------------------------------------------
    def start(self) -> ScenarioSite:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def local(self, story: Story) -> str:
        """The story's URL as the archive holds it when crawled through this server."""
        return self.base_url + story.path


def write_profile(folder: Path, sitemap: bool = True) -> Path:
    """The scenario site's profile, in its own folder (for ``HRARCHIVE_SITES``); without
    ``sitemap`` the site is found through its listing alone."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenario.toml"
    text = PROFILE if sitemap else "\n".join(line for line in PROFILE.splitlines()
                                             if not line.startswith("sitemaps"))
    path.write_text(text, "utf-8")
    return path
