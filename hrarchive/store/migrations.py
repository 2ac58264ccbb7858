"""Schema migrations: every archive file is brought forward to the current schema on open."""

from __future__ import annotations

from sqlite_utils import Database, Migrations
from sqlite_utils.db import Table as DbTable

from hrarchive.store.schema import FTS_COLUMNS, FTS_TABLE, TABLES

migrations = Migrations("hrarchive")


def _table(db: Database, name: str) -> DbTable:
    table = db[name]
    assert isinstance(table, DbTable)
    return table


@migrations(name="0001_initial")
def initial(db: Database) -> None:
    for spec in TABLES:
        table = _table(db, spec.name)
        table.create({c.name: c.type for c in spec.columns},
                     pk=spec.pk if isinstance(spec.pk, str) else list(spec.pk),
                     not_null={spec.pk} if isinstance(spec.pk, str) else set(spec.pk))
        for columns in spec.unique:
            table.create_index(list(columns), unique=True)
        for columns in spec.indexes:
            table.create_index(list(columns))
    _table(db, "articles").enable_fts(list(FTS_COLUMNS), fts_version="FTS5", create_triggers=True,
                                     tokenize="unicode61 remove_diacritics 2")
    assert db[FTS_TABLE].exists()


def migrate(db: Database) -> None:
    """Apply pending migrations; also records the schema version in ``PRAGMA user_version``."""
    migrations.apply(db)
    db.execute(f"PRAGMA user_version = {len(migrations.applied(db))}")


# --- 0002: views and year columns for researchers and Datasette (issue #4) --------------------
@migrations(name="0002_researcher_views")
def researcher_views(db: Database) -> None:
    from hrarchive.store.views import ensure_derived

    ensure_derived(db)
