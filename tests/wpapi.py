"""A WordPress REST API emulator for the fixture servers: ``/wp-json/wp/v2/<type>``.

It answers as WordPress documents its posts endpoints: each post with ``id``, ``date``
(site-local, no offset), ``date_gmt``, ``modified``, ``modified_gmt``, ``link``, ``type``,
``title``/``content``/``excerpt`` as ``{"rendered": ...}``, ``author``, ``tags`` and
``categories`` (ids); newest first; ``page`` and ``per_page`` (1 to 100) with the
``X-WP-Total`` and ``X-WP-TotalPages`` headers and a ``Link`` to the next and previous
pages; ``after``, ``before`` and ``modified_after`` (compared, as WordPress does, with the
site-local dates); ``_fields`` (top-level fields) and ``_embed`` (``author`` and ``wp:term``,
under ``_embedded``, dropped when ``_fields`` leaves ``_embedded`` out).  Errors have
WordPress's JSON shape: ``rest_no_route`` (404), ``rest_invalid_param`` (400),
``rest_post_invalid_page_number`` (400), and for a disabled API (as the "Disable REST API"
plugins do) ``rest_not_logged_in`` (401) on every route.

Posts are built when asked, from a callable: ``posts_from_cases`` reads them from a fixture
site's story pages and their ``expected.json`` (so they follow the pages' text as it is);
``tests/scenario.py`` builds them from its stories.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from email.utils import parsedate_to_datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from parsel import Selector

from tests.fixtureserver import FIXTURES, Page, load_cases

JSON = "application/json; charset=UTF-8"
# the site time zones the fixture posts are dated in; a site not listed keeps UTC
ZONES = {"hrhouse": "Europe/Oslo"}
# categories a fixture site's pages show for every post (the generated site's "News")
CATEGORIES = {"wordpress": ["News"]}
# hrhouse's story paths, each a post type: /articles/ holds core posts, the rest custom types
TYPE_OF_PATH = {"articles": "posts"}
TEXTURE = {"“": "&#8220;", "”": "&#8221;", "‘": "&#8216;", "’": "&#8217;", "–": "&#8211;",
           "—": "&#8212;", "…": "&#8230;"}


@dataclass
class Post:
    """One published post as WordPress holds it."""

    id: int
    link: str
    date: datetime  # aware, in the site's time zone
    title: str
    content: str  # the rendered HTML of its body
    excerpt: str  # plain text
    type: str = "posts"  # its REST base
    modified: datetime | None = None  # None: never edited since it was published
    author: str | None = None
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    @property
    def changed(self) -> datetime:
        return self.modified or self.date


def _rendered(text: str) -> str:
    """A title as WordPress renders it: HTML-escaped, typographic characters as entities."""
    out = escape(text, quote=False)
    for char, entity in TEXTURE.items():
        out = out.replace(char, entity)
    return out


def _local(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="seconds")


def _gmt(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _term_id(name: str) -> int:
    return 10 + zlib.crc32(name.encode("utf-8")) % 5000


def _error(status: int, code: str, message: str, **data: Any) -> Page:
    body = {"code": code, "message": message, "data": {"status": status, **data}}
    return Page(json.dumps(body).encode("utf-8"), status, {"Content-Type": JSON})


class WpApi:
    """Answers ``/wp-json/...`` paths for a :class:`~tests.fixtureserver.FixtureSite`."""

    def __init__(self, posts: Callable[[], Sequence[Post]], disabled: bool = False,
                 home: str = "https://humanrightshouse.org") -> None:
        self.posts = posts
        self.disabled = disabled
        self.home = home.rstrip("/")

    def __call__(self, path: str) -> Page | None:
        parts = urlsplit(path)
        if not (parts.path == "/wp-json" or parts.path.startswith("/wp-json/")):
            return None
        if self.disabled:
            return _error(401, "rest_not_logged_in", "You are not currently logged in.")
        route = parts.path.removeprefix("/wp-json").strip("/")
        posts = list(self.posts())
        types = {"posts", "pages"} | {p.type for p in posts}
        if route == "":
            return self._json({"name": "Fixture site", "url": self.home,
                               "namespaces": ["oembed/1.0", "wp/v2"],
                               "routes": {f"/wp/v2/{t}": {"methods": ["GET"]} for t in types}})
        if route == "wp/v2/types":
            return self._json({("post" if t == "posts" else "page" if t == "pages" else t):
                               {"slug": t, "rest_base": t} for t in sorted(types)})
        found = re.fullmatch(r"wp/v2/([a-z0-9_-]+)(?:/(\d+))?", route)
        if not found or found.group(1) not in types:
            return _error(404, "rest_no_route",
                          "No route was found matching the URL and request method.")
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        chosen = [p for p in posts if p.type == found.group(1)]
        if found.group(2):
            single = [p for p in chosen if p.id == int(found.group(2))]
            if not single:
                return _error(404, "rest_post_invalid_id", "Invalid post ID.")
            return self._json(self._post(single[0], params))
        return self._collection(parts.path, chosen, params)

    def _json(self, data: Any, headers: dict[str, str] | None = None) -> Page:
        return Page(json.dumps(data, ensure_ascii=False).encode("utf-8"), 200,
                    {"Content-Type": JSON, "Allow": "GET", "X-Robots-Tag": "noindex",
                     **(headers or {})})

    def _collection(self, path: str, posts: list[Post], params: dict[str, str]) -> Page:
        try:
            per_page = int(params.get("per_page", "10"))
            page = int(params.get("page", "1"))
        except ValueError:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page, page")
        if not 1 <= per_page <= 100:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                          params={"per_page": "per_page must be between 1 (inclusive) "
                                              "and 100 (inclusive)"})
        if page < 1:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): page")
        for name, keep in (("after", lambda p, at: p.date.replace(tzinfo=None) > at),
                           ("before", lambda p, at: p.date.replace(tzinfo=None) < at),
                           ("modified_after",
                            lambda p, at: p.changed.replace(tzinfo=None) > at)):
            if name in params:
                try:  # WordPress reads these in the site's time zone, like "date"
                    at = datetime.fromisoformat(params[name]).replace(tzinfo=None)
                except ValueError:
                    return _error(400, "rest_invalid_param", f"Invalid parameter(s): {name}")
                posts = [p for p in posts if keep(p, at)]
        posts.sort(key=lambda p: (p.date, p.id), reverse=params.get("order", "desc") == "desc")
        total, pages = len(posts), math.ceil(len(posts) / per_page)
        if page > max(pages, 1):
            return _error(400, "rest_post_invalid_page_number",
                          "The page number requested is larger than the number of pages "
                          "available.")
        shown = posts[(page - 1) * per_page:page * per_page]
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1)):
            if 1 <= number <= pages:
                query = urlencode({**params, "page": str(number)})
                links.append(f'<{self.home}{path}?{query}>; rel="{rel}"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages),
                   "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link"}
        if links:
            headers["Link"] = ", ".join(links)
        return self._json([self._post(p, params) for p in shown], headers)

    def _post(self, post: Post, params: dict[str, str]) -> dict[str, Any]:
        author_id = _term_id(post.author) if post.author else 0
        data: dict[str, Any] = {
            "id": post.id, "date": _local(post.date), "date_gmt": _gmt(post.date),
            "guid": {"rendered": f"{self.home}/?p={post.id}"},
            "modified": _local(post.changed), "modified_gmt": _gmt(post.changed),
            "slug": post.link.rstrip("/").rsplit("/", 1)[-1], "status": "publish",
            "type": "post" if post.type == "posts" else post.type, "link": post.link,
            "title": {"rendered": _rendered(post.title)},
            "content": {"rendered": post.content, "protected": False},
            "excerpt": {"rendered": f"<p>{escape(post.excerpt)}</p>\n", "protected": False},
            "author": author_id,
            "categories": [_term_id(c) for c in post.categories],
            "tags": [_term_id(t) for t in post.tags],
            "_links": {"self": [{"href": f"{self.home}/wp-json/wp/v2/{post.type}/{post.id}"}],
                       "author": [{"embeddable": True,
                                   "href": f"{self.home}/wp-json/wp/v2/users/{author_id}"}],
                       "wp:term": [{"taxonomy": "category", "embeddable": True},
                                   {"taxonomy": "post_tag", "embeddable": True}]},
        }
        if "_embed" in params:
            wanted = set(params["_embed"].split(",")) if params["_embed"] not in ("", "1",
                                                                                "true") else None
            embedded: dict[str, Any] = {}
            if post.author and (wanted is None or "author" in wanted):
                slug = post.author.lower().replace(" ", "-")
                embedded["author"] = [{"id": author_id, "name": post.author,
                                       "slug": slug, "link": f"{self.home}/author/{slug}/"}]
            if wanted is None or "wp:term" in wanted:
                embedded["wp:term"] = [
                    [{"id": _term_id(c), "name": escape(c), "slug": c.lower(),
                      "taxonomy": "category"} for c in post.categories],
                    [{"id": _term_id(t), "name": escape(t), "slug": t.lower(),
                      "taxonomy": "post_tag"} for t in post.tags]]
            data["_embedded"] = embedded
        if params.get("_fields"):
            fields = set(params["_fields"].split(","))
            data = {k: v for k, v in data.items() if k in fields}
        return data


# --- posts from a fixture site's saved pages ------------------------------------------------
def _summaries(site: str, root: Path) -> dict[str, str]:
    """Each story's summary as the site's listings show it (their expected.json)."""
    found: dict[str, str] = {}
    for case in load_cases(site, root):
        for teaser in (case.expected or {}).get("teasers", []) if case.kind == "listing" else []:
            if teaser.get("summary"):
                found.setdefault(teaser["url"], teaser["summary"])
    return found


def _dated(published: str | None, last_modified: datetime | None, zone: ZoneInfo) -> datetime:
    """When WordPress says a post was published: the page's date, at the time of its
    ``Last-Modified`` that day (else 10:00); a page printing no date gets its
    ``Last-Modified`` (WordPress always knows the date, whether or not the theme shows it)."""
    modified = last_modified.astimezone(zone) if last_modified else None
    if published and "T" in published:
        return datetime.fromisoformat(published).astimezone(zone)
    if published:
        day = datetime.fromisoformat(published).date()
        at = modified.time() if modified and modified.date() == day else time(10)
        return datetime.combine(day, at, zone)
    if modified is None:
        raise ValueError("a post needs a date or a Last-Modified header")
    return modified


def posts_from_cases(site: str, root: Path = FIXTURES) -> list[Post]:
    """The posts of a fixture site, one per story page that answers 200: title, date, authors
    and tags from its expected.json, body from its page's ``div.entry-content`` (as the
    theme prints it), excerpt from a listing's teaser (else the page's description)."""
    zone = ZoneInfo(ZONES.get(site, "UTC"))
    summaries = _summaries(site, root)
    posts = []
    for case in load_cases(site, root):
        if case.kind != "article" or int(case.meta.get("status", 200)) != 200:
            continue
        expected = case.expected or {}
        page = Selector(text=case.body.decode("utf-8", "replace"))
        body = page.css("div.entry-content")
        content = "".join(body[0].xpath("node()").getall()) if body else ""
        headers = {k.lower(): v for k, v in case.meta.get("headers", {}).items()}
        last_modified = parsedate_to_datetime(headers["last-modified"]) \
            if "last-modified" in headers else None
        date = _dated(expected.get("published"), last_modified, zone)
        description = page.css("meta[property='og:description']::attr(content)").get() or \
            page.css("meta[name=description]::attr(content)").get()
        first = " ".join(body.css("p")[0].css("::text").getall()) if body.css("p") else ""
        segment = urlsplit(case.url).path.strip("/").split("/")[0]
        post_type = TYPE_OF_PATH.get(segment, segment) if site == "hrhouse" else "posts"
        modified = last_modified.astimezone(zone) \
            if last_modified and last_modified > date else None
        posts.append(Post(
            id=1000 + zlib.crc32(case.url.encode()) % 90000, link=case.url, date=date,
            title=expected.get("title") or "", content=content,
            excerpt=summaries.get(case.url) or description or first.strip(), type=post_type,
            modified=modified, author=(expected.get("authors") or [None])[0],
            tags=list(expected.get("tags") or []), categories=CATEGORIES.get(site, [])))
    return posts
