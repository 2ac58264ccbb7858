"""Commands of the ``hrarchive`` command line, one module each, and what they share."""

from __future__ import annotations

from pathlib import Path

import click

DB_OPTION = click.option("--db", type=click.Path(dir_okay=False), default=None,
                         help="Archive file (default: the HRARCHIVE_DB setting, archive.db).")


def archive_path(db: str | None) -> Path:
    """The archive file: ``--db`` if given, else the ``HRARCHIVE_DB`` setting."""
    from hrarchive.cli import project_settings

    settings = project_settings(db)
    return Path(settings.get("HRARCHIVE_DB"))  # type: ignore[attr-defined]
