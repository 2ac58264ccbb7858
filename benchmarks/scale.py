"""A large archive: size on disk, full-text search, ``hrarchive stats``, Datasette's
``stories`` page and ``hrarchive export``, at 10,000 and 1,000,000 stories (2 KB bodies).

The archives are built once, in bulk (plain ``executemany`` in transactions of 20,000
stories, each batch full-text indexed as ``Archive.commit`` indexes it; no journal and a
1 GB page cache while building), and kept in
``--keep`` so later runs reuse them; a build of 1,000,000 takes 25-35 minutes and about
12 GB on the reference machine (loaded by other work).  The file is created by
``open_database``, so through the migrations: the schema is the code's.  Each story has a
version row, a teaser and three related links, like a crawled one, and ids follow
publication dates (oldest first).

    python -m benchmarks.scale                                 # 10,000 and 1,000,000
    python -m benchmarks.scale --sizes 2000 20000 --keep /tmp/bench-scale
    python -m benchmarks --only scale      # the same sizes as rows of the table (archives
                                           # kept in $TMPDIR/hrarchive-bench-scale)

Measured per size: file size (after a WAL checkpoint); the p95 and median of 200 searches
through ``hrarchive.store.queries.search`` (bm25, top 20, at most the newest 10,000
matches ranked) and how many of them were capped; the wall time and peak memory of
``hrarchive stats`` and ``hrarchive export --format jsonl`` (to /dev/null), each in its own
process; and, with a real ``hrarchive serve`` (Datasette) started on the file, the time from
sending one request for the ``stories`` page until its first row has arrived.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from benchmarks.sitegen import GROUPS, PLACES, VIOLATIONS
from benchmarks.store import percentile, queries
from hrarchive.store import open_database
from hrarchive.store.queries import search
from hrarchive.store.schema import FTS_COLUMNS, FTS_TABLE

ROOT = Path(__file__).resolve().parent.parent
SITES = ("alpha", "beta", "gamma", "delta", "epsilon")
BATCH = 20_000
BODY_BYTES = 2000
COMMON = ("the of and to in a for on that was with by as at from is his her their said court "
          "human rights defender prison sentence appeal journalist freedom assembly association "
          "detention release trial lawyer election protest report authorities police charges "
          "case hearing judge statement organisation activists arrested years government law "
          "public international right women children")


def _vocabulary(rng: random.Random) -> list[str]:
    """Common English words of news prose, plus made-up rare ones (a long tail)."""
    common = COMMON.split()
    named = [w for name in (*PLACES, *GROUPS, *VIOLATIONS) for w in name.split() if w.isalpha()]
    rare = ["".join(rng.choices("bcdfghklmnprstvz", k=3)) + "".join(rng.choices("aeiou", k=2))
            for _ in range(20_000)]
    return common * 40 + named * 4 + rare


def _bodies(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    words = _vocabulary(rng)
    out = []
    for _ in range(count):
        paragraphs, size = [], 0
        while size < BODY_BYTES:
            paragraph = " ".join(rng.choices(words, k=rng.randint(30, 60))).capitalize() + "."
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        out.append("\n\n".join(paragraphs))
    return out


ARTICLE_COLUMNS = ("id", "site", "url", "title", "authors", "published", "published_raw",
                   "language", "body_text", "tags", "content_hash", "version", "first_seen",
                   "last_seen", "last_changed", "fetched_url", "crawl_id")
VERSION_COLUMNS = ("article_id", "version", "crawl_id", "seen", "url", "title", "authors",
                   "published", "published_raw", "language", "body_text", "body_html", "tags",
                   "content_hash")
TEASER_COLUMNS = ("site", "url", "listing_url", "title", "summary", "published",
                  "published_raw", "content_hash", "first_seen", "last_seen", "crawl_id")


def bulk_open(path: Path, cache_mb: int) -> Database:
    """A new archive at ``path`` (through the migrations), set up for a bulk build: no
    journal, no syncing, a big page cache (the URL indexes take keys in no order)."""
    db = open_database(path)
    db.conn.execute("PRAGMA journal_mode = OFF")
    db.conn.execute("PRAGMA synchronous = OFF")
    db.conn.execute(f"PRAGMA cache_size = -{cache_mb * 1000}")
    return db


def insert_rows(conn: sqlite3.Connection, table: str, columns: tuple[str, ...],
                rows: list[tuple[Any, ...]], verb: str = "insert") -> None:
    """``executemany`` of ``rows`` (values in the order of ``columns``) into ``table``."""
    marks = ", ".join("?" * len(columns))
    conn.executemany(f"{verb} into {table} ({', '.join(columns)}) values ({marks})", rows)


def bulk_close(db: Database, started: float) -> float:
    """Leave the archive as hrarchive leaves its archives (WAL); seconds since ``started``."""
    db.conn.execute("PRAGMA journal_mode = WAL")
    db.close()
    return time.monotonic() - started


def build(path: Path, stories: int) -> float:
    """Write ``stories`` stories into a new archive at ``path``; seconds taken."""
    started = time.monotonic()
    db = bulk_open(path, cache_mb=1000)
    conn = db.conn
    now = "2026-11-29T00:00:00+00:00"
    for site in SITES:
        conn.execute("insert into sites (id, name, base_url, languages) values (?, ?, ?, ?)",
                     [site, f"Site {site}", f"https://{site}.example", '["en"]'])
    conn.execute("insert into crawls (site, started, finished, status) values "
                 "('alpha', ?, ?, 'finished')", [now, now])
    conn.commit()
    pool = _bodies(5000)
    columns = ", ".join(f"[{c}]" for c in FTS_COLUMNS)
    first_day = 730_120  # 2000-01-01 as a proleptic ordinal
    from datetime import date

    for start in range(1, stories + 1, BATCH):
        ids = range(start, min(stories, start + BATCH - 1) + 1)
        articles, versions, teasers, links = [], [], [], []
        for i in ids:
            site = SITES[i % len(SITES)]
            day = date.fromordinal(first_day + (i * 9131) // stories).isoformat()
            url = f"https://{site}.example/news/{i}/"
            place, violation = PLACES[i % len(PLACES)], VIOLATIONS[i % len(VIOLATIONS)]
            title = f"{violation.capitalize()} in {place}: statement {i}"
            body = f"{title}. " + pool[i % len(pool)]
            digest = hashlib.sha256(body.encode()).hexdigest()
            tags = json.dumps([place, violation])
            articles.append((i, site, url, title, '["Staff"]', day, day, "en", body, tags,
                             digest, 1, now, now, now, url, 1))
            versions.append((i, 1, 1, now, url, title, '["Staff"]', day, day, "en", body,
                             "<p>" + body.replace("\n\n", "</p><p>") + "</p>", tags, digest))
            teasers.append((site, url, f"https://{site}.example/news/", title, body[:160], day,
                            day, digest, now, now, 1))
            links += [(i, f"https://{site}.example/news/{max(1, i - k)}/", "related",
                       f"Related {k}", now, now) for k in (1, 2, 3)]
        conn.execute("BEGIN")
        insert_rows(conn, "articles", ARTICLE_COLUMNS, articles)
        insert_rows(conn, "article_versions", VERSION_COLUMNS, versions)
        insert_rows(conn, "teasers", TEASER_COLUMNS, teasers)
        insert_rows(conn, "links", ("from_id", "to_url", "kind", "title", "first_seen",
                                    "last_seen"), links, verb="insert or ignore")
        conn.execute(f"insert into [{FTS_TABLE}] (rowid, {columns}) select id, {columns} "
                     f"from articles where id between ? and ?", [ids[0], ids[-1]])
        conn.commit()
        print(f"  built {ids[-1]:,} of {stories:,} ({time.monotonic() - started:.0f} s)",
              flush=True)
    return bulk_close(db, started)


# A child's peak RSS (ru_maxrss) starts from its parent's at fork, so the measured command
# is started by this small launcher, not by the benchmark process that holds the build.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.monotonic()
proc = subprocess.Popen([sys.executable, "-m", "hrarchive", *sys.argv[1:]],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps([time.monotonic() - started, usage.ru_maxrss / 1024,
                  os.waitstatus_to_exitcode(status)]))
"""


