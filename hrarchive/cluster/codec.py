"""Operations, outcomes and site states as bytes, for the Redis lists between processes.

An operation (:class:`~hrarchive.store.queue.Op`) travels as one JSON object::

    {"id": "...", "kind": "article", "crawl_id": 7, "now": "2026-11-30T00:10:00+00:00",
     "reply_to": "hrarchive:reply:...", "data": {...}}

Inside ``data`` (and in outcomes) values JSON cannot hold are tagged objects with one key:
``{"$bytes": base64}``, ``{"$datetime": iso}``, ``{"$date": iso}``, ``{"$tuple": [...]}``,
``{"$capture": {...}, "failed": error}`` (a :class:`PendingCapture`), ``{"$error": {...}}``
(an exception an operation ended in), ``{"$state": {...}}`` (a :class:`SiteState`), and
``{"$dict": [[key, value], ...]}`` for a dict with a key that starts with ``$``.  A reply is
``{"id": op id, "outcome": value}``.  Operations of ``LOCAL`` kinds carry live objects and
cannot be encoded; bad bytes raise :class:`CodecError`.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import date, datetime
from typing import Any

from hrarchive.capture.writer import PendingCapture
from hrarchive.store.queue import LOCAL, Op
from hrarchive.store.state import KnownStory, SiteState, instant


class CodecError(ValueError):
    """Bytes that are not an encoded operation or reply."""


class RemoteError(RuntimeError):
    """An operation failed in the writer with an error that has no equivalent here."""


def _error(exc: BaseException) -> dict[str, Any]:
    errno = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    message = (exc.strerror or str(exc)) if isinstance(exc, OSError) and exc.strerror \
        else str(exc)
    return {"type": type(exc).__name__, "message": message, "errno": errno}


def _exception(data: dict[str, Any]) -> BaseException:
    from hrarchive.store.writer import NotCaptured, WriterError

    kind, message, errno = data.get("type"), str(data.get("message")), data.get("errno")
    if kind == "NotCaptured":
        return NotCaptured(message)
    if kind == "WriterError":
        return WriterError(message)
    if errno is not None:
        return OSError(int(errno), message)
    if kind == "OperationalError":
        return sqlite3.OperationalError(message)
    return RemoteError(f"{kind}: {message}")


def state_to_json(state: SiteState) -> dict[str, Any]:
    """A :class:`SiteState` as plain JSON (what ``{prefix}:state:{site}`` holds)."""
    def story(known: KnownStory) -> dict[str, Any]:
        return {"url": known.url, "etag": known.etag, "last_modified": known.last_modified,
                "last_seen": known.last_seen.isoformat() if known.last_seen else None,
                "published": known.published.isoformat() if known.published else None,
                "teasers": sorted([list(t) for t in known.teasers], key=repr),
                "announced": known.announced.isoformat() if known.announced else None}

    return {"site": state.site, "stories": {url: story(k) for url, k in state.stories.items()},
            "missing": list(state.missing), "previous_status": state.previous_status,
            "previous_finished": state.previous_finished.isoformat()
            if state.previous_finished else None, "sitemaps": dict(state.sitemaps)}


def state_from_json(data: dict[str, Any]) -> SiteState:
    """A :class:`SiteState` from its JSON form (``state_to_json``)."""
    def story(d: dict[str, Any]) -> KnownStory:
        published = d.get("published")
        return KnownStory(d["url"], d.get("etag"), d.get("last_modified"),
                          instant(d.get("last_seen")),
                          date.fromisoformat(published) if published else None,
                          frozenset(tuple(t) for t in d.get("teasers") or ()),
                          instant(d.get("announced")))

    return SiteState(site=data["site"],
                     stories={url: story(d) for url, d in (data.get("stories") or {}).items()},
                     missing=list(data.get("missing") or ()),
                     previous_status=data.get("previous_status"),
                     previous_finished=instant(data.get("previous_finished")),
                     sitemaps=dict(data.get("sitemaps") or {}))


def to_json(value: Any) -> Any:
    """``value`` with what JSON cannot hold tagged (see the module docstring)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, PendingCapture):
        failed = value.failed
        return {"$capture": {k: to_json(v) for k, v in value.items()},
                "failed": _error(failed) if failed is not None else None}
    if isinstance(value, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            return {"$dict": [[k, to_json(v)] for k, v in value.items()]}
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [to_json(v) for v in value]}
    if isinstance(value, set | frozenset):
        return [to_json(v) for v in sorted(value, key=repr)]
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, BaseException):
        return {"$error": _error(value)}
    if isinstance(value, SiteState):
        return {"$state": state_to_json(value)}
    raise CodecError(f"cannot send a {type(value).__name__} to another process: {value!r}")


