"""Reading the WordPress REST API: where a site announces it, and what its posts say.

Pure functions over responses (bytes and headers), like the rest of ``hrarchive.extract``:
no requests, no settings.  A post of ``/wp-json/wp/v2/<type>`` fetched with
``_embed=author,wp:term`` becomes the raw values of a story, in the shape
``extract_article`` returns.  WordPress gives a post's ``date`` in the site's time zone
without an offset and ``date_gmt`` in UTC; their difference is the offset, so a story's
date is kept as the site's local time with its offset (``2023-07-11T10:00:00+02:00``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from hrarchive.extract.article import fragment_body
from hrarchive.extract.text import clean_text, html_to_text

API_REL = "https://api.w.org/"
# What a story needs of a post: _links and _embedded too, or _fields drops the embedded
# authors and terms.
FIELDS = ("id", "type", "link", "date", "date_gmt", "modified", "modified_gmt", "title",
          "excerpt", "content", "author", "tags", "categories", "_links", "_embedded")
_LINK_HEADER = re.compile(r'<([^>]+)>\s*;[^,]*?rel="?' + re.escape(API_REL) + '"?', re.I)
_LINK_TAG = re.compile(rb"<link\b[^>]*\brel=[\"']" + re.escape(API_REL).encode() +
                       rb"[\"'][^>]*>", re.I)
_HREF = re.compile(rb"\bhref=[\"']([^\"']+)[\"']", re.I)


class ApiUnavailable(Exception):
    """An API answer that cannot be read as a page of posts; the message says why."""


def _header_values(headers: Mapping[Any, Any] | None, name: str) -> list[str]:
    if not headers:
        return []
    if hasattr(headers, "getlist"):  # Scrapy's Headers: every value of a repeated header
        return [v.decode("latin-1") if isinstance(v, bytes) else str(v)
                for v in headers.getlist(name)]
    for key, value in headers.items():
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == name.lower():
            values = value if isinstance(value, list) else [value]
            return [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values]
    return []


def announced_root(body: bytes, url: str, headers: Mapping[Any, Any] | None = None) -> str | None:
    """The REST API root a page announces (``Link`` header, or ``<link rel>`` in its HTML)."""
    for value in _header_values(headers, "Link"):
        found = _LINK_HEADER.search(value)
        if found:
            return urljoin(url, found.group(1).strip())
    tag = _LINK_TAG.search(body[:200_000])
    href = _HREF.search(tag.group(0)) if tag else None
    return urljoin(url, href.group(1).decode("utf-8", "replace").strip()) if href else None


def default_root(home: str) -> str:
    """Where WordPress serves its REST API on a site with pretty permalinks."""
    parts = urlsplit(home)
    return f"{parts.scheme}://{parts.netloc}/wp-json/"


def endpoint(root: str, route: str, params: Sequence[tuple[str, str]] = ()) -> str:
    """The URL of ``route`` (``wp/v2/posts``) under an API root, with query parameters;
    also for a root of the plain-permalink form ``https://site/?rest_route=/``."""
    parts = urlsplit(root)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "rest_route" for key, _ in query):
        query = [(k, v.rstrip("/") + "/" + route if k == "rest_route" else v) for k, v in query]
        return urlunsplit(parts._replace(query=urlencode(query + list(params), safe="/,:")))
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit(parts._replace(path=path + route,
                                     query=urlencode(list(params), safe=",:")))


