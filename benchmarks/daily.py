"""What a daily run costs: requests and seconds of a first crawl, of a daily (incremental) crawl
after some stories were published and edited, and of a ``--full`` crawl, on a synthetic site.

    python -m benchmarks.daily --stories 300 --new 5 --edit 3

The site (``benchmarks.sitegen``) is served from its own process; its sitemap announces
edits with ``lastmod`` and its pages answer conditional requests.  The site is read from a
three-line profile (generic extraction) plus its listing and sitemap.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from benchmarks.siteserver import SiteServer

FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "RETRY_TIMES=0", "LOG_LEVEL=WARNING", "HRARCHIVE_PROGRESS=False")


def crawl(profile: Path, db: Path, *extra: str) -> dict[str, Any]:
    args = [sys.executable, "-m", "hrarchive", "crawl", "--profile", str(profile), "--db",
            str(db), *extra]
    for setting in FAST:
        args += ["-s", setting]
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    run = list(Database(db)["crawls"].rows)[-1]
    return {"exit": done.returncode, "seconds": round(seconds, 1), "mode": run["mode"],
            **{k: run[k] for k in ("status", "requests", "articles_new", "articles_changed",
                                   "not_modified", "stories_found")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--new", type=int, default=5)
    parser.add_argument("--edit", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hrarchive-daily-"))
    results = {}
    with SiteServer(args.stories) as server:
        profile = folder / "synthetic.toml"
        profile.write_text(f'id = "synthetic"\nname = "Synthetic site"\n'
                           f'start_urls = ["{server.url("/articles/")}"]\n'
                           f'sitemaps = ["{server.url("/wp-sitemap.xml")}"]\n', "utf-8")
        db = folder / "archive.db"
        results["first"] = crawl(profile, db)
        server.add_stories(args.new)
        for i in range(1, args.edit + 1):
            server.edit_story(i * (args.stories // (args.edit + 1)))
        results["daily"] = crawl(profile, db)
        results["daily, nothing new"] = crawl(profile, db)
        results["full"] = crawl(profile, db, "--full")
    print(json.dumps({"stories": args.stories, "new": args.new, "edited": args.edit,
                      "runs": results}, indent=2))


if __name__ == "__main__":
    main()
