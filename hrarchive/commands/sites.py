"""``hrarchive sites``: the sites hrarchive can crawl, built in and the user's own."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hrarchive.commands import project_settings
from hrarchive.profiles import BUILTIN_DIR, ProfileError, load_profiles


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the profiles as JSON.")
@click.option("--sites-dir", "folders", multiple=True, type=click.Path(file_okay=False),
              help="Also list the profiles in this folder (like HRARCHIVE_SITES).")
def sites(as_json: bool, folders: tuple[str, ...]) -> None:
    """List the sites hrarchive can crawl: built-in profiles and user profiles.

    \b
    Examples:
      hrarchive sites
      hrarchive sites --sites-dir ~/my-profiles --json
    """
    settings = project_settings()
    try:
        profiles = load_profiles([*settings.getlist("HRARCHIVE_SITES"), *folders])  # type: ignore[attr-defined]
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([{"id": p.id, "name": p.name, "base_url": p.base_url,
                                "languages": list(p.languages), "profile": p.path}
                               for p in profiles.values()], indent=2, ensure_ascii=False))
        return
    for p in profiles.values():
        where = "" if Path(p.path or "").parent == BUILTIN_DIR else f"  [{p.path}]"
        click.echo(f"{p.id:<20} {p.name}  ({', '.join(p.languages) or '?'}){where}")
