"""The schema docs and metadata.yml are generated from the store, and match a live archive."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlite_utils import Database

from hrarchive import docs
from hrarchive.store import open_database
from hrarchive.store.migrations import migrate, migrations
from hrarchive.store.schema import SORT_INDEXES
from hrarchive.store.views import ensure_derived

ROOT = Path(__file__).parent.parent
FTS_STORAGE = ("articles_fts_data", "articles_fts_idx", "articles_fts_docsize",
               "articles_fts_config")


@pytest.mark.parametrize("name", list(docs.OUTPUTS))
def test_committed_file_is_the_generated_one(name: str) -> None:
    committed = (ROOT / name).read_text("utf-8")
    assert committed == docs.OUTPUTS[name](), f"{name} is stale: run python -m hrarchive.docs"


def live_columns(db: Database, name: str) -> set[str]:
    return {row[1] for row in db.execute(f"pragma table_xinfo([{name}])")}


def test_docs_cover_the_live_schema_exactly(tmp_path: Path) -> None:
    db = open_database(tmp_path / "archive.db")
    live = {name for (name,) in db.execute(
        "select name from sqlite_master where type in ('table', 'view') "
        "and name not like 'sqlite_%'")} - set(FTS_STORAGE)
    documented = {d.name: d for d in docs.documented()}
    assert set(documented) == live
    for name, doc in documented.items():
        assert {c.name for c in doc.columns} == live_columns(db, name), name
        assert doc.label and doc.doc and all(c.doc for c in doc.columns), name
    for name in FTS_STORAGE:
        assert name in db.table_names()
    for table, column in SORT_INDEXES:  # newest-first pages read an index, not every row
        plan = db.execute(f"explain query plan select * from {table} "
                          f"order by {column} desc limit 10").fetchall()
        assert "TEMP B-TREE" not in str(plan), plan
    plan = db.execute("explain query plan select * from stories order by published desc "
                      "limit 10").fetchall()
    top = [detail for _, parent, _, detail in plan if parent == 0]
    assert top[0].startswith("SCAN a USING INDEX") and not any("B-TREE" in d for d in top), plan


def test_metadata_describes_every_table_and_column() -> None:
    meta = yaml.safe_load((ROOT / "metadata.yml").read_text("utf-8"))
    tables = meta["databases"]["archive"]["tables"]
    for doc in docs.documented():
        assert tables[doc.name]["title"] == doc.label
        assert tables[doc.name]["columns"] == {c.name: c.doc for c in doc.columns}
    assert "0.65.5" in (ROOT / "metadata.yml").read_text("utf-8").splitlines()[0]
    assert set(meta["databases"]["archive"]["queries"]) == {
        "stories_mentioning", "teasers_never_archived", "changed_stories", "related_graph",
        "stories_per_year", "missing_stories"}


def test_an_archive_from_before_the_views_is_brought_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="0004_researcher_views")
    assert "stories" not in db.view_names()
    db.execute("insert into articles (site, url, title, published) values "
               "('hrhouse', 'https://example.org/a', 'A', '2019-05-01')")
    db.conn.commit()
    migrate(db)
    assert db.execute("select title, year, versions from stories").fetchall() == [("A", "2019", 0)]


def test_an_archive_from_before_takedowns_gets_the_table_and_its_views(tmp_path: Path) -> None:
    db = Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="0005_takedowns")
    db.execute("drop table takedowns")  # as a file made before the table existed
    db.conn.commit()
    migrate(db)
    assert db["takedowns"].exists() and "takedowns_by_month" in db.view_names()
    assert db.execute("select count(*) from stories where gone_since is null").fetchone() == (0,)


def test_a_rebuilt_table_gets_its_year_and_views_back(tmp_path: Path) -> None:
    db = open_database(tmp_path / "archive.db")
    db["teasers"].transform(types={"position": str})  # type: ignore[union-attr]
    assert "year" not in live_columns(db, "teasers")  # sqlite-utils drops generated columns
    ensure_derived(db)
    assert "year" in live_columns(db, "teasers")
    assert db.execute("select count(*) from stories").fetchone() == (0,)
