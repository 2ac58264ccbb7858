"""Readers under load: a Datasette server over the archive answers a stream of requests
while a crawl writes it at full speed.  Prints how many requests failed (the goal: none)
and the latency of the rest (median, p95, p99, max).

    python -m benchmarks.readers --stories 2000 --readers 4

The synthetic site (``benchmarks.sitegen``) is crawled from a three-line profile with
delays off; as soon as the crawl has created the archive, Datasette (with metadata.yml) is
started over the same file and ``--readers`` threads ask in turn for the stories page,
a full-text search and the canned query ``stories_mentioning``, until the crawl ends.
Exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import itertools
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks.procs import ROOT
from benchmarks.siteserver import SiteServer

FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "RETRY_TIMES=0", "LOG_LEVEL=WARNING", "HRARCHIVE_PROGRESS=False")
PATHS = ("/archive/stories?_size=20",
         "/archive/articles.json?_search=rights&_size=20",
         "/archive/stories_mentioning.json?term=human&since=&until=&site=")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def archive_ready(db: Path) -> bool:
    """The crawl has made the archive's tables (Datasette then sees the schema)."""
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'stories'"
                                ).fetchone()[0] == 1
    except sqlite3.Error:
        return False


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.1)


def answered(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def read(base: str, stop: threading.Event, latencies: list[float],
         failures: list[str], offset: int) -> None:
    for path in itertools.islice(itertools.cycle(PATHS), offset, None):
        if stop.is_set():
            return
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(base + path, timeout=30) as response:
                response.read()
                ok = response.status == 200
                status = str(response.status)
        except urllib.error.HTTPError as exc:
            ok, status = False, f"HTTP {exc.code}: {exc.read()[:200]!r}"
        except OSError as exc:
            ok, status = False, repr(exc)
        elapsed = time.perf_counter() - started
        if ok:
            latencies.append(elapsed)
        else:
            failures.append(f"{path}: {status}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--readers", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hrarchive-readers-"))
    db = folder / "archive.db"
    latencies: list[float] = []
    failures: list[str] = []
    with SiteServer(args.stories) as server:
        profile = folder / "synthetic.toml"
        profile.write_text(f'id = "synthetic"\nname = "Synthetic site"\n'
                           f'start_urls = ["{server.url("/articles/")}"]\n', "utf-8")
        command = [sys.executable, "-m", "hrarchive", "crawl", "--profile", str(profile),
                   "--db", str(db)]
        for setting in FAST:
            command += ["-s", setting]
        started = time.monotonic()
        crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        wait_for(lambda: archive_ready(db) or crawl.poll() is not None, 120, "the archive")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        served = subprocess.Popen([sys.executable, "-m", "datasette", "serve", str(db),
                                   "-m", str(ROOT / "metadata.yml"), "--host", "127.0.0.1",
                                   "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: answered(base + "/-/versions.json"), 60, "Datasette")
            stop = threading.Event()
            readers = [threading.Thread(target=read, args=(base, stop, latencies, failures, n))
                       for n in range(args.readers)]
            for thread in readers:
                thread.start()
            _, errors = crawl.communicate()
            crawled = time.monotonic() - started
            stop.set()
            for thread in readers:
                thread.join()
        finally:
            served.terminate()
            served.wait(15)
    with sqlite3.connect(db) as conn:
        stories = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    print(f"crawl: exit {crawl.returncode}, {stories} stories in {crawled:.1f} s")
    print(f"requests: {len(latencies) + len(failures)} from {args.readers} readers, "
          f"{len(failures)} failed")
    if latencies:
        print(f"latency: median {statistics.median(latencies) * 1000:.1f} ms, "
              f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms")
    for failure in failures[:10]:
        print("failed:", failure)
    if crawl.returncode != 0:
        print(errors[-2000:])
    sys.exit(1 if failures or crawl.returncode != 0 else 0)


if __name__ == "__main__":
    main()
