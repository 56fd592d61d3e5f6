"""Word documents in the official-document layout (GB/T 9704-2012): A4 with the standard margins,
title in 小标宋 二号, body in 仿宋 三号 with a two-character first-line indent and 28-pt lines,
level-1 headings in 黑体, level-2 in 楷体, page numbers “— 1 —” in the footer. Fonts a machine
lacks are substituted by the word processor."""

from __future__ import annotations

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

TITLE_FONT, BODY_FONT, H1_FONT = "方正小标宋简体", "仿宋", "黑体"
SIZE_2, SIZE_3 = 22, 16  # 二号, 三号 in points


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
    return doc


def add_paragraph(
    doc, text: str, font: str = BODY_FONT, size: float = SIZE_3, *, center: bool = False, indent: bool = True
):
    p = doc.add_paragraph()
    p.paragraph_format.line_spacing = Pt(28)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        p.paragraph_format.first_line_indent = Pt(2 * size)
    set_font(p.add_run(text), font, size)
    return p
