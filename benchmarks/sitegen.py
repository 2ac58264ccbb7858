"""A deterministic synthetic WordPress-like human-rights news site, rendered on demand.

``SyntheticSite(n_stories, seed)`` writes no files: every page is rendered from the seed,
the story count and a small revision state (edit counts and modification times), so a
100,000-story site costs no disk and almost no memory.  Stories are numbered 1..N, oldest
first; story ``i`` lives at ``/articles/story-<i>-<slug>/``.

Paths served by :meth:`SyntheticSite.route`:

- ``/`` and ``/articles/`` (listing page 1), ``/articles/page/<n>/`` (newest first);
- ``/articles/story-<i>-<slug>/`` (a 60-150 KB article page);
- ``/robots.txt``, ``/wp-sitemap.xml`` (index), ``/wp-sitemap-posts-post-<k>.xml``
  (at most 5,000 URLs each), ``/sitemap.xml`` (301 to the index), ``/feed/`` (RSS, newest 20);
- anything else is a 404 page; paths missing their trailing slash get a 301.

``add_stories(k)`` publishes k new newest stories and ``edit_story(i)`` rewrites part of a
story's body and bumps its modification time; both show in every affected page and in the
``ETag``/``Last-Modified`` values of :meth:`SyntheticSite.headers_for`.  Names of people and
places are invented.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate

SITE_NAME = "Open Rights Monitor"
START_TS = int(datetime(2014, 1, 6, 8, 0, tzinfo=UTC).timestamp())
SPAN_SECONDS = 10 * 365 * 86400
SITEMAP_SIZE = 5000
FEED_SIZE = 20
MIN_PAGE_BYTES = 62_000
MAX_PAGE_BYTES = 148_000
EDIT_STEP_SECONDS = 3600
META_CACHE_LIMIT = 50_000

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip

PLACES = (
    "Varanda", "Eloria", "Bazrin", "Kestova", "Tarsk", "Moravel", "the Sundar Coast", "Ostria",
    "Calvera", "Nimbar", "the Aramis Islands", "Qeshet", "Luvonia", "Port Amaro", "Drevnia",
    "Halvern", "Zarathe", "Meridia", "Tolvany", "the Sarpent Valley", "North Kavel", "Isdora",
    "Brevik Province", "Lanthe", "Oromay", "Pellucia", "Tamsar", "Vossberg", "Yelaro", "Cendra",
)  # fmt: skip
GROUPS = (
    "journalists", "human rights defenders", "peaceful protesters", "migrant workers",
    "asylum seekers", "students", "trade unionists", "Indigenous communities", "women activists",
    "lawyers", "environmental defenders", "LGBTI people", "religious minorities", "children",
    "older people", "prisoners of conscience", "domestic workers", "refugees",
    "opposition supporters", "bloggers", "health workers", "displaced families",
)  # fmt: skip
VIOLATIONS = (
    "arbitrary detention", "enforced disappearances", "torture", "unlawful killings",
    "forced evictions", "excessive use of force", "mass surveillance", "online censorship",
    "unfair trials", "collective punishment", "forced labour", "attacks on hospitals",
    "death sentences", "travel bans", "judicial harassment", "gender-based violence",
    "internet shutdowns", "discrimination", "incommunicado detention", "house demolitions",
)  # fmt: skip
BODIES = (
    "The Human Rights Council", "The Regional Court", "Parliament", "Donor states",
    "The interior ministry", "The prosecutor's office", "The new government",
    "The national human rights commission", "The security council", "The constitutional court",
)  # fmt: skip
NOUNS = ("more promises", "impunity", "silence", "further delays", "reprisals", "excuses")
TITLE_TEMPLATES = (
    "{Place}: {group} face {violation} as authorities ignore warnings",
    "{body} must investigate {violation} in {place}",
    "New report documents {violation} against {group} in {place}",
    "{Place} authorities urged to release detained {group}",
    "Court ruling in {place} is a setback for {group}",
    "{Group} in {place} deserve justice, not {noun}",
    "Joint statement on {violation} in {place}",
    "{Place}: end the crackdown on {group}",
    "Families of {group} in {place} still waiting for answers",
    "{Place} must repeal law used to target {group}",
    "Witnesses describe {violation} in {place}",
    "Review of {place} should address {violation} of {group}",
    "{Place}: {number} {group} held after protests",
    "Open letter: stop {violation} in {place}",
    "{Place} election: {group} at risk of {violation}",
    "A year on, {violation} in {place} goes unpunished",
)  # fmt: skip
SENTENCES = (
    "Researchers documented {number} cases of {violation} in {place} between {month} and "
    "{month2} {year}.",
    "{Group} told us they had been threatened after speaking to foreign media.",
    "{body} has so far failed to open an independent investigation.",
    "Several {group} said they were held for weeks without access to a lawyer.",
    "The authorities in {place} have denied the allegations but refused to allow independent "
    "monitors into the area.",
    "According to local organisations, at least {number} {group} remain in custody.",
    "The new law, adopted in {month} {year}, gives the police broad powers to detain "
    "{group} without charge.",
    "Witnesses described how security forces used {violation} against a crowd of {group}.",
    "\"We are afraid to go home,\" one of the {group} told our researchers.",
    "International law prohibits {violation} in all circumstances.",
    "Our analysis of satellite images shows {number} structures destroyed near {place}.",
    "{body} should ensure that those responsible are brought to justice in fair trials.",
    "Relatives said they have received no information about where their loved ones are held.",
    "The case has drawn criticism from {group} across the region.",
    "In {month} {year}, a court in {place} sentenced {number} {group} after a trial that "
    "lasted less than a day.",
    "Authorities must guarantee the right to peaceful assembly and freedom of expression.",
    "Donor governments should make further support conditional on concrete reforms.",
    "Medical records reviewed by our team are consistent with the accounts of {violation}.",
    "The government has promised an inquiry, but no findings have been published.",
    "Local lawyers who took up the cases say they have faced {violation} themselves.",
    "{Group} in {place} have long reported {violation} by police and private guards.",
    "Humanitarian access to {place} remains severely restricted.",
    "Our researchers interviewed {number} people, including {group} and their families.",
    "The findings add to a growing body of evidence of {violation} in {place}.",
    "Officials in {place} did not respond to our written request for comment sent in {month}.",
    "Since {month} {year}, the pattern of {violation} has spread to at least {number} districts.",
    "Community leaders said the threats began shortly after they filed a complaint.",
    "The detainees were later transferred to a facility where visits are not allowed.",
    "Video footage verified by our digital investigations team appears to show {violation}.",
    "Many {group} fled across the border and now live in overcrowded camps.",
    "A spokesperson for the ministry said the measures were needed to protect public order.",
    "Independent experts have repeatedly called on the authorities to change course.",
    "{Group} and their relatives described a climate of fear in {place}.",
    "The authorities should immediately disclose the fate and whereabouts of all those held.",
    "Trial observers were barred from the courtroom on the first day of hearings.",
    "Under the emergency decree, gatherings of more than {number} people need prior approval.",
)  # fmt: skip
COMMENTS = (
    "Thank you for documenting this. The world needs to know what is happening.",
    "I signed the petition and shared it with my colleagues.",
    "Is there an update on the case of the detained lawyers?",
    "This is heartbreaking. What can people abroad do to help?",
    "Our local group will raise this at the next town meeting.",
    "The report is thorough, but the government response has been disappointing.",
    "Please translate this article so more people can read it.",
    "Solidarity with everyone still waiting for news of their families.",
)  # fmt: skip
FIRST_NAMES = (
    "Ilse", "Tomas", "Nadia", "Oren", "Lucia", "Kofi", "Mirela", "Anouk", "Rafi", "Soraya",
    "Bastien", "Yuna", "Dariel", "Maren", "Ezio", "Leontine",
)  # fmt: skip
LAST_NAMES = (
    "Varkoy", "Delmaro", "Ostrand", "Quillane", "Bertovic", "Amsel", "Carrow", "Nyvelt",
    "Tessaro", "Halvik", "Moorcraft", "Brannoc", "Ferlane", "Ulvaro",
)  # fmt: skip
TOPICS = (
    "Arms control", "Business and human rights", "Children's rights", "Climate justice",
    "Death penalty", "Detention", "Discrimination", "Disappearances", "Freedom of expression",
    "Health", "Housing", "Indigenous peoples", "International justice", "Labour rights",
    "LGBTI rights", "Migration", "Police and human rights", "Poverty", "Refugees",
    "Religious freedom", "Surveillance", "Technology", "Torture", "Women's rights",
    "Armed conflict", "Corporate accountability", "Education", "Elections", "Land rights",
    "Water and sanitation",
)  # fmt: skip
CAMPAIGNS = (
    "Write for Rights", "Free the defenders", "Stop torture", "Protect the protest",
    "Ban killer robots", "End the death penalty", "Open the prisons", "Safe passage",
    "My body my rights", "Justice for families", "Unlock the internet", "Land is life",
    "Fair trials now", "No to evictions", "Climate defenders", "Brave voices",
    "Refugees welcome", "Pay fair", "Truth commission", "Stand with students",
)  # fmt: skip
RESOURCES = (
    "Reports", "Annual report", "Briefings", "Policy papers", "Legal submissions",
    "Country profiles", "Datasets", "Toolkits", "Training", "Videos", "Podcasts", "Photo essays",
    "Maps", "Timelines", "Press releases", "Statements", "Open letters", "Research methods",
    "Glossary", "Library",
)  # fmt: skip
ABOUT = (
    "Who we are", "Our history", "How we work", "Leadership", "Staff", "Board", "Finances",
    "Annual accounts", "Careers", "Offices", "Partners", "Accountability", "Safeguarding",
    "Contact us", "Press office",
)  # fmt: skip
ACTIONS = (
    "Donate", "Volunteer", "Join a group", "Take action", "Sign petitions", "Events",
    "Fundraise", "Leave a gift", "Corporate giving", "Shop", "Newsletter", "Youth network",
    "Educators", "Student groups", "Local groups",
)  # fmt: skip
OFFICES = (
    "Varanda City", "Port Amaro", "Halvern", "Lanthe", "Isdora", "Cendra", "Tamsar", "Yelaro",
)  # fmt: skip
SHARE_SITES = (
    ("Facebook", "https://www.facebook.com/sharer/sharer.php?u="),
    ("X", "https://twitter.com/intent/tweet?url="),
    ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?url="),
    ("WhatsApp", "https://api.whatsapp.com/send?text="),
    ("Email", "mailto:?body="),
)
NUMBERS = ("3", "7", "12", "19", "24", "40", "56", "85", "120", "300", "1200")
SLOT_WORDS: dict[str, Sequence[str]] = {
    "place": PLACES,
    "group": GROUPS,
    "violation": VIOLATIONS,
    "body": BODIES,
    "noun": NOUNS,
    "number": NUMBERS,
}
_PARSED: dict[str, list[tuple[str, str | None]]] = {}
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_ARTICLE_RE = re.compile(r"^/articles/story-(\d+)-([a-z0-9-]+)/$")
_LISTING_RE = re.compile(r"^/articles/page/(\d+)/$")
_SITEMAP_RE = re.compile(r"^/wp-sitemap-posts-post-(\d+)\.xml$")
_FIXED = {
    "/": ("listing", 1),
    "/articles/": ("listing", 1),
    "/robots.txt": ("robots", 0),
    "/wp-sitemap.xml": ("sitemap_index", 0),
    "/feed/": ("feed", 0),
}
_MOVED = {"/sitemap.xml": "/wp-sitemap.xml", "/feed": "/feed/", "/articles": "/articles/"}


@dataclass(frozen=True)
class Story:
    """The fixed (never edited) facts of one story."""

    index: int
    title: str
    slug: str
    summary: str
    author: str
    place: str
    group: str
    violation: str
    tags: tuple[str, ...]
    topic: str
    paragraphs: int
    target_bytes: int
    year: int = 2020


@dataclass(frozen=True)
class Target:
    """What a path resolves to: a page kind and its number, or a redirect location."""

    kind: str
    number: int = 0
    location: str = ""


def slugify(text: str, limit: int = 100) -> str:
    """A WordPress-style slug: lowercase words joined by hyphens, cut at a word boundary."""
    slug = _SLUG_RE.sub("-", text.lower()).strip("-")
    if len(slug) <= limit:
        return slug
    return slug[:limit].rsplit("-", 1)[0]


def iso_time(ts: int) -> str:
    """``2019-03-04T10:00:00+00:00`` for a Unix time."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def human_date(ts: int) -> str:
    """``March 4, 2019`` for a Unix time."""
    day = datetime.fromtimestamp(ts, UTC)
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def http_date(ts: int) -> str:
    """An RFC 7231 date for a Unix time."""
    return formatdate(ts, usegmt=True)


