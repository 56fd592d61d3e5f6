"""Shared pieces of the loaders: reading bytes safely, decoding, paragraphs, document ids."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import charset_normalizer

from ..errors import InputFileError
from ..schema import Block, Document, PageSpan
from ..text import normalize
from .patterns import (
    BLANK_RE,
    CONTINUATION_START,
    MD_HEADING_RE,
    TERMINAL_RE,
    is_blank,
    looks_like_heading_start,
)
from .structure import mark_header_metadata

DEFAULT_MAX_FILE_MB = 100
WRAPPED_LINE = 20  # a line this long that does not end a sentence was (probably) wrapped

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Encodings a Chinese text file is realistically in; the detector chooses among them.
_CANDIDATES = ["gb18030", "utf_16_le", "utf_16_be", "big5", "utf_8"]
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


def _no_permission(path: Path) -> InputFileError:
    return InputFileError(path, "没有读取权限，请检查文件权限", code="permission_denied")


def check_file(path: Path, *, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> int:
    """Raise a clear error for a missing, unreadable, empty or too large file; return its size."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputFileError(path, "文件不存在，请检查路径", code="not_found") from None
    except PermissionError:
        raise _no_permission(path) from None
    if not path.is_file():
        raise InputFileError(path, "不是普通文件", code="not_a_file")
    if st.st_size == 0:
        raise InputFileError(path, "文件是空的（0 字节）", code="empty_file")
    limit = int(max_file_mb * 1024 * 1024)
    if st.st_size > limit:
        raise InputFileError(
            path,
            f"文件太大（{st.st_size / 1048576:.1f} MB），超过上限 {max_file_mb:g} MB；"
            "请拆分文件，或调大设置 DANGJIAN_MAX_FILE_MB",
            code="file_too_large",
        )
    if not os.access(path, os.R_OK):
        raise _no_permission(path)
    return st.st_size


