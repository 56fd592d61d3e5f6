"""Plain-text formats: ``.txt``, ``.md`` and ``.jsonl`` bulk exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputFileError
from ..schema import Block, Document
from .common import decode_text, make_document, paragraph_blocks, read_bytes
from .patterns import MD_HEADING_RE

_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)


def load_txt(path: Path, *, max_file_mb: float) -> Document:
    text = decode_text(read_bytes(path, max_file_mb=max_file_mb), path)
    return make_document(text=text, source=str(path), file_type="txt", fallback_title=path.stem)


def markdown_blocks(text: str) -> tuple[list[Block], dict[str, Any]]:
    """Blocks of a markdown text: front matter and comments as ``meta``, ``#`` lines as headings."""
    metadata: dict[str, Any] = {}
    hidden: list[tuple[int, int]] = []
    pos = 0
    m = _FRONT_MATTER_RE.match(text)
    if m:
        try:
            data = yaml.safe_load(m.group(1))
        except yaml.YAMLError:
            data = None
        if isinstance(data, dict):  # otherwise the two --- are horizontal rules, not front matter
            # YAML dates and the like become strings, so metadata always serialises to JSON.
            metadata.update(json.loads(json.dumps({str(k): v for k, v in data.items()}, default=str)))
            hidden.append((0, m.end()))
            pos = m.end()
    while (open_at := text.find("<!--", pos)) >= 0:
        close_at = text.find("-->", open_at + 4)
        if close_at < 0:
            break  # an unclosed comment: leave the rest visible
        hidden.append((open_at, close_at + 3))
        pos = close_at + 3

    blocks: list[Block] = []
    pos = 0
    for h_start, h_end in hidden:
        blocks.extend(paragraph_blocks(text, pos, h_start))
        blocks.append(Block(h_start, h_end, kind="meta"))
        pos = h_end
    blocks.extend(paragraph_blocks(text, pos, len(text)))
    for block in blocks:
        if block.kind == "text":
            hm = MD_HEADING_RE.match(text, block.start, block.end)
            if hm and "\n" not in text[block.start : block.end]:
                block.kind = "heading"
                block.level = len(hm.group(1))
    return blocks, metadata


def load_md(path: Path, *, max_file_mb: float) -> Document:
    text = decode_text(read_bytes(path, max_file_mb=max_file_mb), path)
    blocks, metadata = markdown_blocks(text)
    if all(b.kind == "meta" for b in blocks):
        raise InputFileError(path, "文件里只有元数据（front matter 或注释），没有正文", code="empty_file")
    return make_document(
        text=text,
        source=str(path),
        file_type="md",
        blocks=blocks,
        metadata=metadata,
        fallback_title=str(metadata.get("title") or path.stem),
    )


def iter_jsonl(path: Path, *, max_file_mb: float) -> Iterator[Document | InputFileError]:
    """One document per line: ``title``, ``content`` or ``text``, other keys go to metadata.

    A bad line is reported (as an error value) and the rest of the file still loads.
    """
    data = read_bytes(path, max_file_mb=max_file_mb)
    text = decode_text(data, path)
    del data
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}#L{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputFileError(
                where, f"第 {lineno} 行不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）", code="bad_json"
            )
            continue
        except (ValueError, RecursionError):  # absurdly long numbers, nesting too deep
            yield InputFileError(where, f"第 {lineno} 行的 JSON 无法解析（数字过长或嵌套过深）", code="bad_json")
            continue
        if not isinstance(record, dict):
            yield InputFileError(where, f"第 {lineno} 行应是一个 JSON 对象", code="bad_json")
            continue
        body = record.get("content", record.get("text"))
        if not isinstance(body, str) or not body.strip():
            yield InputFileError(where, f"第 {lineno} 行缺少正文字段 content 或 text", code="empty_file")
            continue
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        metadata = {
            k: v
            for k, v in record.items()
            if k not in ("content", "text", "title") and (v is None or isinstance(v, (str, int, float, bool)))
        }
        year = metadata.get("year")
        if isinstance(year, str) and year.isdigit():
            metadata["year"] = int(year)
        title = record.get("title")
        metadata["line"] = lineno
        yield make_document(
            text=body,
            source=where,
            file_type="jsonl",
            metadata=metadata,
            title=title.strip() if isinstance(title, str) and title.strip() else None,
            fallback_title=f"{path.stem} 第{lineno}行",
        )
