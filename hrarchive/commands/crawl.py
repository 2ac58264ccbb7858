"""``hrarchive crawl``: crawl sites into the archive through the Scrapy engine."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from hrarchive.commands import known_profiles, project_settings
from hrarchive.profiles import ProfileError, SiteProfile, load_profile


@click.command()
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
@click.option("-v", "--verbose", is_flag=True,
              help="Show the Scrapy log (LOG_LEVEL, INFO by default) and its stats on the "
                   "terminal; without it only a failed site's reason is shown, unless "
                   "LOG_FILE or LOG_LEVEL is set.")
@click.option("--jobdir", type=click.Path(file_okay=False), default=None,
              help="Keep Scrapy job state here (one folder per site), so a cleanly stopped "
                   "run resumes; the state of a killed run is discarded.")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="Be one of many crawler workers sharing this Redis (redis://HOST:PORT/N; "
                   "the HRARCHIVE_REDIS setting): claim sites of the list, keep their requests "
                   "in Redis, hand what is stored to `hrarchive writer`. The archive file is "
                   "not opened; --db only places the captures.")
@click.option("--run", "run", default=None, metavar="NAME",
              help="With --redis: the run the workers take part in, shared by all of them "
                   "(default: HRARCHIVE_RUN, else the UTC date and hour, YYYY-MM-DDTHH).")
def crawl(sites: tuple[str, ...], db: str | None, profiles: tuple[str, ...],
          base_urls: tuple[str, ...], overrides: tuple[str, ...], full: bool = False,
          since: datetime | None = None, jobdir: str | None = None,
          verbose: bool = False, redis_url: str | None = None, run: str | None = None) -> None:
    """Crawl SITES (all built-in sites when none is named) into the archive.

    Runs are incremental: archived stories are fetched again only when a sitemap, feed or
    listing says they changed, or while they are recent. Exits with status 1 if any
    site's run failed (a layout alarm, an unreachable site) or was interrupted, with one
    line per such site saying why. An archive that another crawl is writing is refused.

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
      hrarchive crawl hrhouse -v                       # the Scrapy log on the terminal
      hrarchive crawl hrhouse viasna memorial --redis redis://10.0.0.5:6379/0 \\
                                              --run 2026-11-30
    """
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.settings import SETTINGS_PRIORITIES

    from hrarchive.spiders.site import spider_for
    from hrarchive.store.guard import ArchiveError, check_archive

    settings: Any = project_settings(db, overrides)
    try:
        chosen: list[SiteProfile] = [load_profile(p) for p in profiles]
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    known = known_profiles(settings, sites, "SITES")
    chosen += [known[s] for s in sites]
    if not chosen:
        chosen = list(known.values())
    rebase = _base_urls(base_urls, [p.id for p in chosen])
    from hrarchive.cluster import worker

    redis_url = redis_url or settings.get("HRARCHIVE_REDIS") or None
    if run and not redis_url:
        raise click.BadParameter("only a worker takes part in a named run; add --redis URL",
                                 param_hint="--run")
    if redis_url:
        if jobdir:
            raise click.BadParameter("a worker keeps its requests in Redis, not in a job "
                                     "folder", param_hint="--jobdir")
        worker.configure(settings, redis_url,
                         worker.run_name(run or settings.get("HRARCHIVE_RUN") or None))
    else:
        try:
            check_archive(settings.get("HRARCHIVE_DB"))
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from exc
    quiet = not verbose and not settings.get("LOG_FILE") and \
        settings.getpriority("LOG_LEVEL") < SETTINGS_PRIORITIES["cmdline"]
    if quiet:  # the terminal gets the progress lines and, at the end, what failed
        settings.set("LOG_LEVEL", "CRITICAL", priority="cmdline")
    def make_crawler(process: CrawlerProcess, profile: SiteProfile) -> Crawler:
        spidercls = spider_for(profile)
        if jobdir:
            spidercls.custom_settings = {"JOBDIR": str(Path(jobdir) / profile.id)}
        return process.create_crawler(spidercls)

    def start(process: CrawlerProcess, crawler: Crawler, profile: SiteProfile) -> Any:
        return process.crawl(crawler, base_url=rebase.get(profile.id), full=full,
                             since=since.date().isoformat() if since else None)

    if redis_url:
        try:
            ran = worker.run_worker(settings, chosen, make_crawler, start)
        except worker.WorkerError as exc:
            raise click.ClickException(str(exc)) from exc
        if not ran:
            click.echo(f"hrarchive: nothing to crawl: every site is finished for run "
                       f"{settings.get('HRARCHIVE_RUN')} or held by another worker", err=True)
        chosen, crawlers = [p for p, _ in ran], [c for _, c in ran]
    else:
        process = CrawlerProcess(settings)
        crawlers = [make_crawler(process, profile) for profile in chosen]
        for profile, crawler in zip(chosen, crawlers, strict=True):
            start(process, crawler, profile)
        process.start()
    for crawler in crawlers:
        disk_full = crawler.stats.get_value("hrarchive/disk_full") if crawler.stats else None
        if disk_full:
            click.echo(f"hrarchive: {disk_full}; what was committed is kept, run again with free "
                       "space to fetch the rest", err=True)
    failed = False
    for profile, crawler in zip(chosen, crawlers, strict=True):
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
        if stats.get("hrarchive/crawl_status") != "finished":
            failed = True
            click.echo(f"hrarchive: {failure_line(profile.id, stats, profile.id in rebase)}"
                       + ("" if not quiet else " (details: hrarchive crawl -v, or "
                          "-s LOG_FILE=crawl.log)"), err=True)
    if failed:
        sys.exit(1)


def failure_line(site: str, stats: dict[str, Any], rebased: bool) -> str:
    """One line saying why a site's run did not finish, and what to check."""
    from hrarchive.spiders.site import UNREACHABLE_STAT

    status = stats.get("hrarchive/crawl_status") or "failed"
    reason = stats.get("hrarchive/crawl_reason") or "it stopped before it could start"
    unreachable = {key.removeprefix(UNREACHABLE_STAT): str(value)
                   for key, value in stats.items() if key.startswith(UNREACHABLE_STAT)}
    if unreachable and not stats.get("hrarchive/listing/read") \
            and not stats.get("hrarchive/article/read"):
        where = "--base-url" if rebased else "the profile's start_urls"
        hosts = "; ".join(f"{why} {host}" for host, why in sorted(unreachable.items()))
        return f"{site} {status}: {hosts}: check the network or {where}"
    return f"{site} {status}: {reason}"


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