def _child(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit status of ``python -m hrarchive ARGS``."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *args], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    wall, peak, status = json.loads(done.stdout)
    return float(wall), float(peak), int(status)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_row(url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=600) as response:
        seen = b""
        while b'<td class="col-' not in seen:
            chunk = response.read1(65536)
            if not chunk:
                raise RuntimeError(f"{url} has no row")
            seen += chunk
    return time.monotonic() - started


def first_row_seconds(path: Path) -> tuple[float, float]:
    """Start ``hrarchive serve`` on ``path``; the time from one request of the stories page
    until the first row of its table has arrived; then the same without facets, suggested
    facets and the row count (what the rows alone cost)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "hrarchive", "serve", "--db", str(path),
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/-/versions.json", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("hrarchive serve did not start") from None
                time.sleep(0.3)
        page = f"{base}/{path.stem}/stories"
        return _first_row(page), _first_row(page + "?_nofacet=1&_nosuggest=1&_nocount=1")
    finally:
        proc.terminate()
        proc.wait(30)


def measure(path: Path, n_queries: int = 200) -> dict[str, Any]:
    db = open_database(path)
    stories = db.execute("select count(*) from articles").fetchone()[0]
    latencies, capped = [], 0
    for query in queries(n_queries):
        started = time.perf_counter()
        result = search(db, query, raw=True, limit=20)
        latencies.append((time.perf_counter() - started) * 1000)
        capped += result.ranked < result.matches
    db.close()
    stats_s, stats_mb, stats_code = _child(["stats", "--db", str(path)])
    export_s, export_mb, export_code = _child(["export", "--format", "jsonl", "--db", str(path)])
    if export_code != 0 or stats_code not in (0, 1):
        raise RuntimeError(f"stats exited {stats_code}, export {export_code}")
    r: dict[str, Any] = {
        "stories": stories, "bytes": path.stat().st_size,
        "fts_median_ms": statistics.median(latencies),
        "fts_p95_ms": percentile(latencies, 0.95), "capped": capped, "queries": n_queries,
        "stats_s": stats_s, "stats_mb": stats_mb, "export_s": export_s, "export_mb": export_mb}
    r["first_row_s"], r["rows_only_s"] = first_row_seconds(path)
    return r


KEEP = Path(tempfile.gettempdir()) / "hrarchive-bench-scale"  # built once, reused


def run(sizes: list[int], folder: Path, n_queries: int) -> list[dict[str, Any]]:
    """Build (or reuse) an archive per size in ``folder`` and measure each."""
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for size in sizes:
        path = folder / f"scale-{size}.db"
        built = None
        if not path.exists():
            print(f"building {size:,} stories in {path} ...", flush=True)
            partial = path.with_name(path.name + ".part")
            for leftover in folder.glob(partial.name + "*"):
                leftover.unlink()
            built = build(partial, size)
            partial.rename(path)
        r = measure(path, n_queries)
        r["build_s"] = built
        results.append(r)
        print(json.dumps(r), flush=True)
    return results


def rows(quick: bool) -> list[dict[str, Any]]:
    """Rows of ``python -m benchmarks`` (1,000,000 stories kept in KEEP; tiny ones if quick)."""
    with tempfile.TemporaryDirectory() as tmp:
        small, large = (200, 500) if quick else (10_000, 1_000_000)
        found = run([small, large], Path(tmp) if quick else KEEP, 10 if quick else 200)
    a, b = found
    at = f"at {b['stories']:,}"
    out = [
        {"name": f"scale: size on disk {at}", "value": b["bytes"] / 2**30, "unit": "GiB",
         "note": f"{b['bytes'] / b['stories']:,.0f} B per story (2 KB bodies)"},
        {"name": f"scale: FTS median {at}", "value": b["fts_median_ms"], "unit": "ms",
         "note": "hrarchive search, top 20"},
        {"name": f"scale: FTS p95 {at}", "value": b["fts_p95_ms"], "unit": "ms",
         "goal": "< 150 ms", "met": b["fts_p95_ms"] < 150,
         "note": f"{b['capped']} of {b['queries']} queries over the rank limit"},
        {"name": f"scale: hrarchive stats {at}", "value": b["stats_s"], "unit": "s",
         "note": f"{a['stats_s']:.2f} s at {a['stories']:,}"},
        {"name": f"scale: Datasette stories first row {at}", "value": b["first_row_s"] * 1000,
         "unit": "ms", "goal": "< 500 ms", "met": b["first_row_s"] < 0.5,
         "note": f"one request; {a['first_row_s'] * 1000:.0f} ms at {a['stories']:,}; "
                 f"{b['rows_only_s'] * 1000:.0f} ms without facets and count"},
    ]
    for name in ("stats", "export"):
        growth = b[f"{name}_mb"] / a[f"{name}_mb"]
        out.append({"name": f"scale: {name} peak RSS, {a['stories']:,} -> {b['stories']:,}",
                    "value": growth, "unit": "x", "goal": "< 1.3", "met": growth < 1.3,
                    "note": f"{a[name + '_mb']:.0f} MB -> {b[name + '_mb']:.0f} MB"
                            + (f"; export took {b['export_s']:.0f} s" if name == "export"
                               else "")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--keep", type=Path, default=None,
                        help="build (or reuse) the archives in this folder")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = run(args.sizes, args.keep or Path(tmp), args.queries)
    print(f"\n{'stories':>9} {'MB':>7} {'FTS med':>8} {'FTS p95':>8} {'capped':>7} "
          f"{'stats s':>8} {'stats MB':>9} {'export s':>9} {'export MB':>10} "
          f"{'1st row s':>9}")
    for r in results:
        print(f"{r['stories']:>9,} {r['bytes'] / 2**20:>7,.0f} {r['fts_median_ms']:>6.1f}ms "
              f"{r['fts_p95_ms']:>6.1f}ms {r['capped']:>3}/{r['queries']:<3} "
              f"{r['stats_s']:>8.2f} {r['stats_mb']:>9.0f} {r['export_s']:>9.1f} "
              f"{r['export_mb']:>10.0f} {r['first_row_s']:>9.3f}")


if __name__ == "__main__":
    main()
