"""The archive's home page in Datasette: per-site figures, stories per month as a chart, the
latest stories.  Plain functions over the archive; the chart is an inline SVG drawn here,
so the page needs no JavaScript and no network."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from sqlite_utils import Database

from hrarchive.store.queries import site_stats

# Colour-blind-safe palette (Okabe and Ito), one colour per site in turn.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
           "#000000")


def home_figures(db: Database, latest: int = 12) -> dict[str, Any]:
    """What the home page shows: ``sites`` (figures per site), ``chart`` (SVG markup),
    ``latest`` (newest stories), ``undated`` (stories without a readable date)."""
    sites = site_stats(db)
    spans = {row[0]: (row[1], row[2]) for row in db.execute(
        "select site, min(published), max(published) from articles "
        "where published is not null and published != '' group by site")}
    for site in sites:
        first, last = spans.get(site["site"], (None, None))
        site["first_story"] = first[:10] if first else None
        site["latest_story"] = last[:10] if last else None
    months = [(str(site), str(month), int(count)) for site, month, count in db.execute(
        "select site, substr(published, 1, 7) as month, count(*) from articles "
        "where published glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' group by site, month")]
    undated = db.execute("select count(*) from articles where published is null "
                         "or published not glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*'").fetchone()[0]
    stories = [dict(zip(("id", "site", "site_name", "published", "title"), row, strict=True))
               for row in db.execute(
                   "select a.id, a.site, s.name, a.published, a.title from articles a "
                   "left join sites s on s.id = a.site "
                   "order by a.published is null, a.published desc, a.id desc limit ?",
                   [latest])]
    return {"sites": sites, "chart": monthly_chart(months, [s["site"] for s in sites]),
            "latest": stories, "undated": int(undated)}


@dataclass(frozen=True)
class _Frame:
    width: int = 960
    height: int = 200
    left: int = 44
    right: int = 12
    top: int = 12
    bottom: int = 28


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def monthly_chart(counts: list[tuple[str, str, int]], sites: list[str]) -> str:
    """Stories per month, one stacked bar a month and one colour a site, as SVG markup."""
    if not counts:
        return ""
    frame = _Frame()
    order = [s for s in sites if any(c[0] == s for c in counts)] + \
        sorted({c[0] for c in counts} - set(sites))
    colour = {site: PALETTE[i % len(PALETTE)] for i, site in enumerate(order)}
    months = _month_range(min(c[1] for c in counts), max(c[1] for c in counts))
    per_month: dict[str, dict[str, int]] = {m: {} for m in months}
    for site, month, count in counts:
        per_month[month][site] = count
    peak = max(sum(v.values()) for v in per_month.values())
    plot_w = frame.width - frame.left - frame.right
    plot_h = frame.height - frame.top - frame.bottom
    bar = plot_w / len(months)
    parts = [f'<svg class="hr-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'viewBox="0 0 {frame.width} {frame.height}" width="100%" '
             f'aria-label="Stories per month and site" data-months="{len(months)}" '
             f'data-peak="{peak}">']
    for tick in _ticks(peak):
        y = frame.top + plot_h - tick / peak * plot_h
        parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
                     f'y2="{y:.1f}" stroke="#ddd"/><text x="{frame.left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end" font-size="11">{tick}</text>')
    first_year = int(months[0][:4])
    step = max(1, (int(months[-1][:4]) - first_year + 1) // 12)  # at most a dozen labels
    for index, month in enumerate(months):
        x = frame.left + index * bar
        if (month.endswith("-01") or index == 0) and (int(month[:4]) - first_year) % step == 0:
            parts.append(f'<text x="{x:.1f}" y="{frame.height - 8}" font-size="11">'
                         f'{month[:4]}</text>')
        y = frame.top + plot_h
        for site in order:
            count = per_month[month].get(site, 0)
            if not count:
                continue
            height = count / peak * plot_h
            y -= height
            label = escape(f"{site}, {month}: {count} stor{'y' if count == 1 else 'ies'}")
            parts.append(f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(bar - 1, 0.8):.2f}" '
                         f'height="{height:.2f}" fill="{colour[site]}" '
                         f'data-site="{escape(site)}" data-month="{month}" '
                         f'data-count="{count}"><title>{label}</title></rect>')
    parts.append("</svg>")
    legend = "".join(f'<span class="hr-legend-item"><span class="hr-swatch" '
                     f'style="background:{colour[s]}"></span>{escape(s)}</span>' for s in order)
    return "".join(parts) + f'<p class="hr-legend">{legend}</p>'


def _ticks(peak: int) -> list[int]:
    """Round values for the chart's horizontal lines: at most five, up to ``peak``."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if peak / step <= 5:
            return list(range(step, peak + 1, step))
    return [peak]
