"""``chunk_sections(doc, sections)``: passages that never cross a section boundary.

A section's own text (its heading and paragraphs, not its children) becomes one passage when it
fits in ``max_chars``; so an 一是 item stays whole. Longer text is split at paragraph ends, then at
sentence ends (。！？；), then at commas, into pieces of about ``target_chars``. A cut never falls
inside quotes or brackets, so an enumeration like “组织联建、资源联享、…、发展联促” is never split,
and never at 、 at all.

Lengths are counted in characters with a Latin word as one (“Article 4: Party members” is four),
about what the embedding model reads: the English lines of a bilingual text (the Party
Constitution with its translation) do not push its Chinese lists apart.
"""

from __future__ import annotations

import bisect
import functools
import math
import re

import numpy as np

from ..schema import Block, Document, Passage, Section
from .ocr import passage_confidence
from .patterns import CLAUSE_END, SENTENCE_END, is_blank
from .roles import role_chain

DEFAULT_TARGET_CHARS = 300
DEFAULT_MAX_CHARS = 500
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")

_OPEN = "“‘《（(「『【〔["
_CLOSE = "”’》）)」』】〕]"
_PAIRS = dict(zip(_CLOSE, _OPEN))
_TRAILING = set(_CLOSE) | {"…"}


@functools.lru_cache(maxsize=8)
def _marks(enders: frozenset[str]) -> re.Pattern[str]:
    """The characters the scans below act on (others only move them along: found by the regex
    engine, not one by one in Python)."""
    return re.compile("[" + "".join(map(re.escape, sorted({*_OPEN, *_CLOSE, "\n", *enders}))) + "]")


def _unmatched_openers(text: str, start: int, end: int) -> set[int]:
    """Positions of opening quotes/brackets that never close in their paragraph."""
    stack: list[int] = []
    unmatched: set[int] = set()
    for m in _marks(frozenset()).finditer(text, start, end):
        i = m.start()
        ch = text[i]
        if ch in _OPEN and not (ch == "“" and stack and text[stack[-1]] == "“"):
            stack.append(i)
        elif ch in _PAIRS:
            if stack and text[stack[-1]] == _PAIRS[ch]:
                stack.pop()
        elif ch == "\n":
            unmatched.update(stack)
            stack.clear()
    unmatched.update(stack)
    return unmatched