def from_json(value: Any) -> Any:
    """The inverse of :func:`to_json`."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$bytes":
            return base64.b64decode(inner)
        if key == "$datetime":
            return datetime.fromisoformat(inner)
        if key == "$date":
            return date.fromisoformat(inner)
        if key == "$tuple":
            return tuple(from_json(v) for v in inner)
        if key == "$dict":
            return {k: from_json(v) for k, v in inner}
        if key == "$error":
            return _exception(inner)
        if key == "$state":
            return state_from_json(inner)
    if "$capture" in value:
        capture = PendingCapture({k: from_json(v) for k, v in value["$capture"].items()})
        if value.get("failed"):
            capture.failed = _exception(value["failed"])
        return capture
    return {k: from_json(v) for k, v in value.items()}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _loads(raw: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError(f"not an encoded {what}: {exc}") from exc
    if not isinstance(value, dict):
        raise CodecError(f"not an encoded {what}: {str(raw)[:80]!r}")
    return value


def encode(op: Op) -> bytes:
    """An operation as bytes; it must have an ``id`` and be of a kind that is plain data."""
    if op.kind in LOCAL:
        raise CodecError(f"a {op.kind!r} operation holds live objects and stays in its process")
    if not op.id:
        raise CodecError(f"a {op.kind!r} operation needs an id to leave its process")
    return _dumps({"id": op.id, "kind": op.kind, "crawl_id": op.crawl_id,
                   "now": op.now.isoformat() if op.now else None, "reply_to": op.reply_to,
                   "data": to_json(op.data)})


def decode(raw: bytes | str) -> Op:
    """The operation ``raw`` encodes (without a ``reply`` function: answers go to
    ``reply_to``)."""
    value = _loads(raw, "operation")
    try:
        kind, op_id = value["kind"], value["id"]
        now = datetime.fromisoformat(value["now"]) if value.get("now") else None
        crawl_id = value.get("crawl_id")
        if not isinstance(kind, str) or not isinstance(op_id, str) or \
                not (crawl_id is None or isinstance(crawl_id, int)):
            raise TypeError("kind and id must be text, crawl_id a number")
        return Op(kind, from_json(value.get("data")), crawl_id=crawl_id, now=now, id=op_id,
                  reply_to=value.get("reply_to"))
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"not an encoded operation: {exc}") from exc


def encode_reply(op_id: str, outcome: Any) -> bytes:
    """The answer to operation ``op_id``."""
    try:
        value = to_json(outcome)
    except CodecError as exc:  # an outcome we cannot send: say so rather than hang the asker
        value = to_json(exc)
    return _dumps({"id": op_id, "outcome": value})


def decode_reply(raw: bytes | str) -> tuple[str, Any]:
    """(op id, outcome) of an encoded reply."""
    value = _loads(raw, "reply")
    if not isinstance(value.get("id"), str):
        raise CodecError("a reply without the id of its operation")
    return value["id"], from_json(value.get("outcome"))


def encode_outcome(outcome: Any) -> str:
    """An outcome as text (kept beside an applied operation's id)."""
    return encode_reply("", outcome).decode("utf-8")


def decode_outcome(text: str) -> Any:
    return decode_reply(text)[1]
