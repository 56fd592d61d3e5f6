"""PDF files with a text layer (pdfminer.six, MIT).

Lines are read with their positions, running headers/footers and page numbers are dropped, and
visual lines are joined back into paragraphs (Chinese text wraps without spaces). Every character
range keeps the page it came from.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError
from ..schema import Block, Document, PageSpan
from .common import check_file, make_document
from .patterns import looks_like_heading_start

_PAGE_NUMBER_RE = re.compile(
    r"^[-—–_·•\s]*(?:第\s*)?[0-9]{1,4}\s*(?:页)?(?:\s*[/／]\s*[0-9]{1,4}|\s*共\s*[0-9]{1,4}\s*页)?[-—–_·•\s]*$"
    r"|^(?:page|p\.)\s*[0-9]{1,4}(?:\s*(?:/|of)\s*[0-9]{1,4})?$",
    re.I,
)
_DIGITS_RE = re.compile(r"[0-9]+")
_LATIN_END = re.compile(r"[A-Za-z0-9,.;:]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(]")
_WIDE_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’—…·]")
_CID_RE = re.compile(r"\(cid:\d+\)")
MARGIN = 0.09
logging.getLogger("pdfminer").setLevel(
    logging.ERROR
)  # it warns about every odd font  # top/bottom share of the page where running heads and folios live


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    y0: float
    y1: float


def _chars(layout) -> list:
    from pdfminer.layout import LTChar, LTContainer

    found, stack = [], [layout]
    while stack:
        obj = stack.pop()
        if isinstance(obj, LTChar):
            found.append(obj)
        elif isinstance(obj, LTContainer):
            stack.extend(obj)
    return found


def _is_wide(ch: str) -> bool:
    return bool(_WIDE_RE.match(ch))


def _page_lines(layout) -> list[_Line]:
    """Visual lines of a page, built from characters (fonts mixed on one line stay in order)."""
    chars = [c for c in _chars(layout) if c.get_text().strip() and c.y1 > c.y0]
    chars.sort(key=lambda c: -(c.y0 + c.y1) / 2)
    rows: list[list] = []
    for c in chars:
        if rows:
            top, bottom = rows[-1][0].y1, rows[-1][0].y0
            if min(top, c.y1) - max(bottom, c.y0) >= 0.5 * min(top - bottom, c.y1 - c.y0):
                rows[-1].append(c)
                continue
        rows.append([c])
    lines = []
    for row in rows:
        row.sort(key=lambda c: c.x0)
        parts: list[str] = []
        prev = None
        for c in row:
            ch = c.get_text()
            if prev is not None:
                gap, size = c.x0 - prev.x1, max(prev.size, c.size, 1.0)
                if gap > 3 * size:
                    parts.append(" | ")  # far apart on one line: table cells
                elif gap > 0.3 * size and not (_is_wide(ch[0]) or _is_wide(prev.get_text()[-1])):
                    parts.append(" ")  # a space between Latin words or numbers
            parts.append(ch)
            prev = c
        text = "".join(parts).strip()
        if text:
            lines.append(_Line(text, row[0].x0, row[-1].x1, min(c.y0 for c in row), max(c.y1 for c in row)))
    return lines


def _running_lines(pages: list[tuple[float, list[_Line]]]) -> set[str]:
    """Texts (digits masked) that appear in the top or bottom margin of at least half the pages."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for height, lines in pages:
        seen = {
            _DIGITS_RE.sub("#", ln.text) for ln in lines if ln.y0 > height * (1 - MARGIN) or ln.y1 < height * MARGIN
        }
        counts.update(seen)
    return {text for text, n in counts.items() if n >= max(2, len(pages) / 2)}


def _drop_margins(height: float, lines: list[_Line], running: set[str]) -> list[_Line]:
    kept = []
    for ln in lines:
        in_margin = ln.y0 > height * (1 - MARGIN) or ln.y1 < height * MARGIN
        if in_margin and (_DIGITS_RE.sub("#", ln.text) in running or _PAGE_NUMBER_RE.match(ln.text)):
            continue
        kept.append(ln)
    return kept


