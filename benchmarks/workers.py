"""Many crawler workers and one writer: pages/s and CPU per page with 1, 2 and 4 workers.

A synthetic network of many small sites (``sitegen.SyntheticSite``, one per port of
127.0.0.1, all served by one child process, each page answered after ``--latency`` seconds
as a distant server would) is crawled by ``hrarchive crawl --redis`` workers sharing a real
``redis-server`` (started here on a free port, no persistence) and one ``hrarchive writer``.
For each number of workers: a fresh Redis and archive, the writer started, the workers
started together on the whole list of sites (claims spread the sites), the writer stopped
(SIGTERM: it commits what is queued) once the last worker exits.  Politeness is as in
production (one request at a time per site, through Redis), but without delays
(``DOWNLOAD_DELAY=0``, AutoThrottle off), so the figures show the machinery, not the waits.

Rate = pages served / time from the workers' start to the last one's exit.  CPU per page =
the user + system time of every worker and of the writer (``wait4``), per page served.  The
archive is checked: every story of every site stored once.

    python -m benchmarks.workers                       # 24 sites of 30 stories, 1/2/4 workers
    python -m benchmarks.workers --sites 8 --stories 5 --workers 1 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlite_utils import Database

from benchmarks.crawling import PROFILE
from benchmarks.procs import ROOT, Run, measure
from benchmarks.sitegen import SyntheticSite
from benchmarks.siteserver import CONTROL_PREFIX, HOST, Counts, control, serve_page

# Engine settings of every worker: polite (one request at a time per site), no waits.
SETTINGS = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS=16",
            "CONCURRENT_REQUESTS_PER_DOMAIN=1", "LOG_LEVEL=WARNING", "TELNETCONSOLE_ENABLED=False",
            "HRARCHIVE_PROGRESS=False")
START_TIMEOUT = 60.0


# --- the synthetic network: many sites, one port each, one server process ----------------

def make_site_app(site: SyntheticSite, latency: float) -> web.Application:
    """One site's aiohttp application; pages answer after ``latency`` seconds."""
    counts = Counts()

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return control(site, counts, request)
        if latency:
            await asyncio.sleep(latency)
        return serve_page(site, counts, request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def serve_network(config: dict[str, Any], conn: Connection) -> None:
    runners = []
    urls = []
    for n in range(config["sites"]):
        site = SyntheticSite(config["stories"], seed=n + 1)
        runner = web.AppRunner(make_site_app(site, config["latency"]), access_log=None,
                               handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0, backlog=256).start()
        site.base_url = f"http://{HOST}:{runner.addresses[0][1]}"
        runners.append(runner)
        urls.append(site.base_url)
    conn.send(urls)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wait_parent() -> None:
        with contextlib.suppress(EOFError, OSError):
            conn.recv()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_parent, daemon=True).start()
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


def network_entry(config: dict[str, Any], conn: Connection) -> None:
    asyncio.run(serve_network(config, conn))


