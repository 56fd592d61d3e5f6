"""PDF files: the text layer (pdfminer.six, MIT) where a page has one, OCR for scanned pages.

Lines are read with their positions and handed to ``layout.assemble`` (running headers, footers
and page numbers dropped, visual lines joined back into paragraphs). A page with next to no
readable text and an image on it (a scan), or only ``(cid:N)`` glyphs, is rendered and recognised
(``ocr.py``); a mixed PDF OCRs only those pages. Every character range keeps its page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from ..errors import InputFileError
from ..schema import Document
from .common import check_file, make_document
from .layout import Line, Page, assemble
from .limits import check_pdf_pages, current

Progress = Callable[[str, int, int], None]  # (stage, done, total), as ``KnowledgeBase.ingest`` takes

_WIDE_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’—…·]")
_CID_RE = re.compile(r"\(cid:\d+\)")
MIN_PAGE_CHARS = 10  # a page with fewer readable characters and an image on it is OCR'd
logging.getLogger("pdfminer").setLevel(logging.ERROR)  # it warns about every odd font


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


def _page_lines(layout) -> list[Line]:
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
            lines.append(Line(text, row[0].x0, row[-1].x1, min(c.y0 for c in row), max(c.y1 for c in row)))
    return lines


def _has_image(layout) -> bool:
    from pdfminer.layout import LTContainer, LTImage

    stack = [layout]
    while stack:
        obj = stack.pop()
        if isinstance(obj, LTImage):
            return True
        if isinstance(obj, LTContainer):
            stack.extend(obj)
    return False


def _needs_ocr(lines: list[Line], has_image: bool) -> bool:
    """A page without a usable text layer: a scan (an image, next to no text) or text whose font
    has no character codes (``(cid:N)``)."""
    text = "".join(ln.text for ln in lines)
    readable = len(_CID_RE.sub("", text).strip())
    return readable < MIN_PAGE_CHARS and (has_image or bool(_CID_RE.search(text)))


def _declared_pages(document) -> int:
    """The page count the page tree declares (0 when it cannot be read)."""
    from pdfminer.pdftypes import resolve1

    try:
        count = resolve1(resolve1(document.catalog["Pages"]).get("Count"))
        return count if isinstance(count, int) else 0
    except Exception:  # noqa: BLE001 - a damaged tree is found when the pages are read
        return 0


def load_pdf(path: Path, *, max_file_mb: float, progress: Progress | None = None) -> Document:
    """A PDF: the text layer where a page has one, OCR for the pages that are scans."""
    check_file(path, max_file_mb=max_file_mb)
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    pages: list[Page] = []
    scanned: list[int] = []  # 0-based indexes of the pages to OCR
    truncated_at = None
    try:
        with open(path, "rb") as fh:
            document = PDFDocument(PDFParser(fh))
            resources = PDFResourceManager()
            device = PDFPageAggregator(resources, laparams=None)  # raw characters, our own layout
            interpreter = PDFPageInterpreter(resources, device)
            limits = current()
            check_pdf_pages(path, _declared_pages(document), limits)
            for page in PDFPage.create_pages(document):
                check_pdf_pages(path, len(pages) + 1, limits)  # the declared count can lie
                interpreter.process_page(page)
                layout = device.get_result()
                lines = _page_lines(layout)
                if _needs_ocr(lines, _has_image(layout)):
                    scanned.append(len(pages))
                pages.append((layout.height, lines))
    except InputFileError:
        raise
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
    ocr_info = None
    if scanned:
        from .ocr import ocr_pdf_pages

        recognised, ocr_info = ocr_pdf_pages(path, scanned, progress=progress)
        for index, page in zip(scanned, recognised):
            pages[index] = page
    all_text = "".join(ln.text for _, lines in pages for ln in lines)
    if len(_CID_RE.sub("", all_text).strip()) < MIN_PAGE_CHARS:
        reason = "字体缺少文字编码，无法提取文字" if _CID_RE.search(all_text) else "页面上没有可识别的文字"
        raise InputFileError(
            path, f"PDF 里没有可提取的文字（共 {len(pages)} 页，{reason}；识别也没有得到文字）", code="no_text_layer"
        )

    built = assemble(pages)
    metadata: dict = {"page_count": len(pages)}
    if built.empty_pages:
        metadata["pages_without_text"] = built.empty_pages
    if truncated_at:
        metadata["unreadable_from_page"] = truncated_at
    if ocr_info is not None:
        from .ocr import ocr_metadata

        metadata["ocr"] = ocr_metadata(ocr_info, built, [i + 1 for i in scanned])
    return make_document(
        text=built.text,
        source=str(path),
        file_type="pdf",
        blocks=built.blocks,
        pages=built.pages,
        fallback_title=path.stem,
        metadata=metadata,
    )