def load_pdf(path: Path, *, max_file_mb: float) -> Document:
    check_file(path, max_file_mb=max_file_mb)
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    pages: list[tuple[float, list[_Line]]] = []
    truncated_at = None
    try:
        with open(path, "rb") as fh:
            document = PDFDocument(PDFParser(fh))
            resources = PDFResourceManager()
            device = PDFPageAggregator(resources, laparams=None)  # raw characters, our own layout
            interpreter = PDFPageInterpreter(resources, device)
            for page in PDFPage.create_pages(document):
                interpreter.process_page(page)
                layout = device.get_result()
                pages.append((layout.height, _page_lines(layout)))
    except PDFPasswordIncorrect:
        raise InputFileError(
            path, "PDF 已加密（需要密码才能打开），请先解除密码保护后再导入", code="encrypted_file"
        ) from None
    except Exception as exc:  # pdfminer raises many exception types on damaged files
        if not pages:
            raise InputFileError(
                path, f"PDF 文件已损坏或格式不正确，无法解析（{type(exc).__name__}）", code="corrupt_file"
            ) from None
        truncated_at = len(pages) + 1  # keep what could be read, and say where it stopped
    if not pages:
        raise InputFileError(path, "PDF 里没有页面", code="empty_file")
    all_text = "".join(ln.text for _, lines in pages for ln in lines)
    if len(_CID_RE.sub("", all_text).strip()) < 10:
        reason = "字体缺少文字编码，无法提取文字" if _CID_RE.search(all_text) else "可能是扫描件"
        raise InputFileError(
            path, f"PDF 没有文字层，需要先进行 OCR（共 {len(pages)} 页，{reason}）", code="no_text_layer"
        )

    running = _running_lines(pages)
    pieces: list[str] = []
    blocks: list[Block] = []
    spans: list[PageSpan] = []
    pos = 0
    empty_pages = []
    prev_full = False  # whether the last line so far ran to the right margin (paragraph continues)
    for page_no, (height, lines) in enumerate(pages, start=1):
        lines = _drop_margins(height, lines, running)
        if not lines:
            empty_pages.append(page_no)
            continue
        widths = [ln.x1 - ln.x0 for ln in lines if len(ln.text) > 5]
        char_w = statistics.median([(ln.x1 - ln.x0) / len(ln.text) for ln in lines]) if lines else 10.0
        left = min(ln.x0 for ln in lines)
        right = max(ln.x1 for ln in lines) if widths else left
        gaps = [a.y0 - b.y1 for a, b in zip(lines, lines[1:]) if a.y0 > b.y1]
        typical_gap = statistics.median(gaps) if gaps else char_w
        page_start = pos
        prev: _Line | None = None
        for ln in lines:
            indented = ln.x0 > left + 1.5 * char_w
            # A wrapped line may start with “（2）…”: a heading only after a finished sentence.
            heading_after_sentence = (
                looks_like_heading_start(ln.text) and bool(pieces) and pieces[-1][-1:] in "。：！？:!?"
            )
            new_para = (
                not blocks
                or indented
                or not prev_full
                or heading_after_sentence
                or (prev is not None and prev.y0 - ln.y1 > 1.8 * typical_gap + 1)
            )
            if new_para:
                if pieces:
                    pieces.append("\n")
                    pos += 1
                blocks.append(Block(pos, pos))
            elif pieces and _LATIN_END.search(pieces[-1]) and _LATIN_START.search(ln.text):
                pieces.append(" ")
                pos += 1
            pieces.append(ln.text)
            pos += len(ln.text)
            blocks[-1].end = pos
            prev_full = ln.x1 >= right - 2 * char_w
            prev = ln
        spans.append(PageSpan(page_start, pos, page_no))
    text = "".join(pieces)
    # A paragraph that continues onto the next page is one block; pages still map each range.
    metadata = {"page_count": len(pages)}
    if empty_pages:
        metadata["pages_without_text"] = empty_pages
    if truncated_at:
        metadata["unreadable_from_page"] = truncated_at
    return make_document(
        text=text,
        source=str(path),
        file_type="pdf",
        blocks=blocks,
        pages=spans,
        fallback_title=path.stem,
        metadata=metadata,
    )
