"""What raw capture costs: crawl time per page and WARC bytes per story, capture on vs off.

Crawls a synthetic site (``benchmarks.siteserver``) through the real engine, in a
subprocess, once with ``HRARCHIVE_CAPTURE=False`` and once with it on, then once more with
capture on (a re-crawl: unchanged pages become revisit records).  Also times the WARC writer
alone on the same pages, which is the capture's own cost without crawl noise.

    python -m benchmarks.capture_cost --stories 300
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlite_utils import Database

from benchmarks.siteserver import SiteServer
from hrarchive.capture.writer import Exchange, WarcWriter

ROOT = Path(__file__).parent.parent
FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "RETRY_TIMES=0", "LOG_LEVEL=WARNING", "HRARCHIVE_ATTACHMENTS=False")


def write_profile(folder: Path, base_url: str) -> Path:
    profile = folder / "bench.toml"
    profile.write_text(f'id = "bench"\nname = "Synthetic site"\nbase_url = "{base_url}"\n'
                       f'start_urls = ["{base_url}/articles/"]\n'
                       "article_url = '/articles/story-[0-9]+-[^/]+/$'\n", "utf-8")
    return profile


def crawl(profile: Path, db: Path, capture: bool) -> float:
    args = [sys.executable, "-m", "hrarchive", "crawl", "--profile", str(profile),
            "--db", str(db), "-s", f"HRARCHIVE_CAPTURE={capture}"]
    for setting in FAST:
        args += ["-s", setting]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return elapsed


def last_run(db: Path) -> tuple[int, int]:
    """(responses, stories archived) of the archive's last crawl."""
    database = Database(db)
    row = database.execute("select responses from crawls order by id desc limit 1").fetchone()
    stories = database.execute("select count(*) from articles").fetchone()[0]
    database.close()
    return int(row[0]), int(stories)


def warc_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.warc.gz"))


def writer_cost(server: SiteServer, pages: int, folder: Path) -> tuple[float, int, int]:
    """(ms per page, bytes of body, bytes of WARC) writing ``pages`` story pages."""
    site = server.site
    bodies = []
    for i in range(1, pages + 1):
        status, headers, body = site.route(site.article_path(i))
        bodies.append((site.url(site.article_path(i)), status, list(headers.items()), body))
    writer = WarcWriter(folder, "writer")
    started = time.perf_counter()
    for url, status, headers, body in bodies:
        writer.write(Exchange(url, "GET", [("User-Agent", "bench")], b"", status, headers, body))
    writer.close()
    elapsed = time.perf_counter() - started
    return (elapsed * 1000 / pages, sum(len(b[3]) for b in bodies),
            warc_bytes(folder / "writer"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=300, help="stories on the site")
    parser.add_argument("--repeat", type=int, default=2, help="crawls of each kind (best kept)")
    args = parser.parse_args()
    with SiteServer(n_stories=args.stories) as server, \
            tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        profile = write_profile(folder, server.base_url)
        times: dict[bool, list[float]] = {False: [], True: []}
        for rep in range(args.repeat):  # alternate, keep the best of each: the machine is shared
            for capture in (False, True):
                db = folder / f"{capture}-{rep}" / "archive.db"
                times[capture].append(crawl(profile, db, capture=capture))
        off_s, on_s = min(times[False]), min(times[True])
        off_pages, off_stories = last_run(folder / "False-0" / "archive.db")
        on_db = folder / "True-0" / "archive.db"
        on_pages, stories = last_run(on_db)
        first_bytes = warc_bytes(on_db.parent / "captures")
        again_s = crawl(profile, on_db, capture=True)
        again_pages, _ = last_run(on_db)
        again_bytes = warc_bytes(on_db.parent / "captures") - first_bytes
        ms, body_bytes, writer_bytes = writer_cost(server, min(args.stories, 200),
                                                   folder / "writer")
    print(f"synthetic site, {args.stories} stories; crawl in a subprocess (startup included), "
          f"best of {args.repeat}")
    print(f"capture off: {off_pages} pages, {off_stories} stories, {off_s:.1f} s, "
          f"{off_s * 1000 / off_pages:.1f} ms/page")
    print(f"capture on:  {on_pages} pages, {stories} stories, {on_s:.1f} s, "
          f"{on_s * 1000 / on_pages:.1f} ms/page; "
          f"difference {(on_s - off_s) * 1000 / on_pages:+.1f} ms/page")
    print(f"WARC, first crawl: {first_bytes:,} bytes, {first_bytes / stories:,.0f} bytes/story "
          f"(all pages: listings and robots.txt included)")
    print(f"WARC, re-crawl (revisits): {again_pages} pages, {again_s:.1f} s, "
          f"{again_bytes:,} bytes, {again_bytes / stories:,.0f} bytes/story")
    print(f"writer alone: {ms:.2f} ms/page, {body_bytes / 200:,.0f} body bytes/page -> "
          f"{writer_bytes / 200:,.0f} WARC bytes/page (gzip per record)")


if __name__ == "__main__":
    main()