def page_of(url: str) -> tuple[str, int]:
    """The post type (REST base) and page number an API request asked for."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    route = query.get("rest_route") or parts.path
    found = re.search(r"wp/v2/([^/?#]+)", route)
    page = query.get("page", "1")
    return (found.group(1) if found else "posts"), int(page) if page.isdigit() else 1


def _error_reason(status: int, body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return f"HTTP {status}"
    if isinstance(data, dict) and data.get("code"):
        return f"HTTP {status} {data['code']}: {clean_text(str(data.get('message', '')))}"
    return f"HTTP {status}"


def read_posts(status: int, body: bytes,
               headers: Mapping[Any, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """The posts of one API page and the number of pages (``X-WP-TotalPages``).

    Raises :class:`ApiUnavailable` with the reason when the answer is an error (401 of a
    disabled API, 404 of an unknown type...), HTML instead of JSON, or not a list of posts.
    """
    if status != 200:
        raise ApiUnavailable(_error_reason(status, body))
    kind = " ".join(_header_values(headers, "Content-Type")).lower()
    if "html" in kind or body.lstrip()[:1] == b"<":
        raise ApiUnavailable("answered HTML, not JSON")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ApiUnavailable(f"answered something that is not JSON ({exc})") from exc
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise ApiUnavailable("answered JSON that is not a list of posts")
    pages = next(iter(_header_values(headers, "X-WP-TotalPages")), "")
    return data, int(pages) if pages.strip().isdigit() else 1


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def local_date(local: Any, gmt: Any) -> str | None:
    """The site-local ``date`` with the offset ``date_gmt`` implies, as ISO 8601.

    Without ``date_gmt`` the offset is unknown and only the day is kept (as for pages).
    """
    at, utc = _parse(local), _parse(gmt)
    if at is None:
        return None
    if utc is None:
        return at.date().isoformat()
    offset = at.replace(tzinfo=None) - utc.replace(tzinfo=None)
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{at.replace(tzinfo=None).isoformat()}{sign}{hours:02d}:{rest:02d}"


def modified_utc(post: Mapping[str, Any]) -> datetime | None:
    """When the post last changed (``modified_gmt``), in UTC: the incremental signal."""
    at = _parse(post.get("modified_gmt")) or _parse(post.get("date_gmt"))
    return at.replace(tzinfo=UTC) if at and at.tzinfo is None else at


def _rendered(post: Mapping[str, Any], name: str) -> str | None:
    value = post.get(name)
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else None


def _names(entries: Any) -> list[str]:
    """Names of embedded objects, skipping the error objects WordPress embeds for hidden ones."""
    return [str(e["name"]) for e in entries or []
            if isinstance(e, dict) and e.get("name") and "code" not in e]


def post_story(post: Mapping[str, Any]) -> dict[str, Any]:
    """A post's values as a story (the keys ``extract_article`` returns, and ``summary``)."""
    embedded = post.get("_embedded") or {}
    terms = embedded.get("wp:term") or []
    by_taxonomy: dict[str, list[str]] = {}
    for group in terms if isinstance(terms, list) else []:
        for term in group if isinstance(group, list) else []:
            if isinstance(term, dict) and term.get("name") and "code" not in term:
                by_taxonomy.setdefault(str(term.get("taxonomy", "")), []).append(
                    str(html_to_text(str(term["name"])) or ""))
    tags = by_taxonomy.pop("post_tag", []) + by_taxonomy.pop("category", []) + \
        [name for names in by_taxonomy.values() for name in names]
    content = _rendered(post, "content")
    body_text, body_html = fragment_body(content) if content else (None, None)
    link = str(post.get("link") or "")
    return {
        "url": link,
        "canonical_url": link or None,
        "title": html_to_text(_rendered(post, "title")),
        "published": local_date(post.get("date"), post.get("date_gmt")),
        "modified": local_date(post.get("modified"), post.get("modified_gmt")),
        "authors": _names(embedded.get("author")),
        "tags": [t for t in tags if t and t.lower() != "uncategorized"],
        "summary": html_to_text(_rendered(post, "excerpt")),
        "body_text": body_text,
        "body_html": body_html,
    }


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


def merge_story(page: Mapping[str, Any] | None,
                api: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One story from its page and its API post: the API's values where it has them, the
    page's for the rest (related links, language, image...), and the fields that disagree.
    """
    empty: dict[str, Any] = {"url": api["url"], "canonical_url": None, "title": None,
                             "subtitle": None, "authors": [], "published": None,
                             "modified": None, "language": None, "body_text": None,
                             "body_html": None, "tags": [], "image_url": None, "related": [],
                             "links": [], "attachments": []}
    story = dict(page) if page is not None else empty
    disagree = []
    if page is not None and page.get("title") and api.get("title") and \
            clean_text(page["title"]) != clean_text(api["title"]):
        disagree.append("title")
    if page is not None and page.get("body_text") and api.get("body_text") and \
            _words(page["body_text"]) != _words(api["body_text"]):
        disagree.append("body")
    for name in ("title", "published", "modified", "body_text", "body_html"):
        if api.get(name):
            story[name] = api[name]
    for name in ("authors", "tags"):
        if api.get(name):
            story[name] = list(api[name])
    story["canonical_url"] = story.get("canonical_url") or api.get("canonical_url")
    return story, disagree
