"""Make "scanned" pages from known text: rendered with a CJK font like a printed 公文, then
optionally rotated and sprinkled with noise, saved as PNG files or as an image-only PDF.

Used by the OCR tests and by ``bench/ocr_speed.py``; the known text gives the character error rate.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
]
A4_MM = (210, 297)
MARGIN_MM = (28, 30, 26, 30)  # left, top, right, bottom: about the GB/T 9704 公文 page
FONT_PT = 14  # between 三号 (16 pt) and 四号 (14 pt)
HEADER = "党建工作汇报材料"


def font_path() -> str | None:
    return next((p for p in FONT_CANDIDATES if Path(p).exists()), None)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: float, indent: float) -> list[tuple[str, float]]:
    """Greedy character wrap (Chinese wraps anywhere); the first line is indented."""
    lines, current, x0 = [], "", indent
    for ch in text:
        if current and draw.textlength(current + ch, font=font) > width - x0:
            lines.append((current, x0))
            current, x0 = "", 0.0
        current += ch
    if current:
        lines.append((current, x0))
    return lines


def render_pages(text: str, *, dpi: int = 300, header: str | None = HEADER) -> list[Image.Image]:
    """Grey-scale A4 pages: the first line centred as a title, paragraphs indented two characters,
    a running header and a “— N —” page number in the margins."""
    path = font_path()
    if path is None:
        raise RuntimeError("no CJK font (install fonts-noto-cjk)")
    px = dpi / 25.4
    size = round(FONT_PT / 72 * dpi)
    font = ImageFont.truetype(path, size)
    small = ImageFont.truetype(path, round(size * 0.75))
    page_w, page_h = round(A4_MM[0] * px), round(A4_MM[1] * px)
    left, top, right, bottom = (round(m * px) for m in MARGIN_MM)
    line_h = round(size * 1.75)
    width = page_w - left - right
    scratch = ImageDraw.Draw(Image.new("L", (10, 10)))
    laid: list[tuple[str, float, bool]] = []  # text, x offset, centred
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    for i, para in enumerate(paragraphs):
        if i == 0:
            laid.append((para, 0.0, True))
            continue
        laid.extend((t, x, False) for t, x in _wrap(scratch, para, font, width, 2 * size))
    per_page = (page_h - top - bottom) // line_h
    pages = []
    for n, start in enumerate(range(0, len(laid), per_page), start=1):
        img = Image.new("L", (page_w, page_h), 255)
        draw = ImageDraw.Draw(img)
        if header:
            hw = draw.textlength(header, font=small)
            draw.text(((page_w - hw) / 2, top * 0.45), header, font=small, fill=0)
            draw.line([(left, top * 0.45 + small.size * 1.4), (page_w - right, top * 0.45 + small.size * 1.4)], 0, 2)
        y = top
        for line, x, centred in laid[start : start + per_page]:
            if centred:
                x = (width - draw.textlength(line, font=font)) / 2
            draw.text((left + x, y), line, font=font, fill=0)
            y += line_h
        folio = f"— {n} —"
        fw = draw.textlength(folio, font=small)
        draw.text(((page_w - fw) / 2, page_h - bottom * 0.6), folio, font=small, fill=0)
        pages.append(img)
    return pages


def degrade(img: Image.Image, *, angle: float = 0.0, noise: float = 0.0, seed: int = 0) -> Image.Image:
    """A scanner's faults: a small rotation, speckle noise (share of pixels flipped), a little blur."""
    rng = random.Random(seed)
    out = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255) if angle else img.copy()
    if noise:
        w, h = out.size
        pixels = out.load()
        for _ in range(int(w * h * noise)):
            x, y = rng.randrange(w), rng.randrange(h)
            pixels[x, y] = rng.choice((0, 90, 255))
        out = out.filter(ImageFilter.GaussianBlur(0.5))
    return out


def save_pdf(pages: list[Image.Image], path: Path, dpi: int) -> Path:
    """An image-only PDF: one JPEG/Flate image per page, no text layer."""
    pages[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return path


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate (whitespace ignored): the edits of difflib's alignment over the
    reference length: an upper bound of the edit distance, exact when errors are sparse."""
    import difflib

    ref = "".join(reference.split())
    hyp = "".join(hypothesis.split())
    ops = difflib.SequenceMatcher(None, ref, hyp, autojunk=False).get_opcodes()
    edits = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
    return edits / max(len(ref), 1)
