"""Drafting a report from the bundled corpus: every paragraph cited, exported as official .docx."""

from __future__ import annotations

import re
import subprocess

import docx
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from dangjian.draft import TEMPLATES, make_draft
from dangjian.errors import DangjianError
from dangjian.kb import KnowledgeBase

from .conftest import CORPUS

TOPIC = "2023年社区党建工作总结"


@pytest.fixture(scope="module")
def kb(corpus_index):
    return KnowledgeBase(corpus_index)


@pytest.fixture(scope="module")
def draft(kb):
    return make_draft(kb, TOPIC)


SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


def test_every_paragraph_is_cited_and_its_sentences_are_verbatim(kb, draft):
    assert draft.title == TOPIC
    assert [s.heading for s in draft.sections] == [p.heading for p in TEMPLATES["年度工作总结"]]
    assert sum(bool(s.paragraphs) for s in draft.sections) >= 3
    texts = {doc.doc_id: doc.text for doc, _ in kb.documents()}
    refs = {r.marker: r for r in draft.references}
    markers = [m for s in draft.sections for _, m in s.paragraphs]
    assert markers == list(range(1, len(refs) + 1))
    for section in draft.sections:
        for text, marker in section.paragraphs:
            ref = refs[marker]
            assert ref.quote == texts[ref.doc_id][ref.start : ref.end]
            assert all(s in ref.quote for s in SENTENCE.findall(text)), text
            assert ref.citation.startswith("《")
    problems = next(s for s in draft.sections if s.heading == "三、存在问题")
    assert problems.paragraphs and all(refs[m].section_path[0] == "二、存在问题" for _, m in problems.paragraphs)


@pytest.fixture(scope="module")
def draft_2022(kb):
    return make_draft(kb, "2022年社区党建工作总结", template="年度工作总结", per_section=5)


HEADING_LINE = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[.．])")


def test_each_part_draws_on_the_seed_reports_section_of_its_role(draft_2022):
    """The acceptance check of issue 23: a 2022 summary over the seed report takes its 完成情况
    from “一、2022年工作完成情况”, its problems from “二、存在问题”, its plans from “三、2023年工作谋划”."""
    refs = {r.marker: r for r in draft_2022.references}
    wanted = {
        "一、工作完成情况": "一、2022年工作完成情况",
        "三、存在问题": "二、存在问题",
        "四、下一年工作谋划": "三、2023年工作谋划",
    }
    for section in draft_2022.sections:
        if section.heading in wanted:
            assert len(section.paragraphs) >= 3, section.heading
            assert section.note is None
            for _, marker in section.paragraphs:
                assert refs[marker].section_path[0] == wanted[section.heading], (section.heading, refs[marker])
        # No plan in a review part, whatever its fallback.
        if section.heading != "四、下一年工作谋划":
            assert not any("谋划" in refs[m].section_path[0] for _, m in section.paragraphs)
    headings = {h for r in refs.values() for h in r.section_path}
    for section in draft_2022.sections:
        for text, _ in section.paragraphs:
            lines = text.split("\n")
            for line, after in zip(lines, [*lines[1:], ""], strict=True):
                assert line not in headings and not HEADING_LINE.match(line), line
                assert "虚构" not in line and "示例文档" not in line
                assert not line.endswith("：") or " | " in after, line  # announces only a table
    body = draft_2022.to_markdown()
    assert "（一）党建品牌成效明显" not in body.split("## 参考来源")[0]


def test_a_year_the_corpus_lacks_falls_back_and_says_so(draft):
    """A 2023 summary: the corpus has no 2023 完成情况, so the part takes the plan for 2023 and
    its note says these are plans; 存在问题 of 2022, said too."""
    notes = {s.heading: s.note for s in draft.sections}
    assert "2023年的工作谋划" in notes["一、工作完成情况"] and "计划" in notes["一、工作完成情况"]
    assert "2022年" in notes["三、存在问题"]


