"""OCR of scanned pages and photos: RapidOCR (Apache-2.0) with the PP-OCR detection and
recognition models that ship inside its wheel, run by onnxruntime on the CPU. Nothing is
downloaded; the engine loads on the first page recognised, never at import.

A page becomes visual lines in reading order: the boxes are deskewed by their median angle,
grouped into rows, and handed to ``layout.assemble`` like the lines of a typed PDF, so running
headers, page numbers and paragraph breaks are treated the same way. Seal ink (red) is removed
before recognition. Every kept line's confidence is remembered: the document's metadata gets an
``ocr`` record and ``chunking`` marks each passage it covers with ``ocr_confidence``.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from .layout import Assembled, Line, Page

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
RENDER_DPI = 200  # scanned PDF pages are rendered at this resolution (the recogniser caps the long side at 2000 px)
MIN_BOX_SCORE = 0.5  # lines the recogniser is less sure of are dropped (noise, stray marks)
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
_LATIN = re.compile(r"[A-Za-z0-9.%]")

_engine = None
_engine_lock = threading.Lock()


class OcrUnavailableError(InputFileError):
    code = "ocr_unavailable"


def engine_name() -> str:
    try:
        from importlib.metadata import version

        return f"rapidocr {version('rapidocr')} (PP-OCR, onnxruntime CPU)"
    except Exception:  # metadata missing in an odd install
        return "rapidocr"


def get_engine(path: object = "") -> Any:
    """The shared recogniser, created on first use (about 1 s; the models are in the wheel)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError:
                raise OcrUnavailableError(
                    path,
                    "这是扫描件或图片，需要文字识别（OCR），但没有安装 rapidocr 和 onnxruntime；"
                    "请运行 pip install rapidocr onnxruntime 后重试",
                    code="ocr_unavailable",
                ) from None
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
            _engine = RapidOCR(params={"Global.log_level": "error"})
    return _engine


