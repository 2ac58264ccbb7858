"""Discovering a site from one URL: its ways in, languages and date order, and how well a
handful of its stories read through the crawl's own extraction.

``discover`` reads robots.txt and the page given (the home page or a news page), finds the
feeds the page declares (``<link rel=alternate>``), the sitemaps robots.txt names (else the
usual WordPress, Yoast and Drupal paths), the news listing and its next page, then samples
a few stories with ``extract_article`` and ``stored_article``, exactly as a crawl reads them.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.utils.sitemap import Sitemap

from hrarchive.discover.fetch import Client, DiscoveryError, Fetched
from hrarchive.discover.fields import FieldReport, date_selector, field_reports
from hrarchive.discover.patterns import shape, story_pattern
from hrarchive.extract.article import extract_article
from hrarchive.extract.dates import DATE_IN_TEXT, parse_date
from hrarchive.extract.feed import declared_feeds, extract_feed, is_feed
from hrarchive.extract.listing import extract_listing
from hrarchive.extract.page import absolute, parse
from hrarchive.extract.stored import stored_article
from hrarchive.extract.text import clean_text
from hrarchive.extract.urls import normalise_url, same_site

SITEMAP_PATHS = ("/sitemap_index.xml", "/wp-sitemap.xml", "/sitemap.xml")  # Yoast, WP, Drupal
STORY_SITEMAP = re.compile(r"post|news|article|story|stories|press|node", re.I)
NEWS_LINK = re.compile(
    r"\b(news|articles|press|statements|stories|blog|updates|actualites|actualités|noticias|"
    r"nachrichten|aktuelles|nyheter|aktualno|naviny|novosti|novini|новости|навіны|новини|хроника)\b",
    re.I)
WP_API = "https://api.w.org/"
MIN_TEASERS = 3
MAX_SITEMAP = 50_000_000  # bytes read of a gzipped sitemap (the protocol's own limit: 50 MB)


@dataclass
class Listing:
    """A news listing found: its teasers' URLs and printed dates, and its next page."""

    url: str
    stories: list[str]
    dates: list[str]
    next_page: str | None = None
    next_stories: int = 0


@dataclass
class Discovery:
    """Everything add-site found about a site, and the profile it proposes."""

    url: str
    id: str
    name: str
    base_url: str
    languages: list[str] = field(default_factory=list)
    date_order: str | None = None
    trailing_slash: str | None = None
    listings: list[Listing] = field(default_factory=list)
    feeds: dict[str, int] = field(default_factory=dict)  # feed: its story entries
    sitemaps: dict[str, int] = field(default_factory=dict)  # sitemap: story URLs seen in it
    article_url: str | None = None
    wordpress_api: str | None = None
    article: dict[str, str] = field(default_factory=dict)  # [article] selectors proposed
    samples: list[dict[str, Any]] = field(default_factory=list)
    fields: list[FieldReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    crawl_delay: float | None = None
    requests: int = 0


def site_id(url: str) -> str:
    """A slug from the host: ``www.spring96.org`` gives ``spring96``."""
    labels = (urlsplit(url).hostname or "site").split(".")
    labels = [label for label in labels if label not in {"www", "m"}] or labels
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in {"co", "com", "org", "net",
                                                                     "gov", "ac", "or"}:
        labels = labels[:-1]
    name = labels[-2] if len(labels) >= 2 else labels[0]
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "site"


def _name(sel: Selector, fallback: str) -> str:
    name = clean_text(sel.css("meta[property='og:site_name']::attr(content)").get())
    if name:
        return name
    title = clean_text(" ".join(sel.css("title::text").getall())) or ""
    parts = re.split("\\s+[|\u2013\u2014-]\\s+", title)
    return parts[-1] if parts and parts[-1] else fallback


def _languages(sel: Selector) -> list[str]:
    """The page's language, then those of its translations (``hreflang``), primary tags."""
    found = [sel.xpath("/html/@lang").get() or "",
             *sel.css("link[rel=alternate][hreflang]::attr(hreflang)").getall()]
    primary = [v.strip().lower().replace("_", "-").split("-")[0] for v in found]
    return list(dict.fromkeys(v for v in primary if v and v != "x"))


def _wordpress_api(page: Fetched, sel: Selector) -> str | None:
    for key, value in page.headers.items():
        if key.lower() == "link" and WP_API in value:
            found = re.search(r'<([^>]+)>\s*;\s*rel="?' + re.escape(WP_API), value)
            if found:
                return found.group(1)
    href = sel.css(f"link[rel='{WP_API}']::attr(href)").get()
    return href.strip() if href else None


def date_order(printed: Iterable[str | None]) -> str | None:
    """The order of numeric dates printed (``29.03.2023``, ``10/18/2018``), from those whose
    day cannot be a month; None when none settles it. Year-first dates are never ambiguous."""
    votes = {"DMY": 0, "MDY": 0}
    for text in printed:
        for found in DATE_IN_TEXT.finditer(text or ""):
            parts = re.split(r"\s*[./-]\s*", found.group(0).strip())
            if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) > 2:
                continue
            first, second = int(parts[0]), int(parts[1])
            if first > 12 >= second:
                votes["DMY"] += 1
            elif second > 12 >= first:
                votes["MDY"] += 1
    if not any(votes.values()):
        return None
    return "DMY" if votes["DMY"] >= votes["MDY"] else "MDY"


