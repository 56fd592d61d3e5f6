"""Positioned lines -> paragraphs: shared by PDFs with a text layer and OCR'd pages.

A page is ``(height, lines)`` with PDF coordinates (y grows upwards). Running headers/footers
and page numbers are dropped, and visual lines are joined back into paragraphs (Chinese text
wraps without spaces). Every character range keeps the page it came from.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from ..schema import Block, PageSpan
from .patterns import looks_like_heading_start

PAGE_NUMBER_RE = re.compile(
    r"^[-—–_·•\s]*(?:第\s*)?[0-9]{1,4}\s*(?:页)?(?:\s*[/／]\s*[0-9]{1,4}|\s*共\s*[0-9]{1,4}\s*页)?[-—–_·•\s]*$"
    r"|^(?:page|p\.)\s*[0-9]{1,4}(?:\s*(?:/|of)\s*[0-9]{1,4})?$",
    re.I,
)
_DIGITS_RE = re.compile(r"[0-9]+")
_LATIN_END = re.compile(r"[A-Za-z0-9,.;:]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(]")
MARGIN = 0.09  # top/bottom share of the page where running heads and folios live


@dataclass
class Line:
    """One visual line; ``score`` is the recogniser's confidence (``None`` for a text layer)."""

    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    score: float | None = None


Page = tuple[float, list[Line]]


def running_lines(pages: list[Page]) -> set[str]:
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


def drop_margins(height: float, lines: list[Line], running: set[str]) -> list[Line]:
    kept = []
    for ln in lines:
        in_margin = ln.y0 > height * (1 - MARGIN) or ln.y1 < height * MARGIN
        if in_margin and (_DIGITS_RE.sub("#", ln.text) in running or PAGE_NUMBER_RE.match(ln.text)):
            continue
        kept.append(ln)
    return kept


@dataclass
class Assembled:
    text: str
    blocks: list[Block]
    pages: list[PageSpan]
    empty_pages: list[int]
    line_spans: list[tuple[int, int, float | None]]  # (start, end, score) of every line kept


def assemble(pages: list[Page], page_numbers: list[int] | None = None) -> Assembled:
    """Join the lines of ``pages`` into one text with paragraph blocks and page spans.

    A line starts a new paragraph when it is indented, when the line before it stopped short of
    the right margin, when a wide vertical gap precedes it, or when it starts with a heading
    number after a finished sentence. A paragraph that continues onto the next page is one block.
    """
    running = running_lines(pages)
    numbers = page_numbers or list(range(1, len(pages) + 1))
    pieces: list[str] = []
    blocks: list[Block] = []
    spans: list[PageSpan] = []
    line_spans: list[tuple[int, int, float | None]] = []
    pos = 0
    empty_pages = []
    first_lines = 0  # lines in the first paragraph (a title that wraps)
    prev_full = False  # whether the last line so far ran to the right margin (paragraph continues)
    for page_no, (height, lines) in zip(numbers, pages):
        lines = drop_margins(height, lines, running)
        if not lines:
            empty_pages.append(page_no)
            continue
        widths = [ln.x1 - ln.x0 for ln in lines if len(ln.text) > 5]
        char_w = statistics.median([(ln.x1 - ln.x0) / len(ln.text) for ln in lines])
        left = min(ln.x0 for ln in lines)
        right = max(ln.x1 for ln in lines) if widths else left
        gaps = [a.y0 - b.y1 for a, b in zip(lines, lines[1:]) if a.y0 > b.y1]
        typical_gap = statistics.median(gaps) if gaps else char_w
        page_start = pos
        prev: Line | None = None
        for ln in lines:
            indented = ln.x0 > left + 1.5 * char_w
            # A wrapped line may start with “（2）…”: a heading only after a finished sentence.
            heading_after_sentence = (
                looks_like_heading_start(ln.text) and bool(pieces) and pieces[-1][-1:] in "。：！？:!?"
            )
            # A long title wraps onto a centred second line; it stays one paragraph.
            title_wrap = (
                len(blocks) == 1
                and first_lines == 1
                and prev_full
                and abs((ln.x0 + ln.x1) / 2 - (left + right) / 2) < 2 * char_w
                and not looks_like_heading_start(ln.text)
            )
            new_para = not title_wrap and (
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
            if len(blocks) == 1:
                first_lines += 1
            pieces.append(ln.text)
            line_spans.append((pos, pos + len(ln.text), ln.score))
            pos += len(ln.text)
            blocks[-1].end = pos
            prev_full = ln.x1 >= right - 2 * char_w
            prev = ln
        spans.append(PageSpan(page_start, pos, page_no))
    return Assembled("".join(pieces), blocks, spans, empty_pages, line_spans)
