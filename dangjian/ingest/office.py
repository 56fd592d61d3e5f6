"""Word files: ``.docx`` read directly; ``.doc``/``.wps`` converted with headless LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from ..errors import InputFileError
from ..schema import Document
from .common import check_file, join_lines, make_document
from .limits import check_parts

# Beside the package limits of ``limits.py`` (parts, total size, ratio): real documents stay far
# below this one; a 500-page report has a word/document.xml of a few MB.
MAX_XML_BYTES = 64 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADING_STYLE_RE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)


def _check_zip(path: Path) -> None:
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic == OLE_MAGIC:
        raise InputFileError(
            path,
            "这不是 .docx 格式：文件是加密的 Word 文档，或是改了扩展名的旧版 .doc；"
            "请去掉密码保护，或在 Word/WPS 中另存为 .docx",
            code="encrypted_file",
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputFileError(path, "不是有效的 .docx 文件（文件已损坏或被截断）", code="corrupt_file") from None
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise InputFileError(path, "不是 Word 文档（压缩包里没有 word/document.xml）", code="corrupt_file")
    check_parts(path, infos)
    xml_total = sum(i.file_size for i in infos if i.filename.endswith((".xml", ".rels")))
    if xml_total > MAX_XML_BYTES:
        raise InputFileError(
            path,
            f"文档正文解压后过大（{xml_total / 1048576:.0f} MB，上限 {MAX_XML_BYTES // 1048576} MB），已拒绝",
            code="zip_bomb",
        )


def _heading_level(paragraph) -> int | None:
    style = paragraph.style
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() == "title" or name == "标题":
            return 1
        m = _HEADING_STYLE_RE.match(name)
        if m:
            return int(m.group(1))
        style = style.base_style
    ppr = paragraph._p.pPr
    if ppr is not None:
        lvl = ppr.find(W + "outlineLvl")
        if lvl is not None:
            val = lvl.get(W + "val")
            if val is not None and val.isdigit() and int(val) < 9:
                return int(val) + 1
    return None


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIP_SUBTREES = {
    W + "drawing",
    W + "pict",
    W + "del",
    W + "instrText",
    W + "delText",
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent",
}


def _paragraph_text(p) -> str:
    """All visible text of a ``w:p``: runs, hyperlinks, tracked insertions, smart tags, fields'
    results; not deleted text, field codes or drawings."""
    parts: list[str] = []
    stack = [p]
    while stack:
        el = stack.pop()
        tag = el.tag
        if not isinstance(tag, str) or tag in _SKIP_SUBTREES:
            continue
        if tag == W + "t":
            parts.append(el.text or "")
        elif tag == W + "tab":
            parts.append("\t")
        elif tag in (W + "br", W + "cr"):
            parts.append("\n")
        stack.extend(reversed(list(el)))
    return "".join(parts)


def _table_rows(tbl) -> list[str]:
    """Each row as cells joined by `` | ``; a vertically merged cell repeats the text above it."""
    rows, above = [], {}
    for tr in tbl.iterchildren(W + "tr"):
        cells, col = [], 0
        for tc in tr.iterchildren(W + "tc"):
            props = tc.find(W + "tcPr")
            span, merge = 1, None
            if props is not None:
                grid = props.find(W + "gridSpan")
                if grid is not None and str(grid.get(W + "val", "1")).isdigit():
                    span = max(1, int(grid.get(W + "val")))
                vmerge = props.find(W + "vMerge")
                if vmerge is not None:
                    merge = vmerge.get(W + "val", "continue")
            if merge == "continue":
                text = above.get(col, "")
            else:
                text = " ".join(" ".join(_paragraph_text(p) for p in tc.iter(W + "p")).split())
                above[col] = text
            cells.append(text)
            col += span
        rows.append(" | ".join(cells))
    return rows


def load_docx(path: Path, *, max_file_mb: float) -> Document:
    check_file(path, max_file_mb=max_file_mb)
    _check_zip(path)
    import docx
    from docx.text.paragraph import Paragraph

    lines: list[tuple[str, str, int | None]] = []

    def add(text: str, kind: str, level: int | None = None) -> None:
        text = text.strip()
        if text:
            lines.append((text, kind, level))

    def walk(parent) -> None:
        for child in parent.iterchildren():
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            if child.tag == W + "p":
                level = _heading_level(Paragraph(child, word))
                add(_paragraph_text(child), "heading" if level else "text", level)
            elif child.tag == W + "tbl":
                for row in _table_rows(child):
                    add(row, "table")
            elif child.tag in (W + "sdt", W + "customXml", W + "sdtContent"):  # wrappers of paragraphs
                walk(child)

    try:
        word = docx.Document(str(path))
        body = word.element.body
        if body is None:
            raise ValueError("no w:body")
        walk(body)
        props = word.core_properties
        metadata = {k: v for k, v in {"author": props.author, "core_title": props.title}.items() if v}
        if props.created:
            metadata["created"] = props.created.isoformat()
    except Exception as exc:  # python-docx and lxml raise many kinds of errors on broken parts
        raise InputFileError(path, f"Word 文件已损坏，无法解析（{type(exc).__name__}）", code="corrupt_file") from None
    text, blocks = join_lines(lines)
    if not text.strip():
        raise InputFileError(path, "Word 文件里没有文字内容", code="empty_file")
    return make_document(
        text=text,
        source=str(path),
        file_type="docx",
        blocks=blocks,
        metadata=metadata,
        fallback_title=props.title or path.stem,
    )


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_convert(path: Path, target: str, outdir: Path, *, timeout: float = 180) -> Path:
    """Convert ``path`` with headless LibreOffice to ``target`` (``docx``, ``xlsx``, ``pptx``) in
    ``outdir``; a clear ``InputFileError`` when LibreOffice is missing, times out or fails."""
    binary = soffice_binary()
    if binary is None:
        raise InputFileError(
            path,
            f"{path.suffix} 需要 LibreOffice 转换，但本机没有安装 soffice；"
            "请安装 LibreOffice（例如 apt install libreoffice-writer-nogui libreoffice-calc-nogui "
            f"libreoffice-impress-nogui），或在 Office/WPS 中将文件另存为 .{target} 后再导入",
            code="converter_missing",
        )
    # A private profile lets several conversions run at once and never touches the user's.
    cmd = [
        binary,
        f"-env:UserInstallation=file://{outdir / 'profile'}",
        "--headless",
        "--convert-to",
        target,
        "--outdir",
        str(outdir / "out"),
        str(path.resolve()),
    ]
    try:
        subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise InputFileError(path, f"LibreOffice 转换超时（{timeout:g} 秒）", code="conversion_failed") from None
    converted = outdir / "out" / f"{path.stem}.{target}"
    if not converted.exists():
        raise InputFileError(path, "LibreOffice 无法转换该文件（文件可能已损坏或加密）", code="conversion_failed")
    return converted


def load_legacy_word(path: Path, *, max_file_mb: float, timeout: float = 180) -> Document:
    """``.doc``/``.wps``: convert to .docx with headless LibreOffice, then read that."""
    check_file(path, max_file_mb=max_file_mb)
    with tempfile.TemporaryDirectory(prefix="dangjian-soffice-") as tmp:
        converted = soffice_convert(path, "docx", Path(tmp), timeout=timeout)
        doc = load_docx(converted, max_file_mb=max_file_mb)
    doc.source = str(path)
    doc.file_type = path.suffix.lower().lstrip(".")
    if doc.title == converted.stem:
        doc.title = path.stem
    return doc
