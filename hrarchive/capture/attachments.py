"""Attachments: a document a story links to becomes an item, and its bytes a file named by
their SHA-256 (so the same file linked from many stories is kept once)."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response

from hrarchive.capture import beside_archive
from hrarchive.items import Attachment

ATTACHMENT_KEY = "hrarchive_attachment"


def attachments_root(settings: Any) -> Path:
    """``HRARCHIVE_ATTACHMENTS_DIR``, or ``attachments/`` beside the archive."""
    return beside_archive(settings, "HRARCHIVE_ATTACHMENTS_DIR", "attachments")


def attachment_item(site: str, response: Response) -> Attachment:
    """The attachment a response holds, as requested from a story."""
    meta = response.meta.get(ATTACHMENT_KEY) or {}
    content_type = response.headers.get("Content-Type")
    return Attachment(site=site, url=meta.get("url") or response.url, fetched_url=response.url,
                      body=response.body, title=meta.get("title"),
                      story_url=meta.get("story_url"),
                      content_type=content_type.decode("latin-1") if content_type else None)


def suffix(url: str, content_type: str | None) -> str:
    ext = Path(urlsplit(url).path).suffix.lower()
    if ext and len(ext) <= 6 and ext[1:].isalnum():
        return ext
    guessed = mimetypes.guess_extension((content_type or "").split(";")[0].strip())
    return guessed or ".bin"


def keep_file(root: Path, body: bytes, url: str, content_type: str | None) -> tuple[str, str]:
    """Write ``body`` under ``root`` by its SHA-256 unless already there: (sha256, path)."""
    sha256 = hashlib.sha256(body).hexdigest()
    relative = f"{sha256[:2]}/{sha256}{suffix(url, content_type)}"
    target = root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(body)
        partial.replace(target)
    return sha256, relative
