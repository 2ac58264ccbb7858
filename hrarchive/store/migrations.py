"""Schema migrations: every archive file is brought forward to the current schema on open."""

from __future__ import annotations

from sqlite_utils import Database, Migrations
from sqlite_utils.db import Table as DbTable

from hrarchive.store.schema import (
    ARTICLE_SIGNAL_COLUMNS,
    CLUSTER_CRAWL_COLUMNS,
    CRAWL_RUN_COLUMNS,
    FTS_COLUMNS,
    FTS_TABLE,
    TABLES,
)

migrations = Migrations("hrarchive")


def _table(db: Database, name: str) -> DbTable:
    table = db[name]
    assert isinstance(table, DbTable)
    return table


def _create(db: Database, name: str) -> None:
    """Create a table of TABLES as defined, unless an earlier migration already made it."""
    spec = next(t for t in TABLES if t.name == name)
    table = _table(db, name)
    if table.exists():
        return
    table.create({c.name: c.type for c in spec.columns},
                 pk=spec.pk if isinstance(spec.pk, str) else list(spec.pk),
                 not_null={spec.pk} if isinstance(spec.pk, str) else set(spec.pk))
    for columns in spec.unique:
        table.create_index(list(columns), unique=True)
    for columns in spec.indexes:
        table.create_index(list(columns))


@migrations(name="0001_initial")
def initial(db: Database) -> None:
    for spec in TABLES:
        _create(db, spec.name)
    _table(db, "articles").enable_fts(list(FTS_COLUMNS), fts_version="FTS5", create_triggers=True,
                                     tokenize="unicode61 remove_diacritics 2")
    assert db[FTS_TABLE].exists()


@migrations(name="0002_incremental_runs")
def incremental_runs(db: Database) -> None:
    # 0001 creates the current TABLES, so a new file already has these columns
    for name, columns in (("crawls", CRAWL_RUN_COLUMNS), ("articles", ARTICLE_SIGNAL_COLUMNS)):
        table = _table(db, name)
        for column in columns:
            if column.name not in table.columns_dict:
                table.add_column(column.name, column.type)


@migrations(name="0003_captures_and_attachments")
def captures_and_attachments(db: Database) -> None:
    for name in ("captures", "attachments"):
        _create(db, name)


# --- 0004: views and year columns for researchers and Datasette (issue #4) --------------------
@migrations(name="0004_researcher_views")
def researcher_views(db: Database) -> None:
    from hrarchive.store.views import ensure_derived

    ensure_derived(db)


# --- 0005: takedowns, stories their site stopped serving (issue #13) ----------------------
@migrations(name="0005_takedowns")
def takedowns(db: Database) -> None:
    from hrarchive.store.views import ensure_derived

    _create(db, "takedowns")
    ensure_derived(db)  # the views that read takedowns


# --- 0006: the full-text index is kept per batch by the writer, not by triggers (issue #10) ----
@migrations(name="0006_fts_by_batch")
def fts_by_batch(db: Database) -> None:
    # Archive.commit() indexes each batch's new and changed stories; a per-row trigger would
    # tokenise every story twice over (and every touch of last_seen through the update
    # trigger).  The delete trigger stays: a story deleted by any writer leaves the index.
    for trigger in ("articles_ai", "articles_au"):
        db.execute(f"drop trigger if exists [{trigger}]")


# --- 0007: the stories pages of a large archive: facet indexes, a view that counts fast (#10) ---
@migrations(name="0007_facet_indexes")
def facet_indexes(db: Database) -> None:
    # indexes on articles.year and articles.language (FACET_INDEXES), and the stories view
    # without its join on sites, so that Datasette's count and facets read an index
    from hrarchive.store.views import ensure_derived

    ensure_derived(db)


# --- 0008: many crawler workers, one writer (issue 11; 0007 is the facet indexes of #10) ------
@migrations(name="0008_cluster")
def cluster(db: Database) -> None:
    crawls = _table(db, "crawls")
    for column in CLUSTER_CRAWL_COLUMNS:
        if column.name not in crawls.columns_dict:
            crawls.add_column(column.name, column.type)
    crawls.create_index(["site", "run"], if_not_exists=True)
    _create(db, "applied_ops")


def migrate(db: Database) -> None:
    """Apply pending migrations; also records the schema version in ``PRAGMA user_version``."""
    migrations.apply(db)
    db.execute(f"PRAGMA user_version = {len(migrations.applied(db))}")
