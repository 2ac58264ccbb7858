"""Extraction benchmark: milliseconds per story page, hrarchive against trafilatura.

Both read the same synthetic story pages (60-150 KB each, bytes as served): hrarchive's
``extract_article`` with the benchmark profile's selectors, as the spider calls it, and
``trafilatura.extract`` with metadata on.  Each runs over all pages ``rounds`` times after a
warm-up page; the best round counts, so a busy machine hurts both alike.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from typing import Any

import trafilatura

from benchmarks.crawling import PROFILE
from benchmarks.sitegen import SyntheticSite
from hrarchive.extract import extract_article

BASE = "https://bench.example"


def pages(count: int) -> list[tuple[str, bytes]]:
    """``count`` story pages spread over a site of 10,000 stories."""
    site = SyntheticSite(10_000, base_url=BASE)
    step = max(1, 10_000 // count)
    out = []
    for i in range(1, 10_001, step)[:count]:
        path = site.article_path(i)
        out.append((BASE + path, site.route(path)[2]))
    return out


def best_ms(fn: Callable[[str, bytes], Any], docs: list[tuple[str, bytes]], rounds: int) -> float:
    fn(*docs[0])
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for url, body in docs:
            fn(url, body)
        best = min(best, time.perf_counter() - start)
    return best * 1000 / len(docs)


def extraction_run(count: int = 200, rounds: int = 2) -> dict[str, Any]:
    selectors = tomllib.loads(PROFILE.format(base=BASE))["article"]
    docs = pages(count)
    sample = extract_article(docs[0][1], docs[0][0], None, selectors)
    if not sample["title"] or not sample["body_text"]:
        raise RuntimeError("hrarchive extracted no title or body from a synthetic page")

    def ours(url: str, body: bytes) -> Any:
        return extract_article(body, url, None, selectors)

    def theirs(url: str, body: bytes) -> Any:
        return trafilatura.extract(body, url=url, with_metadata=True)

    return {"pages": len(docs), "page_kb": sum(len(b) for _, b in docs) / len(docs) / 1024,
            "hrarchive_ms": best_ms(ours, docs, rounds),
            "trafilatura_ms": best_ms(theirs, docs, rounds)}


if __name__ == "__main__":
    import json
    print(json.dumps(extraction_run(50), indent=2))