class Discoverer:
    """One run of discovery against one site, through a polite ``Client``."""

    def __init__(self, client: Client, sample: int = 5) -> None:
        self.client = client
        self.sample = sample
        self.notes: list[str] = []

    def on_site(self, url: str) -> bool:
        return url.startswith("http") and same_site(url, self.client.root)

    def page(self, url: str) -> tuple[Fetched, Selector] | None:
        got = self.client.get(url)
        if got is None or not got.ok:
            return None
        return got, parse(got.body, got.url, got.headers)

    def listing(self, page: Fetched) -> Listing:
        found = extract_listing(page.body, page.url, page.headers, None, self.on_site)
        stories = [t["url"] for t in found.teasers if normalise_url(t["url"]) !=
                   normalise_url(page.url)]
        return Listing(page.url, stories, [t["published"] for t in found.teasers
                                           if t.get("published")], found.next_page)

    def news_page(self, sel: Selector, start: str) -> str | None:
        """A link to the site's news listing, from the page's menus or body."""
        for anchor in sel.css("a[href]"):
            url = absolute(sel, anchor.attrib["href"]).split("#")[0]
            label = clean_text(" ".join(anchor.css("::text").getall())) or ""
            if self.on_site(url) and url.rstrip("/") != start.rstrip("/") and \
                    (NEWS_LINK.search(label) or NEWS_LINK.search(urlsplit(url).path)):
                return url
        return None

    def listings(self, start: Fetched, sel: Selector) -> list[Listing]:
        found = [self.listing(start)]
        if len(found[0].stories) < MIN_TEASERS:
            news = self.news_page(sel, start.url)
            got = self.page(news) if news else None
            if got is not None:
                other = self.listing(got[0])
                if len(other.stories) > len(found[0].stories):
                    found = [other]
        chosen = [f for f in found if f.stories]
        for item in chosen:
            if item.next_page and self.on_site(item.next_page):
                got = self.page(item.next_page)
                if got is not None:
                    following = self.listing(got[0])
                    item.next_stories = len(following.stories)
                    item.dates += following.dates
                    item.stories += [u for u in following.stories if u not in item.stories]
        return chosen

    def feeds(self, sel: Selector, page_url: str) -> dict[str, list[str]]:
        feeds: dict[str, list[str]] = {}
        for url in declared_feeds(sel, page_url, self.on_site)[:3]:
            got = self.client.get(url)
            if got is not None and got.ok and is_feed(got.body):
                feeds[url] = [e["url"] for e in extract_feed(got.body, url, self.on_site)]
        return feeds

    def sitemaps(self) -> dict[str, list[str]]:
        """Sitemaps robots.txt names, else the first usual path that answers with one; for an
        index, the entries of up to two child sitemaps that look like stories'."""
        named = [s for s in self.client.robots_sitemaps if self.on_site(s)]
        found: dict[str, list[str]] = {}
        for url in named or [self.client.root + p for p in SITEMAP_PATHS]:
            got = self.client.get(url)
            sitemap = _sitemap(got)
            if sitemap is None:
                if named:
                    self.notes.append(f"sitemap {url} (named in robots.txt) could not be read: "
                                      + (f"HTTP {got.status}" if got else "not fetched"))
                continue
            locs = [e.get("loc", "").strip() for e in sitemap]
            if sitemap.type == "sitemapindex":
                children = [c for c in locs if STORY_SITEMAP.search(c.rsplit("/", 1)[-1])] \
                    or locs[:1]  # Drupal's sitemap.xml?page=1, ...: the first one
                entries: list[str] = []
                for child in children[:2]:
                    child_map = _sitemap(self.client.get(child))
                    entries += [e.get("loc", "").strip() for e in child_map or []]
                locs = entries
            found[url] = [u for u in locs if self.on_site(u)]
            if not named:
                break
        return found

    def read_stories(self, urls: list[str]) -> list[Fetched]:
        """Story pages, up to ``sample`` of them, from ``urls`` in turn (some may fail)."""
        pages: list[Fetched] = []
        for url in urls:
            got = self.client.get(url)
            if got is not None and got.ok:
                pages.append(got)
            elif url not in self.client.disallowed:  # those are noted once, apart
                why = f"HTTP {got.status}" if got else "no answer"
                self.notes.append(f"story {url} could not be read: {why}")
            if len(pages) == self.sample:
                break
        return pages


