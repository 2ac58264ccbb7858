"""Which pages an incremental run fetches: the decisions, apart from the spider that acts on them.

- A story the archive lacks is fetched (including one teased by an earlier run but never
  archived: a killed run's unfinished work).
- An archived story is fetched again only when a signal says it may have changed (a sitemap
  ``lastmod`` or feed date newer than the one that announced the version archived, or, when
  none did, than its last fetch; a teaser that reads differently), when
  it is younger than the recency window, or in a ``--full`` run; and then conditionally,
  with its stored validators, so an unchanged page costs a 304.
- Listing pagination stops at the first page whose last (oldest) story is archived: the
  pages after it hold older, archived stories.  A ``--full`` run, and a run after one that
  did not finish (``recovery``), walk every listing page.
- ``--since DATE`` skips stories dated before DATE and stops paging once a page holds only
  such stories.
- Archived stories that no listing, feed or sitemap showed in this run are revalidated once
  discovery is done, in a ``--full`` run or while younger than the recency window: a story
  taken down usually leaves its listings too, and this is how its 404 is noticed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

from hrarchive.store.state import KnownStory, SiteState, TeaserKey


@dataclass(frozen=True)
class Fetch:
    """A story to fetch: ``known`` is set when it is archived and fetched to revalidate."""

    reason: str  # new | sitemap | feed | teaser | recent | full | unlisted
    known: KnownStory | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Conditional request headers from the archived validators."""
        headers = {}
        if self.known and self.known.etag:
            headers["If-None-Match"] = self.known.etag
        if self.known and self.known.last_modified:
            headers["If-Modified-Since"] = self.known.last_modified
        return headers


def parse_signal_date(value: str | None) -> datetime | None:
    """A sitemap ``lastmod`` (W3C datetime) or feed date (RFC 822 or ISO 8601), in UTC."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Planner:
    """Decides, for one run of one site, which stories to fetch and when to stop paging."""

    def __init__(self, state: SiteState, *, full: bool = False, since: date | None = None,
                 recent_days: float = 14, clock: Callable[[], datetime] | None = None) -> None:
        self.state = state
        self.full = full
        self.since = since
        self.now = (clock or (lambda: datetime.now(UTC)))()
        self.recent_from = (self.now - timedelta(days=recent_days)).date()
        self.mode = "full" if full else \
            "incremental" if state.previous_status in (None, "finished") else "recovery"
        # the first run of a site walks everything anyway: nothing is archived
        self.walk_all = self.mode != "incremental"
        self.seen: set[str] = set()  # archived stories that discovery found in this run

    def known(self, url: str) -> KnownStory | None:
        return self.state.story(url)

    def story(self, url: str, *, published: date | None = None,
              changed: datetime | None = None, signal: str = "sitemap",
              teaser: TeaserKey | None = None) -> Fetch | str:
        """A :class:`Fetch`, or why the story is skipped (``archived``, ``before_since``).

        ``changed`` is a modification date a sitemap or feed announces (``signal`` names
        which); ``teaser`` is how a listing presents the story now.
        """
        if self.since and published and published < self.since:
            return "before_since"
        if self.since and published is None and changed and changed.date() < self.since:
            return "before_since"
        known = self.known(url)
        if known is None:
            return Fetch("new")
        self.seen.add(known.url)
        if self.full:
            return Fetch("full", known)
        reference = known.announced or known.last_seen  # the site's own clock when we can
        if changed and (reference is None or changed > reference):
            return Fetch(signal, known)
        if teaser is not None and known.teasers and teaser not in known.teasers:
            return Fetch("teaser", known)
        day = known.published or published
        if day is not None and day >= self.recent_from:
            return Fetch("recent", known)
        return "archived"

    def unlisted(self) -> list[KnownStory]:
        """Archived stories discovery did not find in this run that still need revalidating:
        every one in a ``--full`` run, else those younger than the recency window."""
        stories = {story.url: story for story in self.state.archived(
            None if self.mode == "full" else self.recent_from)}
        return [story for url, story in sorted(stories.items()) if url not in self.seen
                and (self.mode == "full" or (story.published is not None
                                             and story.published >= self.recent_from))
                and not (self.since and story.published and story.published < self.since)]

    def keep_paging(self, archived: Sequence[bool], dates: Sequence[date | None]) -> str | None:
        """None to go on to the next listing page, or why to stop there."""
        dated = [d for d in dates if d is not None]
        if self.since and dated and all(d < self.since for d in dated):
            return "before_since"
        if self.walk_all or not archived:
            return None
        return "archived" if archived[-1] else None

    def sitemap_current(self, url: str, lastmod: datetime | None) -> bool:
        """Whether a child sitemap of an index needs no fetch: its ``lastmod`` is no later
        than when the last finished run read it (only in an incremental run)."""
        previous = parse_signal_date(self.state.sitemaps.get(url))
        return not self.walk_all and lastmod is not None and previous is not None \
            and lastmod <= previous
