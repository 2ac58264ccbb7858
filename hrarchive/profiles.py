"""Site profiles: a site described as data (TOML), built in or supplied by the user.

A profile needs only ``id``, ``name`` and one way in (``start_urls``, ``feeds`` or
``sitemaps``); every selector is optional and overrides generic extraction for its field.
``api = "wordpress"`` reads the site's WordPress REST API first (``post_types``: which).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BUILTIN_DIR = Path(__file__).parent / "sites"
LISTING_FIELDS = ("teaser", "url", "title", "date", "summary", "image", "next_page")
ARTICLE_FIELDS = ("title", "subtitle", "date", "modified", "authors", "body", "tags",
                  "image", "related", "language")
# A site id names folders (captures/SITE/, job folders): a short lower-case slug, so no id
# can be a path ("../x", "/etc"), hold a NUL or newline, or be longer than a file name.
SLUG = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")  # \Z: no trailing newline, as $ allows
API_KINDS = ("wordpress", "none")  # a profile's ``api``: read the WordPress REST API, or never


class ProfileError(ValueError):
    """A profile file that cannot be used, with the reason and the file."""


def check_site_id(site: str) -> str:
    """``site`` if it is a valid site id (a slug of at most 64 characters), else ProfileError."""
    if not isinstance(site, str) or not SLUG.fullmatch(site):
        raise ProfileError(f"site id {site!r} must be a lower-case slug of at most 64 "
                           "characters (a-z, 0-9, '-', '_'): it names folders")
    return site


@dataclass(frozen=True)
class SiteProfile:
    """One site: where to start, how its pages are read, and its languages."""

    id: str
    name: str
    base_url: str = ""
    languages: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_url: str | None = None
    date_order: str | None = None  # "DMY", "MDY" or "YMD" for numeric dates
    trailing_slash: str | None = None  # "add" or "strip": the site's URL convention
    api: str | None = None  # "wordpress": read its REST API; "none": never; None: if announced
    post_types: tuple[str, ...] = ("posts",)  # REST bases of the story post types
    listing: dict[str, str] = field(default_factory=dict)
    article: dict[str, str] = field(default_factory=dict)
    path: str | None = None  # the file it was read from

    @property
    def home(self) -> str:
        """The site's base URL, or else its first way in (a start URL, feed or sitemap)."""
        return self.base_url or (self.start_urls + self.feeds + self.sitemaps)[0]

    @property
    def host(self) -> str:
        return urlsplit(self.home).netloc

    def is_article_url(self, url: str) -> bool:
        """Whether a link looks like a story, by the profile's ``article_url`` regex."""
        return self.article_url is None or re.search(self.article_url, url) is not None


def _strings(data: dict[str, Any], key: str, source: Traversable) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"{source}: {key} must be a list of strings")
    return tuple(value)


def _selectors(data: dict[str, Any], table: str, known: Iterable[str],
               source: Traversable) -> dict[str, str]:
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise ProfileError(f"{source}: [{table}] must be a table")
    unknown = set(section) - set(known)
    if unknown:
        raise ProfileError(f"{source}: unknown [{table}] keys: {', '.join(sorted(unknown))}")
    return {k: str(v) for k, v in section.items()}


def load_profile(path: str | Path | Traversable) -> SiteProfile:
    """Read and check one profile file."""
    source = Path(path) if isinstance(path, str) else path
    try:
        data = tomllib.loads(source.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{source}: {exc}") from exc
    for key in ("id", "name"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ProfileError(f"{source}: '{key}' is required")
    try:
        check_site_id(data["id"])
    except ProfileError as exc:
        raise ProfileError(f"{source}: {exc}") from exc
    start_urls = _strings(data, "start_urls", source)
    feeds = _strings(data, "feeds", source)
    sitemaps = _strings(data, "sitemaps", source)
    if not (start_urls or feeds or sitemaps):
        raise ProfileError(f"{source}: give at least one of start_urls, feeds, sitemaps")
    order = data.get("date_order")
    if order is not None and order not in {"DMY", "MDY", "YMD"}:
        raise ProfileError(f"{source}: date_order must be DMY, MDY or YMD")
    slash = data.get("trailing_slash")
    if slash is not None and slash not in {"add", "strip"}:
        raise ProfileError(f"{source}: trailing_slash must be 'add' or 'strip'")
    if data.get("article_url") is not None:
        try:
            re.compile(data["article_url"])
        except re.error as exc:
            raise ProfileError(f"{source}: article_url is not a valid regex: {exc}") from exc
    api = data.get("api")
    if api is not None and api not in API_KINDS:
        raise ProfileError(f"{source}: api must be one of {', '.join(API_KINDS)}")
    post_types = _strings(data, "post_types", source) or ("posts",)
    if not all(SLUG.fullmatch(t) for t in post_types):
        raise ProfileError(f"{source}: post_types must be REST bases such as 'posts'")
    known = {"id", "name", "base_url", "languages", "start_urls", "feeds", "sitemaps",
             "article_url", "date_order", "trailing_slash", "listing", "article", "api",
             "post_types"}
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"{source}: unknown keys: {', '.join(sorted(unknown))}")
    return SiteProfile(
        id=data["id"],
        name=data["name"],
        base_url=str(data.get("base_url", "")),
        languages=_strings(data, "languages", source),
        start_urls=start_urls,
        feeds=feeds,
        sitemaps=sitemaps,
        article_url=data.get("article_url"),
        date_order=order,
        trailing_slash=slash,
        api=api,
        post_types=post_types,
        listing=_selectors(data, "listing", LISTING_FIELDS, source),
        article=_selectors(data, "article", ARTICLE_FIELDS, source),
        path=str(source),
    )


def load_profiles(folders: Iterable[str | Path] = ()) -> dict[str, SiteProfile]:
    """Built-in profiles, then those in ``folders``; a user profile replaces a built-in one."""
    profiles: dict[str, SiteProfile] = {}
    # Built-in ones through importlib.resources: also readable from a zipped egg (Scrapyd).
    builtin = files("hrarchive").joinpath("sites").iterdir()
    found: list[Traversable] = sorted((f for f in builtin if f.name.endswith(".toml")),
                                      key=lambda f: f.name)
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ProfileError(f"{folder}: no such profile folder")
        found += sorted(folder.glob("*.toml"))
    for file in found:
        profile = load_profile(file)
        profiles[profile.id] = profile
    return profiles
