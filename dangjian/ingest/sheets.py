"""Spreadsheets and slides: ``.xlsx`` (openpyxl, MIT), ``.pptx`` (python-pptx, MIT); WPS's
``.et``/``.dps`` and old ``.xls``/``.ppt`` are converted with headless LibreOffice first.

A sheet is a heading (“工作表：名称”) and one line per row. When the first row reads as a header
(text in every cell), every later row carries it: ``社区：测试一社区 | 网格数：8 | 网格员：11``, so
a passage cut from the middle of a long table still says what each number is. A slide is a
heading (“第N张幻灯片”) followed by its text frames and table rows.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from ..errors import InputFileError
from ..schema import Document
from .common import check_file, join_lines, make_document
from .limits import check_package
from .office import soffice_convert

MAX_CELLS = 2_000_000
_NUMBERISH = set("0123456789.,-+%￥¥$ ")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        value = value.removesuffix(" 00:00:00")
    return " ".join(str(value).split())


def _is_header(cells: list[str]) -> bool:
    filled = [c for c in cells if c]
    return len(filled) >= 2 and len(filled) == len(cells) and all(not set(c) <= _NUMBERISH for c in filled)


def table_lines(rows: list[list[str]]) -> list[tuple[str, str, int | None]]:
    """Rows as document lines; a header row is kept and repeated into each later row."""
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    keep = [i for i in range(width) if any(i < len(r) and r[i] for r in rows)]  # drop empty columns
    rows = [[r[i] if i < len(r) else "" for i in keep] for r in rows]
    lines: list[tuple[str, str, int | None]] = []
    header = rows[0] if len(rows) > 1 and _is_header(rows[0]) else None
    if header:
        lines.append((" | ".join(header), "table", None))
    for row in rows[1:] if header else rows:
        if header:
            text = " | ".join(f"{h}：{c}" for h, c in zip(header, row) if c)
        else:
            text = " | ".join(c for c in row if c)
        lines.append((text, "table", None))
    return lines


def _xlsx_lines(path: Path) -> list[tuple[str, str, int | None]]:
    import openpyxl

    check_package(path, ".xlsx")
    try:
        # A file object: openpyxl would refuse an OOXML package named .et by its extension.
        book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on broken parts
        raise InputFileError(path, f"Excel 文件已损坏，无法解析（{type(exc).__name__}）", code="corrupt_file") from None
    lines: list[tuple[str, str, int | None]] = []
    cells = 0
    try:
        for sheet in book.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
                if cells > MAX_CELLS:
                    raise InputFileError(
                        path, f"表格超过 {MAX_CELLS:,} 个单元格，已拒绝；请拆分后再导入", code="file_too_large"
                    )
                rows.append([_cell(v) for v in row])
            body = table_lines(rows)
            if body:
                lines.append((f"工作表：{sheet.title}", "heading", 1))
                lines.extend(body)
    finally:
        book.close()
    return lines


def _pptx_lines(path: Path) -> list[tuple[str, str, int | None]]:
    from pptx import Presentation

    check_package(path, ".pptx")
    try:
        deck = Presentation(str(path))
    except Exception as exc:
        raise InputFileError(
            path, f"PowerPoint 文件已损坏，无法解析（{type(exc).__name__}）", code="corrupt_file"
        ) from None
    lines: list[tuple[str, str, int | None]] = []
    for n, slide in enumerate(deck.slides, start=1):
        body: list[tuple[str, str, int | None]] = []
        shapes = sorted(slide.shapes, key=lambda s: ((s.top or 0), (s.left or 0)))
        for shape in shapes:
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = [[_cell(c.text) for c in r.cells] for r in shape.table.rows]
                body.extend(table_lines(rows))
            elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                for para in shape.text_frame.paragraphs:
                    text = " ".join("".join(r.text for r in para.runs).split())
                    if text:
                        body.append((text, "text", None))
        if body:
            lines.append((f"第{n}张幻灯片", "heading", 1))
            lines.extend(body)
    return lines


_READERS = {".xlsx": _xlsx_lines, ".xlsm": _xlsx_lines, ".pptx": _pptx_lines}
_CONVERT = {".et": "xlsx", ".xls": "xlsx", ".ett": "xlsx", ".dps": "pptx", ".ppt": "pptx", ".dpt": "pptx"}
SHEET_SUFFIXES = tuple(_READERS) + tuple(_CONVERT)


def load_sheet(path: Path, *, max_file_mb: float) -> Document:
    """A workbook or a deck as a document of headed table rows and slide text."""
    check_file(path, max_file_mb=max_file_mb)
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        ooxml = fh.read(4) == b"PK\x03\x04"
    if suffix in _CONVERT and ooxml:  # WPS also saves .et/.dps as OOXML packages: read them directly
        lines = _READERS["." + _CONVERT[suffix]](path)
    elif suffix in _CONVERT:
        with tempfile.TemporaryDirectory(prefix="dangjian-soffice-") as tmp:
            converted = soffice_convert(path, _CONVERT[suffix], Path(tmp))
            lines = _READERS["." + _CONVERT[suffix]](converted)
    else:
        lines = _READERS[suffix](path)
    text, blocks = join_lines(lines)
    if not text.strip():
        raise InputFileError(path, "文件里没有文字内容", code="empty_file")
    return make_document(
        text=text,
        source=str(path),
        file_type=suffix.lstrip("."),
        title=path.stem,
        blocks=blocks,
    )
