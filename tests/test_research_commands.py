"""``hrarchive search``, ``export``, ``stats`` and ``serve`` on an archive built by crawling."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.export_memory import build
from hrarchive.commands.serve import metadata_for
from hrarchive.docs import documented
from tests.conftest import ROOT, crawl, run_hrarchive
from tests.fixtureserver import FixtureSite
from tests.research_archive import (
    CHANGED,
    SITE,
    Built,
    build_archive,
    free_port,
    get_json,
    running,
)

BODY_WORD = "shirt"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_archive(tmp_path_factory.mktemp("archive"))


def title_of(built: Built, name: str) -> str:
    expected = built.story(name).expected
    assert expected is not None
    return str(expected["title"])


def test_search_ranks_and_marks_matches(built: Built) -> None:
    done = run_hrarchive("search", BODY_WORD, "--db", str(built.db_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1. 2021-08-10  hrhouse  " + title_of(built, CHANGED))
    assert lines[1].strip() == built.local(built.story(CHANGED).url)
    assert "T-[shirt]" in lines[2]
    assert "1 story" in done.stderr


def test_search_json_filters_by_site_and_dates(built: Built) -> None:
    db = str(built.db_path)
    mention = re.compile(r"\bBelarus\b")
    belarus = {c.expected["title"] for c in built.stories if c.expected and mention.search(
        " ".join([c.expected["title"], *c.expected.get("body_contains", [])]))}

    def hits(*args: str) -> list[dict]:
        done = run_hrarchive("search", "Belarus", "--json", "--db", db, *args)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    every = hits()
    assert belarus and {h["title"] for h in every} >= belarus
    assert {h["title"] for h in every} <= {c.expected["title"] for c in built.stories
                                          if c.expected}
    assert [h["rank"] for h in every] == sorted(h["rank"] for h in every)  # best first
    in_2021 = hits("--since", "2021", "--until", "2021")
    assert in_2021 and {h["published"][:4] for h in in_2021} == {"2021"}
    assert hits("--site", SITE)
    assert hits("--until", "2000") == []
    assert len(hits("--limit", "2")) == 2


def test_search_reports_bad_input_clearly(built: Built, tmp_path: Path) -> None:
    db = str(built.db_path)
    bad_date = run_hrarchive("search", "x", "--since", "August 2021", "--db", db)
    assert bad_date.returncode != 0 and "not a date like 2021" in bad_date.stderr
    bad_syntax = run_hrarchive("search", "--raw", "torture AND", "--db", db)
    assert bad_syntax.returncode != 0 and "bad search" in bad_syntax.stderr
    punctuation = run_hrarchive("search", "T-shirt", "AND", "--db", db)  # not syntax unless --raw
    assert punctuation.returncode == 0, punctuation.stderr
    typo = run_hrarchive("search", "x", "--site", "hrhuose", "--db", db)
    assert typo.returncode != 0 and "no site 'hrhuose' in this archive; it holds: hrhouse" \
        in typo.stderr
    missing = run_hrarchive("search", "x", "--db", str(tmp_path / "none.db"))
    assert missing.returncode != 0 and "no archive at" in missing.stderr
    assert not (tmp_path / "none.db").exists()


def test_export_jsonl_streams_every_story(built: Built, tmp_path: Path) -> None:
    done = run_hrarchive("export", "--format", "jsonl", "--db", str(built.db_path))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {r["url"] for r in rows} == {built.local(c.url) for c in built.stories}
    assert f"{len(rows)} stories" in done.stderr
    changed = next(r for r in rows if r["url"] == built.local(built.story(CHANGED).url))
    expected = built.story(CHANGED).expected
    assert expected is not None
    assert changed["tags"] == expected["tags"] and changed["version"] == 2  # arrays, not text
    out = tmp_path / "since.jsonl"
    done = run_hrarchive("export", "--since", "2023-02", "--site", SITE, "-o", str(out),
                         "--db", str(built.db_path))
    assert done.returncode == 0, done.stderr
    published = sorted(json.loads(line)["published"] for line in out.read_text().splitlines())
    assert published == sorted(c.expected["published"] for c in built.stories
                               if c.expected and (c.expected["published"] or "") >= "2023-02")


def test_export_into_a_pipe_that_closes_early_is_quiet(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    build(db, 300)  # about 1 MB of JSON: more than a pipe holds, so `head` closes it early
    done = subprocess.run(f"{sys.executable} -m hrarchive export --db {db} | head -1; "
                          "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["id"] == 1
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_serve_rekeys_a_metadata_file_to_the_archive_name(tmp_path: Path) -> None:
    own = tmp_path / "mine.yml"
    own.write_text("title: Mine\ndatabases:\n  archive:\n    tables:\n"
                   "      sites: {description: Our sites}\n")
    meta = metadata_for(tmp_path / "news-2024.db", str(own))
    assert meta["title"] == "Mine"
    assert meta["databases"] == {"news-2024": {"tables": {"sites": {"description": "Our sites"}}}}
    built_in = metadata_for(tmp_path / "news-2024.db")
    assert set(built_in["databases"]) == {"news-2024"}


def test_export_csv_has_the_documented_columns(built: Built) -> None:
    done = run_hrarchive("export", "--format", "csv", "--until", "2021",
                         "--db", str(built.db_path))
    assert done.returncode == 0, done.stderr
    reader = csv.DictReader(io.StringIO(done.stdout))
    articles = next(d for d in documented() if d.name == "articles")
    assert set(reader.fieldnames or ()) == {c.name for c in articles.columns}
    rows = list(reader)
    assert sorted(r["title"] for r in rows) == sorted(
        c.expected["title"] for c in built.stories
        if c.expected and c.expected["published"] and c.expected["published"] < "2022")
    assert json.loads(rows[0]["tags"])  # lists stay JSON text in CSV
    assert f"{len(rows)} stories" in done.stderr


def test_stats_per_site_and_year_then_fails_after_a_failed_run(
        built: Built, tmp_path: Path) -> None:
    done = run_hrarchive("stats", "--json", "--db", str(built.db_path))
    assert done.returncode == 0, done.stderr
    site = json.loads(done.stdout)["sites"][0]
    expected = [c.expected or {} for c in built.stories]
    assert (site["site"], site["stories"], site["versions"]) == (SITE, len(expected),
                                                                len(expected) + 1)
    assert site["per_year"] == dict(Counter(e["published"][:4] if e["published"] else "unknown"
                                            for e in expected))
    assert site["related_links"] == sum(len(e["related"]) for e in expected)
    assert (site["runs"], site["failed_runs"]) == (2, 0)
    assert site["last_run"]["status"] == "finished"
    assert site["last_success"]["id"] == site["last_run"]["id"]
    text = run_hrarchive("stats", "--db", str(built.db_path))
    assert text.returncode == 0
    assert any(line.startswith(SITE) and "2023: 3" in line for line in text.stdout.splitlines())

    copy = tmp_path / "archive.db"
    shutil.copy(built.db_path, copy)
    dead = FixtureSite({}).start()  # every page 404: the run fails
    try:
        assert crawl(SITE, dead, copy).returncode == 1
    finally:
        dead.stop()
    after = run_hrarchive("stats", "--json", "--db", str(copy))
    assert after.returncode == 1
    site = json.loads(after.stdout)["sites"][0]
    assert (site["runs"], site["failed_runs"], site["last_run"]["status"]) == (3, 1, "failed")
    assert site["last_success"]["id"] == site["last_run"]["id"] - 1
    assert f"{SITE}: last run {site['last_run']['id']}" in after.stderr
    assert "failed: no listing" in after.stderr


def test_serve_starts_datasette_with_the_metadata_for_any_file_name(
        built: Built, tmp_path: Path) -> None:
    path = tmp_path / "hr-news.db"
    shutil.copy(built.db_path, path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "hrarchive", "serve", "--db", str(path),
                  "--port", str(port)], base + "/-/metadata.json"):
        meta = get_json(base, "/-/metadata.json")
        assert meta["databases"]["hr-news"]["tables"]["stories"]["title"]
        found = get_json(base, "/hr-news/stories.json", _shape="objects", _search=BODY_WORD)
        assert [r["title"] for r in found["rows"]] == [title_of(built, CHANGED)]
        assert found["human_description_en"].endswith("sorted by published descending")



def test_stats_shows_a_killed_run_as_interrupted_and_fails(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from hrarchive.store import Archive

    path = tmp_path / "archive.db"
    archive = Archive(path)
    crawl_id = archive.start_crawl("hrhouse")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    archive.db.execute("update crawls set pid = ? where id = ?", [int(gone.stdout), crawl_id])
    archive.close()  # the row stays `running`, as after a SIGKILL
    done = run_hrarchive("stats", "--db", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert Database(path)["crawls"].get(crawl_id)["status"] == "interrupted"
