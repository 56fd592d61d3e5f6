"""HTML pages: the visible text, ``<h1>``–``<h6>`` as headings, table rows as lines."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputFileError
from ..schema import Document
from .common import decode_text, join_lines, make_document, read_bytes

_SKIP = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "canvas", "select", "button"}
_BLOCK = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "ul",
    "br",
    "caption",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS_RE = re.compile(r"[ \t\r\n\f\u00a0]+")
_CJK_SPACE_RE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])")


def _hidden(tag) -> bool:
    attrs = tag.attrs or {}
    return (
        "hidden" in attrs
        or str(attrs.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE_RE.search(str(attrs.get("style", ""))))
    )


def _clean(text: str) -> str:
    return _CJK_SPACE_RE.sub("", _WS_RE.sub(" ", text)).strip()


def load_html(path: Path, *, max_file_mb: float) -> Document:
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    raw = decode_text(read_bytes(path, max_file_mb=max_file_mb), path)
    soup = BeautifulSoup(raw, "lxml")

    lines: list[tuple[str, str, int | None]] = []  # (text, kind, level)
    current: list[str] = []
    cells: list[str] = []  # the cells of the table row being read
    inline = 0  # inside a heading or a table cell, block breaks are just spaces

    def flush(kind: str = "text", level: int | None = None) -> None:
        if inline and kind == "text":
            current.append(" ")
            return
        text = _clean("".join(current))
        current.clear()
        if text:
            lines.append((text, kind, level))

    # Iterative walk: ("node", tag) / ("close", tag) events keep document order without recursion.
    stack: list[tuple[str, object]] = [("node", soup)]
    while stack:
        action, node = stack.pop()
        if action == "close":
            name = node.name
            if name in _HEADINGS:
                inline -= 1
                flush("heading", int(name[1]))
            elif name in ("td", "th"):
                inline -= 1
                cells.append(_clean("".join(current)))
                current.clear()
            elif name == "tr":
                row = " | ".join(c for c in cells)
                cells.clear()
                if row.strip(" |"):
                    lines.append((row, "table", None))
            elif name in _BLOCK:
                flush()
            continue
        if isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction)):
            continue
        if isinstance(node, NavigableString):
            current.append(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        if node.name in _SKIP or _hidden(node):
            continue
        if node.name in _BLOCK or node.name in _HEADINGS or node.name == "tr":
            flush()
        if node.name in _HEADINGS or node.name in ("td", "th"):
            inline += 1
        stack.append(("close", node))
        stack.extend(("node", child) for child in reversed(list(node.children)))
    flush()

    if not lines:
        raise InputFileError(path, "网页里没有可见的文字内容", code="empty_file")
    text, blocks = join_lines(lines)
    metadata = {}
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower()
        if name in ("description", "keywords", "author", "date", "og:title") and meta.get("content"):
            metadata[name] = str(meta["content"])
    page_title = _clean(soup.title.get_text()) if soup.title else ""
    if page_title:
        metadata["html_title"] = page_title
    return make_document(
        text=text,
        source=str(path),
        file_type="html",
        blocks=blocks,
        metadata=metadata,
        fallback_title=page_title or path.stem,
    )
