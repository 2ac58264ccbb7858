"""``hrarchive wacz``: package the WARC captures as a WACZ file for replay tools."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--site", "sites", multiple=True,
              help="Package this site's captures only (repeatable; default: every site).")
@click.option("--captures", type=click.Path(file_okay=False), default=None,
              help="Capture folder (default: HRARCHIVE_CAPTURE_DIR, or captures/ beside the "
                   "archive).")
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Archive whose stories become the WACZ's pages (default: archive.db).")
@click.option("--validate/--no-validate", default=True, show_default=True,
              help="Check the result with py-wacz's validator.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Set a Scrapy or HRARCHIVE_* setting.")
def wacz(path: str, sites: tuple[str, ...], captures: str | None, db: str | None,
         validate: bool, overrides: tuple[str, ...]) -> None:
    """Write the captured WARC files to PATH as a WACZ that ReplayWeb.page and pywb open.

    Its pages are the archived stories, each at its first capture, with its title.

    \b
    Examples:
      hrarchive wacz hrhouse.wacz --site hrhouse
      hrarchive wacz all.wacz --db /srv/hr/archive.db
    """
    click.echo(export_wacz(path, sites, captures, db, validate, overrides))


def export_wacz(path: str, sites: tuple[str, ...] = (), captures: str | None = None,
                db: str | None = None, validate: bool = True,
                overrides: tuple[str, ...] = ()) -> str:
    """Write the WACZ (the work of ``hrarchive wacz``, for other commands to call too);
    returns a one-line report, raises :class:`click.ClickException` on failure."""
    from hrarchive.capture.middleware import capture_root
    from hrarchive.capture.wacz import WaczError, create_wacz, validate_wacz
    from hrarchive.capture.writer import warc_files
    from hrarchive.commands import project_settings
    from hrarchive.store.captures import wacz_pages

    settings = project_settings(db, overrides)
    root = Path(captures) if captures else capture_root(settings)
    chosen = list(sites)
    if not chosen and root.is_dir():
        chosen = sorted(p.name for p in root.iterdir() if p.is_dir())
    warcs = [w for site in chosen for w in warc_files(root / site)]
    if not warcs:
        raise click.ClickException(f"no WARC files under {root}"
                                   + (f" for {', '.join(sites)}" if sites else ""))
    pages = [p for p in wacz_pages(settings.get("HRARCHIVE_DB"))  # type: ignore[attr-defined]
             if p["site"] in chosen]
    title = f"hrarchive: {', '.join(chosen)}"
    try:
        create_wacz(Path(path), warcs, pages, title)
        if validate:
            validate_wacz(Path(path))
    except WaczError as exc:
        raise click.ClickException(f"could not write {path}:\n{exc}") from exc
    return (f"{path}: {len(warcs)} WARC file(s), {len(pages)} page(s)"
            + (", valid" if validate else ""))
