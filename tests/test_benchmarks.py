"""The benchmarks at --quick size: every figure is measured and printed (no goal asserted).

Nothing here is timed; this keeps ``python -m benchmarks`` from rotting.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.sitegen import SyntheticSite, iso_time

ROOT = Path(__file__).parent.parent
ROWS = (
    "crawl: hrarchive pages/s", "crawl: bare Scrapy pages/s", "crawl: rate, hrarchive / bare",
    "crawl: same, whole process", "crawl: hrarchive CPU per page",
    "crawl: bare Scrapy CPU per page", "crawl: of which the writer thread",
    "re-crawl: requests issued", "re-crawl: minimum possible",
    "re-crawl: requests / minimum", "extract: hrarchive per page",
    "extract: trafilatura per page", "extract: hrarchive / trafilatura",
    "store: stories/s at 200", "store: bytes per story at 200", "store: FTS median at 200",
    "store: FTS p95 at 200", "store: stories/s at 400", "store: bytes per story at 400",
    "store: FTS median at 400", "store: FTS p95 at 400", "memory: peak RSS, crawl of 20",
    "memory: peak RSS, crawl of 60", "memory: growth",
    "scale: size on disk at 500", "scale: FTS p95 at 500", "scale: hrarchive stats at 500",
    "scale: Datasette stories first row at 500", "scale: stats peak RSS, 200 -> 500",
    "scale: export peak RSS, 200 -> 500",
    "workers: pages/s with 1 worker", "workers: CPU per page with 1 worker",
    "workers: pages/s with 2 workers", "workers: CPU per page with 2 workers",
    "workers: speed-up, 2 workers / 1",
)


# The table's groups; the optional modules that print their own figures run in
# test_benchmarks_modules.py, so the two halves of a quick run go on two test workers.
TABLE_GROUPS = ("crawl", "extract", "store", "memory", "scale", "workers")
PRINTING_MODULES = ("accuracy", "capture_cost", "export_memory", "daily")


def quick_run(tmp_path: Path, groups: tuple[str, ...]) -> tuple[dict[str, dict], str]:
    """``python -m benchmarks --quick`` of ``groups``: its rows by name, and what it printed."""
    out = tmp_path / "results.json"
    only = [arg for group in groups for arg in ("--only", group)]
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", *only,
                           "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    assert "machine: " in done.stdout and "scrapy 2." in done.stdout
    return {row["name"]: row for row in results["rows"]}, done.stdout


@pytest.mark.slow
def test_quick_run_prints_a_number_for_every_row(tmp_path: Path) -> None:
    rows, stdout = quick_run(tmp_path, TABLE_GROUPS)
    for name in ROWS:
        assert name in rows, f"missing row {name!r}"
        assert math.isfinite(rows[name]["value"]) and rows[name]["value"] > 0, rows[name]
        assert name in stdout
    # Both crawlers fetched the whole site: 20 stories, 2 listing pages, the sitemap index
    # and its one child, robots.txt; hrarchive also the feed the listing pages declare.
    assert rows["crawl: hrarchive pages/s"]["note"] == "20 stories, 26 pages"
    assert rows["crawl: bare Scrapy pages/s"]["note"] == "20 stories, 25 pages"
    assert rows["memory: peak RSS, crawl of 60"]["note"] == "70 pages"
    # The re-crawl fetched robots.txt, the new story and the changed one, and archived both.
    assert rows["re-crawl: requests issued"]["value"] >= 3
    assert rows["re-crawl: requests / minimum"]["note"] == "missed 0 new, 0 changed"
    # The workers benchmark archived every story of its network, with 1 worker and with 2.
    assert rows["workers: CPU per page with 1 worker"]["met"] is True
    assert rows["workers: CPU per page with 2 workers"]["met"] is True


def test_an_edit_served_to_a_crawler_is_stamped_when_it_is_made() -> None:
    """The re-crawl benchmark's edit must postdate the first crawl's fetch: stamped on the
    synthetic site's clock (2024, years before the crawl) it looked older than the version
    archived, and the re-crawl rightly skipped it when no sitemap date had been recorded."""
    site = SyntheticSite(20)
    newest = site.published(20)
    assert site.edit_story(11) == newest + 3600  # no wall time given: the site's own clock
    when = newest + 86_400 * 1000
    assert site.edit_story(11, when) == when
    assert f"<lastmod>{iso_time(when)}</lastmod>" in site.route(
        "/wp-sitemap-posts-post-1.xml")[2].decode()
    assert site.edit_story(12, newest) == when + 3600  # never before the site's last event
