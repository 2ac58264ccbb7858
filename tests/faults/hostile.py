"""A small news site on 127.0.0.1 whose pages a test can make hostile.

Each route is a function that answers one request on the raw handler, so a page can send a
gzip bomb, trickle its body, redirect in a loop or answer 429 first and 200 after.  Normal
stories and a listing that teases them are made by ``story`` and ``listing``; ``profile``
writes the site profile (TOML) the crawl reads.  Every request is logged in ``site.hits``
with its arrival time.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Handler = BaseHTTPRequestHandler
Route = Callable[[Handler], None]
HOME = "https://faults.example.org"
HTML = "text/html; charset=utf-8"


@dataclass
class Hit:
    path: str
    time: float  # time.monotonic()


def send(handler: Handler, body: bytes, status: int = 200,
         headers: dict[str, str] | None = None, length: bool = True) -> None:
    """Answer with ``body``; without ``length`` the body ends when the connection closes."""
    handler.send_response(status)
    for name, value in {"Content-Type": HTML, **(headers or {})}.items():
        handler.send_header(name, value)
    if length:
        handler.send_header("Content-Length", str(len(body)))
    else:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    with contextlib.suppress(OSError):
        handler.wfile.write(body)


def page(body: bytes | str, status: int = 200, **headers: str) -> Route:
    data = body.encode() if isinstance(body, str) else body
    return lambda h: send(h, data, status, {k.replace("_", "-"): v for k, v in headers.items()})


def sequence(*routes: Route) -> Route:
    """A page that answers as the first route, then the next...; the last one repeats."""
    left = list(routes)
    lock = threading.Lock()

    def route(handler: Handler) -> None:
        with lock:
            current = left.pop(0) if len(left) > 1 else left[0]
        current(handler)
    return route


def redirect(target: str, status: int = 302) -> Route:
    return lambda h: send(h, b"", status, {"Location": target})


def stream(chunks: Callable[[], Iterable[bytes]], headers: dict[str, str] | None = None) -> Route:
    """A body sent chunk by chunk until the client stops reading (no Content-Length);
    ``chunks`` makes a fresh iterable for each request."""
    def route(handler: Handler) -> None:
        handler.send_response(200)
        for name, value in {"Content-Type": HTML, **(headers or {})}.items():
            handler.send_header(name, value)
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        try:
            for chunk in chunks():
                handler.wfile.write(chunk)
        except OSError:
            pass  # the crawler hung up: what the test wants
    return route


def trickle(every: float, limit: float = 30.0) -> Route:
    """A response that sends a byte every ``every`` seconds for up to ``limit`` seconds."""
    def chunks() -> Iterable[bytes]:
        yield b"<html><body><p>"
        end = time.monotonic() + limit
        while time.monotonic() < end:
            time.sleep(every)
            yield b"x"
    return stream(chunks)


def bomb(kind: str, inflated: int = 1 << 30) -> bytes:
    """``inflated`` bytes of spaces as a valid gzip or zlib ("deflate") stream of about 1 MB.

    One megabyte is compressed once and its compressed block repeated: after a full flush
    every block is compressed alike, so a 1 GiB bomb takes half a second to make."""
    wbits = 31 if kind == "gzip" else 15
    block = b" " * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = inflated // len(block)
    check = zlib.crc32(b"") if kind == "gzip" else zlib.adler32(b"")
    for _ in range(count):
        check = zlib.crc32(block, check) if kind == "gzip" else zlib.adler32(block, check)
    last = b"\x01\x00\x00\xff\xff"  # an empty final stored block
    trailer = (struct.pack("<II", check, inflated & 0xFFFFFFFF) if kind == "gzip"
               else struct.pack(">I", check))
    return first + again * (count - 1) + last + trailer


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body)


class HostileSite:
    """An HTTP server on a free 127.0.0.1 port serving ``routes`` (path -> route)."""

    def __init__(self, routes: dict[str, Route] | None = None,
                 fallback: Route | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.fallback = fallback  # answers paths without a route (else 404)
        self.hits: list[Hit] = []
        site = self

        class Served(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.hits.append(Hit(self.path, time.monotonic()))
                route = site.routes.get(self.path, site.fallback)
                if route is None:
                    send(self, b"<html><body><h1>Not Found</h1></body></html>", 404)
                else:
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Served)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def count(self, path: str) -> int:
        return sum(1 for hit in self.hits if hit.path == path)

    def start(self) -> HostileSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def story_html(title: str, text: str = "", day: str = "2024-03-01", head: str = "") -> str:
    """A plain story page: a heading, a date and a few paragraphs of ``text``."""
    text = text or (f"{title} was reported by the monitors of the network. " * 6)
    paragraphs = "".join(f"<p>{text} Paragraph {n}.</p>" for n in range(4))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{head}'
            f"<title>{title} | Fault site</title></head><body><article><h1>{title}</h1>"
            f'<time datetime="{day}T09:00:00+00:00">{day}</time>'
            f'<div class="entry-content">{paragraphs}</div></article></body></html>')


def listing(slugs: Iterable[str], titles: dict[str, str] | None = None) -> str:
    """The news listing: one teaser per story slug, linking to ``/news/<slug>``."""
    teasers = "".join(
        f'<article class="teaser"><h2><a href="{HOME}/news/{slug}">'
        f'{(titles or {}).get(slug, "Story " + slug)}</a></h2>'
        f'<time datetime="2024-03-01">1 March 2024</time></article>' for slug in slugs)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>News</title>'
            f"</head><body><main><h1>News</h1>{teasers}</main></body></html>")


def profile(folder: Path, site_id: str = "faults", name: str = "Fault site") -> Path:
    """The site's profile: the listing is the only way in, stories are ``/news/<slug>``."""
    path = folder / "profile.toml"
    path.write_text(f"id = {json.dumps(site_id)}\nname = {json.dumps(name)}\n"
                    f'base_url = "{HOME}"\nstart_urls = ["{HOME}/news/"]\n'
                    "article_url = '/news/[a-z0-9-]+$'\n"
                    'languages = ["en"]\n', "utf-8")
    return path


def news_site(stories: dict[str, Route], titles: dict[str, str] | None = None) -> HostileSite:
    """A site whose listing at /news/ teases ``stories`` (slug -> route), started."""
    routes: dict[str, Route] = {"/news/": page(listing(stories, titles))}
    routes.update({f"/news/{slug}": route for slug, route in stories.items()})
    return HostileSite(routes).start()


def normal(slug: str) -> Route:
    return page(story_html(f"Normal story {slug}"))