def _cut_points(text: str, start: int, end: int, enders: frozenset[str]) -> list[int]:
    """Offsets just after a sentence/clause end that lies outside (balanced) quotes and brackets."""
    points: list[int] = []
    depth: list[str] = []
    ignore = _unmatched_openers(text, start, end)
    resume = start  # the closing marks just after a cut belong to the sentence it ends
    for m in _marks(enders).finditer(text, start, end):
        i = m.start()
        if i < resume:
            continue
        ch = text[i]
        if ch in _OPEN and i not in ignore and not (ch == "“" and depth and depth[-1] == "“"):
            depth.append(ch)
        elif ch in _PAIRS:
            if depth and depth[-1] == _PAIRS[ch]:
                depth.pop()
        elif ch == "\n":
            depth.clear()
        if ch in enders and not depth:
            j = i + 1
            while j < end and text[j] in _TRAILING:
                j += 1
            if j < end:
                points.append(j)
            resume = j
    return points


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each sentence of ``text`` (ends kept, quotes never cut), blanks trimmed."""
    bounds = [0] + _cut_points(text, 0, len(text), SENTENCE_END | {"\n"}) + [len(text)]
    spans = [_trim(text, s, e) for s, e in zip(bounds, bounds[1:])]
    return [(s, e) for s, e in spans if e > s]


class _Length:
    """Length of ``text[start:end]``: characters, a Latin word counting as one, spaces as none.

    Prefix sums in one int32 array (a list of Python ints cost 36 bytes a character: 670 MB
    for a 50 MB file)."""

    def __init__(self, text: str):
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        letter = ((cp >= 65) & (cp <= 90)) | ((cp >= 97) & (cp <= 122))
        word_start = letter.copy()
        word_start[1:] &= ~letter[:-1]
        counted = np.where(letter, word_start, cp != 32)
        self._prefix = np.zeros(len(cp) + 1, dtype=np.int32)
        np.cumsum(counted, dtype=np.int32, out=self._prefix[1:])

    def __call__(self, start: int, end: int) -> int:
        return int(self._prefix[end] - self._prefix[start])


def text_length(text: str) -> int:
    """The length passages are measured in (see the module's note)."""
    return _Length(text)(0, len(text))


def _split(
    text: str, start: int, end: int, max_chars: int, levels: tuple[frozenset[str], ...], length: _Length
) -> list[tuple[int, int]]:
    """Pieces of ``[start, end)`` no longer than ``max_chars``, cut at the coarsest level that works."""
    if length(start, end) <= max_chars:
        return [(start, end)]
    if not levels:  # no punctuation at all: cut by length
        return [(s, min(s + max_chars, end)) for s in range(start, end, max_chars)]
    bounds = [start] + _cut_points(text, start, end, levels[0]) + [end]
    pieces: list[tuple[int, int]] = []
    for s, e in zip(bounds, bounds[1:]):
        pieces.extend(_split(text, s, e, max_chars, levels[1:], length))
    return pieces


def _pack(pieces: list[tuple[int, int]], target: int, max_chars: int, length: _Length) -> list[tuple[int, int]]:
    """Group consecutive pieces into ranges of about equal length, each at most ``max_chars``."""
    total = length(pieces[0][0], pieces[-1][1])
    goal = total / max(1, math.ceil(total / target))
    groups: list[tuple[int, int]] = []
    cur_start, cur_end = pieces[0]
    for s, e in pieces[1:]:
        cur_len, new_len = length(cur_start, cur_end), length(cur_start, e)
        if new_len > max_chars or (new_len > goal and abs(cur_len - goal) <= abs(new_len - goal)):
            groups.append((cur_start, cur_end))
            cur_start = s
        cur_end = e
    groups.append((cur_start, cur_end))
    if len(groups) > 1 and length(cur_start, cur_end) < goal / 3 and length(groups[-2][0], cur_end) <= max_chars:
        groups[-2:] = [(groups[-2][0], cur_end)]  # no stub at the end
    return groups


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and is_blank(text[start]):
        start += 1
    while end > start and is_blank(text[end - 1]):
        end -= 1
    return start, end


def _own_ranges(sections: list[Section], section: Section) -> list[tuple[int, int]]:
    """The parts of a section that no child covers, as maximal contiguous ranges."""
    ranges, pos = [], section.start
    for i in range(section.index + 1, len(sections)):
        child = sections[i]
        if child.parent == section.index:
            if child.start > pos:
                ranges.append((pos, child.start))
            pos = max(pos, child.end)
        elif child.depth <= section.depth:
            break
    if section.end > pos:
        ranges.append((pos, section.end))
    return ranges


def _translated_heading(text: str, section: Section, end: int) -> bool:
    """A Chinese heading followed only by text without Chinese characters (“第七章　党的纪律” and
    “Chapter VII. Party Discipline”): its translation, no passage of its own."""
    return bool(_HAN_RE.search(text, section.start, section.heading_end)) and not _HAN_RE.search(
        text, section.heading_end, end
    )


def chunk_sections(
    doc: Document,
    sections: list[Section],
    *,
    target_chars: int = DEFAULT_TARGET_CHARS,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[Passage]:
    """Cut each section's own text into passages; ``doc.text[p.start:p.end] == p.text``."""
    if target_chars < 20 or max_chars < target_chars:
        raise ValueError("need 20 <= target_chars <= max_chars")
    text = doc.text
    length = _Length(text)
    root = sections[0]
    content: list[Block] = [
        b
        for b in doc.blocks
        if b.kind != "meta" and not (root.heading_end > root.heading_start and b.start <= root.heading_start < b.end)
    ]
    block_ends = [b.end for b in content]
    ranges: list[tuple[int, int, Section]] = []
    for section in sections:
        nxt = section.index + 1
        has_children = nxt < len(sections) and sections[nxt].parent == section.index
        for r_start, r_end in _own_ranges(sections, section):
            fragments = []
            for i in range(bisect.bisect_right(block_ends, r_start), len(content)):
                b = content[i]
                if b.start >= r_end:
                    break
                s, e = _trim(text, max(b.start, r_start), min(b.end, r_end))
                if e > s:
                    fragments.append((s, e))
            if not fragments:
                continue
            if has_children and (
                fragments[-1][1] <= section.heading_end or _translated_heading(text, section, fragments[-1][1])
            ):
                continue  # only the heading: it lives on in the children's section paths
            pieces: list[tuple[int, int]] = []
            if length(fragments[0][0], fragments[-1][1]) <= max_chars:
                pieces = [(fragments[0][0], fragments[-1][1])]
            else:
                for s, e in fragments:
                    pieces.extend(_split(text, s, e, max_chars, (SENTENCE_END, CLAUSE_END), length))
                pieces = _pack(pieces, target_chars, max_chars, length)
            for s, e in pieces:
                s, e = _trim(text, s, e)
                if e > s:
                    ranges.append((s, e, section))
    # A parent's text after its last child comes after the children's passages: document order.
    ranges.sort(key=lambda r: r[0])
    block_starts = [b.start for b in content]
    passages = [
        Passage(
            passage_id=f"{doc.doc_id}-{n:05d}",
            doc_id=doc.doc_id,
            title=doc.title,
            section_path=list(section.path),
            text=text[s:e],
            start=s,
            end=e,
            page=doc.page_at(s),
            page_end=doc.page_at(e - 1),
            section_index=section.index,
            paragraph=bisect.bisect_right(block_starts, s),
            roles=list(dict.fromkeys(role_chain(sections, section.index))),
            role_year=section.role_year,
        )
        for n, (s, e, section) in enumerate(ranges)
    ]
    if doc.metadata.get("ocr"):  # recognised text: each passage says how sure the recogniser was
        for p in passages:
            p.ocr_confidence = passage_confidence(doc.metadata, p.page, p.page_end)
    return passages
