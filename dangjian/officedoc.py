"""Word documents in the official-document layout (GB/T 9704-2012): A4 with the standard margins,
title in 小标宋 二号, body in 仿宋 三号 with a two-character first-line indent and 28-pt lines,
level-1 headings in 黑体, level-2 in 楷体, page numbers “— 1 —” in the footer.

Fonts: runs name the GB/T 9704 fonts (方正小标宋简体, 仿宋, 黑体, 楷体), marked Simplified Chinese
(``w:lang``). Word reads the font table, where each has the Windows font as its ``altName``
(宋体 for 方正小标宋简体 where that is not installed). LibreOffice ignores ``altName`` and a
“仿宋;Noto Serif CJK SC” list alike (checked with ``pdffonts``: Noto Sans CJK for everything), so
``data/fonts.conf`` maps the names to the fonts Debian's fonts-noto-cjk installs (serif body and
title, sans 黑体) and ``fontconfig_env`` hands it to ``soffice``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

# GB/T 9704 font -> (what data/fonts.conf maps it to on Debian, the Windows font for Word's altName)
FONTS = {
    "方正小标宋简体": ("Noto Serif CJK SC", "宋体"),
    "仿宋": ("Noto Serif CJK SC", "仿宋"),
    "黑体": ("Noto Sans CJK SC", "黑体"),
    "楷体": ("Noto Serif CJK SC", "楷体"),
    "宋体": ("Noto Serif CJK SC", "宋体"),
}
TITLE_FONT, BODY_FONT, H1_FONT, H2_FONT = "方正小标宋简体", "仿宋", "黑体", "楷体"
SIZE_2, SIZE_3 = 22, 16  # 二号, 三号 in points
FONTCONFIG = Path(__file__).parent / "data" / "fonts.conf"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters a Word file cannot hold (control characters, lone surrogates)."""
    return _NOT_XML.sub("", text)


def fontconfig_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with ``FONTCONFIG_FILE`` pointing at ``data/fonts.conf``,
    for running ``soffice`` on our Word files."""
    return {**(os.environ if env is None else env), "FONTCONFIG_FILE": str(FONTCONFIG)}


def set_font(run, name: str, size: float, bold: bool = False) -> None:
    """Font of a run, for Chinese text too (Word reads ``w:eastAsia`` for CJK characters)."""
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _font_table(doc) -> None:
    """Each font list in the document's font table, with the Windows font as ``altName``."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    for rel in doc.part.rels.values():
        if rel.reltype == RT.FONT_TABLE:
            part = rel.target_part
            entries = "".join(
                f'<w:font w:name="{name}"><w:altName w:val="{windows}"/><w:charset w:val="86"/>'
                f'<w:family w:val="{"swiss" if name == "黑体" else "roman"}"/><w:pitch w:val="variable"/></w:font>'
                for name, (_, windows) in FONTS.items()
            )
            part._blob = part.blob.replace(b"</w:fonts>", entries.encode() + b"</w:fonts>")


def page_number_field(paragraph) -> None:
    """“— N —”, N being Word's PAGE field."""
    set_font(paragraph.add_run("— "), "宋体", 14)
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.text = text
        run._r.append(el)
    set_font(run, "宋体", 14)
    set_font(paragraph.add_run(" —"), "宋体", 14)


def official_document():
    """An empty A4 document with the standard margins and page numbers."""
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    page_number_field(footer)
    _font_table(doc)
    return doc


def add_paragraph(
    doc,
    text: str,
    font: str = BODY_FONT,
    size: float = SIZE_3,
    *,
    center: bool = False,
    indent: bool = True,
    keep_with_next: bool = False,
):
    p = doc.add_paragraph()
    p.paragraph_format.line_spacing = Pt(28)
    p.paragraph_format.keep_with_next = keep_with_next  # a heading never ends a page
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        p.paragraph_format.first_line_indent = Pt(2 * size)
    set_font(p.add_run(xml_safe(text)), font, size)
    return p


def add_table(doc, rows: list[list[str]], size: float = 12):
    """A bordered table, the first row as its header (bold), cells in 仿宋 小四."""
    width = max(len(r) for r in rows)
    table = doc.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for i, row in enumerate(rows):
        for j in range(width):
            cell = table.cell(i, j)
            paragraph = cell.paragraphs[0]
            set_font(paragraph.add_run(xml_safe(row[j]) if j < len(row) else ""), BODY_FONT, size, bold=i == 0)
    doc.add_paragraph()  # Word needs a paragraph between a table and what follows
    return table
