"""Peak memory of an incremental crawl into an archive that already holds many stories of
the crawled site: does it grow with the archive?

An archive is built in bulk per size (``--sizes``): that many stories of the site
``benchsite``, published years ago at URLs the synthetic site does not serve (so the crawl
neither fetches nor revalidates them), each with a version row and a teaser, 200-byte bodies
and no full-text rows (what a crawl reads of an archive at its start does not depend on the
bodies), and one finished run of the site (so the crawl is an incremental one).  The built
archive is kept in ``--keep`` and copied for each measurement, so every crawl starts from the
same file.  The crawl is ``hrarchive crawl`` of a fresh synthetic site of ``--site-stories``
stories with the benchmark profile, started by a small launcher (a child's peak RSS starts
from its parent's at fork); measured: wall time and peak RSS (``ru_maxrss``).

    python -m benchmarks.crawl_scale --sizes 10000 300000 --keep /tmp/crawl-scale
    python -m benchmarks.crawl_scale --sizes 10000 1000000 --keep DIR   # ~2 GB at 1,000,000
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.crawling import SHARED_SETTINGS, write_profile
from benchmarks.scale import (
    ARTICLE_COLUMNS,
    TEASER_COLUMNS,
    VERSION_COLUMNS,
    _child,
    bulk_close,
    bulk_open,
    insert_rows,
)
from benchmarks.siteserver import SiteServer
from hrarchive.store import open_database

SITE = "benchsite"
BATCH = 50_000
OLD_BASE = "http://old.benchsite.example"  # never fetched: not in the site's listings


def build(path: Path, stories: int) -> float:
    """An archive of ``stories`` old stories of ``SITE`` at ``path``; seconds taken."""
    started = time.monotonic()
    db = bulk_open(path, cache_mb=500)
    conn = db.conn
    now = "2026-11-29T00:00:00+00:00"
    conn.execute("insert into sites (id, name, base_url, languages) values (?, ?, ?, ?)",
                 [SITE, "Synthetic benchmark site", OLD_BASE, '["en"]'])
    conn.execute("insert into crawls (site, started, finished, status) values "
                 "(?, ?, ?, 'finished')", [SITE, now, now])
    conn.commit()
    body = "An old story kept in the archive. " * 6
    for start in range(1, stories + 1, BATCH):
        ids = range(start, min(stories, start + BATCH - 1) + 1)
        articles, versions, teasers = [], [], []
        for i in ids:
            day = f"{2000 + i * 10 // stories:04d}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            url = f"{OLD_BASE}/archive/story-{i}/"
            title = f"Old story {i}"
            digest = f"{i:064x}"
            articles.append((i, SITE, url, title, '["Staff"]', day, day, "en", body, "[]",
                             digest, 1, now, now, now, url, 1, f'W/"{i}"'))
            versions.append((i, 1, 1, now, url, title, '["Staff"]', day, day, "en", body,
                             f"<p>{body}</p>", "[]", digest))
            teasers.append((SITE, url, f"{OLD_BASE}/archive/", title, body[:120], day, day,
                            digest, now, now, 1))
        conn.execute("BEGIN")
        insert_rows(conn, "articles", (*ARTICLE_COLUMNS, "etag"), articles)
        insert_rows(conn, "article_versions", VERSION_COLUMNS, versions)
        insert_rows(conn, "teasers", TEASER_COLUMNS, teasers)
        conn.commit()
        print(f"  built {ids[-1]:,} of {stories:,} ({time.monotonic() - started:.0f} s)",
              flush=True)
    return bulk_close(db, started)


def crawl(archive: Path, site_stories: int) -> dict[str, Any]:
    """``hrarchive crawl`` of a fresh synthetic site into a copy of ``archive``."""
    with SiteServer(site_stories) as server, tempfile.TemporaryDirectory(
            dir=archive.parent) as tmp:
        folder = Path(tmp)
        db = folder / "archive.db"
        shutil.copyfile(archive, db)
        profile = write_profile(folder, server.base_url)
        args = ["crawl", "--profile", str(profile), "--db", str(db)]
        for setting in SHARED_SETTINGS:
            args += ["-s", setting]
        wall, peak, status = _child(args)
        if status != 0:
            raise RuntimeError(f"hrarchive crawl exited {status}")
        conn = open_database(db).conn
        stored = conn.execute("select count(*) from articles where url not like ?",
                              [f"{OLD_BASE}/%"]).fetchone()[0]
        conn.close()
        return {"wall_s": wall, "peak_rss_mb": peak, "pages": server.request_count(),
                "new_stored": stored}


def run(sizes: list[int], folder: Path, site_stories: int) -> list[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for size in sizes:
        path = folder / f"crawl-scale-{size}.db"
        built = None
        if not path.exists():
            print(f"building {size:,} stories in {path} ...", flush=True)
            partial = path.with_name(path.name + ".part")
            partial.unlink(missing_ok=True)
            built = build(partial, size)
            partial.rename(path)
        result = {"archived": size, "build_s": built, **crawl(path, site_stories)}
        results.append(result)
        print(json.dumps(result), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--site-stories", type=int, default=200)
    parser.add_argument("--keep", type=Path, default=None,
                        help="build (or reuse) the archives in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = run(args.sizes, args.keep or Path(tmp), args.site_stories)
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"peak RSS {a['peak_rss_mb']:.0f} MB at {a['archived']:,} -> "
              f"{b['peak_rss_mb']:.0f} MB at {b['archived']:,} stories archived: "
              f"{b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
