"""A three-line user profile crawls a generic WordPress site: no selectors, no code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from tests.conftest import FAST, run_hrarchive
from tests.fixtureserver import FIXTURES, FixtureSite, load_cases

REAL = "https://news.example.org"


def test_three_line_profile_crawls_a_wordpress_site(serve: Callable[[str], FixtureSite],
                                                     tmp_path: Path) -> None:
    profile = FIXTURES / "wordpress" / "profile.toml"
    assert len(profile.read_text("utf-8").strip().splitlines()) == 3
    server = serve("wordpress")
    db_path = tmp_path / "archive.db"
    done = run_hrarchive("crawl", "--profile", str(profile), "--db", str(db_path),
                         "--base-url", server.base_url, *(f"-s{s}" for s in FAST))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    db = Database(db_path)
    local = server.base_url
    cases = load_cases("wordpress")
    stories = {c.url.removeprefix(REAL): c.expected for c in cases if c.kind == "article"}
    articles = {r["url"].removeprefix(local): r for r in db["articles"].rows}
    assert set(articles) == set(stories)
    for path, expected in stories.items():
        row = articles[path]
        assert expected is not None
        assert row["title"] == expected["title"]
        assert row["published"] == expected["published"]
        assert json.loads(row["authors"]) == expected["authors"]
        assert json.loads(row["tags"]) == expected["tags"]
        assert expected["body_contains"][0] in row["body_text"]
        for snippet in expected["body_excludes"]:
            assert snippet not in row["body_text"]
    listed = [t for c in cases if c.kind == "listing" for t in (c.expected or {})["teasers"]]
    teasers = {r["url"].removeprefix(local): r for r in db["teasers"].rows}
    for teaser in listed:
        row = teasers[teaser["url"].removeprefix(REAL)]
        assert (row["title"], row["published"], row["summary"]) == \
            (teaser["title"], teaser["published"], teaser["summary"])
    ids = {r["id"]: r["url"].removeprefix(local) for r in db["articles"].rows}
    related = {(ids[r["from_id"]], r["to_url"].removeprefix(local))
               for r in db["links"].rows_where("kind = 'related'")}
    want = {(path, link["url"].removeprefix(REAL))
            for path, expected in stories.items() for link in (expected or {})["related"]}
    assert related == want
    assert db.execute("select count(*) from links where kind = 'attachment'").fetchone()[0] == 1
