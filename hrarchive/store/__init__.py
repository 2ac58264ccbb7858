"""The store: the only code that touches SQLite (schema, migrations, writes)."""

from hrarchive.store.archive import Archive, open_database
from hrarchive.store.schema import TABLES

__all__ = ["TABLES", "Archive", "open_database"]
