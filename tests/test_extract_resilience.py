"""Extraction never makes a crawl lose a story: crawls of two small made-up sites.

``oddvalues``: one story's JSON-LD holds a tag list inside its tag list, another links to
``http://Oranger Wasserstoff: ...`` (w3lib: "Port could not be cast").  Both used to make
``stored_article`` raise; now the bad value is dropped, counted and logged with the page.

``newtheme``: the site's theme changed under its profile, so none of its selectors match.
Each field falls back to generic extraction, and the layout alarm says which selectors no
longer match.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from tests.conftest import FAST, run_hrarchive
from tests.fixtureserver import FIXTURES, FixtureSite, load_cases


def _crawl(site: str, server: FixtureSite, tmp_path: Path) -> tuple[Database, dict, str]:
    db_path = tmp_path / "archive.db"
    done = run_hrarchive("crawl", "--profile", str(FIXTURES / site / "profile.toml"),
                         "--db", str(db_path), "--base-url", server.base_url,
                         *(f"-s{s}" for s in FAST))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    db = Database(db_path)
    crawl = next(db["crawls"].rows)
    return db, json.loads(crawl["stats"]), output


def _stories(site: str, host: str, local: str, db: Database) -> tuple[dict, dict]:
    expected = {c.url.removeprefix(host): c.expected for c in load_cases(site)
                if c.kind == "article"}
    archived = {r["url"].removeprefix(local): r for r in db["articles"].rows}
    return expected, archived


def test_bad_values_are_dropped_and_the_stories_kept(serve: Callable[[str], FixtureSite],
                                                     tmp_path: Path) -> None:
    server = serve("oddvalues")
    db, stats, output = _crawl("oddvalues", server, tmp_path)
    expected, archived = _stories("oddvalues", "https://odd.example.org", server.base_url, db)
    assert set(archived) == set(expected) and len(archived) == 2
    for path, want in expected.items():
        row = archived[path]
        assert row["title"] == want["title"]
        assert row["published"] == want["published"]
        assert json.loads(row["tags"]) == want["tags"]
        assert want["body_contains"][0] in row["body_text"]
    # the good link of the story beside the malformed one is kept
    links = {r["to_url"] for r in db["links"].rows_where("kind = 'body'")}
    assert f"{server.base_url}/walks/" in links
    assert not [u for u in links if "Wasserstoff" in u or "wasserstoff" in u]
    assert stats["hrarchive/normalise/dropped_values"] == 2
    assert stats["hrarchive/normalise/dropped/tags"] == 1
    assert stats["hrarchive/normalise/dropped/links"] == 1
    for slug in ("tag-list-holding-a-list", "malformed-link"):
        assert any("Dropped a value" in line and slug in line for line in output.splitlines())


def test_a_profile_whose_selectors_no_longer_match_reads_generically(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("newtheme")
    db, stats, output = _crawl("newtheme", server, tmp_path)
    expected, archived = _stories("newtheme", "https://theme.example.org", server.base_url, db)
    assert set(archived) == set(expected) and len(archived) == 2
    for path, want in expected.items():
        row = archived[path]
        assert row["title"] == want["title"]
        assert row["published"] == want["published"]
        assert json.loads(row["authors"]) == want["authors"]
        for snippet in want["body_contains"]:
            assert snippet in row["body_text"]
    assert db.execute("select count(*) from teasers where published is not null"
                      ).fetchone()[0] == 2
    for field in ("title", "date", "authors", "body"):
        assert stats[f"hrarchive/selectors/missed/article.{field}"] == 2
    assert stats["hrarchive/selectors/missed/listing.teaser"] == 1
    report = stats["hrarchive/layout/selectors"]
    assert report.startswith("selector no longer matches: ")
    assert "article.body (none of 2 pages)" in report and "listing.teaser" in report
    assert "selector no longer matches" in output
    crawl = next(db["crawls"].rows)
    assert crawl["status"] == "finished"