def test_cleaning_drops_headings_labels_disclaimers_and_announcing_lines():
    from dangjian.draft_material import clean
    from dangjian.ingest.chunking import chunk_sections
    from dangjian.ingest.describe import describe
    from dangjian.ingest.loaders import load_document

    doc = load_document(CORPUS / "samples" / "示例_十联工作法经验材料.docx")
    sections = describe(doc)
    passages = chunk_sections(doc, sections)
    opening = clean(passages[0], sections, plan=False)
    assert "示例文档" not in opening and "虚构" not in opening and not opening.endswith("：")
    assert opening.startswith("近年来")
    table = next(p for p in passages if "重点项目安排" in "".join(p.section_path))
    cleaned = clean(table, sections, plan=True)
    assert not cleaned.startswith("（二）") and "序号 | 项目" in cleaned
    item = next(p for p in passages if p.text.startswith("三是党员作用"))
    assert clean(item, sections, plan=False) == "党员作用充分发挥，286名在职党员到小区报到并认领服务岗位。"
    assert "下一步" in clean(item, sections, plan=True)


def test_the_docx_has_the_official_layout_and_libreoffice_renders_it(draft_2022, kb, tmp_path, make_samples):
    path = tmp_path / "总结.docx"
    draft_2022.save(path)
    doc = docx.Document(str(path))
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert round(section.top_margin.cm, 1) == 3.7 and round(section.left_margin.cm, 1) == 2.8
    assert "PAGE" in section.footer.paragraphs[0]._p.xml

    def font(paragraph):
        run = paragraph.runs[0]
        return run._element.rPr.rFonts.get(qn("w:eastAsia")), run.font.size.pt

    paragraphs = doc.paragraphs
    title = "2022年社区党建工作总结"
    assert paragraphs[0].text == title and font(paragraphs[0]) == ("方正小标宋简体", 22)
    assert paragraphs[1].text == "一、工作完成情况" and font(paragraphs[1]) == ("黑体", 16)
    assert font(paragraphs[2]) == ("仿宋", 16) and paragraphs[2].text.endswith("[1]")
    headings = [p for p in paragraphs if p.text in {s.heading for s in draft_2022.sections} | {title, "参考来源"}]
    assert len(headings) == 6 and all(p.paragraph_format.keep_with_next for p in headings)
    assert not any(p.paragraph_format.keep_with_next for p in paragraphs if p not in headings)
    table_xml = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")).blob.decode()
    assert '<w:font w:name="方正小标宋简体"><w:altName w:val="宋体"/>' in table_xml
    pdf = make_samples.docx_to_pdf(path, tmp_path / "总结.pdf")
    assert len(PdfReader(str(pdf)).pages) > 0
    used = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "NotoSerifCJK" in used and "NotoSansCJK" in used  # a serif body, a sans 黑体 heading


def test_a_table_stays_a_table(kb, tmp_path):
    result = make_draft(kb, "十联工作法经验交流", template="经验材料", per_section=5)
    assert any("序号 | 项目" in t for s in result.sections for t, _ in s.paragraphs)
    # Issue 23: 主要做法 opened with a line of the training plan; plans are not practices.
    practices = result.sections[0]
    assert practices.heading == "一、主要做法" and practices.paragraphs
    assert not any(result.references[m - 1].title.endswith("计划") for _, m in practices.paragraphs)
    path = tmp_path / "经验.docx"
    result.save(path)
    doc = docx.Document(str(path))
    assert doc.tables and doc.tables[0].cell(0, 1).text == "项目" and len(doc.tables[0].rows) == 5
    assert not any(" | " in p.text for p in doc.paragraphs)
    markdown = result.to_markdown()
    assert "| 序号 | 项目 | 牵头单位 | 完成时限 |\n| --- | --- | --- | --- |" in markdown


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


def test_an_index_built_before_roles_still_drafts_from_the_headings(kb, monkeypatch):
    """Passages without stored roles (an old index): the part's role is read from the section path
    and any year matches, so a draft is still filled from the right sections."""
    from dangjian.index.search import Searcher

    searcher = kb.searcher()
    passage = searcher.retrieval.passage

    def old(row):
        p = passage(row)
        return type(p)(**{**p.to_dict(), "roles": [], "role_year": None})

    monkeypatch.setattr(searcher.retrieval, "passage", old)
    assert isinstance(searcher, Searcher)
    result = make_draft(searcher, "2022年社区党建工作总结", per_section=5)
    refs = {r.marker: r for r in result.references}
    problems = next(s for s in result.sections if s.heading == "三、存在问题")
    assert problems.paragraphs and all(refs[m].section_path[0] == "二、存在问题" for _, m in problems.paragraphs)
    plans = next(s for s in result.sections if s.heading == "四、下一年工作谋划")
    assert plans.paragraphs and all(refs[m].section_path[0] == "三、2023年工作谋划" for _, m in plans.paragraphs)