def make_etag(key: str) -> str:
    """A strong ETag derived from a version key."""
    return '"' + hashlib.sha1(key.encode()).hexdigest()[:20] + '"'


def pick(rng: random.Random, items: Sequence[str]) -> str:
    """A random item (a faster ``rng.choice``)."""
    return items[int(rng.random() * len(items))]


def parse_template(template: str) -> list[tuple[str, str | None]]:
    """A template's (literal, slot name) parts, parsed once."""
    parts = _PARSED.get(template)
    if parts is None:
        parsed = string.Formatter().parse(template)
        parts = _PARSED[template] = [(literal, name) for literal, name, _, _ in parsed]
    return parts


def slot(name: str, rng: random.Random, own: Story | None, year: int) -> str:
    """A value for one template slot; capitalised slot names give capitalised values."""
    key = name.lower()
    if own is not None and key in ("place", "group", "violation"):
        value = str(getattr(own, key))
    elif key == "year":
        value = str(year - int(rng.random() * 3))
    else:
        value = pick(rng, SLOT_WORDS[key])
    return value[0].upper() + value[1:] if name[0].isupper() else value


def fill(template: str, rng: random.Random, story: Story | None = None) -> str:
    """Fill a template's slots, preferring the story's own place, group and violation."""
    own = story if story is not None and rng.random() < 0.7 else None
    year = story.year if story else 2020
    month = int(rng.random() * 12)
    out: list[str] = []
    for literal, name in parse_template(template):
        out.append(literal)
        if name == "month":
            out.append(MONTHS[month])
        elif name == "month2":
            out.append(MONTHS[min(11, month + 1 + int(rng.random() * 4))])
        elif name:
            out.append(slot(name, rng, own, year))
    return "".join(out)