def _tidy(text: str) -> str:
    """Half-width punctuation in a Chinese line becomes full-width, as a typed 公文 has it
    (the recogniser often reads “（一）” as “(一）” and “，” as “,”); ``3.5``, ``12:30`` and
    ``a,b`` between ASCII letters or digits stay."""
    text = text.strip()
    if len(_CJK_RE.findall(text)) < max(2, len(text) // 3):
        return text
    out = []
    for i, ch in enumerate(text):
        full = _HALF_TO_FULL.get(ch)
        if full:
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if not (_ASCII_ALNUM.match(before) and _ASCII_ALNUM.match(after)):
                ch = full
        out.append(ch)
    return "".join(out)


def _without_red_ink(image):
    """Seals and red stamps painted white: their curved text is not part of the document."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red = (r > 120) & (r - np.maximum(g, b) > 60)
    if not red.any():
        return image.convert("RGB")
    rgb[red] = 255
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


@dataclass
class _Box:
    text: str
    score: float
    x0: float
    x1: float
    top: float
    bottom: float


def _boxes(result, width: float, height: float) -> list[_Box]:
    """Recognised boxes in deskewed page coordinates (y grows downwards)."""
    if result is None or result.boxes is None or result.txts is None:
        return []
    quads = [[(float(x), float(y)) for x, y in quad] for quad in result.boxes]
    angles = [
        math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0])
        for q in quads
        if math.dist(q[0], q[1]) > 3 * max(math.dist(q[1], q[2]), 1.0)
    ]
    theta = statistics.median(angles) if angles else 0.0
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = width / 2, height / 2
    boxes = []
    for quad, text, score in zip(quads, result.txts, result.scores):
        text = text.strip()
        if not text or score < MIN_BOX_SCORE:
            continue
        pts = [((x - cx) * cos + (y - cy) * sin + cx, -(x - cx) * sin + (y - cy) * cos + cy) for x, y in quad]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        boxes.append(_Box(text, float(score), min(xs), max(xs), min(ys), max(ys)))
    return boxes


def _rows(boxes: list[_Box], height: float) -> list[Line]:
    """Boxes on one visual row joined left to right; far apart cells get `` | `` like a table row."""
    boxes = sorted(boxes, key=lambda b: (b.top + b.bottom) / 2)
    rows: list[list[_Box]] = []
    for box in boxes:
        if rows:
            ref = rows[-1][0]
            overlap = min(ref.bottom, box.bottom) - max(ref.top, box.top)
            if overlap >= 0.5 * min(ref.bottom - ref.top, box.bottom - box.top):
                rows[-1].append(box)
                continue
        rows.append([box])
    lines = []
    for row in rows:
        row.sort(key=lambda b: b.x0)
        size = statistics.median([b.bottom - b.top for b in row])
        parts = [row[0].text]
        for prev, box in zip(row, row[1:]):
            gap = box.x0 - prev.x1
            if gap > 3 * size:
                parts.append(" | ")
            elif gap > 0.3 * size and _LATIN.match(box.text[0]) and _LATIN.match(prev.text[-1]):
                parts.append(" ")
            parts.append(box.text)
        text = _tidy("".join(parts))
        chars = sum(len(b.text) for b in row)
        score = sum(b.score * len(b.text) for b in row) / max(chars, 1)
        top, bottom = min(b.top for b in row), max(b.bottom for b in row)
        # PDF orientation (y up), so the shared layout code reads OCR'd and typed pages alike.
        lines.append(Line(text, row[0].x0, row[-1].x1, height - bottom, height - top, round(score, 4)))
    return lines


def recognise(image, path: object = "") -> Page:
    """One page image -> ``(height, lines)`` in reading order."""
    engine = get_engine(path)
    clean = _without_red_ink(image)
    result = engine(clean)
    width, height = clean.size
    return float(height), _rows(_boxes(result, width, height), float(height))


@dataclass
class OcrRun:
    """What one file's recognition did: pages and seconds, for the document's metadata."""

    pages: int = 0
    seconds: float = 0.0
    scores: list[float] = field(default_factory=list)


def recognise_pages(
    images: Iterable, total: int, path: object, progress: Progress | None = None
) -> tuple[list[Page], OcrRun]:
    """Recognise page images one by one, reporting ``progress("ocr", done, total)`` after each."""
    run = OcrRun()
    pages: list[Page] = []
    started = time.perf_counter()
    for image in images:
        pages.append(recognise(image, path))
        run.pages += 1
        log.info("OCR %s: page %d/%d done (%.1f s)", path, run.pages, total, time.perf_counter() - started)
        if progress:
            progress("ocr", run.pages, total)
    run.seconds = round(time.perf_counter() - started, 2)
    return pages, run


def ocr_pdf_pages(path: Path, indexes: list[int], *, progress: Progress | None = None) -> tuple[list[Page], OcrRun]:
    """Render the PDF pages at ``indexes`` (0-based) with pdfium and recognise them."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise OcrUnavailableError(
            path, "PDF 中有扫描页，需要 pypdfium2 渲染页面后识别；请运行 pip install pypdfium2", code="ocr_unavailable"
        ) from None
    get_engine(path)  # fail early, before rendering, when the engine is missing
    try:
        pdf = pdfium.PdfDocument(str(path))
    except Exception as exc:  # pdfium's own error type differs between versions
        raise InputFileError(
            path, f"扫描页无法渲染（{type(exc).__name__}），PDF 可能已损坏", code="corrupt_file"
        ) from None

    def images():
        for i in indexes:
            page = pdf[i]
            try:
                yield page.render(scale=RENDER_DPI / 72).to_pil()
            finally:
                page.close()

    try:
        return recognise_pages(images(), len(indexes), path, progress)
    finally:
        pdf.close()


def ocr_metadata(run: OcrRun, built: Assembled, page_numbers: list[int]) -> dict[str, Any]:
    """The ``ocr`` record of a document: which pages were recognised, how sure the engine was
    (character-weighted mean of the line confidences, per page and overall) and how long it took."""
    recognised = set(page_numbers)
    per_page: dict[int, list[tuple[int, float]]] = {}
    spans = built.pages
    for start, end, score in built.line_spans:
        if score is None:
            continue
        page = next((s.page for s in spans if s.start <= start < max(s.end, s.start + 1)), None)
        if page in recognised:
            per_page.setdefault(page, []).append((end - start, score))

    def mean(items: list[tuple[int, float]]) -> float:
        chars = sum(n for n, _ in items)
        return round(sum(n * s for n, s in items) / max(chars, 1), 4)

    all_items = [item for items in per_page.values() for item in items]
    return {
        "engine": engine_name(),
        "pages": sorted(recognised),
        "confidence": mean(all_items) if all_items else None,
        "page_confidence": [[page, mean(items)] for page, items in sorted(per_page.items())],
        "low_confidence_lines": sum(1 for _, _, s in built.line_spans if s is not None and s < 0.8),
        "seconds": run.seconds,
    }


def passage_confidence(metadata: dict[str, Any], page: int | None, page_end: int | None) -> float | None:
    """The lowest confidence of the recognised pages a passage spans; ``None`` for typed text."""
    ocr = metadata.get("ocr")
    if not ocr or page is None:
        return None
    by_page = {int(p): float(c) for p, c in ocr.get("page_confidence", [])}
    scores = [by_page[p] for p in range(page, (page_end or page) + 1) if p in by_page]
    return min(scores) if scores else None
