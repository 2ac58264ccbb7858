"""An archive as researchers get it, and real servers over it: helpers for the research tests.

``build_archive`` crawls the hrhouse fixture site through the real engine, then edits one
story on the site and crawls again, so the archive holds a changed story with two versions.
What the tests expect is read from the fixtures' ``expected.json`` files.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, crawl
from tests.fixtureserver import Case, FixtureSite, load_cases, route_of
from tests.tools import require_tool

SITE = "hrhouse"
REAL_BASE = "https://humanrightshouse.org"
CHANGED = "campaign-maryia-kalesnikava"  # the story edited between the two crawls
OLD_TEXT, NEW_TEXT = "turned it inside out", "turned it inside out once more"


@dataclass
class Built:
    """The archive file and what the fixtures say it must hold."""

    db_path: Path
    base_url: str  # where the fixture site was served while crawling

    def local(self, url: str) -> str:
        return url.replace(REAL_BASE, self.base_url, 1)

    @property
    def stories(self) -> list[Case]:
        """Article pages that must be archived (not the 404 or the untitled page)."""
        return [c for c in load_cases(SITE) if c.kind == "article"
                and c.meta.get("bad") not in {"no-title", "404"}]

    def story(self, name: str) -> Case:
        return next(c for c in self.stories if c.name == name)

    def listed(self) -> list[dict[str, Any]]:
        """Teasers the listing pages show (with a title: untitled ones are dropped)."""
        return [t for c in load_cases(SITE) if c.kind == "listing"
                for t in (c.expected or {}).get("teasers", []) if t.get("title")]


def build_archive(folder: Path) -> Built:
    """Crawl the fixture site into ``folder/archive.db``, edit one story, crawl again."""
    db_path = folder / "archive.db"
    server = FixtureSite.from_fixtures(SITE).start()
    try:
        first = crawl(SITE, server, db_path)
        assert first.returncode == 0, first.output
        case = next(c for c in load_cases(SITE) if c.name == CHANGED)
        page = case.page()
        assert OLD_TEXT.encode() in page.body
        page.body = page.body.replace(OLD_TEXT.encode(), NEW_TEXT.encode())
        # as a real server does, the edited page gets new validators
        page.headers = {k: v for k, v in page.headers.items()
                        if k.lower() not in {"etag", "last-modified"}}
        page.headers["ETag"] = '"edited"'
        server.put(route_of(case.url), page)
        # no sitemap or teaser announces the edit: a --full run revalidates every story
        second = crawl(SITE, server, db_path, "--full")
        assert second.returncode == 0, second.output
        return Built(db_path, server.base_url)
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_json(base: str, path: str, **params: str) -> Any:
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    status, body = get(url)
    assert status == 200, f"{url}: HTTP {status}: {body[:500]!r}"
    return json.loads(body)


@contextmanager
def running(args: list[str], ready_url: str, timeout: float = 60) -> Iterator[str]:
    """Run a server process until the block ends; yield its log once ``ready_url`` answers."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"{args} exited {proc.returncode}:\n{log.read()}")
                try:
                    if get(ready_url, timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{ready_url} did not answer in {timeout} s")
                time.sleep(0.2)
            yield ready_url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def datasette(db_path: Path, metadata: Path = ROOT / "metadata.yml") -> Iterator[str]:
    """A real Datasette server on 127.0.0.1 over ``db_path``, as a researcher would start it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "datasette", "serve", str(db_path), "-m", str(metadata),
                  "--host", "127.0.0.1", "--port", str(port)], base + "/-/versions.json"):
        yield base


def dump_dom(url: str) -> str:
    """The page as headless Chromium renders it (``HRARCHIVE_CHROMIUM``, else ``chromium`` on
    PATH; the test is skipped, or fails under ``HRARCHIVE_REQUIRE_TOOLS=1``, without one)."""
    chromium = require_tool("chromium", env="HRARCHIVE_CHROMIUM")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
