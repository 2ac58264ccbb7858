"""URL normal form: absolute, canonical (w3lib), no tracking parameters, no fragment."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid",
    "igshid", "_ga", "_gl", "ref_src", "spm", "s_cid", "oly_anon_id", "oly_enc_id", "vero_id",
    "xtor",
})


def is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in TRACKING_PARAMS or lower.startswith(TRACKING_PREFIXES)


def strip_tracking(url: str) -> str:
    """``url`` without tracking parameters (``utm_*``, ``xtor``, ...), otherwise as it is."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not is_tracking(k)]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def normalise_url(url: str, base: str | None = None, trailing_slash: str | None = None) -> str:
    """The canonical form of ``url`` (resolved against ``base``).

    ``trailing_slash`` applies a site's convention to paths that do not name a file:
    ``"add"`` (WordPress: ``/articles/slug/``) or ``"strip"``.
    """
    absolute = urljoin(base, url.strip()) if base else url.strip()
    return _normal_form(absolute, trailing_slash)


@lru_cache(maxsize=8192)
def _normal_form(absolute: str, trailing_slash: str | None) -> str:
    """``normalise_url`` of an absolute URL: a pure function, memoised (a story's URL is
    normalised by the spider, the pipelines and every page linking to it)."""
    parts = urlsplit(absolute)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not is_tracking(k)])
    path = parts.path or "/"
    last = path.rsplit("/", 1)[-1]
    if trailing_slash == "add" and not path.endswith("/") and "." not in last:
        path += "/"
    elif trailing_slash == "strip" and path.endswith("/") and path != "/":
        path = path.rstrip("/")
    cleaned = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def slash_variant(url: str) -> str:
    """The same URL with its path's trailing slash toggled (for matching old rows)."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return url
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on the same host, ignoring a leading ``www.``."""
    def host(u: str) -> str:
        return urlsplit(u).netloc.lower().removeprefix("www.")
    return host(url) == host(other)


class Rebaser:
    """Maps a site's real host onto another base URL (a mirror, or the local test server).

    Links on the page point at the real host; the spider follows them through the
    override, so a saved copy of a site can be crawled exactly like the site.
    """

    def __init__(self, real_base: str, override: str | None) -> None:
        self.real = urlsplit(real_base) if real_base else None
        self.override = urlsplit(override.rstrip("/")) if override else None

    def __call__(self, url: str) -> str:
        if self.override is None or self.real is None:
            return url
        try:
            parts = urlsplit(url)
            if not same_site(url, self.real.geturl()):
                return url
        except ValueError:  # not a URL that can be split: left for the normal forms to drop
            return url
        return urlunsplit((self.override.scheme, self.override.netloc,
                           self.override.path + parts.path, parts.query, parts.fragment))
