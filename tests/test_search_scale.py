"""Search where a query matches more stories than can be ranked: the newest are ranked and
the output says so, in ``hrarchive search`` and in Datasette's canned query."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from hrarchive.store import Archive
from hrarchive.store.queries import CANNED, search
from tests.conftest import run_hrarchive


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "archive.db"
    archive = Archive(path, batch_size=10_000, commit_seconds=3600)
    archive.save_site({"id": "s", "name": "S"})
    archive.save_site({"id": "t", "name": "T"})
    for n in range(1, 301):  # "torture" n % 5 + 1 times; "court" in every story
        archive.save_article({
            "site": "s" if n % 2 else "t", "url": f"https://example.org/{n}",
            "title": f"Story {n}", "published": f"{2000 + n % 20}-01-01",
            "body_text": "torture " * (n % 5 + 1) + f"court word{n}", "body_html": "",
            "authors": [], "tags": []})
    archive.close()
    return path


def test_a_search_under_the_limit_ranks_every_match(archive_path: Path) -> None:
    result = search(Database(archive_path), "torture", limit=300, rank_limit=1000)
    assert (result.matches, result.ranked, result.note) == (300, 300, None)
    ranks = [hit["rank"] for hit in result.hits]
    assert ranks == sorted(ranks) and len(ranks) == 300  # bm25, best (lowest) first
    assert int(result.hits[0]["id"]) % 5 == 4  # most mentions first


def test_over_the_limit_the_newest_are_ranked_and_it_says_so(archive_path: Path) -> None:
    result = search(Database(archive_path), "torture", limit=300, rank_limit=100)
    assert (result.matches, result.ranked) == (300, 100)
    assert result.note == ("best of the newest 100 of 300 matches; "
                           "narrow with --site/--since")
    assert sorted(int(hit["id"]) for hit in result.hits) == list(range(201, 301))
    narrowed = search(Database(archive_path), "torture", site="s", since="2010", limit=300,
                      rank_limit=100)
    assert narrowed.note is None and narrowed.matches == narrowed.ranked == len(narrowed.hits)
    assert {hit["site"] for hit in narrowed.hits} == {"s"}


def test_the_command_and_the_canned_query_say_so(archive_path: Path) -> None:
    done = run_hrarchive("search", "torture", "--rank-limit", "100", "--db", str(archive_path))
    assert done.returncode == 0, done.stderr
    assert "best of the newest 100 of 300 matches; narrow with --site/--since" in done.stderr
    done = run_hrarchive("search", "torture", "--db", str(archive_path))
    assert "newest" not in done.stderr
    sql = next(c.sql for c in CANNED if c.name == "stories_mentioning")
    rows = Database(archive_path).execute(
        sql, {"term": "court", "site": "", "since": "", "until": ""}).fetchall()
    assert len(rows) == 300 and rows[0][-1] is None  # 300 < the canned limit of 10,000
