"""Run every benchmark and print one table: row, measured, goal, met.

``python -m benchmarks`` runs the default sizes (about 6-8 minutes on 2 cores);
``python -m benchmarks --quick`` runs tiny sizes in well under a minute (the tests do).
Figures are measured side by side in one run; ratios matter more than absolute numbers.

Benchmarks that live in other modules (``accuracy``, ``capture_cost``, ``export_memory``,
``daily``) run when present: a module offering ``rows(quick: bool) -> list[dict]`` (keys
``name``, ``value`` (a number), ``unit``, ``goal`` (text), ``met`` (bool or None), ``note``)
joins the table; any other runs as ``python -m benchmarks.<name>`` and prints its own.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

OPTIONAL = ("accuracy", "capture_cost", "export_memory", "daily", "scale", "workers")
# Arguments of the optional modules' own command lines: (default, quick).
OPTIONAL_ARGS: dict[str, tuple[list[str], list[str]]] = {
    "accuracy": ([], []),
    "capture_cost": ([], ["--stories", "10", "--repeat", "1"]),
    "export_memory": ([], ["--sizes", "100", "200"]),
    "daily": ([], ["--stories", "20", "--new", "2", "--edit", "1"]),
    "scale": ([], []),
    "workers": ([], ["--sites", "6", "--stories", "4", "--workers", "1", "2"]),
}


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark runs."""

    crawl: int
    memory: tuple[int, int]
    store: tuple[int, int]
    extract_pages: int
    extract_rounds: int
    queries: int


DEFAULT = Sizes(crawl=1000, memory=(1000, 10_000), store=(10_000, 100_000), extract_pages=200,
                extract_rounds=2, queries=200)
QUICK = Sizes(crawl=20, memory=(20, 60), store=(200, 400), extract_pages=10,
              extract_rounds=1, queries=10)


