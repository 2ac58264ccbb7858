"""Upgrades lose nothing: archives written by earlier code (``upgrade/archive-v*.db``, made
by ``upgrade/make_archive.py``) open with the current code, migrate, and keep every row;
a migration killed midway leaves an archive the next start migrates cleanly."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hrarchive.store.archive import open_database
from hrarchive.store.migrations import migrations
from tests.conftest import ROOT
from tests.faults.sound import assert_sound

BEFORE = sorted((Path(__file__).parent / "upgrade").glob("archive-v*.db"))
KEPT = ("sites", "crawls", "articles", "article_versions", "article_aliases", "teasers",
        "links", "captures", "attachments")


def rows(db_path: Path) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of the kept tables, as (column, value) pairs of the columns it had."""
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        found = {table: {tuple(sorted(dict(row).items(), key=lambda kv: kv[0]))
                         for row in conn.execute(f"SELECT * FROM [{table}]")}
                 for table in KEPT
                 if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                 (table,)).fetchone()}
    conn.close()
    return found


def contained(before: dict[str, set[tuple[Any, ...]]],
              after: dict[str, set[tuple[Any, ...]]]) -> None:
    """Each row before is in the table after, with the values it had (new columns aside)."""
    for table, old_rows in before.items():
        new_rows = [dict(row) for row in after[table]]
        assert len(new_rows) == len(old_rows), table
        for row in old_rows:
            old = dict(row)
            assert any(all(new.get(k) == v for k, v in old.items()) for new in new_rows), \
                (table, old)


@pytest.fixture(params=BEFORE, ids=[p.name for p in BEFORE])
def before(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    copy = tmp_path / "archive.db"
    shutil.copyfile(request.param, copy)
    return copy


def test_an_archive_from_earlier_code_migrates_and_keeps_every_row(before: Path) -> None:
    assert BEFORE, "no upgrade fixture: python -m tests.faults.upgrade.make_archive"
    old = rows(before)
    assert all(old[t] for t in ("articles", "article_versions", "teasers", "links", "captures"))
    db = open_database(before)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(migrations.applied(db))
    assert not list(migrations.pending(db))
    db.close()
    contained(old, rows(before))
    assert_sound(before)


# A later schema change, as a test registers it: a column added and filled from every story.
NEXT = """
import os, signal, sys
from hrarchive.store.migrations import migrations

@migrations(name="9999_next_change")
def next_change(db):
    db.execute("ALTER TABLE articles ADD COLUMN title_copy TEXT")
    db.execute("UPDATE articles SET title_copy = title")
    db.execute("UPDATE article_versions SET body_html = body_html || ''")
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)  # killed midway, before the migration commits

from hrarchive.store.archive import open_database
open_database(sys.argv[1]).close()
"""


def migrate_next(db_path: Path, how: str) -> int:
    return subprocess.run([sys.executable, "-c", NEXT, str(db_path), how], cwd=ROOT,
                          timeout=60).returncode


def test_a_migration_killed_midway_leaves_an_archive_the_next_start_migrates(
        before: Path) -> None:
    old = rows(before)
    assert migrate_next(before, "kill") == -9
    # the current code opens it: nothing of the killed migration, every row as it was
    db = open_database(before)
    assert "title_copy" not in db["articles"].columns_dict
    assert "9999_next_change" not in {m.name for m in migrations.applied(db)}
    db.close()
    contained(old, rows(before))
    assert_sound(before)
    # started again, the migration runs to its end
    assert migrate_next(before, "finish") == 0
    with sqlite3.connect(before) as conn:
        copied = conn.execute("SELECT count(*) FROM articles WHERE title_copy = title").fetchone()
    conn.close()
    assert copied[0] == len(old["articles"])
    contained(old, rows(before))
    assert_sound(before)
