"""The one soundness check every fault case ends with: SQLite's integrity check, and the
full-text index matching the stories it indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def assert_sound(db_path: Path) -> None:
    """The archive passes ``PRAGMA integrity_check`` and its FTS index matches ``articles``."""
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # FTS5 checks its index against the content table (rank 1: external content too)
        conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES('integrity-check', 1)")
        indexed = conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
        stories = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert indexed == stories
    conn.close()
