"""``hrarchive add-site``: a profile for a new site from its URL, with a report of what was
found and what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hrarchive.profiles import SLUG, ProfileError, load_profile


@click.command("add-site")
@click.argument("url")
@click.option("--id", "site_id", default=None,
              help="The site's id, a lower-case slug (default: from the host name).")
@click.option("--name", default=None, help="The site's name (default: as the site names itself).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Profile file to write (default: ID.toml in the current folder).")
@click.option("--base-url", default=None, metavar="URL",
              help="Fetch from this base URL instead (a mirror or a local copy); URL stays "
                   "the real site's address, as with `hrarchive crawl --base-url`.")
@click.option("--sample", default=5, show_default=True, type=click.IntRange(1, 50),
              help="How many stories to read for the report.")
@click.option("--delay", default=0.5, show_default=True, type=click.FloatRange(0),
              help="Least seconds between two requests (robots.txt Crawl-delay wins if longer).")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds to wait for each answer.")
@click.option("--force", is_flag=True, help="Replace the profile file if it exists.")
def add_site(url: str, site_id: str | None, name: str | None, output: str | None,
             base_url: str | None, sample: int, delay: float, timeout: float,
             force: bool) -> None:
    """Write a site profile for the site at URL (its home or news page) and report on it.

    Reads robots.txt and the page, finds the site's feeds, sitemaps, news listing and its
    pagination, its languages and date order, then reads a few stories exactly as a crawl
    would and reports, field by field, how many had a title, date, author, body and related
    links, with a hint for what is missing. The profile runs as is with
    `hrarchive crawl --profile`.

    \b
    Examples:
      hrarchive add-site https://humanrightshouse.org/articles/
      hrarchive add-site https://spring96.org/en/news --id viasna -o profiles/viasna.toml
      hrarchive add-site https://news.example.org/ --base-url http://127.0.0.1:8000
    """
    from scrapy.settings import SETTINGS_PRIORITIES

    from hrarchive.commands import project_settings
    from hrarchive.discover import Client, DiscoveryError, discover, profile_toml, report
    from hrarchive.discover.site import site_id as default_id
    from hrarchive.middlewares.useragent import user_agent

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("give the site's address, http:// or https://",
                                 param_hint="URL")
    if site_id is not None and not SLUG.fullmatch(site_id):
        raise click.BadParameter(f"{site_id!r} is not a lower-case slug", param_hint="--id")
    settings: Any = project_settings()
    agent = settings.get("USER_AGENT") \
        if (settings.getpriority("USER_AGENT") or 0) > SETTINGS_PRIORITIES["default"] \
        else user_agent(settings.get("HRARCHIVE_CONTACT"))  # as ContactUserAgent decides
    target = Path(output or f"{site_id or default_id(url)}.toml")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to replace it, or -o PATH")
    client = Client(url, agent, base_url=base_url, timeout=timeout, delay=delay)
    try:
        found = discover(url, client, site_id, name, sample)
    except DiscoveryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report(found))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(profile_toml(found), "utf-8")
    except OSError as exc:
        raise click.ClickException(f"could not write {target}: {exc}") from exc
    try:
        load_profile(target)
    except ProfileError as exc:  # a bug of add-site: say so rather than leave a bad file
        raise click.ClickException(f"the profile written is not valid: {exc}") from exc
    click.echo(f"\nProfile written to {target}. Try it: hrarchive crawl --profile {target}"
               + (f" --base-url {base_url}" if base_url else ""))
