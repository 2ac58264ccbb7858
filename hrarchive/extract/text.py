"""Text normal form: Unicode NFC, whitespace collapsed, markup removed, paragraphs kept."""

from __future__ import annotations

import re
import unicodedata

import lxml.html
from lxml.html.clean import Cleaner

BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "blockquote", "li", "ul", "ol", "h1", "h2", "h3", "h4",
    "h5", "h6", "pre", "table", "tr", "figure", "figcaption", "dl", "dt", "dd", "header",
    "footer", "main", "aside", "address", "hr",
})
# a run of spaces other than a lone " " (rewriting every lone space cost the most)
SPACES = re.compile(r" [^\S\n]+|[^\S\n ][^\S\n]*")

_cleaner = Cleaner(
    scripts=True, javascript=True, comments=True, style=True, inline_style=True, links=False,
    meta=True, page_structure=True, processing_instructions=True, embedded=True, frames=True,
    forms=True, annoying_tags=True, remove_unknown_tags=False, safe_attrs_only=True,
    safe_attrs=frozenset({"href", "src", "alt", "title", "datetime", "colspan", "rowspan"}),
)


def clean_text(value: str | None) -> str | None:
    """One line of text: NFC, whitespace collapsed, or None when nothing is left."""
    if value is None:
        return None
    text = " ".join(unicodedata.normalize("NFC", value).split())
    return text or None


def clean_block(value: str | None) -> str | None:
    """Multi-paragraph text: NFC, spaces collapsed in lines, paragraphs split by one blank line."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value).replace("\r", "\n").replace("\xa0", " ")
    text = SPACES.sub(" ", text)
    lines: list[str] = []
    blank = False
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            blank = True
        else:
            if blank and lines:
                lines.append("")  # blank lines between paragraphs: one
            lines.append(line)
            blank = False
    return "\n".join(lines) or None


def element_text(element: lxml.html.HtmlElement) -> str:
    """Visible text of an element, block elements separated by paragraph breaks."""
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in {"script", "style", "noscript", "template"}:
            if node.tail:
                parts.append(node.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            parts.append("\n\n")
        elif tag == "br":
            parts.append("\n")
        if node.text and tag:
            parts.append(node.text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n\n")
        if node.tail:
            parts.append(node.tail)

    walk(element)
    return "".join(parts)


def html_to_text(html: str | None) -> str | None:
    """Plain text of an HTML fragment, paragraphs kept."""
    if not html or not html.strip():
        return None
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return clean_block(html)
    return clean_block(element_text(root))


def clean_html(html: str | None) -> str | None:
    """The body's HTML without scripts, styles, forms, event handlers or layout attributes."""
    if not html or not html.strip():
        return None
    try:
        cleaned: str = _cleaner.clean_html(html)
    except (lxml.etree.ParserError, ValueError):
        return None
    return cleaned.strip() or None
