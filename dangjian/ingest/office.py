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

# Limits that keep a hostile .docx (zip bomb) from exhausting memory. Real documents stay far
# below them: a 500-page report has a word/document.xml of a few MB.
MAX_XML_BYTES = 64 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for parts over 1 MB
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
    xml_total = 0
    for info in infos:
        if info.filename.endswith((".xml", ".rels")):
            xml_total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputFileError(
                path,
                f"文件内部的 {info.filename} 压缩比异常（{info.file_size // max(info.compress_size, 1)}:1），"
                "疑似压缩炸弹，已拒绝",
                code="zip_bomb",
            )
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
        lvl = ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl")
        if lvl is not None:
            val = lvl.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val")
            if val is not None and val.isdigit() and int(val) < 9:
                return int(val) + 1
    return None


def _row_text(row) -> str:
    cells, seen = [], set()
    for cell in row.cells:
        key = id(cell._tc)
        if key in seen:  # merged cells repeat the same element
            continue
        seen.add(key)
        cells.append(" ".join(cell.text.split()))
    return " | ".join(cells)


def load_docx(path: Path, *, max_file_mb: float) -> Document:
    check_file(path, max_file_mb=max_file_mb)
    _check_zip(path)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        word = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds of errors on broken parts
        raise InputFileError(path, f"Word 文件已损坏，无法解析（{type(exc).__name__}）", code="corrupt_file") from None

    lines: list[tuple[str, str, int | None]] = []

    def add(text: str, kind: str, level: int | None = None) -> None:
        text = text.strip()
        if text:
            lines.append((text, kind, level))

    def walk(parent) -> None:
        for child in parent.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                para = Paragraph(child, word)
                level = _heading_level(para)
                add(para.text, "heading" if level else "text", level)
            elif tag == "tbl":
                for row in Table(child, word).rows:
                    add(_row_text(row), "table")
            elif tag == "sdt":  # content controls wrap ordinary paragraphs and tables
                content = child.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}sdtContent")
                if content is not None:
                    walk(content)

    walk(word.element.body)
    text, blocks = join_lines(lines)
    if not text.strip():
        raise InputFileError(path, "Word 文件里没有文字内容", code="empty_file")
    props = word.core_properties
    metadata = {k: v for k, v in {"author": props.author, "core_title": props.title}.items() if v}
    if props.created:
        metadata["created"] = props.created.isoformat()
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


def load_legacy_word(path: Path, *, max_file_mb: float, timeout: float = 180) -> Document:
    """``.doc``/``.wps``: convert to .docx with headless LibreOffice, then read that."""
    check_file(path, max_file_mb=max_file_mb)
    binary = soffice_binary()
    if binary is None:
        raise InputFileError(
            path,
            f"{path.suffix} 是旧版 Word/WPS 格式，需要 LibreOffice 转换，但本机没有安装 soffice；"
            "请安装 LibreOffice（例如 apt install libreoffice-writer-nogui），"
            "或在 Word/WPS 中将文件另存为 .docx 后再导入",
            code="converter_missing",
        )
    with tempfile.TemporaryDirectory(prefix="dangjian-soffice-") as tmp:
        tmpdir = Path(tmp)
        # A private profile lets several conversions run at once and never touches the user's.
        cmd = [
            binary,
            f"-env:UserInstallation=file://{tmpdir / 'profile'}",
            "--headless",
            "--convert-to",
            "docx",
            "--outdir",
            str(tmpdir / "out"),
            str(path.resolve()),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise InputFileError(path, f"LibreOffice 转换超时（{timeout:g} 秒）", code="conversion_failed") from None
        converted = tmpdir / "out" / (path.stem + ".docx")
        if not converted.exists():
            raise InputFileError(path, "LibreOffice 无法转换该文件（文件可能已损坏或加密）", code="conversion_failed")
        doc = load_docx(converted, max_file_mb=max_file_mb)
    doc.source = str(path)
    doc.file_type = path.suffix.lower().lstrip(".")
    if doc.title == converted.stem:
        doc.title = path.stem
    return doc
