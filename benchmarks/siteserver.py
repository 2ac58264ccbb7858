"""Serve a :class:`~benchmarks.sitegen.SyntheticSite` over HTTP from its own process.

``SiteServer`` starts an aiohttp server in a child process (``spawn`` context) on
127.0.0.1 and a free port, and talks to it over HTTP control endpoints:

- ``POST /__bench__/add?k=<n>`` publishes n new stories;
- ``POST /__bench__/edit?i=<n>[&at=<unix seconds>]`` edits story n (stamped no earlier
  than ``at``);
- ``GET /__bench__/counts`` returns request counts as JSON; ``POST /__bench__/reset`` clears them.

Control requests are not counted.  Pages answer ``If-None-Match`` and ``If-Modified-Since``
with 304.  The parent keeps a mirror ``SyntheticSite`` (``server.site``) that applies the same
changes, so benchmarks can compute expected results without asking the server.

As with any ``spawn`` child, a script that starts a ``SiteServer`` at import time needs an
``if __name__ == "__main__":`` guard.

Run a server in the foreground with ``python -m benchmarks.siteserver --stories 1000 --port
8001``, or check everything quickly with ``python -m benchmarks.siteserver --smoke``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from email.utils import parsedate_to_datetime
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from aiohttp import web

from benchmarks.sitegen import SyntheticSite

HOST = "127.0.0.1"
CONTROL_PREFIX = "/__bench__/"
START_TIMEOUT = 30.0


class Counts:
    """Requests served, by path and by status."""

    def __init__(self) -> None:
        self.paths: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def add(self, path: str, status: int) -> None:
        self.paths[path] += 1
        self.statuses[status] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "total": sum(self.paths.values()),
            "paths": dict(self.paths),
            "statuses": {str(k): v for k, v in self.statuses.items()},
        }


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-None-Match header value matches ``etag`` (weak comparison)."""
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag.removeprefix("W/") in tags


def not_modified_since(header: str, last_modified: str) -> bool:
    """Whether the page's Last-Modified is no later than an If-Modified-Since value."""
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False


def is_fresh(request: web.Request, headers: dict[str, str]) -> bool:
    """Whether a conditional request can be answered with 304."""
    etag = headers.get("ETag")
    last_modified = headers.get("Last-Modified")
    if etag is None or last_modified is None:
        return False
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if_modified_since = request.headers.get("If-Modified-Since")
    return if_modified_since is not None and not_modified_since(if_modified_since, last_modified)


def serve_page(site: SyntheticSite, counts: Counts, request: web.Request) -> web.Response:
    """Answer one page request from the site, with 304 for fresh conditional requests."""
    headers = site.headers_for(request.path)
    if "ETag" in headers and is_fresh(request, headers):
        counts.add(request.path, 304)
        kept = {k: headers[k] for k in ("ETag", "Last-Modified", "Cache-Control")}
        return web.Response(status=304, headers=kept)
    status, headers, body = site.route(request.path)
    counts.add(request.path, status)
    return web.Response(status=status, headers=headers, body=body)


def control(site: SyntheticSite, counts: Counts, request: web.Request) -> web.Response:
    """Answer a ``/__bench__/`` control request."""
    action = request.path.removeprefix(CONTROL_PREFIX).strip("/")
    if action == "counts":
        return web.json_response(counts.as_json())
    if request.method != "POST":
        return web.json_response({"error": "use POST"}, status=405)
    if action == "reset":
        counts.paths.clear()
        counts.statuses.clear()
        return web.json_response({"ok": True})
    if action == "add":
        added = site.add_stories(int(request.query.get("k", "1")))
        return web.json_response({"added": added, "n_stories": site.n_stories})
    if action == "edit":
        at = int(request.query["at"]) if "at" in request.query else None
        modified = site.edit_story(int(request.query["i"]), at)
        return web.json_response({"modified": modified, "edits": site.edits})
    return web.json_response({"error": f"unknown action {action!r}"}, status=404)