def _read_samples(found: Discovery, pages: list[Fetched], printed: list[str]) -> None:
    """Read the sampled stories as a crawl would: their languages and printed dates settle
    the date order, and a date selector is proposed when it reads more dates."""
    raws = [extract_article(p.body, p.url, p.headers, {}) for p in pages]
    for raw in raws:
        language = (raw.get("language") or "").lower().replace("_", "-").split("-")[0]
        if language and language not in found.languages:
            found.languages.append(language)
    found.date_order = date_order(printed + [r["published"] for r in raws]) or found.date_order
    if any(parse_date(r["published"], found.languages, found.date_order) is None
           for r in raws):
        selector = date_selector(pages, found.languages, found.date_order)
        if selector:
            found.article["date"] = selector
            raws = [extract_article(p.body, p.url, p.headers, found.article) for p in pages]
            found.date_order = date_order(printed + [r["published"] for r in raws]) \
                or found.date_order
    found.samples = [stored_article(r, found.languages, found.date_order) for r in raws]


def _sitemap(got: Fetched | None) -> Sitemap | None:
    if got is None or not got.ok:
        return None
    body = got.body
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz
        try:
            body = gzip.GzipFile(fileobj=io.BytesIO(body)).read(MAX_SITEMAP)
        except (OSError, EOFError):
            return None
    if b"<" not in body[:512]:
        return None
    try:
        sitemap = Sitemap(body)
    except Exception:
        return None
    return sitemap if sitemap.type in {"urlset", "sitemapindex"} else None


def _spread(urls: list[str], count: int) -> list[str]:
    """Up to ``count`` URLs, taking turns between URL shapes (sections, depths)."""
    by_shape: dict[tuple[int, str], list[str]] = {}
    for url in dict.fromkeys(urls):
        by_shape.setdefault(shape(url), []).append(url)
    chosen: list[str] = []
    while len(chosen) < count and any(by_shape.values()):
        for group in by_shape.values():
            if group and len(chosen) < count:
                chosen.append(group.pop(0))
    return chosen


def discover(url: str, client: Client, site: str | None = None, name: str | None = None,
             sample: int = 5) -> Discovery:
    """What add-site finds about the site at ``url`` (see the module's docstring)."""
    work = Discoverer(client, sample)
    client.read_robots()
    start = client.get(url)
    if start is None or not start.ok:
        why = "forbidden by robots.txt" if url in client.disallowed else \
            f"HTTP {start.status}" if start is not None else "; ".join(client.failures)
        raise DiscoveryError(f"could not read {url}: {why}")
    sel = parse(start.body, start.url, start.headers)
    found = Discovery(url=url, id=site or site_id(url), name=name or _name(sel, client.root),
                      base_url=client.root, languages=_languages(sel),
                      wordpress_api=_wordpress_api(start, sel), crawl_delay=client.crawl_delay)
    found.listings = work.listings(start, sel)
    feeds = work.feeds(sel, start.url)
    sitemaps = work.sitemaps()
    if not (found.listings or feeds or sitemaps):
        raise DiscoveryError(f"{url}: no news listing, feed or sitemap found; give the URL "
                             "of the site's news page")
    teased = [u for item in found.listings for u in item.stories]
    primary = teased + [u for entries in feeds.values() for u in entries]
    candidates = primary or [u for entries in sitemaps.values() for u in entries
                             if urlsplit(u).path.strip("/")]
    found.article_url = story_pattern(candidates)
    matches = re.compile(found.article_url).search if found.article_url else (lambda u: True)
    found.feeds = {f: sum(1 for u in entries if matches(u)) for f, entries in feeds.items()}
    found.sitemaps = {s: sum(1 for u in entries if matches(u)) for s, entries in sitemaps.items()}
    if candidates and all(urlsplit(u).path.endswith("/") for u in candidates):
        found.trailing_slash = "add"
    printed = [d for item in found.listings for d in item.dates]
    found.date_order = date_order(printed)
    stories = [u for u in _spread(primary or candidates, 2 * sample) if matches(u)]
    pages = work.read_stories(stories)
    _read_samples(found, pages, printed)
    found.fields = field_reports(found.samples, pages, found.article)
    found.requests = len(client.fetched)
    found.notes = work.notes + [f"{url}: forbidden by robots.txt, not read"
                                for url in client.disallowed]
    return found
