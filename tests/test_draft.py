"""Drafting a report from the bundled corpus: every paragraph cited, exported as official .docx."""

from __future__ import annotations

import docx
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from dangjian.draft import TEMPLATES, make_draft
from dangjian.errors import DangjianError
from dangjian.kb import KnowledgeBase

TOPIC = "2023年社区党建工作总结"


@pytest.fixture(scope="module")
def kb(corpus_index):
    return KnowledgeBase(corpus_index)


@pytest.fixture(scope="module")
def draft(kb):
    return make_draft(kb, TOPIC)


def test_every_paragraph_is_a_verbatim_cited_passage(kb, draft):
    assert draft.title == TOPIC
    assert [s.heading for s in draft.sections] == [h for h, _ in TEMPLATES["年度工作总结"]]
    assert sum(bool(s.paragraphs) for s in draft.sections) >= 3
    texts = {doc.doc_id: doc.text for doc, _ in kb.documents()}
    refs = {r.marker: r for r in draft.references}
    markers = [m for s in draft.sections for _, m in s.paragraphs]
    assert markers == list(range(1, len(refs) + 1))
    for section in draft.sections:
        for text, marker in section.paragraphs:
            ref = refs[marker]
            assert text == ref.quote == texts[ref.doc_id][ref.start : ref.end]
            assert ref.citation.startswith("《")
    problems = next(s for s in draft.sections if s.heading == "三、存在问题")
    assert problems.paragraphs and all("是" in t[:4] for t, _ in problems.paragraphs)


def test_the_docx_has_the_official_layout_and_libreoffice_renders_it(draft, tmp_path, make_samples):
    path = tmp_path / "总结.docx"
    draft.save(path)
    doc = docx.Document(str(path))
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert round(section.top_margin.cm, 1) == 3.7 and round(section.left_margin.cm, 1) == 2.8
    assert "PAGE" in section.footer.paragraphs[0]._p.xml

    def font(paragraph):
        run = paragraph.runs[0]
        return run._element.rPr.rFonts.get(qn("w:eastAsia")), run.font.size.pt

    paragraphs = doc.paragraphs
    assert paragraphs[0].text == TOPIC and font(paragraphs[0]) == ("方正小标宋简体", 22)
    assert paragraphs[1].text == "一、工作完成情况" and font(paragraphs[1]) == ("黑体", 16)
    assert font(paragraphs[2]) == ("仿宋", 16) and paragraphs[2].text.endswith("[1]")
    assert any(p.text == "参考来源" for p in paragraphs)
    pdf = make_samples.docx_to_pdf(path, tmp_path / "总结.pdf")
    assert len(PdfReader(str(pdf)).pages) > 0


def test_markdown_and_an_outline_of_ones_own(kb, draft, tmp_path):
    path = tmp_path / "总结.md"
    draft.save(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {TOPIC}\n") and "## 参考来源" in text and "[1] 《" in text
    mine = make_draft(kb, "物业管理经验交流", headings=["十联工作法的主要做法", "", "取得的成效"])
    assert [s.heading for s in mine.sections] == ["十联工作法的主要做法", "取得的成效"]
    assert any("联" in t for t, _ in mine.sections[0].paragraphs)


def test_bad_requests_are_refused_in_chinese(kb, draft, tmp_path):
    with pytest.raises(DangjianError, match="没有模板“述职报告”"):
        make_draft(kb, TOPIC, template="述职报告")
    with pytest.raises(DangjianError, match="提纲是空的"):
        make_draft(kb, TOPIC, headings=["  ", ""])
    with pytest.raises(DangjianError, match="请给出材料的题目"):
        make_draft(kb, " ")
    with pytest.raises(DangjianError, match="请用 .docx 或 .md"):
        draft.save(tmp_path / "总结.pdf")
    with pytest.raises(DangjianError, match="无法写入"):
        draft.save(tmp_path / "没有这个目录" / "总结.docx")
