"""Package captures as a WACZ file (ReplayWeb.page, pywb), with the archived stories as its
pages, using the ``wacz`` package (py-wacz)."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from wacz.main import main as wacz_main


class WaczError(RuntimeError):
    """py-wacz could not build or validate the file; the message holds its output."""


def _run(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = wacz_main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:
            raise WaczError(f"{exc}\n{out.getvalue()}") from exc
    if code:
        raise WaczError(out.getvalue())
    return out.getvalue()


def write_pages(path: Path, pages: Iterable[Mapping[str, Any]], title: str) -> int:
    """A ``pages.jsonl`` (json-pages-1.0): header line, then one page per line."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": title}) + "\n")
        for page in pages:
            line = {"url": page["url"], "ts": page["ts"]}
            if page.get("title"):
                line["title"] = page["title"]
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
    return count


def create_wacz(output: Path, warcs: list[Path], pages: Iterable[Mapping[str, Any]],
                title: str) -> str:
    """Write ``output`` from ``warcs``, listing ``pages``; returns py-wacz's report."""
    names = [w.name for w in warcs]
    if len(set(names)) != len(names):
        raise WaczError("two WARC files share a name; a WACZ keeps files by name")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".wacz-") as tmp:
        pages_file = Path(tmp) / "pages.jsonl"
        listed = write_pages(pages_file, pages, title)
        partial = Path(tmp) / output.name  # replaces ``output`` only once complete
        args = ["create", "-o", str(partial), "--title", title]
        args += ["-p", str(pages_file)] if listed else ["--detect-pages"]
        report = _run([*args, *map(str, warcs)])
        partial.replace(output)
    return report


def validate_wacz(path: Path) -> str:
    """py-wacz's validation of ``path``; raises :class:`WaczError` if it is invalid."""
    return _run(["validate", "-f", str(path)])
