"""A real HTTP server on 127.0.0.1 that serves a fixture site's saved pages.

Each case folder under ``tests/fixtures/<site>/`` is served at its ``meta.json`` URL's path
and query, with its recorded status and headers and its body bytes untouched.  Tests may
change the routes while the server runs (``site.put``/``site.remove``) to simulate a site
that publishes, edits or deletes stories.  Every request is logged in ``site.hits``, and
with its arrival time, headers and the time its answer was sent (``end``) in
``site.requests``.  Like a real web server, a page with an ``ETag`` or ``Last-Modified``
header answers a matching conditional request (``If-None-Match``, ``If-Modified-Since``)
with 304 Not Modified.  ``delay`` slows every answer down (seconds) and a page's own
``delay`` that page, to give tests time to act midway; a page may answer only once
(``Page.then`` replaces it after it was served).
``site.handlers`` answer the paths no route holds (``tests/wpapi.py``'s REST API emulator).

A site's recorded robots.txt is served as recorded, ``Crawl-delay`` included.  A test whose
subject is something else may ask for it without its ``Crawl-delay`` lines
(``crawl_delay=False``): the other rules stay, and the crawl does not sleep 5-10 s a page.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Page:
    """One response the server can give."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before this page is answered (a slow or hanging page)
    then: Page | None = None  # served instead of this page from the next request on


@dataclass
class Hit:
    """One request the server received: its path and query, arrival time and headers."""

    path: str
    time: float  # time.monotonic()
    headers: dict[str, str]
    end: float | None = None  # time.monotonic() once the whole answer was written


@dataclass
class Case:
    """One saved page: its folder, metadata and expectations."""

    site: str
    name: str
    path: Path
    meta: dict
    body: bytes

    @property
    def url(self) -> str:
        return str(self.meta["url"])

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "other"))

    @property
    def expected(self) -> dict | None:
        file = self.path / "expected.json"
        return json.loads(file.read_text("utf-8")) if file.exists() else None

    def page(self) -> Page:
        status = int(self.meta.get("status", 200))
        return Page(self.body, status, dict(self.meta.get("headers", {})))


def route_of(url: str) -> str:
    """The part of a URL the server routes on: path and query."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def load_cases(site: str, root: Path = FIXTURES) -> list[Case]:
    """Every saved page of a fixture site, sorted by case name."""
    cases = []
    for meta_file in sorted((root / site).glob("*/meta.json")):
        folder = meta_file.parent
        bodies = sorted(folder.glob("body.*"))
        if not bodies:
            raise FileNotFoundError(f"{folder}: no body.* file")
        meta = json.loads(meta_file.read_text("utf-8"))
        cases.append(Case(site, folder.name, folder, meta, bodies[0].read_bytes()))
    return cases


def fixture_sites(root: Path = FIXTURES) -> list[str]:
    """Names of all fixture sites (folders holding at least one case)."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*/meta.json")))


def without_crawl_delay(robots_txt: bytes) -> bytes:
    """A robots.txt without its ``Crawl-delay`` lines, every other line as it was."""
    return re.sub(rb"(?im)^[ \t]*crawl-delay[ \t]*:[^\r\n]*(\r?\n|$)", b"", robots_txt)


def not_modified(page: Page, request_headers: Mapping[str, str]) -> bool:
    """Whether a conditional request's validators match the page (RFC 9110, 13.1)."""
    if page.status != 200:
        return False
    headers = {k.lower(): v for k, v in page.headers.items()}
    tags = request_headers.get("If-None-Match")
    if tags is not None:
        etag = headers.get("etag")
        return etag is not None and (tags.strip() == "*" or etag.removeprefix("W/") in
                                     {t.strip().removeprefix("W/") for t in tags.split(",")})
    since = request_headers.get("If-Modified-Since")
    modified = headers.get("last-modified")
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


class FixtureSite:
    """A fixture site served over HTTP on 127.0.0.1 (port 0 picks a free one)."""

    def __init__(self, routes: Mapping[str, Page], port: int = 0, delay: float = 0.0) -> None:
        self.routes: dict[str, Page] = dict(routes)
        self.handlers: list[Callable[[str], Page | None]] = []  # answer paths no route holds
        self.delay = delay
        self.hits: list[str] = []
        self.requests: list[Hit] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @classmethod
    def from_fixtures(cls, site: str, port: int = 0, root: Path = FIXTURES,
                      wp_api: str | None = None, crawl_delay: bool = True) -> FixtureSite:
        """The site's saved pages; ``wp_api`` "on" adds a WordPress REST API built from them
        (``tests/wpapi.py``), "disabled" one answering 401 as a disabled API does.  With
        ``crawl_delay=False`` its robots.txt is served without its ``Crawl-delay`` lines (the
        recorded file is not changed)."""
        cases = load_cases(site, root)
        routes = {route_of(c.url): c.page() for c in cases}
        robots = routes.get("/robots.txt")
        if robots is not None and not crawl_delay:
            routes["/robots.txt"] = Page(without_crawl_delay(robots.body), robots.status,
                                         robots.headers)
        server = cls(routes, port)
        if wp_api:
            from tests.wpapi import WpApi, posts_from_cases
            home = "{0.scheme}://{0.netloc}".format(urlsplit(cases[0].url))
            server.handlers.append(WpApi(lambda: posts_from_cases(site, root),
                                         disabled=wp_api == "disabled", home=home))
        return server

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def put(self, path: str, page: Page) -> None:
        with self._lock:
            self.routes[path] = page

    def remove(self, path: str) -> None:
        with self._lock:
            self.routes.pop(path, None)

    def start(self) -> FixtureSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _lookup(self, path: str, headers: Mapping[str, str] | None = None
                ) -> tuple[Page | None, Hit]:
        with self._lock:
            self.hits.append(path)
            hit = Hit(path, time.monotonic(), dict(headers or {}))
            self.requests.append(hit)
            page = self.routes.get(path)
            if page is not None and page.then is not None:
                self.routes[path] = page.then
            handlers = list(self.handlers)
        for handler in handlers if page is None else []:
            page = handler(path)
            if page is not None:
                break
        return page, hit

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if site.delay:
                    time.sleep(site.delay)
                page, hit = site._lookup(self.path, dict(self.headers.items()))
                if page is None:
                    page = Page(b"<html><body><h1>Not Found</h1></body></html>", 404,
                                {"Content-Type": "text/html; charset=UTF-8"})
                if page.delay:
                    time.sleep(page.delay)
                if not_modified(page, self.headers):
                    page = Page(b"", 304, {k: v for k, v in page.headers.items()
                                           if k.lower() in {"etag", "last-modified"}})
                self.send_response(page.status)
                for name, value in page.headers.items():
                    if name.lower() not in {"content-length", "transfer-encoding",
                                            "content-encoding", "connection"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)
                self.wfile.flush()
                hit.end = time.monotonic()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def iter_all_cases(root: Path = FIXTURES) -> Iterator[Case]:
    for site in fixture_sites(root):
        yield from load_cases(site, root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", help="fixture site, a folder under tests/fixtures/")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--wp-api", choices=["on", "disabled"],
                        help="also serve a WordPress REST API built from the pages")
    parser.add_argument("--no-crawl-delay", action="store_true",
                        help="serve robots.txt without its Crawl-delay lines")
    args = parser.parse_args()
    with FixtureSite.from_fixtures(args.site, args.port, wp_api=args.wp_api,
                                   crawl_delay=not args.no_crawl_delay) as server:
        print(f"serving {args.site} at {server.base_url}  "
              f"(hrarchive crawl {args.site} --base-url {server.base_url})", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
