"""Commands of the ``hrarchive`` command line, one module each, and what they share."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from hrarchive.profiles import ProfileError, SiteProfile, load_profiles


def project_settings(db: str | None = None, overrides: tuple[str, ...] = ()) -> object:
    """hrarchive's Scrapy settings, with ``--db`` and ``-s NAME=VALUE`` applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "hrarchive.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for pair in overrides:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="-s")
        settings.set(name, value, priority="cmdline")
    if db:
        settings.set("HRARCHIVE_DB", db, priority="cmdline")
    return settings


DB_OPTION = click.option("--db", type=click.Path(dir_okay=False), default=None,
                         help="Archive file (default: the HRARCHIVE_DB setting, archive.db).")


def archive_path(db: str | None) -> Path:
    """The archive file: ``--db`` if given, else the ``HRARCHIVE_DB`` setting."""
    settings = project_settings(db)
    return Path(settings.get("HRARCHIVE_DB"))  # type: ignore[attr-defined]


def known_profiles(settings: Any, sites: Iterable[str], param_hint: str) -> dict[str, SiteProfile]:
    """Every profile hrarchive knows (built in, and in ``HRARCHIVE_SITES``), by id; a clear
    error for a profile file that cannot be used or a site among ``sites`` it does not know."""
    try:
        known = load_profiles(settings.getlist("HRARCHIVE_SITES"))
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    unknown = [s for s in sites if s not in known]
    if unknown:
        raise click.BadParameter(f"unknown site(s): {', '.join(unknown)}; "
                                 f"see `hrarchive sites`", param_hint=param_hint)
    return known
