"""The ``hrarchive`` command line: crawl sites into the archive and list the sites."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from hrarchive.commands import known_profiles
from hrarchive.commands.add_site import add_site
from hrarchive.commands.export import export
from hrarchive.commands.extract import extract
from hrarchive.commands.reparse import reparse
from hrarchive.commands.search import search
from hrarchive.commands.serve import serve
from hrarchive.commands.stats import stats
from hrarchive.commands.wacz import wacz
from hrarchive.profiles import BUILTIN_DIR, ProfileError, SiteProfile, load_profile, load_profiles


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


@click.group()
@click.version_option(package_name="hrarchive")
def cli() -> None:
    """Archive the news of human rights organisations into one SQLite file."""


@cli.command()
@click.argument("sites", nargs=-1)
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Archive file (default: archive.db in the current folder).")
@click.option("--profile", "profiles", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Crawl a site from a profile file outside the package (repeatable).")
@click.option("--base-url", "base_urls", multiple=True, metavar="[SITE=]URL",
              help="Fetch a site from this base URL instead (a mirror or a local copy): "
                   "URL alone with exactly one site, or SITE=URL (repeatable).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Set a Scrapy or HRARCHIVE_* setting for this run.")
@click.option("--full", is_flag=True,
              help="Walk every listing page and revalidate every archived story.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Skip stories dated before this day (YYYY-MM-DD) and stop paging there.")
@click.option("--jobdir", type=click.Path(file_okay=False), default=None,
              help="Keep Scrapy job state here (one folder per site), so a cleanly stopped "
                   "run resumes; the state of a killed run is discarded.")
def crawl(sites: tuple[str, ...], db: str | None, profiles: tuple[str, ...],
          base_urls: tuple[str, ...], overrides: tuple[str, ...], full: bool = False,
          since: datetime | None = None, jobdir: str | None = None) -> None:
    """Crawl SITES (all built-in sites when none is named) into the archive.

    Runs are incremental: archived stories are fetched again only when a sitemap, feed or
    listing says they changed, or while they are recent. Exits with status 1 if any
    site's run failed (a layout alarm, an unreachable site) or was interrupted.

    \b
    Examples:
      hrarchive crawl hrhouse
      hrarchive crawl hrhouse viasna --db /srv/archive/archive.db
      hrarchive crawl --profile my-ngo.toml
      hrarchive crawl hrhouse --base-url http://127.0.0.1:8000
      hrarchive crawl hrhouse viasna --base-url hrhouse=http://127.0.0.1:8000 \\
                                     --base-url viasna=http://127.0.0.1:8001
      hrarchive crawl hrhouse --full
      hrarchive crawl viasna --since 2024-01-01 --jobdir ~/.cache/hrarchive/jobs
    """
    from scrapy.crawler import CrawlerProcess

    from hrarchive.spiders.site import spider_for

    settings = project_settings(db, overrides)
    try:
        chosen: list[SiteProfile] = [load_profile(p) for p in profiles]
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    known = known_profiles(settings, sites, "SITES")
    chosen += [known[s] for s in sites]
    if not chosen:
        chosen = list(known.values())
    rebase = _base_urls(base_urls, [p.id for p in chosen])
    process = CrawlerProcess(settings)  # type: ignore[arg-type]
    crawlers = []
    for profile in chosen:
        spidercls = spider_for(profile)
        if jobdir:
            spidercls.custom_settings = {"JOBDIR": str(Path(jobdir) / profile.id)}
        crawler = process.create_crawler(spidercls)
        crawlers.append(crawler)
        process.crawl(crawler, base_url=rebase.get(profile.id), full=full,
                      since=since.date().isoformat() if since else None)
    process.start()
    failed = [c.spider.name if c.spider else "?" for c in crawlers
              if c.stats is None or c.stats.get_value("hrarchive/crawl_status") != "finished"]
    for crawler in crawlers:
        disk_full = crawler.stats.get_value("hrarchive/disk_full") if crawler.stats else None
        if disk_full:
            click.echo(f"hrarchive: {disk_full}; what was committed is kept, run again with free "
                       "space to fetch the rest", err=True)
    if failed:
        click.echo(f"hrarchive: crawl failed for: {', '.join(failed)}", err=True)
        sys.exit(1)


def _base_urls(values: tuple[str, ...], sites: list[str]) -> dict[str, str]:
    """``--base-url`` values as {site: url}; a bare URL needs exactly one site."""
    found: dict[str, str] = {}
    for value in values:
        site, sep, url = value.partition("=")
        if not sep or "://" in site:
            if len(sites) != 1:
                raise click.BadParameter("a bare URL needs exactly one site; use SITE=URL",
                                         param_hint="--base-url")
            site, url = sites[0], value
        if site not in sites:
            raise click.BadParameter(f"{site} is not being crawled", param_hint="--base-url")
        found[site] = url
    return found


@cli.command()
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


for command in (extract, search, export, stats, serve, reparse, wacz, add_site):
    cli.add_command(command)