class Network:
    """``sites`` synthetic sites of ``stories`` each, served from a child process."""

    def __init__(self, sites: int, stories: int, latency: float) -> None:
        self.config = {"sites": sites, "stories": stories, "latency": latency}
        self.urls: list[str] = []
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=network_entry, args=(self.config, child),
                                        name="sitenetwork", daemon=True)
        self._process.start()
        child.close()
        if not self._conn.poll(START_TIMEOUT):
            self.stop()
            raise RuntimeError("the site network did not start in time")
        self.urls = list(self._conn.recv())

    def _control(self, url: str, action: str, method: str) -> dict[str, Any]:
        request = urllib.request.Request(url + CONTROL_PREFIX + action, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            data: dict[str, Any] = json.loads(response.read())
        return data

    def pages(self) -> int:
        """Requests served so far by all sites."""
        return sum(int(self._control(url, "counts", "GET")["total"]) for url in self.urls)

    def reset(self) -> None:
        for url in self.urls:
            self._control(url, "reset", "POST")

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._conn.close()
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


# --- redis-server and the writer ------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Redis:
    """A ``redis-server`` on a free port of 127.0.0.1, files in ``folder``, no persistence."""

    def __init__(self, folder: Path) -> None:
        program = os.environ.get("HRARCHIVE_REDIS_SERVER") or shutil.which("redis-server")
        if not program:
            raise RuntimeError("redis-server is needed (Debian: apt install redis-server)")
        import redis

        port = free_port()
        self.url = f"redis://{HOST}:{port}/0"
        self.process = subprocess.Popen(
            [program, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Writer:
    """``hrarchive writer`` in a child process; ``stop()`` SIGTERMs it and measures it."""

    def __init__(self, redis_url: str, db: Path) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (read and closed by stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hrarchive", "writer", "--redis", redis_url, "--db", str(db)],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})

    def stop(self) -> Run:
        started = time.perf_counter()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.log.seek(0)
        output = self.log.read().decode("utf-8", "replace")
        self.log.close()
        return Run(self.process.returncode, time.perf_counter() - started,
                   usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


# --- one measurement --------------------------------------------------------------------------

@dataclass
class Result:
    """A crawl of the whole network by ``workers`` workers."""

    workers: int
    pages: int
    seconds: float
    worker_cpu: float
    writer_cpu: float
    stories: int  # archived
    expected: int

    @property
    def rate(self) -> float:
        return self.pages / self.seconds

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * (self.worker_cpu + self.writer_cpu) / self.pages


def write_profiles(folder: Path, urls: Sequence[str]) -> list[Path]:
    """One profile per site (``site-001`` ...), as a user would write them."""
    paths = []
    for n, url in enumerate(urls, 1):
        text = PROFILE.format(base=url).replace('id = "benchsite"', f'id = "site-{n:03d}"')
        path = folder / f"site-{n:03d}.toml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def crawl_with(workers: int, network: Network, folder: Path, stories: int) -> Result:
    """Crawl every site of ``network`` with ``workers`` workers and one writer."""
    folder.mkdir(parents=True)
    (folder / "redis").mkdir()
    redis_server = Redis(folder / "redis")
    db = folder / "archive.db"
    profiles = write_profiles(folder, network.urls)
    network.reset()
    writer = Writer(redis_server.url, db)
    try:
        args = [sys.executable, "-m", "hrarchive", "crawl", "--redis", redis_server.url,
                "--run", f"bench-{workers}", "--db", str(db)]
        for profile in profiles:
            args += ["--profile", str(profile)]
        for setting in SETTINGS:
            args += ["-s", setting]
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            runs = list(pool.map(lambda _n: measure(args, timeout=3600), range(workers)))
        seconds = time.perf_counter() - started
        pages = network.pages()
    finally:
        written = writer.stop()
        redis_server.stop()
    for run in runs:
        if run.returncode != 0:
            raise RuntimeError(f"a worker failed ({run.returncode}):\n{run.output[-3000:]}")
    if written.returncode != 0:
        raise RuntimeError(f"the writer failed ({written.returncode}):\n{written.output[-3000:]}")
    archived = int(Database(db).execute("select count(*) from articles").fetchone()[0])
    return Result(workers, pages, seconds, sum(run.cpu for run in runs), written.cpu, archived,
                  stories * len(network.urls))


def run(sites: int, stories: int, counts: Sequence[int], latency: float) -> list[Result]:
    """Crawl one network once per number of workers in ``counts``."""
    network = Network(sites, stories, latency)
    try:
        with tempfile.TemporaryDirectory(prefix="hrarchive-bench-workers-") as tmp:
            return [crawl_with(n, network, Path(tmp) / f"workers-{n}", stories) for n in counts]
    finally:
        network.stop()


def rows(quick: bool) -> list[dict[str, Any]]:
    """The benchmark runner's rows: 1, 2 and 4 workers (quick: 1 and 2, a tiny network)."""
    sites, stories, counts = (6, 4, (1, 2)) if quick else (24, 30, (1, 2, 4))
    results = run(sites, stories, counts, latency=0.05)
    first = results[0]
    out: list[dict[str, Any]] = []
    for result in results:
        plural = "s" if result.workers > 1 else ""
        missed = result.expected - result.stories
        out += [
            {"name": f"workers: pages/s with {result.workers} worker{plural}",
             "value": round(result.rate, 2), "unit": "pages/s",
             "note": f"{sites} sites, {result.pages} pages in {result.seconds:.1f} s"},
            {"name": f"workers: CPU per page with {result.workers} worker{plural}",
             "value": round(result.cpu_ms_per_page, 2), "unit": "ms",
             "goal": "every story archived", "met": missed == 0,
             "note": f"writer {1000 * result.writer_cpu / result.pages:.2f} ms; "
                     f"{result.stories} of {result.expected} stories archived"},
        ]
    for result in results[1:]:
        out.append({"name": f"workers: speed-up, {result.workers} workers / 1",
                    "value": round(result.rate / first.rate, 2), "unit": "x",
                    "note": f"on {os.cpu_count()} CPUs"})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=24)
    parser.add_argument("--stories", type=int, default=30, help="stories per site")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds each page takes to answer (default 0.05)")
    args = parser.parse_args(argv)
    results = run(args.sites, args.stories, args.workers, args.latency)
    print(f"{args.sites} sites of {args.stories} stories, pages answered after "
          f"{args.latency * 1000:.0f} ms, {os.cpu_count()} CPUs")
    print("workers  pages  seconds  pages/s  CPU ms/page  (writer)  stories archived")
    for r in results:
        print(f"{r.workers:7d}  {r.pages:5d}  {r.seconds:7.1f}  {r.rate:7.2f}  "
              f"{r.cpu_ms_per_page:11.2f}  {1000 * r.writer_cpu / r.pages:8.2f}  "
              f"{r.stories} of {r.expected}")
    return 0 if all(r.stories == r.expected for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
