"""The store: the only code that touches SQLite (schema, migrations, writes)."""

from hrarchive.store.archive import Archive, acquire_archive, open_database, release_archive
from hrarchive.store.schema import TABLES

__all__ = ["TABLES", "Archive", "acquire_archive", "open_database", "release_archive"]
