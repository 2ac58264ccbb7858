"""The archive in Datasette: a Datasette plugin that ``hrarchive serve`` registers.

- The home page (``templates/index.html``) shows, per site, stories, versions, takedowns,
  the first and latest story date and the last run; stories per month as a chart; the latest
  stories; a search box.
- Table pages (``templates/table.html``) keep their column descriptions folded in a
  ``<details>`` element, so the rows are on the first screen.
- Before the first request the schemas are read and every template compiled (``startup``).
- ``/-/story/{id}`` (or ``/-/story?url=URL``) shows one story: versions and what changed
  between them, teasers over time, related links in and out, attachments and captures.
  Every table and query cell that names a story (``article_id``, ``from_id``, a story's
  title...) links to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import quote

from datasette import hookimpl
from datasette.app import Datasette
from datasette.database import Database as DatasetteDatabase
from datasette.utils.asgi import Request, Response
from markupsafe import Markup
from sqlite_utils import Database

from hrarchive.web.home import home_figures
from hrarchive.web.story import find_story_id, story_page

STORY_PATH = "/-/story"
ID_COLUMNS = frozenset({"article_id", "from_id", "story_id", "linked_id"})
TITLED_TABLES = frozenset({"articles", "stories"})  # tables whose rows are stories (``id``)


async def archive_database(datasette: Datasette) -> DatasetteDatabase | None:
    """The first database served that is an hrarchive archive (has ``articles``)."""
    for database in datasette.databases.values():
        if database.name != "_internal" and await database.table_exists("articles") \
                and await database.table_exists("takedowns"):
            return database
    return None


def story_url(datasette: Datasette, story_id: Any) -> str:
    return str(datasette.urls.path(f"{STORY_PATH}/{int(story_id)}"))


@hookimpl
def startup(datasette: Datasette) -> Callable[[], Awaitable[None]]:
    """Before the first request: read the schemas and compile the templates, which the
    first page view would otherwise wait for (some 300 ms for a table page)."""
    async def warm() -> None:
        await datasette.refresh_schemas()
        for name in datasette.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
            datasette.jinja_env.get_template(name)

    return warm


@hookimpl
def extra_template_vars(template: str, datasette: Datasette) -> Callable[[], Awaitable[dict]]:
    async def home() -> dict[str, Any]:
        if template != "index.html":
            return {}
        database = await archive_database(datasette)
        if database is None:
            return {}
        figures = await database.execute_fn(lambda conn: home_figures(Database(conn)))
        figures["chart"] = Markup(figures["chart"])  # built from escaped values
        return {"hrarchive": {"database": database.name, **figures}}

    return home


@hookimpl
def render_cell(value: Any, column: str, table: str | None, row: Any,
                datasette: Datasette) -> Markup | None:
    """Cells that name a story link to its page."""
    if value is None or value == "":
        return None
    if column in ID_COLUMNS and isinstance(value, int):
        return Markup(f'<a href="{story_url(datasette, value)}">{value}</a>')
    if column != "title":
        return None
    keys = set(row.keys())
    if (table in TITLED_TABLES or (table is None and {"id", "url"} <= keys)) and "id" in keys \
            and isinstance(row["id"], int):
        href = story_url(datasette, row["id"])
    elif table == "teasers" and "url" in keys and row["url"]:
        href = datasette.urls.path(f"{STORY_PATH}?url={quote(str(row['url']), safe='')}")
    else:
        return None
    return Markup(f'<a href="{href}">{escape(str(value))}</a>')


async def story_view(request: Request, datasette: Datasette) -> Response:
    database = await archive_database(datasette)
    if database is None:
        return Response.html("No hrarchive archive is served here.", status=404)
    raw = request.url_vars.get("id")
    if raw is None:
        url = request.args.get("url") or ""
        found = await database.execute_fn(lambda conn: find_story_id(Database(conn), url))
        if found is None:
            return Response.html(await datasette.render_template(
                "hrarchive_story.html", {"missing": url, "database": database.name},
                request=request), status=404)
        return Response.redirect(story_url(datasette, found))
    page = await database.execute_fn(lambda conn: story_page(Database(conn), int(raw)))
    if page is None:
        return Response.html(await datasette.render_template(
            "hrarchive_story.html", {"missing": f"story {raw}", "database": database.name},
            request=request), status=404)
    for change in page["changes"]:
        for key in ("title", "body"):
            if change[key] is not None:
                change[key] = Markup(change[key])  # built from escaped words
    return Response.html(await datasette.render_template(
        "hrarchive_story.html", {**page, "database": database.name}, request=request))


@hookimpl
def register_routes() -> list[tuple[str, Callable[..., Awaitable[Response]]]]:
    return [(rf"^{STORY_PATH}/(?P<id>\d+)$", story_view), (rf"^{STORY_PATH}$", story_view)]
