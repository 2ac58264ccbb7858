"""The disk fills during a crawl: the crawl stops with one clear line, the committed archive
and captures are intact, and the next run with space archives what was missed.

The disk is a small tmpfs the test mounts (root only; skipped with the reason otherwise),
holding the archive and its captures, so SQLite and the WARC writer meet a real ENOSPC.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.faults.conftest import Run, run_crawl
from tests.faults.hostile import news_site, page, story_html
from tests.faults.sound import assert_sound

WORDS = ["court", "detention", "monitor", "hearing", "appeal", "statement", "lawyer", "prison",
         "release", "verdict", "journalist", "protest", "sentence", "freedom", "assembly",
         "observer", "report", "witness"]
STORIES = [f"story-{n:02d}" for n in range(40)]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def text(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(2500))


def captures_readable(run: Run) -> int:
    """Every capture row points at a whole, readable WARC record of its URL."""
    rows = list(run.db.query("SELECT url, warc, offset, record_id FROM captures"))
    for row in rows:
        with (run.db_path.parent / "captures" / row["warc"]).open("rb") as stream:
            stream.seek(row["offset"])
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_headers.get_header("WARC-Record-ID") == row["record_id"]
            assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]
            record.content_stream().read()
    return len(rows)


def test_full_disk_stops_the_crawl_and_the_next_run_recovers(small_disk: Path, tmp_path: Path,
                                                             serve) -> None:  # type: ignore[no-untyped-def]
    site = serve(news_site({slug: page(story_html(f"Story {slug}", text(n)))
                            for n, slug in enumerate(STORIES)}))
    settings = ("HRARCHIVE_CAPTURE=True", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
                "HRARCHIVE_BATCH_SIZE=5")
    db_path = small_disk / "archive.db"
    first = run_crawl(site, tmp_path, *settings, db_path=db_path)
    assert first.returncode == 1, first.output[-3000:]
    stop = [line for line in first.output.splitlines() if line.startswith("hrarchive: disk full")]
    assert len(stop) == 1, first.output[-3000:]
    assert "run again with free space" in stop[0]
    assert_sound(db_path)
    kept = first.db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert 0 < kept < len(STORIES)
    assert captures_readable(first) > 0

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    second = run_crawl(site, tmp_path, *settings, db_path=db_path)
    assert second.returncode == 0, second.output[-3000:]
    assert_sound(db_path)
    urls = {row["url"].rsplit("/", 1)[-1] for row in second.db.query("SELECT url FROM articles")}
    assert urls == set(STORIES)
    assert captures_readable(second) >= len(STORIES)
    statuses = [row["status"] for row in second.db.query("SELECT status FROM crawls ORDER BY id")]
    assert statuses[-1] == "finished" and statuses[0] in {"failed", "interrupted"}
