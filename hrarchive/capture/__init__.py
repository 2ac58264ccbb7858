"""Raw capture: every response a crawl receives, kept with its request as WARC records.

``writer`` writes rotating, per-record gzipped WARC files and turns identical payloads into
``revisit`` records; ``middleware`` plugs it into Scrapy and fetches attachments;
``reparse`` reads the files back into responses for the spider's own callbacks; ``wacz``
packages them for replay tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def beside_archive(settings: Any, setting: str, default: str) -> Path:
    """The folder the ``setting`` names, or the folder ``default`` beside the archive file."""
    folder = settings.get(setting)
    if folder:
        return Path(folder)
    return Path(settings.get("HRARCHIVE_DB") or "archive.db").parent / default
