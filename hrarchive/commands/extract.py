"""``hrarchive extract``: what the archive would store for one page, as JSON."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import click

from hrarchive.extract.article import extract_article
from hrarchive.extract.stored import stored_article
from hrarchive.profiles import ProfileError, SiteProfile, load_profile, load_profiles

USER_AGENT = "hrarchive/0.1 (+https://github.com/hrarchive/hrarchive; extract)"


def _fetch(url: str) -> tuple[bytes, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), dict(response.headers.items()), response.geturl()


def _profile(site: str | None, profile_path: str | None) -> SiteProfile | None:
    try:
        if profile_path:
            return load_profile(profile_path)
        if site:
            known = load_profiles()
            if site not in known:
                raise click.BadParameter(f"unknown site {site!r}; see `hrarchive sites`",
                                         param_hint="--site")
            return known[site]
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    return None


@click.command()
@click.argument("source", metavar="PATH_OR_URL")
@click.option("--url", default=None,
              help="The page's address, for a saved file (resolves links, canonical URL).")
@click.option("--site", default=None, help="Read the page with this built-in site's profile.")
@click.option("--profile", "profile_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Read the page with this profile file's selectors.")
@click.option("--charset", default=None,
              help="The charset the server declared for a saved file (else read from the page).")
@click.option("--raw", is_flag=True, help="Print the values as extracted, before normal forms.")
@click.option("--html/--no-html", "with_html", default=False,
              help="Include the cleaned body HTML (left out by default).")
def extract(source: str, url: str | None, site: str | None, profile_path: str | None,
            charset: str | None, raw: bool, with_html: bool) -> None:
    """Print what the archive would store for the page at PATH_OR_URL, as JSON.

    Use it to check a site before adding it: with no profile, this is generic extraction
    (JSON-LD, OpenGraph, microdata, <time>, then the page's densest text block).

    \b
    Examples:
      hrarchive extract https://humanrightshouse.org/articles/some-story/
      hrarchive extract page.html --url https://example.org/news/1
      hrarchive extract page.html --url https://spring96.org/be/news/72754 --site viasna
    """
    profile = _profile(site, profile_path)
    headers: dict[str, str] = {}
    if source.startswith(("http://", "https://")):
        try:
            body, headers, fetched = _fetch(source)
        except OSError as exc:
            raise click.ClickException(f"could not fetch {source}: {exc}") from exc
        page_url = url or fetched
    else:
        try:
            body = Path(source).read_bytes()
        except OSError as exc:
            raise click.ClickException(f"could not read {source}: {exc}") from exc
        page_url = url or Path(source).resolve().as_uri()
    if charset:
        headers["Content-Type"] = f"text/html; charset={charset}"
    data = extract_article(body, page_url, headers, profile.article if profile else None)
    if not raw:
        data = stored_article(data, profile.languages if profile else (),
                              profile.date_order if profile else None,
                              profile.trailing_slash if profile else None)
    if not with_html:
        data.pop("body_html", None)
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
