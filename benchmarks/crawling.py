"""Crawl benchmarks on the synthetic site: throughput against bare Scrapy, incremental
re-crawl requests against the minimum, and peak memory at two site sizes.

Every crawl is a subprocess (``python -m hrarchive crawl`` or ``scrapy runspider``) measured
by :func:`benchmarks.procs.measure`; pages are counted by the server.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from benchmarks.procs import Run, measure
from benchmarks.siteserver import SiteServer

# The same engine settings for hrarchive and the bare spider: no politeness delay, no
# AutoThrottle, 16 requests at a time to the one site, robots.txt obeyed.
SHARED_SETTINGS = (
    "ROBOTSTXT_OBEY=True", "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS=16", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "LOG_LEVEL=WARNING",
    "COOKIES_ENABLED=False", "TELNETCONSOLE_ENABLED=False",
)
BARE_SPIDER = Path(__file__).with_name("bare_spider.py")

PROFILE = """\
id = "benchsite"
name = "Open Rights Monitor (synthetic benchmark site)"
base_url = "{base}"
languages = ["en"]
start_urls = ["{base}/articles/"]
sitemaps = ["{base}/wp-sitemap.xml"]  # its lastmod is how an incremental crawl sees edits
article_url = '/articles/story-\\d+-'
trailing_slash = "add"

[listing]
teaser = "article.post"
url = "h2.entry-title a::attr(href)"
title = "h2.entry-title a::text"
date = "time::attr(datetime)"
next_page = "a.next.page-numbers::attr(href)"

[article]
title = "h1.entry-title::text"
body = "div.entry-content"
tags = "footer.entry-footer a[rel~=tag]::text"
related = "section.related-posts a"
"""


def write_profile(folder: Path, base_url: str) -> Path:
    """The synthetic site's profile, as a user would write it."""
    path = folder / "benchsite.toml"
    path.write_text(PROFILE.format(base=base_url), encoding="utf-8")
    return path


def hrarchive_crawl(server: SiteServer, folder: Path, db: Path) -> Run:
    """``hrarchive crawl`` of the whole site into ``db``; fails loudly if the crawl failed."""
    profile = write_profile(folder, server.base_url)
    args = [sys.executable, "-m", "hrarchive", "crawl", "--profile", str(profile),
            "--db", str(db)]
    for setting in SHARED_SETTINGS:
        args += ["-s", setting]
    run = measure(args)
    if run.returncode != 0:
        raise RuntimeError(f"hrarchive crawl failed ({run.returncode}):\n{run.output[-3000:]}")
    return run


def engine_seconds(db: Path) -> float:
    """Scrapy's own run time (spider open to close) of the archive's latest crawl."""
    row = Database(db).execute("select stats from crawls order by id desc limit 1").fetchone()
    return float(json.loads(row[0])["elapsed_time_seconds"])


def writer_cpu(db: Path) -> float:
    """CPU seconds of the archive's writer thread in the latest crawl (its stats say)."""
    row = Database(db).execute("select stats from crawls order by id desc limit 1").fetchone()
    return float(json.loads(row[0]).get("hrarchive/writer/cpu_seconds", 0.0))


def archived(db: Path) -> tuple[int, int]:
    """(stories, stories with more than one version) in an archive."""
    found = Database(db).execute(
        "select count(*), sum(version > 1) from articles").fetchone()
    return int(found[0]), int(found[1] or 0)


def bare_crawl(server: SiteServer, folder: Path) -> tuple[Run, float]:
    """The bare Scrapy spider over the same pages, run outside the project's settings;
    returns the measured process and Scrapy's own run time."""
    stats = folder / "bare-stats.json"
    args = [sys.executable, "-m", "scrapy", "runspider", str(BARE_SPIDER),
            "-a", f"start_url={server.base_url}/articles/",
            "-a", f"sitemap_url={server.base_url}/wp-sitemap.xml", "-a", f"stats_path={stats}"]
    for setting in SHARED_SETTINGS:
        args += ["-s", setting]
    run = measure(args, cwd=folder)
    if run.returncode != 0:
        raise RuntimeError(f"bare spider failed ({run.returncode}):\n{run.output[-3000:]}")
    return run, float(json.loads(stats.read_text())["elapsed_time_seconds"])


def crawl_and_recrawl(n_stories: int, change: float = 0.01, seed: int = 7) -> dict[str, Any]:
    """Throughput of both crawlers on one site of ``n_stories``, then an incremental re-crawl.

    The second hrarchive crawl runs after ``change`` of the stories are new and as many
    were edited; its requests are compared with the fewest that could find them all:
    the new and changed stories, the listing pages that hold them, and robots.txt (a crawl
    that learns of edits from the sitemap may need fewer).  The archive is then checked:
    a crawl that issues few requests but misses a new or changed story has not done better.
    """
    result: dict[str, Any] = {"stories": n_stories}
    with SiteServer(n_stories) as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server.reset_counts()
        served = server.cpu_seconds()
        bare, bare_engine = bare_crawl(server, folder)
        bare_pages = server.request_count()
        bare_server = server.cpu_seconds() - served
        server.reset_counts()
        db = folder / "archive.db"
        served = server.cpu_seconds()
        first = hrarchive_crawl(server, folder, db)
        pages = server.request_count()
        result["bare"] = {"pages": bare_pages, "wall": bare.wall, "engine": bare_engine,
                          "cpu": bare.cpu, "server_cpu": bare_server}
        result["hrarchive"] = {"pages": pages, "wall": first.wall, "engine": engine_seconds(db),
                               "cpu": first.cpu, "writer_cpu": writer_cpu(db),
                               "server_cpu": server.cpu_seconds() - served}

        k = max(1, round(n_stories * change))
        rng = random.Random(seed)
        edited = rng.sample(range(1, n_stories + 1), k)
        for i in edited:
            server.edit_story(i)
        added = server.add_stories(k)
        site = server.site
        per_page = site.per_page
        listing_pages = {(site.n_stories - i) // per_page + 1 for i in [*added, *edited]}
        minimum = len(added) + len(edited) + len(listing_pages) + 1  # + robots.txt
        server.reset_counts()
        hrarchive_crawl(server, folder, db)
        stored, changed = archived(db)
        result["recrawl"] = {"new": len(added), "changed": len(edited),
                             "listing_pages": len(listing_pages), "minimum": minimum,
                             "requests": server.request_count(),
                             "missed_new": n_stories + len(added) - stored,
                             "missed_changed": len(edited) - changed}
    return result


def peak_memory(n_stories: int) -> dict[str, Any]:
    """Peak RSS (MB) of ``hrarchive crawl`` of a fresh site of ``n_stories``."""
    with SiteServer(n_stories) as server, tempfile.TemporaryDirectory() as tmp:
        run = hrarchive_crawl(server, Path(tmp), Path(tmp) / "archive.db")
        return {"stories": n_stories, "peak_rss_mb": run.peak_rss_mb, "wall": run.wall,
                "pages": server.request_count()}


if __name__ == "__main__":
    import json
    print(json.dumps(crawl_and_recrawl(int(sys.argv[1]) if len(sys.argv) > 1 else 100),
                     indent=2))