def read_bytes(path: Path, *, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> bytes:
    check_file(path, max_file_mb=max_file_mb)
    try:
        return path.read_bytes()
    except PermissionError:
        raise _no_permission(path) from None
    except OSError as exc:
        raise InputFileError(path, f"读取失败（{exc.strerror or exc}）", code="read_error") from None


def decode_text(data: bytes, path: Path) -> str:
    """Decode a text file: BOM first, then strict UTF-8, then the charset detector.

    Line endings are normalised to ``\\n``; nothing else is changed.
    """
    text: str | None = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise InputFileError(
                    path,
                    f"文件以 {encoding} 标记开头但内容无法按 {encoding} 解码，文件可能已损坏",
                    code="bad_encoding",
                ) from None
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # UTF-8 with a few damaged bytes (a truncated copy, one bad character) stays UTF-8.
            lenient = data.decode("utf-8", errors="replace")
            if lenient.count("\ufffd") <= max(1, len(lenient) // 10000):
                text = lenient
        if text is None:
            best = charset_normalizer.from_bytes(data, cp_isolation=_CANDIDATES).best()
            if best is None:
                raise InputFileError(
                    path,
                    "内容不是可识别的文本（可能是二进制文件或编码损坏）；请另存为 UTF-8 或 GBK 编码的文本文件",
                    code="binary_file",
                ) from None
            encoding = "gb18030" if best.encoding in ("gb2312", "gbk") else best.encoding
            text = data.decode(encoding, errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:200_000]
    if sample and len(_CONTROL_RE.findall(sample)) > max(3, len(sample) // 200):
        raise InputFileError(path, "内容不是可识别的文本（含大量控制字符，可能是二进制文件）", code="binary_file")
    if not text or BLANK_RE.fullmatch(text):
        raise InputFileError(path, "文件里没有文字内容", code="empty_file")
    return text


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of the non-blank content of each line in ``text[start:end]``; None for blank."""
    spans: list[tuple[int, int]] = []
    pos = start
    while pos <= end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        s, e = pos, line_end
        while s < e and is_blank(text[s]):
            s += 1
        while e > s and is_blank(text[e - 1]):
            e -= 1
        spans.append((s, e))
        if nl < 0:
            break
        pos = nl + 1
    return spans


def paragraph_blocks(text: str, start: int = 0, end: int | None = None) -> list[Block]:
    """Split ``text[start:end]`` into paragraph blocks.

    Files that put blank lines between paragraphs (or hard-wrap long lines) get their single line
    breaks treated as soft wraps: a line that does not end a sentence is joined with the next one,
    unless either looks like a heading. Otherwise every non-blank line is a paragraph.
    """
    end = len(text) if end is None else end
    lines = _line_spans(text, start, end)
    content = [(s, e) for s, e in lines if e > s]
    if not content:
        return []
    first = next(i for i, (s, e) in enumerate(lines) if e > s)
    last = max(i for i, (s, e) in enumerate(lines) if e > s)
    blank = sum(1 for s, e in lines[first:last] if e == s)  # blank lines between paragraphs
    unterminated = sum(
        1
        for s, e in content
        if e - s >= WRAPPED_LINE and not TERMINAL_RE.search(text[s:e]) and not looks_like_heading_start(text[s:e])
    )
    soft_wraps = (blank >= 2 and blank >= 0.3 * len(content)) or (
        unterminated >= 2 and unterminated > 0.5 * len(content)
    )

    blocks: list[Block] = []
    prev_blank = True
    first_line = last_line = (0, 0)  # the current block's first and last line
    for s, e in lines:
        if e == s:
            prev_blank = True
            continue
        if blocks and not prev_blank and soft_wraps:
            prev = text[last_line[0] : last_line[1]]
            # A short heading line ("一、总体要求") is followed by its body; a long numbered line
            # that does not end a sentence was wrapped and continues on this one.
            heading_block = looks_like_heading_start(text[first_line[0] : first_line[1]])
            if (
                (not TERMINAL_RE.search(prev) or text[s] in CONTINUATION_START)
                and not looks_like_heading_start(text[s:e])
                and (not heading_block or last_line[1] - last_line[0] >= WRAPPED_LINE or prev[-1] in "，、,")
            ):
                blocks[-1].end = e
                last_line = (s, e)
                continue
        blocks.append(Block(s, e))
        first_line = last_line = (s, e)
        prev_blank = False
    return blocks


def join_lines(lines: list[tuple[str, str, int | None]]) -> tuple[str, list[Block]]:
    """Join ``(text, kind, level)`` lines with newlines into a document text and its blocks."""
    pieces: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for text, kind, level in lines:
        if pieces:
            pieces.append("\n")
            pos += 1
        pieces.append(text)
        blocks.append(Block(pos, pos + len(text), kind=kind, level=level))
        pos += len(text)
    return "".join(pieces), blocks


def content_hash(text: str) -> str:
    """Identity of a document's content, insensitive to whitespace, width and script variants."""
    canonical = re.sub(r"\s+", "", normalize(text))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def guess_title(text: str, blocks: list[Block], fallback: str) -> str:
    """The first paragraph when it reads as a title (short, not a sentence, not numbered)."""
    for block in blocks:
        if block.kind == "meta":
            continue
        line = text[block.start : block.end]
        if block.kind == "heading":
            return MD_HEADING_RE.sub("", line, count=1).strip()
        if (
            len(line) <= 80
            and "\n" not in line
            and not TERMINAL_RE.search(line)
            and not line.endswith(("，", ","))
            and not looks_like_heading_start(line)
        ):
            return line.strip()
        break
    return fallback


def make_document(
    *,
    text: str,
    source: str,
    file_type: str,
    title: str | None = None,
    fallback_title: str = "",
    blocks: list[Block] | None = None,
    pages: list[PageSpan] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Document:
    """Build a Document: header lines go to metadata, then the title is taken from the text
    (first paragraph when it reads as one) unless ``title`` is given."""
    chash = content_hash(text)
    doc = Document(
        doc_id=chash[:16],
        title=title or "",
        text=text,
        source=source,
        file_type=file_type,
        content_hash=chash,
        metadata=dict(metadata or {}),
        blocks=blocks if blocks is not None else paragraph_blocks(text),
        pages=list(pages or []),
    )
    mark_header_metadata(doc)
    if not doc.title:
        doc.title = guess_title(text, doc.blocks, fallback_title)
    return doc
