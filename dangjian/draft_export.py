"""A draft as a file: Markdown, or Word in the official-document layout (``officedoc``).

Paragraphs keep their [n] markers and the 参考来源 list closes the document. Lines of table
cells (``a | b``, as ingest reads a table row) stay a table: a Markdown table, a Word table.
Headings keep with the paragraph that follows them, so none sits alone at a page's foot.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .draft_material import TABLE_CELL
from .errors import DangjianError
from .officedoc import BODY_FONT, H1_FONT, SIZE_2, TITLE_FONT, add_paragraph, add_table, official_document

if TYPE_CHECKING:
    from .draft import Draft

MARKER_RE = re.compile(r"\[\d+\]$")


def _pieces(block: str) -> list[tuple[str, object]]:
    """A paragraph's runs of text lines and of table rows: ``("text", str)`` / ``("table", rows)``;
    a marker after a table goes on a line of its own."""
    marker = MARKER_RE.search(block)
    body = block[: marker.start()] if marker else block
    out: list[tuple[str, object]] = []
    for line in body.split("\n"):
        if TABLE_CELL in line:
            cells = [c.strip() for c in line.split("|")]
            if out and out[-1][0] == "table":
                out[-1][1].append(cells)
            else:
                out.append(("table", [cells]))
        elif line.strip():
            out.append(("text", line.strip()))
    if marker:
        if out and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + marker.group())
        else:
            out.append(("text", f"（见上表）{marker.group()}"))
    return out


def reference_lines(draft: Draft) -> list[str]:
    return [f"[{r.marker}] {r.citation}，第 {r.start}–{r.end} 字" for r in draft.references]


def to_markdown(draft: Draft) -> str:
    lines = [f"# {draft.title}", ""]
    for section in draft.sections:
        lines += [f"## {section.heading}", ""]
        lines += [f"（{section.note}）", ""] if section.note else []
        for block in section.blocks():
            for kind, piece in _pieces(block):
                if kind == "text":
                    lines += [piece, ""]
                else:
                    width = max(len(r) for r in piece)
                    rows = [r + [""] * (width - len(r)) for r in piece]
                    lines.append("| " + " | ".join(rows[0]) + " |")
                    lines.append("|" + " --- |" * width)
                    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
                    lines.append("")
    lines += ["## 参考来源", ""]
    lines += reference_lines(draft)
    return "\n".join(lines) + "\n"


def save_docx(draft: Draft, path: Path | io.BytesIO) -> None:
    doc = official_document()
    add_paragraph(doc, draft.title, TITLE_FONT, SIZE_2, center=True, keep_with_next=True)
    for section in draft.sections:
        add_paragraph(doc, section.heading, H1_FONT, keep_with_next=True)
        if section.note:
            add_paragraph(doc, f"（{section.note}）", BODY_FONT, 14)
        for block in section.blocks():
            for kind, piece in _pieces(block):
                if kind == "text":
                    add_paragraph(doc, piece)
                else:
                    add_table(doc, piece)
    add_paragraph(doc, "参考来源", H1_FONT, keep_with_next=True)
    for line in reference_lines(draft):
        add_paragraph(doc, line, BODY_FONT, 12, indent=False)
    doc.save(str(path) if isinstance(path, Path) else path)


def save(draft: Draft, path: Path) -> None:
    """Write ``.docx`` or ``.md``, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".docx", ".md", ".markdown"):
        raise DangjianError(f"不支持的输出格式“{path.suffix or '（无后缀）'}”：请用 .docx 或 .md", code="bad_output")
    try:
        if suffix == ".docx":
            save_docx(draft, path)
        else:
            path.write_text(to_markdown(draft), encoding="utf-8")
    except OSError as exc:
        raise DangjianError(
            f"无法写入 {path}（{exc.strerror or exc}）：请检查目录是否存在、是否有写权限", code="bad_output"
        ) from None


def docx_bytes(draft: Draft) -> bytes:
    """The .docx as bytes (a download)."""
    buffer = io.BytesIO()
    save_docx(draft, buffer)
    return buffer.getvalue()
