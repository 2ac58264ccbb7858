"""Bad input fails fast with one plain line, and leaves the archive as it was.

Unreachable hosts (a name that cannot be resolved, a port that refuses connections), missing
or broken profiles, unknown sites, an archive path that cannot be written or is not an
archive, and an archive that another crawl is writing.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from sqlite_utils import Database

from hrarchive.middlewares.retry import UNREACHABLE_RETRIES, UNREACHABLE_WAIT
from hrarchive.store import Archive
from tests.conftest import FAST, crawl, run_hrarchive
from tests.fixtureserver import FixtureSite

QUIET = tuple(s for s in FAST if not s.startswith("LOG_LEVEL="))  # no -v: what a user sees
DETAILS = "(details: hrarchive crawl -v, or -s LOG_FILE=crawl.log)"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """A small hrarchive archive with one site and one finished run."""
    path = tmp_path / "archive.db"
    store = Archive(path)
    store.save_site({"id": "hrhouse", "name": "Human Rights House Foundation",
                     "base_url": "https://humanrightshouse.org", "languages": ["en"],
                     "profile_path": None})
    crawl_id = store.start_crawl("hrhouse")
    store.finish_crawl(crawl_id, "finished", "finished", {}, {})
    store.close()
    return path


def snapshot(path: Path) -> tuple[str, list[str]]:
    """The archive file's digest and the names of the files beside it (SQLite's own -wal and
    -shm files aside: a reader of a WAL archive may leave them, empty of changes)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
    return digest, sorted(p.name for p in path.parent.iterdir()
                          if not p.name.endswith(("-wal", "-shm")))


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def quick_crawl(base_url: str, db_path: Path) -> subprocess.CompletedProcess[str]:
    args = ["crawl", "hrhouse", "--db", str(db_path), "--base-url", base_url]
    return run_hrarchive(*args, *(a for s in QUIET for a in ("-s", s)), timeout=60)


def assert_no_back_off(db_path: Path) -> None:
    stats = json.loads(next(Database(db_path)["crawls"].rows)["stats"])
    # two quick retries of robots.txt; the start URLs then fail at once
    assert stats.get("hrarchive/retry/wait_seconds", 0) <= UNREACHABLE_RETRIES * UNREACHABLE_WAIT
    assert stats["downloader/request_count"] <= UNREACHABLE_RETRIES + 1 + 3, stats


def test_a_host_that_cannot_be_resolved_fails_the_site_in_one_line(tmp_path: Path) -> None:
    db_path = tmp_path / "archive.db"
    done = quick_crawl("http://hrarchive-test.invalid", db_path)
    assert done.returncode == 1
    assert one_line(done.stderr) == ("hrarchive: hrhouse failed: cannot resolve "
                                     "hrarchive-test.invalid: check the network or --base-url "
                                     + DETAILS)
    assert "Dumping Scrapy stats" not in done.stdout + done.stderr
    assert_no_back_off(db_path)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening, kept ours."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_refused_connection_fails_the_site_in_one_line(tmp_path: Path,
                                                          refused_port: int) -> None:
    db_path = tmp_path / "archive.db"
    done = quick_crawl(f"http://127.0.0.1:{refused_port}", db_path)
    assert done.returncode == 1
    assert one_line(done.stderr) == (f"hrarchive: hrhouse failed: connection refused "
                                     f"127.0.0.1:{refused_port}: check the network or "
                                     f"--base-url {DETAILS}")
    assert_no_back_off(db_path)


def test_a_good_crawl_prints_no_log_without_v(serve: Callable[[str], FixtureSite],
                                              tmp_path: Path) -> None:
    result = crawl("hrhouse", serve("hrhouse"), tmp_path / "archive.db", settings=QUIET)
    assert result.returncode == 0, result.output
    assert result.output == ""  # no terminal here, so no progress lines either
    assert next(result.db["crawls"].rows)["status"] == "finished"


def bad_profile(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "profiles" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--profile", "{tmp}/no-such-profile.toml"], 2, "no-such-profile.toml' does not exist"),
    (["--profile", "{bad_toml}"], 1, "bad.toml: Expected '=' after a key"),
    (["--profile", "{no_start}"], 1, "give at least one of start_urls, feeds, sitemaps"),
    (["nosuchsite"], 2, "unknown site(s): nosuchsite; see `hrarchive sites`"),
    (["hrhouse", "-s", "HRARCHIVE_SITES={tmp}/no-such-folder"], 1, "no such profile folder"),
])
def test_bad_profiles_and_sites_are_one_clear_error(
        args: list[str], code: int, message: str, archive: Path, tmp_path: Path) -> None:
    paths = {"tmp": tmp_path,
             "bad_toml": bad_profile(tmp_path, "bad.toml", 'id = "bad"\nname "Bad"\n'),
             "no_start": bad_profile(tmp_path, "empty.toml", 'id = "empty"\nname = "Empty"\n')}
    before = snapshot(archive)
    done = run_hrarchive("crawl", *[a.format(**paths) for a in args], "--db", str(archive))
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert snapshot(archive) == before


def test_an_archive_path_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    folder_is_a_file = tmp_path / "notes.txt"
    folder_is_a_file.write_text("not a folder")
    done = run_hrarchive("crawl", "hrhouse", "--db", str(folder_is_a_file / "archive.db"))
    assert done.returncode == 1
    assert one_line(done.stderr) == (f"Error: cannot create the archive {folder_is_a_file}/"
                                     f"archive.db: {folder_is_a_file} is not a folder")
    assert folder_is_a_file.read_text() == "not a folder"
    if Path("/proc/self").is_dir():  # a folder nobody may create files in, root included
        done = run_hrarchive("crawl", "hrhouse", "--db", "/proc/hrarchive-test.db")
        assert done.returncode == 1
        assert "cannot create the archive /proc/hrarchive-test.db: the folder /proc is not " \
               "writable" in one_line(done.stderr)
    if os.geteuid() != 0:  # root may write a read-only file
        archive = tmp_path / "read-only.db"
        Archive(archive).close()
        archive.chmod(0o444)
        done = run_hrarchive("crawl", "hrhouse", "--db", str(archive))
        assert done.returncode == 1 and "cannot write the archive" in done.stderr


def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("a text file, not a database\n" * 50)
    other = tmp_path / "other.db"
    Database(other)["people"].insert({"name": "someone"})
    for path, why in ((text, "not an SQLite file"),
                      (other, "an SQLite file without its tables articles, crawls, sites")):
        before = snapshot(path)
        done = run_hrarchive("crawl", "hrhouse", "--db", str(path))
        assert done.returncode == 1
        line = one_line(done.stderr)
        assert line.startswith(f"Error: {path} is not an hrarchive archive ({why}")
        assert line.endswith("choose another --db")
        assert snapshot(path) == before


def test_an_archive_another_crawl_is_writing_is_refused(archive: Path) -> None:
    me = psutil.Process()
    db = Database(archive)
    db["crawls"].insert({"site": "viasna", "started": "2026-11-29T10:00:00Z",
                         "status": "running", "pid": me.pid, "host": socket.gethostname(),
                         "process_started": me.create_time()})
    db.close()
    before = snapshot(archive)
    done = run_hrarchive("crawl", "hrhouse", "--db", str(archive))
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        f"Error: another crawl is writing {archive} (run 2 of viasna, process {me.pid} on "
        f"{socket.gethostname()}, started 2026-11-29T10:00:00Z); wait for it to finish, "
        "or use another --db")
    assert snapshot(archive) == before
