"""Peak memory of ``hrarchive export`` over 10,000 and 100,000 stories: flat if it streams.

Builds synthetic archives through ``hrarchive.store.Archive`` (stories of about 3 KB of
text each), then runs ``python -m hrarchive export`` on each in its own process and reads
that process's peak resident memory (``ru_maxrss`` from ``wait4``). An export of no rows
(published after 2100) gives the baseline of starting Python, Scrapy's settings and SQLite.

    python -m benchmarks.export_memory                       # 10,000 and 100,000 stories
    python -m benchmarks.export_memory --sizes 1000 20000 --format csv --keep /tmp/bench
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from hrarchive.store import Archive

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["human", "rights", "defender", "court", "prison", "sentence", "appeal", "journalist",
         "freedom", "assembly", "association", "torture", "detention", "release", "trial",
         "lawyer", "election", "protest", "report", "Belarus", "Azerbaijan", "Georgia",
         "Ukraine", "Russia", "Norway", "Minsk", "Baku", "Tbilisi", "Kyiv"]


def build(path: Path, stories: int, seed: int = 4) -> float:
    """Write ``stories`` synthetic stories into a new archive; returns seconds taken."""
    rng = random.Random(seed)
    started = time.monotonic()
    archive = Archive(path, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), batch_size=5000,
                      commit_seconds=3600)
    archive.save_site({"id": "synthetic", "name": "Synthetic NGO",
                       "base_url": "https://ngo.example", "languages": '["en"]'})
    crawl_id = archive.start_crawl("synthetic")
    for n in range(stories):
        body = "\n\n".join(" ".join(rng.choices(WORDS, k=60)) for _ in range(8))
        year = 2005 + n % 20
        archive.save_article({
            "site": "synthetic", "url": f"https://ngo.example/news/{n}/",
            "title": f"Story {n}: " + " ".join(rng.choices(WORDS, k=6)),
            "published": f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            "authors": '["A. Writer"]', "tags": '["Belarus", "Courts"]', "language": "en",
            "body_text": body, "body_html": f"<p>{body}</p>",
            "related": [{"url": f"https://ngo.example/news/{(n + 1) % stories}/",
                         "title": "Next story"}],
        }, crawl_id)
    archive.finish_crawl(crawl_id, "finished", "finished", {}, {})
    archive.close()
    return time.monotonic() - started


def measure(db: Path, fmt: str, *filters: str) -> tuple[int, str, float]:
    """Peak RSS (KiB) of one export process, its stderr line and its wall time."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "hrarchive", "export", "--format", fmt,
                                 "--db", str(db), *filters],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        err.seek(0)
        message = err.read().strip()
    if proc.returncode != 0:
        raise SystemExit(f"export failed ({proc.returncode}): {message}")
    return usage.ru_maxrss, message, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build (or reuse) the archives in this folder instead of a "
                             "temporary one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'stories':>8}  {'exported':>9}  {'peak RSS':>9}  {'export s':>8}  "
              f"{'db MiB':>7}  {'build s':>7}")
        for size in args.sizes:
            db = folder / f"export-{size}.db"
            built = 0.0 if db.exists() else build(db, size)
            if size == args.sizes[0]:
                rss, _, seconds = measure(db, args.format, "--since", "2100")
                print(f"{'baseline':>8}  {0:>9}  {rss / 1024:>7.1f} M  {seconds:>8.1f}")
            rss, message, seconds = measure(db, args.format)
            rows = message.rsplit(":", 1)[-1].split()[0]
            print(f"{size:>8}  {rows:>9}  {rss / 1024:>7.1f} M  {seconds:>8.1f}  "
                  f"{db.stat().st_size / 2**20:>7.0f}  {built:>7.0f}", flush=True)


if __name__ == "__main__":
    main()
