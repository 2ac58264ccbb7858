"""A small polite HTTP client for ``hrarchive add-site``: robots.txt first, the project's
User-Agent, short timeouts and a least delay between requests (at least the site's
``Crawl-delay``).

With ``base_url`` (a mirror or a local copy, as ``hrarchive crawl --base-url``) every request
goes to the copy while pages are read under their real address, so what add-site finds and
writes names the real site.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from hrarchive.extract.urls import Rebaser, same_site

ROBOTS_AGENT = "hrarchive"  # the token robots.txt groups are matched against (settings.py)


class DiscoveryError(RuntimeError):
    """A site add-site cannot read: unreachable, forbidden by robots.txt, no way in."""


@dataclass
class Fetched:
    """One answer: the real URL asked for (after redirects), status, headers and body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def site_root(url: str) -> str:
    """``scheme://host`` of a URL."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


@dataclass
class Client:
    """Fetches pages of one site as add-site needs them, politely."""

    site_url: str
    user_agent: str
    base_url: str | None = None
    timeout: float = 10.0
    delay: float = 0.5
    fetched: list[str] = field(default_factory=list)
    disallowed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    crawl_delay: float | None = None
    robots_sitemaps: list[str] = field(default_factory=list)
    _robots: Protego | None = None
    _last: float = 0.0

    def __post_init__(self) -> None:
        self.root = site_root(self.site_url)
        self.rebase = Rebaser(self.root, self.base_url)

    def real(self, url: str) -> str:
        """A URL on the copy (``base_url``) as the real site's URL."""
        if not self.base_url or not same_site(url, self.base_url):
            return url
        local, parts = urlsplit(self.base_url.rstrip("/")), urlsplit(url)
        path = parts.path.removeprefix(local.path) or "/"
        real = urlsplit(self.root)
        return urlunsplit((real.scheme, real.netloc, path, parts.query, parts.fragment))

    def read_robots(self) -> None:
        """Fetch robots.txt: a 5xx or 429 forbids the site (RFC 9309), a 4xx allows all."""
        answer = self._get(f"{self.root}/robots.txt")
        if answer is None or answer.status >= 500 or answer.status == 429:
            status = "no answer" if answer is None else f"HTTP {answer.status}"
            raise DiscoveryError(f"{self.root}/robots.txt: {status}; a site whose robots.txt "
                                 "cannot be read is not crawled (RFC 9309)")
        if answer.ok:
            self._robots = Protego.parse(answer.body.decode("utf-8", "replace"))
            delay = self._robots.crawl_delay(ROBOTS_AGENT) or \
                self._robots.crawl_delay(self.user_agent)
            self.crawl_delay = float(delay) if delay else None
            self.robots_sitemaps = [self.real(s) for s in self._robots.sitemaps]

    def allowed(self, url: str) -> bool:
        return self._robots is None or self._robots.can_fetch(url, ROBOTS_AGENT)

    def get(self, url: str) -> Fetched | None:
        """The page at ``url`` (real address), or None when robots.txt forbids it or it
        cannot be fetched at all (both noted); an HTTP error status is returned as it is."""
        if not self.allowed(url):
            self.disallowed.append(url)
            return None
        return self._get(url)

    def _get(self, url: str) -> Fetched | None:
        wait = max(self.delay, self.crawl_delay or 0.0) - (time.monotonic() - self._last)
        if self._last and wait > 0:
            time.sleep(wait)
        self.fetched.append(url)
        request = urllib.request.Request(self.rebase(url), headers={
            "User-Agent": self.user_agent, "Accept": "text/html,application/xhtml+xml,"
            "application/xml;q=0.9,*/*;q=0.8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Fetched(self.real(response.geturl()), response.status,
                               dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as exc:
            return Fetched(url, exc.code, dict(exc.headers.items()), exc.read())
        except (OSError, ValueError) as exc:
            self.failures.append(f"{url}: {exc}")
            return None
        finally:
            self._last = time.monotonic()