def make_app(site: SyntheticSite) -> web.Application:
    """An aiohttp application serving ``site`` plus the control endpoints."""
    counts = Counts()

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return control(site, counts, request)
        return serve_page(site, counts, request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def run_server(site: SyntheticSite, host: str, port: int, stop: asyncio.Event) -> int:
    """Serve until ``stop`` is set; ``site.base_url`` is set once the port is known."""
    runner = web.AppRunner(make_app(site), access_log=None, handle_signals=False)
    await runner.setup()
    tcp = web.TCPSite(runner, host, port, backlog=1024)
    await tcp.start()
    bound = int(runner.addresses[0][1])
    site.base_url = f"http://{host}:{bound}"
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return bound


def watch_parent(conn: Connection, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` when the parent says "stop" or goes away."""
    with contextlib.suppress(EOFError, OSError):
        conn.recv()
    loop.call_soon_threadsafe(stop.set)


async def child_main(config: dict[str, int], conn: Connection) -> None:
    """The child process's event loop: serve, report the port, stop on request."""
    site = SyntheticSite(config["n_stories"], config["seed"], config["per_page"])
    stop = asyncio.Event()
    task = asyncio.create_task(run_server(site, HOST, config["port"], stop))
    while not site.base_url and not task.done():
        await asyncio.sleep(0.001)
    if task.done():
        await task
    conn.send(site.base_url)
    loop = asyncio.get_running_loop()
    threading.Thread(target=watch_parent, args=(conn, loop, stop), daemon=True).start()
    await task


def child_entry(config: dict[str, int], conn: Connection) -> None:
    """Entry point of the server process."""
    try:
        asyncio.run(child_main(config, conn))
    except Exception as error:
        conn.send(f"error: {error!r}")
        raise


class SiteServer:
    """A synthetic site served from a child process; use as a context manager."""

    def __init__(
        self, n_stories: int = 10_000, seed: int = 1, per_page: int = 10, port: int = 0
    ) -> None:
        self.config = {"n_stories": n_stories, "seed": seed, "per_page": per_page, "port": port}
        self.site = SyntheticSite(n_stories, seed, per_page)
        self.base_url = ""
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def start(self) -> SiteServer:
        """Start the server process; return once it listens."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=child_entry, args=(self.config, child), name="siteserver", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(START_TIMEOUT):
            self.stop()
            raise RuntimeError("site server did not start in time")
        try:
            message = str(parent.recv())
        except EOFError:
            message = "process exited before listening (main module without a __main__ guard?)"
        if not message.startswith("http://"):
            self.stop()
            raise RuntimeError(f"site server failed: {message}")
        self.base_url = self.site.base_url = message
        return self

    def stop(self) -> None:
        """Stop the server process (politely, then by force)."""
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(5)
            self._process = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on the running server."""
        return self.base_url + path

    def _control(self, action: str, method: str = "POST") -> dict[str, Any]:
        request = urllib.request.Request(self.url(CONTROL_PREFIX + action), method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            data: dict[str, Any] = json.loads(response.read())
        return data

    def add_stories(self, k: int) -> list[int]:
        """Publish ``k`` new newest stories on the server (and the mirror)."""
        self._control(f"add?k={k}")
        return self.site.add_stories(k)

    def edit_story(self, i: int) -> int:
        """Edit story ``i`` on the server (and the mirror) now; return its new modified time.

        The edit is stamped no earlier than the wall clock, as a live site stamps it: a
        stamp on the synthetic site's own clock (years before any crawl) would tell an
        incremental crawl that the edit predates its last fetch of the story.  Rounded up,
        so it is later than the second the archive recorded that fetch in."""
        at = math.ceil(time.time())
        self._control(f"edit?i={i}&at={at}")
        return self.site.edit_story(i, at)

    def counts(self) -> dict[str, Any]:
        """``{"total": n, "paths": {path: n}, "statuses": {"200": n, "304": n, ...}}``."""
        return self._control("counts", method="GET")

    def request_count(self, path: str | None = None) -> int:
        """Requests served so far, in total or for one path."""
        counts = self.counts()
        return int(counts["total"] if path is None else counts["paths"].get(path, 0))

    def reset_counts(self) -> None:
        """Forget the requests counted so far."""
        self._control("reset")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        import psutil

        if self._process is None or self._process.pid is None:
            return 0.0
        times = psutil.Process(self._process.pid).cpu_times()
        return float(times.user + times.system)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` with urllib; return status, headers and body (also for 304/4xx)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def smoke() -> None:
    """Start a 200-story server, fetch a few pages, check them and stop."""
    started = time.perf_counter()
    with SiteServer(n_stories=200, seed=7) as server:
        print(f"started {server.base_url} in {time.perf_counter() - started:.2f}s")
        status, _, body = fetch(server.url("/robots.txt"))
        assert status == 200 and b"Sitemap:" in body, body
        status, _, body = fetch(server.url("/articles/"))
        assert status == 200 and body.count(b'<article id="post-') == 10, status
        assert b'<a class="next page-numbers"' in body and b'rel="next"' in body
        path = server.site.article_path(200)
        status, headers, body = fetch(server.url(path))
        assert status == 200 and 60_000 <= len(body) <= 150_000, (status, len(body))
        again = fetch(server.url(path), {"If-None-Match": headers["ETag"]})
        assert again[0] == 304 and again[2] == b"", again[0]
        since = fetch(server.url(path), {"If-Modified-Since": headers["Last-Modified"]})
        assert since[0] == 304, since[0]
        server.edit_story(200)
        assert fetch(server.url(path), {"If-None-Match": headers["ETag"]})[0] == 200
        assert fetch(server.url("/no-such-page/"))[0] == 404
        assert server.request_count(path) == 4, server.counts()
        print(f"smoke ok: article {len(body)} bytes, counts {server.counts()['statuses']}")


def main() -> None:
    """Command line: serve a site in the foreground, or run the smoke check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-page", type=int, default=10)
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--smoke", action="store_true", help="run the self-check and exit")
    args = parser.parse_args()
    if args.smoke:
        smoke()
        return
    site = SyntheticSite(args.stories, args.seed, args.per_page)
    print(f"serving {args.stories} stories on http://{args.host}:{args.port}/ (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_server(site, args.host, args.port, asyncio.Event()))


if __name__ == "__main__":
    main()
