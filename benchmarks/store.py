"""Store benchmark: stories per second into the archive, bytes per story, FTS latency.

Stories are written straight through :class:`hrarchive.store.Archive` (no crawl), with the
synthetic site's titles, bodies, tags and related links, in batched transactions as a crawl
writes them (the archive's writer thread does exactly this).  Only the ``save_article``
calls and the commits (which index the batch for full-text search) are timed.  FTS latency
is ``hrarchive search``'s query (``hrarchive.store.queries.search``: bm25, top 20, at most
the newest 10,000 matches ranked) over a fixed mix of one-word, two-word and phrase
queries; how many of them matched more than that is counted.
"""

from __future__ import annotations

import html
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.sitegen import GROUPS, PLACES, VIOLATIONS, SyntheticSite, iso_time
from hrarchive.store import Archive
from hrarchive.store.queries import search

SITE = "benchsite"
BASE = "https://bench.example"
BATCH_SIZE = 1000


BODY_POOL = 2000


def story_item(site: SyntheticSite, i: int, pool: list[list[str]]) -> dict[str, Any]:
    """What the spider and pipelines hand the archive for story ``i``, already normalised.

    Bodies are the site's own, one of ``BODY_POOL`` per story (rendering 100,000 distinct
    bodies would cost more than storing them), opened by a sentence naming the story.
    """
    story = site.story(i)
    paragraphs = [f"{story.title}: statement number {i} on {story.violation} in {story.place}.",
                  *pool[(i - 1) % len(pool)]]
    url = f"{BASE}{site.article_path(i)}"
    return {
        "site": SITE, "url": url, "canonical_url": url, "title": story.title, "subtitle": None,
        "authors": [story.author], "published": iso_time(site.published(i)),
        "published_raw": iso_time(site.published(i)), "modified": None, "modified_raw": None,
        "language": "en", "body_text": "\n\n".join(paragraphs),
        "body_html": "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs),
        "tags": list(story.tags), "image_url": None, "etag": None, "last_modified": None,
        "related": [{"url": f"{BASE}{site.article_path(k)}", "title": site.story(k).title,
                     "kind": "related"} for k in site.related(i)],
        "links": [], "attachments": [],
    }


def queries(count: int, seed: int = 3) -> list[str]:
    """A fixed mix of FTS5 queries: a word, two words, a quoted phrase."""
    rng = random.Random(seed)
    words = [w for name in (*PLACES, *GROUPS, *VIOLATIONS) for w in name.split()
             if len(w) > 3 and w.isalpha()]
    out = []
    for n in range(count):
        kind = n % 3
        if kind == 0:
            out.append(rng.choice(words))
        elif kind == 1:
            out.append(f"{rng.choice(words)} {rng.choice(words)}")
        else:
            out.append(f'"{rng.choice(VIOLATIONS)}"')
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def store_run(n_stories: int, n_queries: int = 200) -> dict[str, Any]:
    """Write ``n_stories`` into a fresh archive; measure rate, size and FTS latency."""
    site = SyntheticSite(n_stories)
    pool = [site.body(i) for i in range(1, min(BODY_POOL, n_stories) + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.db"
        archive = Archive(path, batch_size=BATCH_SIZE, commit_seconds=3600)
        archive.save_site({"id": SITE, "name": "bench", "base_url": BASE, "languages": ["en"],
                           "profile_path": None})
        crawl_id = archive.start_crawl(SITE)
        spent = 0.0
        for i in range(1, n_stories + 1):
            item = story_item(site, i, pool)
            start = time.perf_counter()
            archive.save_article(item, crawl_id)
            spent += time.perf_counter() - start
        start = time.perf_counter()
        archive.commit()
        spent += time.perf_counter() - start
        archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        stored = archive.db.execute("select count(*) from articles").fetchone()[0]
        if stored != n_stories:
            raise RuntimeError(f"stored {stored} stories, expected {n_stories}")
        latencies, capped = [], 0
        for query in queries(n_queries):
            start = time.perf_counter()
            result = search(archive.db, query, raw=True, limit=20)
            latencies.append((time.perf_counter() - start) * 1000)
            capped += result.ranked < result.matches
        archive.close()
    return {"stories": n_stories, "per_second": n_stories / spent,
            "bytes_per_story": size / n_stories,
            "fts_median_ms": statistics.median(latencies),
            "fts_p95_ms": percentile(latencies, 0.95), "fts_capped": capped}


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(store_run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000), indent=2))