def paragraph(rng: random.Random, story: Story) -> str:
    """Three to six sentences of news prose about the story's subject."""
    templates = rng.sample(SENTENCES, rng.randint(3, 6))
    return " ".join(fill(template, rng, story) for template in templates)


def person(rng: random.Random) -> str:
    """An invented person's name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def esc(text: str) -> str:
    """HTML-escape text for element content and attribute values."""
    return html.escape(text, quote=True)


def link_list(items: Sequence[tuple[str, str]], css: str) -> str:
    """A ``<ul>`` of links from (href, text) pairs."""
    rows = "".join(f'<li class="menu-item"><a href="{esc(h)}">{esc(t)}</a></li>' for h, t in items)
    return f'<ul class="{css}">{rows}</ul>'


def build_pad(seed: int, kind: str, size: int) -> str:
    """A long run of newline-separated CSS rules or JS statements, for page padding."""
    rng = random.Random(f"{seed}/pad/{kind}")
    lines: list[str] = []
    total = 0
    k = 0
    while total < size:
        k += 1
        if kind == "css":
            line = (
                f".wp-block-{rng.choice(('group', 'cover', 'columns', 'media-text'))}-{k} "
                f".has-{rng.choice(('large', 'small', 'accent', 'muted'))}-text{{margin:"
                f"{rng.randint(0, 48)}px {rng.randint(0, 32)}px;padding:{rng.random():.3f}em;"
                f"color:#{rng.getrandbits(24):06x};line-height:{1 + rng.random():.2f}}}"
            )
        else:
            event = {"id": k, "ev": rng.choice(("view", "scroll", "click")), "w": rng.random()}
            line = f"window.dataLayer.push({json.dumps(event)});"
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def pad_slice(pad: str, start: int, need: int) -> str:
    """About ``need`` characters of whole lines of ``pad`` beginning near ``start``."""
    if need <= 0:
        return ""
    start = pad.index("\n", start % max(1, len(pad) - need - 2)) + 1
    chunk = pad[start : start + need]
    return chunk[: chunk.rfind("\n") + 1]


class SyntheticSite:
    """A synthetic human-rights news site of ``n_stories`` stories, rendered on demand."""

    def __init__(
        self, n_stories: int = 10_000, seed: int = 1, per_page: int = 10, base_url: str = ""
    ) -> None:
        if n_stories < 1 or per_page < 1:
            raise ValueError("n_stories and per_page must be positive")
        self.n_stories = n_stories
        self.seed = seed
        self.per_page = per_page
        self.base_url = base_url.rstrip("/")
        self.edits: dict[int, int] = {}
        self.modified: dict[int, int] = {}
        self._step = SPAN_SECONDS / n_stories
        self._clock = self.published(n_stories)
        self._meta: dict[int, Story] = {}
        self._chrome: dict[str, tuple[str, str]] = {}
        self._pads: dict[str, str] = {}
        self._cache: dict[str, bytes] = {}

    # ----- state -------------------------------------------------------------------------

    def revision(self) -> dict[str, object]:
        """A JSON-able snapshot of the mutable state (story count, edits, modified times)."""
        return {
            "n_stories": self.n_stories,
            "edits": {str(i): n for i, n in self.edits.items()},
            "modified": {str(i): t for i, t in self.modified.items()},
        }

    def add_stories(self, k: int) -> list[int]:
        """Publish ``k`` new stories (newest); return their indices."""
        first = self.n_stories + 1
        self.n_stories += k
        self._clock = max(self._clock, self.published(self.n_stories))
        return list(range(first, self.n_stories + 1))

    def edit_story(self, i: int, at: int | None = None) -> int:
        """Rewrite part of story ``i``'s body and bump its modification time; return it.

        The time is an hour after the site's latest event, or ``at`` (Unix seconds) when
        that is later: a site served to a crawler stamps an edit when it is made, after the
        crawl that fetched the earlier version (see :meth:`SiteServer.edit_story`)."""
        self._check(i)
        step = max(self._clock, self.published(self.n_stories)) + EDIT_STEP_SECONDS
        self._clock = max(step, at or 0)
        self.edits[i] = self.edits.get(i, 0) + 1
        self.modified[i] = self._clock
        return self._clock

    def _check(self, i: int) -> None:
        if not 1 <= i <= self.n_stories:
            raise IndexError(f"no story {i} (site has {self.n_stories})")

    # ----- story facts ---------------------------------------------------------------------

    def published(self, i: int) -> int:
        """Publication time of story ``i`` (Unix seconds, whole minutes, rising with i)."""
        jitter = ((i * 2654435761 + self.seed * 40503) % 1000) / 2000
        return int(START_TS + (i - 1 + jitter) * self._step) // 60 * 60

    def modified_at(self, i: int) -> int:
        """Last modification time of story ``i``."""
        return self.modified.get(i, self.published(i))

    def story(self, i: int) -> Story:
        """The fixed facts of story ``i`` (cached)."""
        found = self._meta.get(i)
        if found is None:
            if len(self._meta) >= META_CACHE_LIMIT:
                self._meta.clear()
            found = self._meta[i] = self._make_story(i)
        return found

    def _make_story(self, i: int) -> Story:
        rng = random.Random(f"{self.seed}/{i}")
        place, group, violation = rng.choice(PLACES), rng.choice(GROUPS), rng.choice(VIOLATIONS)
        year = datetime.fromtimestamp(self.published(i), UTC).year
        base = Story(i, "", "", "", "", place, group, violation, (), "", 0, 0, year)
        title = fill(rng.choice(TITLE_TEMPLATES), rng, base)
        summary = " ".join(fill(t, rng, base) for t in rng.sample(SENTENCES, 2))
        topic = rng.choice(TOPICS)
        tags = (topic, place.removeprefix("the ").title(), group.capitalize(), violation.title())
        return Story(
            i, title, slugify(title), summary, person(rng), place, group, violation,
            tags[: rng.randint(2, 4)], topic, rng.randint(6, 20),
            rng.randint(MIN_PAGE_BYTES, MAX_PAGE_BYTES), year,
        )  # fmt: skip

    def body(self, i: int) -> list[str]:
        """The paragraphs of story ``i``'s body at its current revision."""
        story = self.story(i)
        rng = random.Random(f"{self.seed}/{i}/body")
        paras = [paragraph(rng, story) for _ in range(story.paragraphs)]
        revision = self.edits.get(i, 0)
        for r in range(1, revision + 1):
            erng = random.Random(f"{self.seed}/{i}/edit/{r}")
            paras[erng.randrange(len(paras))] = paragraph(erng, story)
        if revision:
            when = human_date(self.modified_at(i))
            note = paragraph(random.Random(f"{self.seed}/{i}/note/{revision}"), story)
            paras.insert(0, f"Update, {when}: {note}")
        return paras

    # ----- urls ----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """An absolute URL (or root-relative path when ``base_url`` is empty)."""
        return self.base_url + path

    def article_path(self, i: int) -> str:
        """The path of story ``i``."""
        return f"/articles/story-{i}-{self.story(i).slug}/"

    def listing_path(self, page: int) -> str:
        """The path of listing page ``page``."""
        return "/articles/" if page == 1 else f"/articles/page/{page}/"

    def page_count(self) -> int:
        """Number of listing pages."""
        return -(-self.n_stories // self.per_page)

    def sitemap_count(self) -> int:
        """Number of sitemap pages."""
        return -(-self.n_stories // SITEMAP_SIZE)

    def listing_indices(self, page: int) -> range:
        """Story indices on listing page ``page``, newest first."""
        top = self.n_stories - (page - 1) * self.per_page
        return range(top, max(0, top - self.per_page), -1)

    def sitemap_indices(self, page: int) -> range:
        """Story indices in sitemap page ``page``, oldest first."""
        first = (page - 1) * SITEMAP_SIZE + 1
        return range(first, min(self.n_stories, first + SITEMAP_SIZE - 1) + 1)

    # ----- routing -------------------------------------------------------------------------

    def resolve(self, path: str) -> Target:
        """What ``path`` (query ignored) refers to."""
        path = path.split("?", 1)[0].split("#", 1)[0] or "/"
        if path in _FIXED:
            kind, number = _FIXED[path]
            return Target(kind, number)
        if path in _MOVED:
            return Target("redirect", location=_MOVED[path])
        if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
            moved = self.resolve(path + "/")
            return Target("redirect", location=path + "/") if moved.kind != "missing" else moved
        return self._resolve_numbered(path)

    def _resolve_numbered(self, path: str) -> Target:
        if match := _ARTICLE_RE.match(path):
            i = int(match[1])
            if not 1 <= i <= self.n_stories:
                return Target("missing")
            if match[2] != self.story(i).slug:
                return Target("redirect", location=self.article_path(i))
            return Target("article", i)
        if match := _LISTING_RE.match(path):
            page = int(match[1])
            if page == 1:
                return Target("redirect", location="/articles/")
            return Target("listing", page) if 1 < page <= self.page_count() else Target("missing")
        if match := _SITEMAP_RE.match(path):
            page = int(match[1])
            return (
                Target("sitemap", page) if 1 <= page <= self.sitemap_count() else Target("missing")
            )
        return Target("missing")

    def headers_for(self, path: str) -> dict[str, str]:
        """Response headers for ``path`` without rendering it (ETag/Last-Modified on 200s)."""
        return self._headers(self.resolve(path))

    def _headers(self, target: Target) -> dict[str, str]:
        if target.kind == "redirect":
            return {"Location": self.url(target.location), "Content-Type": "text/html"}
        if target.kind == "missing":
            return {"Content-Type": "text/html; charset=UTF-8", "Cache-Control": "no-cache"}
        key, stamp = self._version(target)
        return {
            "Content-Type": CONTENT_TYPES[target.kind],
            "ETag": make_etag(f"{self.seed}|{self.base_url}|{target.kind}|{key}"),
            "Last-Modified": http_date(stamp),
            "Cache-Control": "max-age=0, must-revalidate",
        }

    def _version(self, target: Target) -> tuple[str, int]:
        """A key that changes whenever the page's bytes change, and its modification time."""
        kind, n = target.kind, target.number
        if kind == "article":
            has_next = n < self.n_stories
            return f"{n}|{self.edits.get(n, 0)}|{has_next}", self.modified_at(n)
        if kind == "listing":
            top = self.listing_indices(n)[0]
            return f"{n}|{self.n_stories}|{self.per_page}", self.published(top)
        if kind == "sitemap":
            edits = self._edits_in(self.sitemap_indices(n))
            return f"{n}|{self.sitemap_indices(n).stop}|{edits}", self._sitemap_stamp(n)
        if kind == "sitemap_index":
            stamps = [self._sitemap_stamp(k) for k in range(1, self.sitemap_count() + 1)]
            return f"{stamps}", max(stamps)
        if kind == "feed":
            newest = self.n_stories
            edits = self._edits_in(range(max(1, newest - FEED_SIZE + 1), newest + 1))
            return f"{newest}|{edits}", self._feed_stamp()
        return "robots", START_TS

    def _edits_in(self, indices: range) -> list[tuple[int, int]]:
        return sorted((i, n) for i, n in self.edits.items() if i in indices)

    def _sitemap_stamp(self, page: int) -> int:
        indices = self.sitemap_indices(page)
        edited = [self.modified[i] for i in self.modified if i in indices]
        return max([self.published(indices[-1]), *edited])

    def _feed_stamp(self) -> int:
        return max(self.modified_at(i) for i in self._feed_indices())

    def _feed_indices(self) -> range:
        return range(self.n_stories, max(0, self.n_stories - FEED_SIZE), -1)

    def route(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for ``path``; unknown paths get a 404 page."""
        target = self.resolve(path)
        headers = self._headers(target)
        if target.kind == "redirect":
            return 301, headers, b""
        if target.kind == "missing":
            return 404, headers, self.not_found()
        return 200, headers, self._render(target, headers["ETag"])

    def _render(self, target: Target, etag: str) -> bytes:
        if target.kind not in CACHED_KINDS:
            return self._render_fresh(target)
        found = self._cache.get(etag)
        if found is None:
            if len(self._cache) >= 64:
                self._cache.clear()
            found = self._cache[etag] = self._render_fresh(target)
        return found

    def _render_fresh(self, target: Target) -> bytes:
        kind, n = target.kind, target.number
        if kind == "article":
            return self.article(n)
        if kind == "listing":
            return self.listing(n)
        if kind == "sitemap":
            return self.sitemap(n)
        if kind == "sitemap_index":
            return self.sitemap()
        if kind == "feed":
            return self.feed()
        return self.robots()

    # ----- shared page parts ---------------------------------------------------------------

    def chrome(self) -> tuple[str, str]:
        """The site header (with its ~150-link mega menu) and footer, cached per base URL."""
        found = self._chrome.get(self.base_url)
        if found is None:
            found = self._chrome[self.base_url] = (self._header_html(), self._footer_html())
        return found

    def _menu_section(self, title: str, prefix: str, names: Sequence[str]) -> str:
        links = [(self.url(f"{prefix}{slugify(name)}/"), name) for name in names]
        return (
            f'<li class="menu-item mega-column"><span class="mega-title">{esc(title)}</span>'
            f"{link_list(links, 'sub-menu')}</li>"
        )

    def _header_html(self) -> str:
        places = [p.removeprefix("the ").title() for p in PLACES]
        sections = (
            self._menu_section("Issues", "/issues/", TOPICS)
            + self._menu_section("Countries", "/countries/", places)
            + self._menu_section("Campaigns", "/campaigns/", CAMPAIGNS)
            + self._menu_section("Research", "/research/", RESOURCES)
            + self._menu_section("Get involved", "/get-involved/", ACTIONS)
            + self._menu_section("About us", "/about/", ABOUT)
        )
        top = [("/articles/", "News"), ("/research/", "Research"), ("/about/", "About")]
        top_links = link_list([(self.url(h), t) for h, t in top], "top-menu")
        return (
            f'<a class="skip-link screen-reader-text" href="#main">Skip to content</a>'
            f'<header id="masthead" class="site-header"><div class="site-branding">'
            f'<a href="{self.url("/")}" rel="home" class="custom-logo-link">'
            f'<img src="{self.url("/wp-content/uploads/logo.svg")}" alt="{SITE_NAME}" '
            f'width="220" height="48"></a><p class="site-title">{SITE_NAME}</p></div>'
            f'<nav id="site-navigation" class="main-navigation" aria-label="Primary">{top_links}'
            f'<ul id="mega-menu" class="menu mega-menu">{sections}</ul></nav>'
            f'<form role="search" class="search-form" action="{self.url("/")}">'
            f'<input type="search" name="s" placeholder="Search"><button>Search</button></form>'
            f'<a class="button donate" href="{self.url("/get-involved/donate/")}">Donate</a>'
            f"</header>"
        )

    def _footer_html(self) -> str:
        offices = "".join(
            f'<li class="office"><strong>{city}</strong><br>{10 + k * 7} Harbour Street, '
            f"{city}<br>Tel: +00 {k}55 0100 {k:02d}</li>"
            for k, city in enumerate(OFFICES)
        )
        legal = [("/privacy/", "Privacy"), ("/cookies/", "Cookies"), ("/terms/", "Terms of use")]
        social = [(f"https://social.example/{slugify(SITE_NAME)}/{n}", n) for n in
                  ("Mastodon", "Bluesky", "Instagram", "YouTube", "LinkedIn")]  # fmt: skip
        about = [(self.url(f"/about/{slugify(n)}/"), n) for n in ABOUT]
        legal_links = [(self.url(h), t) for h, t in legal]
        return (
            f'<footer id="colophon" class="site-footer"><div class="footer-widgets">'
            f'<section class="widget"><h2>Our offices</h2><ul class="offices">{offices}</ul>'
            f'</section><section class="widget"><h2>About</h2>{link_list(about, "menu")}'
            f'</section><section class="widget"><h2>Follow us</h2>{link_list(social, "social")}'
            f'</section><section class="widget newsletter"><h2>Newsletter</h2>'
            f'<form action="{self.url("/newsletter/")}" method="post"><input type="email" '
            f'name="email" required><button type="submit">Subscribe</button></form></section>'
            f'</div><div class="site-info">{link_list(legal_links, "legal")}'
            f"<p>&copy; 2014-2025 {SITE_NAME}. Registered charity no. 000000. Content licensed "
            f"under CC BY-NC-ND 4.0 unless otherwise stated.</p></div></footer>"
        )

    def _cookie_banner(self) -> str:
        return (
            '<div id="cookie-notice" role="dialog" aria-live="polite" class="cookie-banner">'
            "<p>We use cookies to understand how people use our website and to improve it. "
            f'See our <a href="{self.url("/cookies/")}">cookie policy</a>.</p>'
            '<button id="cn-accept-cookie" class="button">Accept all</button>'
            '<button id="cn-refuse-cookie" class="button">Only necessary</button></div>'
            "<script>document.getElementById('cn-accept-cookie').addEventListener('click',"
            "function(){document.cookie='cookie_notice_accepted=true;path=/;max-age=31536000';"
            "document.getElementById('cookie-notice').remove();});</script>"
        )

    def _head_common(self, title: str, canonical: str) -> str:
        return (
            '<!DOCTYPE html>\n<html lang="en-US"><head><meta charset="UTF-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)} - {SITE_NAME}</title>"
            f'<link rel="canonical" href="{esc(canonical)}">'
            f'<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} &raquo; Feed" '
            f'href="{self.url("/feed/")}">'
            f'<link rel="stylesheet" id="theme-css" '
            f'href="{self.url("/wp-content/themes/orm/style.css")}?ver=6.4.2" media="all">'
        )

    def _pad(self, kind: str) -> str:
        found = self._pads.get(kind)
        if found is None:
            found = self._pads[kind] = build_pad(self.seed, kind, 2 * MAX_PAGE_BYTES)
        return found

    # ----- pages ---------------------------------------------------------------------------

    def robots(self) -> bytes:
        """``/robots.txt``."""
        return (
            "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"
            f"Disallow: /?s=\nDisallow: /search/\n\nSitemap: {self.url('/wp-sitemap.xml')}\n"
        ).encode()

    def sitemap(self, page: int | None = None) -> bytes:
        """The sitemap index (``page=None``) or one sitemap page of at most 5,000 URLs."""
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        if page is None:
            rows = "".join(
                f"<sitemap><loc>{self.url(f'/wp-sitemap-posts-post-{k}.xml')}</loc>"
                f"<lastmod>{iso_time(self._sitemap_stamp(k))}</lastmod></sitemap>\n"
                for k in range(1, self.sitemap_count() + 1)
            )
            return f"{head}<sitemapindex {ns}>\n{rows}</sitemapindex>\n".encode()
        rows = "".join(
            f"<url><loc>{self.url(self.article_path(i))}</loc>"
            f"<lastmod>{iso_time(self.modified_at(i))}</lastmod></url>\n"
            for i in self.sitemap_indices(page)
        )
        return f"{head}<urlset {ns}>\n{rows}</urlset>\n".encode()

    def feed(self) -> bytes:
        """RSS 2.0 feed of the newest 20 stories, with full text in ``content:encoded``."""
        items = "".join(self._feed_item(i) for i in self._feed_indices())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>{SITE_NAME}</title><link>{self.url('/')}</link>"
            f'<atom:link href="{self.url("/feed/")}" rel="self" type="application/rss+xml"/>'
            "<description>News and research on human rights</description>"
            f"<lastBuildDate>{http_date(self._feed_stamp())}</lastBuildDate>"
            f"<language>en-US</language>{items}</channel></rss>\n"
        ).encode()

    def _feed_item(self, i: int) -> str:
        story = self.story(i)
        link = self.url(self.article_path(i))
        body = "".join(f"<p>{esc(p)}</p>" for p in self.body(i))
        return (
            f"<item><title>{esc(story.title)}</title><link>{link}</link>"
            f"<dc:creator><![CDATA[{story.author}]]></dc:creator>"
            f"<pubDate>{http_date(self.published(i))}</pubDate>"
            f"<category><![CDATA[{story.topic}]]></category>"
            f'<guid isPermaLink="false">{self.url(f"/?p={i}")}</guid>'
            f"<description>{esc(story.summary)}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )

    def not_found(self) -> bytes:
        """The 404 page."""
        header, footer = self.chrome()
        return (
            self._head_common("Page not found", self.url("/404/"))
            + '</head><body class="error404">'
            + header
            + '<main id="main"><h1 class="page-title">Oops! That page can&rsquo;t be found.</h1>'
            + f'<p>Try the <a href="{self.url("/articles/")}">latest news</a>.</p></main>'
            + footer
            + "</body></html>\n"
        ).encode()

    def listing(self, page: int) -> bytes:
        """Listing page ``page`` (1 = ``/articles/``): ten teasers, newest first."""
        if not 1 <= page <= self.page_count():
            raise IndexError(f"no listing page {page}")
        header, footer = self.chrome()
        title = "News" if page == 1 else f"News - Page {page} of {self.page_count()}"
        teasers = "".join(self._teaser(i) for i in self.listing_indices(page))
        classes = "blog archive" + (f" paged paged-{page}" if page > 1 else "")
        return (
            self._head_common(title, self.url(self.listing_path(page)))
            + self._rel_links(page)
            + f'</head><body class="{classes}">'
            + header
            + '<main id="main" class="site-main"><header class="page-header">'
            + '<h1 class="page-title">News</h1></header>'
            + teasers
            + self._pagination(page)
            + "</main>"
            + footer
            + "</body></html>\n"
        ).encode()

    def _rel_links(self, page: int) -> str:
        links = ""
        if page > 1:
            links += f'<link rel="prev" href="{self.url(self.listing_path(page - 1))}">'
        if page < self.page_count():
            links += f'<link rel="next" href="{self.url(self.listing_path(page + 1))}">'
        return links

    def _teaser(self, i: int) -> str:
        story = self.story(i)
        link = self.url(self.article_path(i))
        ts = self.published(i)
        return (
            f'<article id="post-{i}" class="post">'
            f'<a class="post-thumbnail" href="{link}" aria-hidden="true" tabindex="-1">'
            f'<img src="{self._image(i, "640x360")}" alt="" width="640" height="360" '
            f'loading="lazy"></a><header class="entry-header">'
            f'<h2 class="entry-title"><a href="{link}" rel="bookmark">{esc(story.title)}</a></h2>'
            f'<div class="entry-meta"><span class="posted-on"><time class="entry-date published" '
            f'datetime="{iso_time(ts)}">{human_date(ts)}</time></span> <span class="cat-links">'
            f'<a href="{self.url(f"/issues/{slugify(story.topic)}/")}" rel="category tag">'
            f"{esc(story.topic)}</a></span></div></header>"
            f'<div class="entry-summary"><p>{esc(story.summary)}</p></div></article>\n'
        )

    def _image(self, i: int, size: str) -> str:
        day = datetime.fromtimestamp(self.published(i), UTC)
        return self.url(f"/wp-content/uploads/{day.year}/{day.month:02d}/story-{i}-{size}.jpg")

    def _pagination(self, page: int) -> str:
        last = self.page_count()
        shown = sorted(
            k for k in {1, 2, page - 1, page, page + 1, last - 1, last} if 1 <= k <= last
        )
        parts: list[str] = []
        if page > 1:
            href = self.url(self.listing_path(page - 1))
            parts.append(f'<a class="prev page-numbers" href="{href}">Previous</a>')
        previous = 0
        for k in shown:
            if k > previous + 1:
                parts.append('<span class="page-numbers dots">&hellip;</span>')
            if k == page:
                parts.append(f'<span aria-current="page" class="page-numbers current">{k}</span>')
            else:
                parts.append(
                    f'<a class="page-numbers" href="{self.url(self.listing_path(k))}">{k}</a>'
                )
            previous = k
        if page < last:
            href = self.url(self.listing_path(page + 1))
            parts.append(f'<a class="next page-numbers" href="{href}">Next</a>')
        return (
            '<nav class="navigation pagination" aria-label="Posts">'
            '<h2 class="screen-reader-text">Posts navigation</h2>'
            f'<div class="nav-links">{"".join(parts)}</div></nav>'
        )

    def article(self, i: int) -> bytes:
        """The full page of story ``i``, padded with inline CSS/JS to its 60-150 KB size."""
        self._check(i)
        story = self.story(i)
        header, footer = self.chrome()
        head = self._head_common(story.title, self.url(self.article_path(i))) + self._meta_tags(i)
        main = self._article_main(i)
        rest = (
            f'</head><body class="post-template-default single single-post postid-{i}">'
            + self._cookie_banner()
            + header
            + main
            + footer
        )
        fixed = len(head) + len(rest) + 120
        need = story.target_bytes - fixed
        css = pad_slice(self._pad("css"), i * 7919, need * 3 // 5)
        js = pad_slice(self._pad("js"), i * 104729, need - len(css))
        return (
            f'{head}<style id="wp-custom-css">\n{css}</style>{rest}'
            f"<script>window.dataLayer=window.dataLayer||[];\n{js}</script></body></html>\n"
        ).encode()

    def _meta_tags(self, i: int) -> str:
        story = self.story(i)
        link = self.url(self.article_path(i))
        published, modified = iso_time(self.published(i)), iso_time(self.modified_at(i))
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": story.title,
            "description": story.summary,
            "datePublished": published,
            "dateModified": modified,
            "author": {"@type": "Person", "name": story.author},
            "publisher": {"@type": "Organization", "name": SITE_NAME},
            "mainEntityOfPage": link,
            "image": self._image(i, "1200x675"),
            "articleSection": story.topic,
            "keywords": list(story.tags),
        }
        return (
            f'<meta name="description" content="{esc(story.summary)}">'
            '<meta property="og:locale" content="en_US"><meta property="og:type" content="article">'
            f'<meta property="og:title" content="{esc(story.title)}">'
            f'<meta property="og:description" content="{esc(story.summary)}">'
            f'<meta property="og:url" content="{link}">'
            f'<meta property="og:site_name" content="{SITE_NAME}">'
            f'<meta property="og:image" content="{self._image(i, "1200x675")}">'
            f'<meta property="article:published_time" content="{published}">'
            f'<meta property="article:modified_time" content="{modified}">'
            f'<meta name="author" content="{esc(story.author)}">'
            '<meta name="twitter:card" content="summary_large_image">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        )

    def _article_main(self, i: int) -> str:
        story = self.story(i)
        ts = self.published(i)
        paras = self.body(i)
        middle = len(paras) // 2
        content = "".join(f"<p>{esc(p)}</p>" for p in paras[:middle])
        content += f"<h2>What needs to happen in {esc(story.place)}</h2>"
        content += "".join(f"<p>{esc(p)}</p>" for p in paras[middle:])
        tags = "".join(
            f'<a href="{self.url(f"/tag/{slugify(t)}/")}" rel="tag">{esc(t)}</a>'
            for t in story.tags
        )
        return (
            f'<main id="main" class="site-main"><article id="post-{i}" class="post-{i} post '
            f'type-post status-publish format-standard has-post-thumbnail hentry">'
            f'<header class="entry-header"><h1 class="entry-title">{esc(story.title)}</h1>'
            f'<div class="entry-meta"><span class="posted-on"><time class="entry-date published" '
            f'datetime="{iso_time(ts)}">{human_date(ts)}</time></span> <span class="byline">By '
            f'<span class="author vcard">{esc(story.author)}</span></span></div></header>'
            f'<figure class="post-thumbnail"><img src="{self._image(i, "1200x675")}" alt="" '
            f'width="1200" height="675"><figcaption>Illustration. &copy; {SITE_NAME}'
            f"</figcaption></figure>{self._share(i)}"
            f'<div class="entry-content">{content}</div>'
            f'<footer class="entry-footer"><span class="tags-links">Tags: {tags}</span></footer>'
            f"</article>{self._post_nav(i)}{self._related(i)}{self._comments(i)}</main>"
        )

    def _share(self, i: int) -> str:
        link = self.url(self.article_path(i))
        buttons = "".join(
            f'<a class="share-button share-{slugify(name)}" href="{prefix}{link}" '
            f'target="_blank" rel="noopener nofollow">{name}</a>'
            for name, prefix in SHARE_SITES
        )
        return f'<div class="share-buttons"><span>Share this</span>{buttons}</div>'

    def _post_nav(self, i: int) -> str:
        links = ""
        if i > 1:
            links += (
                f'<div class="nav-previous"><a href="{self.url(self.article_path(i - 1))}" '
                f'rel="prev">{esc(self.story(i - 1).title)}</a></div>'
            )
        if i < self.n_stories:
            links += (
                f'<div class="nav-next"><a href="{self.url(self.article_path(i + 1))}" '
                f'rel="next">{esc(self.story(i + 1).title)}</a></div>'
            )
        return f'<nav class="navigation post-navigation"><div class="nav-links">{links}</div></nav>'

    def related(self, i: int) -> list[int]:
        """Indices of the 3-4 (older, when possible) stories in story ``i``'s related block."""
        rng = random.Random(f"{self.seed}/{i}/related")
        if i > 5:
            return rng.sample(range(1, i), rng.randint(3, 4))
        candidates = [k for k in range(1, min(self.n_stories, 6) + 1) if k != i]
        return rng.sample(candidates, min(len(candidates), rng.randint(3, 4)))

    def _related(self, i: int) -> str:
        items = "".join(
            f'<li class="related-post"><a href="{self.url(self.article_path(k))}">'
            f'{esc(self.story(k).title)}</a> <time datetime="{iso_time(self.published(k))}">'
            f"{human_date(self.published(k))}</time></li>"
            for k in self.related(i)
        )
        return f'<section class="related-posts"><h2>Related articles</h2><ul>{items}</ul></section>'

    def _comments(self, i: int) -> str:
        rng = random.Random(f"{self.seed}/{i}/comments")
        count = rng.randint(0, 8)
        start = self.published(i)
        rows = "".join(
            f'<li id="comment-{i * 100 + k}" class="comment"><article class="comment-body">'
            f'<footer class="comment-meta"><b class="fn">{person(rng)}</b> '
            f'<time datetime="{iso_time(start + (k + 1) * 5400)}">'
            f"{human_date(start + (k + 1) * 5400)}</time></footer>"
            f'<div class="comment-content"><p>{esc(rng.choice(COMMENTS))}</p></div></article></li>'
            for k in range(count)
        )
        return (
            f'<section id="comments" class="comments-area"><h2 class="comments-title">'
            f'{count} comments</h2><ol class="comment-list">{rows}</ol>'
            f'<div id="respond" class="comment-respond"><h3>Leave a reply</h3>'
            f'<form action="{self.url("/wp-comments-post.php")}" method="post">'
            '<textarea name="comment" required></textarea><input name="author" required>'
            '<input type="email" name="email" required>'
            f'<input type="hidden" name="comment_post_ID" value="{i}">'
            '<button type="submit">Post comment</button></form></div></section>'
        )


CACHED_KINDS = frozenset({"sitemap", "sitemap_index", "feed"})
CONTENT_TYPES = {
    "article": "text/html; charset=UTF-8",
    "listing": "text/html; charset=UTF-8",
    "robots": "text/plain; charset=UTF-8",
    "sitemap": "application/xml; charset=UTF-8",
    "sitemap_index": "application/xml; charset=UTF-8",
    "feed": "application/rss+xml; charset=UTF-8",
}
