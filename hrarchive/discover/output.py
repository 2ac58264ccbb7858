"""What add-site prints and writes: the report of a discovery and the profile TOML."""

from __future__ import annotations

import dataclasses
import json

from hrarchive.discover.site import Discovery
from hrarchive.profiles import SiteProfile

API_COMMENT = '# api = "wordpress"  # the site announces its REST API'


def accepts_api() -> bool:
    """Whether this version's profiles take the ``api`` key (WordPress REST API crawling)."""
    return "api" in {f.name for f in dataclasses.fields(SiteProfile)}


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _regex(value: str) -> str:
    return f"'{value}'" if "'" not in value and "\n" not in value else _string(value)


def _strings(values: list[str]) -> str:
    inline = "[" + ", ".join(map(_string, values)) + "]"
    if len(values) <= 1 or len(inline) <= 60:
        return inline
    return "[\n" + "".join(f"  {_string(v)},\n" for v in values) + "]"


def profile_toml(found: Discovery, api_key: bool | None = None) -> str:
    """The profile add-site writes: ways in, story URLs, languages, date order, selectors."""
    api_key = accepts_api() if api_key is None else api_key
    lines = [f"# Written by `hrarchive add-site {found.url}`: review it, then run",
             "# `hrarchive crawl --profile` on this file. See the README, \"Adding a site\".",
             f"id = {_string(found.id)}", f"name = {_string(found.name)}",
             f"base_url = {_string(found.base_url)}"]
    if found.languages:
        lines.append(f"languages = {_strings(found.languages)}")
    starts = [item.url for item in found.listings]
    feeds = [url for url, count in found.feeds.items() if count]
    sitemaps = [url for url, count in found.sitemaps.items() if count]
    for key, values in (("start_urls", starts), ("feeds", feeds), ("sitemaps", sitemaps)):
        if values:
            lines.append(f"{key} = {_strings(values)}")
    if found.article_url:
        lines.append(f"article_url = {_regex(found.article_url)}")
    if found.date_order:
        lines.append(f"date_order = {_string(found.date_order)}")
    if found.trailing_slash:
        lines.append(f"trailing_slash = {_string(found.trailing_slash)}")
    if found.wordpress_api:
        lines.append('api = "wordpress"' if api_key else API_COMMENT)
    if found.article:
        lines += ["", "[article]"]
        for key, spec in found.article.items():
            lines.append(f"{key} = {_string(spec)}  # proposed by add-site from the sample")
    return "\n".join(lines) + "\n"


def report(found: Discovery, api_key: bool | None = None) -> str:
    """A plain-text account of what add-site found, for the terminal."""
    api_key = accepts_api() if api_key is None else api_key
    out = [f"{found.name} ({found.base_url}), id {found.id}", "", "Ways in:"]
    for item in found.listings:
        line = f"  listing  {item.url}  {len(item.stories)} stories"
        if item.next_page:
            line += f"; next page {item.next_page}" + \
                (f" ({item.next_stories} stories)" if item.next_stories else " (unreadable)")
        else:
            line += "; no next page found"
        out.append(line)
    for url, count in found.feeds.items():
        out.append(f"  feed     {url}  {count} stories")
    for url, count in found.sitemaps.items():
        out.append(f"  sitemap  {url}  {count} stories")
    if not (found.listings or found.feeds or found.sitemaps):
        out.append("  none found")
    if found.wordpress_api:
        how = 'api = "wordpress" written: every post is read there; api = "none" keeps the ' \
            "crawl to the listing" if api_key else "api suggested in a comment"
        out.append(f"  WordPress REST API announced at {found.wordpress_api} ({how})")
    out += ["", f"Stories: article_url = {found.article_url or '(any link on the site)'}",
            f"Languages: {', '.join(found.languages) or 'unknown'}; date order: "
            f"{found.date_order or 'not needed (no ambiguous numeric dates seen)'}"]
    if found.crawl_delay:
        out.append(f"robots.txt asks for a Crawl-delay of {found.crawl_delay:g} s "
                   "(a crawl honours it)")
    out += ["", f"Sampled {len(found.samples)} stories:"]
    for field in found.fields:
        mark = "ok" if field.found == field.sampled else "MISSING"
        out.append(f"  {field.name:<8} {field.found}/{field.sampled} {mark:<8}"
                   f"{' e.g. ' + field.example if field.example else ''}")
        if field.hint:
            out.append(f"  {'':<8} hint: {field.hint}")
    for key, spec in found.article.items():
        out.append(f"  [article] {key} = {_string(spec)} is written to the profile")
    if found.notes:
        out += ["", "Notes:", *(f"  {note}" for note in found.notes)]
    out.append(f"\n{found.requests} requests.")
    return "\n".join(out)
