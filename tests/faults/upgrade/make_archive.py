"""Make the upgrade fixture: an archive written by the code of the day, kept in the
repository so later schema changes are tested against it.

    python -m tests.faults.upgrade.make_archive      # writes tests/faults/upgrade/archive-vN.db

It crawls the hrhouse fixture site twice through the engine (the second time after one
story was edited, so the archive holds two versions of it), then stores the file compactly
(no WAL, vacuumed) under the schema version it was written at.  Each later schema change
keeps the files made before it and adds its own.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from tests.research_archive import build_archive

HERE = Path(__file__).parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        built = build_archive(Path(tmp))
        with sqlite3.connect(built.db_path) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        with sqlite3.connect(built.db_path) as conn:
            conn.execute("VACUUM")
        conn.close()
        target = HERE / f"archive-v{version}.db"
        shutil.copyfile(built.db_path, target)
    print(f"wrote {target} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
