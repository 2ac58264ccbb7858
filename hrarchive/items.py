"""The items spiders yield: the contract between spiders and pipelines.

Spiders fill them with raw values as found on the page (a date as printed, a URL as
linked); the normalise pipeline makes them canonical.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Link:
    """A link from a story: under "Related articles", inside the body, or an attachment."""

    url: str
    title: str | None = None
    kind: str = "related"  # related | body | attachment


@dataclass
class Teaser:
    """How a listing page presents a story."""

    site: str
    listing_url: str
    url: str
    title: str | None = None
    summary: str | None = None
    published: str | None = None  # as printed ("October 18, 2018"); ISO 8601 after normalise
    published_raw: str | None = None  # set by normalise: the date exactly as printed
    image_url: str | None = None
    position: int | None = None


@dataclass
class Article:
    """A story page itself."""

    site: str
    url: str  # the URL it was fetched from
    canonical_url: str | None = None
    title: str | None = None
    subtitle: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    published_raw: str | None = None
    published_printed: str | None = None  # the date printed beside a declared one (not stored)
    modified: str | None = None
    modified_raw: str | None = None
    language: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    attachments: list[Link] = field(default_factory=list)
    related: list[Link] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    etag: str | None = None  # HTTP validators, for conditional re-requests
    last_modified: str | None = None
    announced: str | None = None  # sitemap lastmod / feed date that announced it, ISO 8601 UTC
    capture: dict | None = None  # where the raw response is kept (hrarchive.capture), if it is


@dataclass
class NotModified:
    """An archived story revalidated with its HTTP validators and answered 304 Not Modified:
    the store only moves its ``last_seen``."""

    site: str
    url: str  # the URL requested: the story's archived URL
    etag: str | None = None
    last_modified: str | None = None
    announced: str | None = None


@dataclass
class Announced:
    """A sitemap or feed date read after the story it announces was fetched (or answered
    304) in this run: the store records it as the story's ``announced`` when it is newer."""

    site: str
    url: str  # the story's URL as the spider keys it
    announced: str  # ISO 8601 UTC


@dataclass
class Gone:
    """An archived story revalidated and found gone from its site: its page answered 404 or
    410, or redirected to a page that is not the story (``redirect_to``)."""

    site: str
    url: str  # the URL requested: the story's archived URL
    status: int
    redirect_to: str | None = None


@dataclass
class Attachment:
    """A document a story links to (a PDF report, a statement), fetched once and kept."""

    site: str
    url: str  # the link as found on the story, normalised
    fetched_url: str  # where the bytes came from, after redirects
    body: bytes = field(repr=False)
    content_type: str | None = None
    title: str | None = None  # the link text
    story_url: str | None = None  # the story that links to it
    capture: dict | None = None