@dataclass
class Row:
    """One line of the table."""

    name: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        whole = self.unit == "" and self.value == int(self.value)
        measured = f"{self.value:,.0f}" if whole or abs(self.value) >= 100 else f"{self.value:,.2f}"
        met = "" if self.met is None else ("yes" if self.met else "NO")
        return [self.name, f"{measured} {self.unit}".strip(), self.goal, met, self.note]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {"platform": platform.platform(), "processor": platform.processor() or
            platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "scrapy": version("scrapy"), "trafilatura": version("trafilatura"),
            "sqlite": __import__("sqlite3").sqlite_version,
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def crawl_rows(sizes: Sizes) -> list[Row]:
    from benchmarks.crawling import crawl_and_recrawl

    r = crawl_and_recrawl(sizes.crawl)
    ours, bare, again = r["hrarchive"], r["bare"], r["recrawl"]
    ours_rate, bare_rate = ours["pages"] / ours["engine"], bare["pages"] / bare["engine"]
    whole = (ours["pages"] / ours["wall"]) / (bare["pages"] / bare["wall"])
    n = f"{sizes.crawl:,} stories, {ours['pages']:,} pages"
    ratio = again["requests"] / again["minimum"]
    missed = again["missed_new"] or again["missed_changed"]
    return [
        Row("crawl: hrarchive pages/s", ours_rate, "pages/s", note=n),
        Row("crawl: bare Scrapy pages/s", bare_rate, "pages/s",
            note=f"{sizes.crawl:,} stories, {bare['pages']:,} pages"),
        Row("crawl: rate, hrarchive / bare", ours_rate / bare_rate, "x", ">= 0.8",
            ours_rate / bare_rate >= 0.8, "Scrapy's run time, spider open to close"),
        Row("crawl: same, whole process", whole, "x",
            note=f"with start-up: {ours['wall']:.1f} s against {bare['wall']:.1f} s"),
        Row("crawl: hrarchive CPU per page", ours["cpu"] * 1000 / ours["pages"], "ms"),
        Row("crawl: of which the writer thread", ours["writer_cpu"] * 1000 / ours["pages"], "ms",
            note="SQLite, FTS and WARC gzip, off the reactor thread"),
        Row("crawl: bare Scrapy CPU per page", bare["cpu"] * 1000 / bare["pages"], "ms"),
        Row("re-crawl: requests issued", again["requests"], "",
            note=f"after {again['new']} new + {again['changed']} changed stories"),
        Row("re-crawl: minimum possible", again["minimum"], "",
            note=f"new + changed + {again['listing_pages']} listing pages + robots.txt"),
        Row("re-crawl: requests / minimum", ratio, "x", "<= 1.2, none missed",
            ratio <= 1.2 and not missed,
            f"missed {again['missed_new']} new, {again['missed_changed']} changed"),
    ]


def extraction_rows(sizes: Sizes) -> list[Row]:
    from benchmarks.extraction import extraction_run

    r = extraction_run(sizes.extract_pages, sizes.extract_rounds)
    note = f"{r['pages']} story pages, {r['page_kb']:.0f} KB on average"
    ratio = r["hrarchive_ms"] / r["trafilatura_ms"]
    return [
        Row("extract: hrarchive per page", r["hrarchive_ms"], "ms", note=note),
        Row("extract: trafilatura per page", r["trafilatura_ms"], "ms",
            note="trafilatura.extract(with_metadata=True)"),
        Row("extract: hrarchive / trafilatura", ratio, "x", "<= 1.0", ratio <= 1.0),
    ]


def store_rows(sizes: Sizes) -> list[Row]:
    from benchmarks.store import store_run

    rows = []
    for n in sizes.store:
        r = store_run(n, sizes.queries)
        at = f"at {n:,}"
        largest = n == max(sizes.store)
        rows += [
            Row(f"store: stories/s {at}", r["per_second"], "stories/s", ">= 5,000",
                r["per_second"] >= 5000),
            Row(f"store: bytes per story {at}", r["bytes_per_story"], "B"),
            Row(f"store: FTS median {at}", r["fts_median_ms"], "ms",
                note=f"{sizes.queries} ranked top-20 queries, {r['fts_capped']} over the "
                     "rank limit"),
            Row(f"store: FTS p95 {at}", r["fts_p95_ms"], "ms",
                "< 50 ms at the largest size" if largest else "",
                r["fts_p95_ms"] < 50 if largest else None),
        ]
    return rows


def memory_rows(sizes: Sizes) -> list[Row]:
    from benchmarks.crawling import peak_memory

    small, large = (peak_memory(n) for n in sizes.memory)
    growth = large["peak_rss_mb"] / small["peak_rss_mb"]
    return [
        Row(f"memory: peak RSS, crawl of {small['stories']:,}", small["peak_rss_mb"], "MB",
            note=f"{small['pages']:,} pages"),
        Row(f"memory: peak RSS, crawl of {large['stories']:,}", large["peak_rss_mb"], "MB",
            note=f"{large['pages']:,} pages"),
        Row("memory: growth", growth, "x", "< 1.3", growth < 1.3),
    ]


def optional_rows(name: str, quick: bool) -> list[Row]:
    """Rows of another benchmark module, or none (with a note) if it is absent.

    A module with ``rows(quick)`` joins the table; any other runs as ``python -m
    benchmarks.<name>`` (with small arguments when ``quick``) and prints its own figures.
    """
    if importlib.util.find_spec(f"benchmarks.{name}") is None:
        print(f"note: benchmarks/{name}.py is not here; skipped", flush=True)
        return []
    module = importlib.import_module(f"benchmarks.{name}")
    if hasattr(module, "rows"):
        return [Row(name=str(d["name"]), value=float(d["value"]), unit=str(d.get("unit", "")),
                    goal=str(d.get("goal", "")), met=d.get("met"), note=str(d.get("note", "")))
                for d in module.rows(quick)]
    args = [sys.executable, "-m", f"benchmarks.{name}", *OPTIONAL_ARGS[name][quick]]
    print(f"benchmarks/{name}.py prints its own figures: {' '.join(args[1:])}", flush=True)
    subprocess.run(args, cwd=Path(__file__).resolve().parent.parent, check=True)
    return []


def table(rows: list[Row]) -> str:
    """A Markdown table (readable as plain text too)."""
    header = ["benchmark", "measured", "goal", "met?", "note"]
    lines = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
           for line in lines]
    out.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds, for tests)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this group: crawl, extract, store, memory, or an "
                             "optional module's name (repeatable)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else DEFAULT
    groups: dict[str, Callable[[], list[Row]]] = {
        "crawl": lambda: crawl_rows(sizes), "extract": lambda: extraction_rows(sizes),
        "store": lambda: store_rows(sizes), "memory": lambda: memory_rows(sizes),
        **{name: (lambda n=name: optional_rows(n, args.quick)) for name in OPTIONAL},  # type: ignore[misc]
    }
    chosen = args.only or list(groups)
    unknown = [g for g in chosen if g not in groups]
    if unknown:
        parser.error(f"unknown group(s): {', '.join(unknown)}")
    info = machine()
    print(f"hrarchive benchmarks ({'quick' if args.quick else 'default'} sizes): {sizes}",
          flush=True)
    rows: list[Row] = []
    started = time.perf_counter()
    for name in chosen:
        t = time.perf_counter()
        print(f"running {name} ...", flush=True)
        found = groups[name]()
        rows += found
        if found:
            print(f"  {name} took {time.perf_counter() - t:.0f} s", flush=True)
    elapsed = time.perf_counter() - started
    print()
    print(table(rows))
    print()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"total time: {elapsed:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"sizes": asdict(sizes), "machine": info,
                                         "seconds": elapsed,
                                         "rows": [asdict(r) for r in rows]}, indent=2))
    return 0 if all(math.isfinite(r.value) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
