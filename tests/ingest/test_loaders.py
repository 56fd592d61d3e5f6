"""Each loader on real files: encodings, Word, PDF, HTML, markdown, JSONL, legacy .doc."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from dangjian.errors import InputFileError
from dangjian.ingest import chunk_sections, iter_documents, load_document, split_sections

from ..conftest import CORPUS, REPO, SEED

SAMPLE_TEXT = (REPO / "scripts" / "sample_texts" / "shili_shilian_jingyan.txt").read_text(encoding="utf-8")
PLAN_TEXT = (REPO / "scripts" / "sample_texts" / "shili_jiaoyu_jihua.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "encoding, prefix",
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("gb18030", b""),
        ("gbk", b""),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16le-bom", "utf16be-bom", "utf16le-no-bom"],
)
def test_txt_encodings_give_the_same_text(tmp_path, seed_text, encoding, prefix):
    path = tmp_path / "report.txt"
    path.write_bytes(prefix + seed_text.encode(encoding))
    doc = load_document(path)
    assert doc.text == seed_text
    assert doc.title == "2022年基层党建工作完成情况及2023年工作谋划"


def test_crlf_line_endings_are_normalised_only(tmp_path, seed_text):
    path = tmp_path / "crlf.txt"
    path.write_bytes(seed_text.replace("\n", "\r\n").encode("gbk"))
    assert load_document(path).text == seed_text


def test_traditional_chinese_big5_file_matches_as_simplified(tmp_path):
    from dangjian.text import Tokenizer, normalize

    text = "中華人民共和國政府工作報告\n一、過去一年的工作\n黨的建設全面加強，社區黨組織覆蓋擴大。\n"
    path = tmp_path / "trad.txt"
    path.write_bytes(text.encode("big5"))
    doc = load_document(path)
    assert doc.text == text  # quotes stay in the original script
    assert (
        normalize(doc.text) == "中华人民共和国政府工作报告\n一、过去一年的工作\n党的建设全面加强,社区党组织覆盖扩大。\n"
    )
    assert [s.heading for s in split_sections(doc)] == ["中華人民共和國政府工作報告", "一、過去一年的工作"]
    assert "党组织" in Tokenizer().tokenize(doc.text)


def test_docx_with_direct_formatting_keeps_order_tables_and_header(tmp_path, make_samples):
    path = make_samples.write_docx(SAMPLE_TEXT, tmp_path / "sample.docx")
    doc = load_document(path)
    assert doc.file_type == "docx"
    assert doc.title.startswith("“红色物业”聚合力")
    assert doc.metadata["issuer"] == "中共示例街道工作委员会"
    assert doc.metadata["doc_number"] == "示街发〔2023〕5号"
    assert doc.metadata["date"] == "2023-03-15"
    rows = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "table"]
    assert rows[0] == "序号 | 项目 | 牵头单位 | 完成时限"  # header row kept
    assert rows[3] == "3 | 老旧小区物业全覆盖 | 物业服务企业 | 2023年10月"
    # The table sits where it was: after the sentence announcing it, before the next heading.
    assert doc.text.index("如下表：") < doc.text.index("序号 | 项目") < doc.text.index("（三）建立三方议事平台")
    headings = [s.heading for s in split_sections(doc)]
    assert headings[1:4] == ["一、建强组织体系，把党组织建在小区里", "（一）推动小区党支部应建尽建", "一是摸清底数"]


def test_docx_heading_styles_are_used(tmp_path, make_samples):
    text = "样式文档\n概述部分\n正文一。\n具体做法\n正文二。\n"
    path = tmp_path / "styled.docx"
    import docx

    d = docx.Document()
    d.add_paragraph("样式文档", style="Title")
    d.add_paragraph("概述部分", style="Heading 1")
    d.add_paragraph("正文一。")
    d.add_paragraph("具体做法", style="Heading 2")
    d.add_paragraph("正文二。")
    d.save(path)
    doc = load_document(path)
    assert doc.text == text.strip()
    assert [(s.depth, s.heading) for s in split_sections(doc)] == [(0, "样式文档"), (1, "概述部分"), (2, "具体做法")]


def test_docx_and_pdf_of_the_same_text_give_the_same_tree(tmp_path, make_samples):
    docx_doc = load_document(make_samples.write_docx(PLAN_TEXT, tmp_path / "plan.docx"))
    pdf_doc = load_document(make_samples.make_sample(PLAN_TEXT, tmp_path / "plan.pdf", header="示例社区党委 页眉文字"))
    docx_tree = [(s.depth, s.heading) for s in split_sections(docx_doc)]
    pdf_tree = [(s.depth, s.heading) for s in split_sections(pdf_doc)]
    assert pdf_tree == docx_tree
    assert len(docx_tree) > 20


def test_pdf_pages_are_kept_and_running_heads_and_folios_dropped(tmp_path, make_samples):
    path = make_samples.make_sample(PLAN_TEXT, tmp_path / "plan.pdf", header="示例社区党委 页眉文字")
    doc = load_document(path)
    assert doc.metadata["page_count"] >= 2
    assert "页眉文字" not in doc.text
    assert "—" not in doc.text  # the “— 1 —” page numbers
    # Every body paragraph of the source comes back whole, line wraps removed.
    for line in PLAN_TEXT.split("\n")[2:]:
        if line.strip():
            assert line in doc.text, line
    pages = [span.page for span in doc.pages]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == doc.metadata["page_count"]
    passages = chunk_sections(doc, split_sections(doc))
    assert passages[0].page == 1 and passages[-1].page_end == doc.metadata["page_count"]
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.page is not None and p.page <= p.page_end


def test_bundled_sample_files_load(tmp_path):
    docx_doc = load_document(CORPUS / "samples" / "示例_十联工作法经验材料.docx")
    pdf_doc = load_document(CORPUS / "samples" / "示例_党员教育培训计划.pdf")
    assert "组织联建、资源联享、服务联动" in docx_doc.text
    assert pdf_doc.title == "示例社区2023年党员教育培训计划"


def test_html_visible_text_headings_and_tables(tmp_path):
    html = """<!doctype html><html><head><title>网页标题</title><style>.x{color:red}</style>
    <script>var secret = "不应出现";</script><meta name="author" content="宣传办"></head>
    <body><nav style="display:none">隐藏菜单</nav>
    <h1>社区党建简报</h1><p>本期   要点：
      学习贯彻。</p>
    <h2>一、工作动态</h2><p>开展<b>主题党日</b>活动。</p><div hidden>隐藏内容</div>
    <h3>（一）志愿服务</h3><table><tr><th>时间</th><th>活动</th></tr><tr><td>3月</td><td>义诊</td></tr></table>
    <!-- 注释不应出现 --></body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "社区党建简报"
    for hidden in ("不应出现", "隐藏", "color", "注释"):
        assert hidden not in doc.text
    assert "开展主题党日活动。" in doc.text
    assert "时间 | 活动\n3月 | 义诊" in doc.text
    assert doc.metadata["author"] == "宣传办"
    assert [(s.depth, s.heading) for s in split_sections(doc)] == [
        (0, "社区党建简报"),
        (1, "一、工作动态"),
        (2, "（一）志愿服务"),
    ]


def test_markdown_file_front_matter_to_metadata(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("---\ntitle: 学习笔记\nyear: 2023\n---\n\n## 一、学习内容\n\n学习党章。\n", encoding="utf-8")
    doc = load_document(path)
    assert doc.metadata["year"] == 2023 and doc.metadata["title"] == "学习笔记"
    assert "title:" not in "".join(p.text for p in chunk_sections(doc, split_sections(doc)))


def test_jsonl_one_document_per_line_and_bad_lines_reported(tmp_path):
    path = tmp_path / "export.jsonl"
    rows = [
        json.dumps(
            {"title": "甲报告", "content": "一、概况\n甲的内容。", "year": "2021", "url": "http://a"},
            ensure_ascii=False,
        ),
        "{not json",
        json.dumps({"title": "乙报告", "text": "乙的内容。"}, ensure_ascii=False),
        json.dumps({"title": "无正文"}, ensure_ascii=False),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    items = list(iter_documents(path))
    docs = [i for i in items if not isinstance(i, InputFileError)]
    errors = [i for i in items if isinstance(i, InputFileError)]
    assert [d.title for d in docs] == ["甲报告", "乙报告"]
    assert docs[0].metadata == {"year": 2021, "url": "http://a", "line": 1}
    assert docs[0].source.endswith("export.jsonl#L1")
    assert [e.code for e in errors] == ["bad_json", "empty_file"]
    assert "第 2 行不是合法的 JSON" in errors[0].message and "export.jsonl" in errors[0].message


def test_party_gov_jsonl_loads(shared_data):
    path = shared_data / "party_gov" / "chinese_political_corpora" / "cpc_congress_reports.jsonl"
    docs = [d for d in iter_documents(path) if not isinstance(d, InputFileError)]
    assert len(docs) == 16
    twentieth = next(d for d in docs if d.metadata.get("congress") == 20)
    headings = [s.heading for s in split_sections(twentieth) if s.depth == 1]
    assert headings[0] == "一、过去五年的工作和新时代十年的伟大变革"
    assert len(headings) == 15


@pytest.fixture(scope="module")
def legacy_doc(tmp_path_factory, make_samples):
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is needed for this test: apt install libreoffice-writer-nogui"
    tmp = tmp_path_factory.mktemp("legacy")
    docx_path = make_samples.write_docx(SAMPLE_TEXT, tmp / "legacy.docx")
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--convert-to",
            "doc",
            "--outdir",
            str(tmp / "out"),
            str(docx_path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return tmp / "out" / "legacy.doc"


@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_legacy_word_converted_with_libreoffice(tmp_path, legacy_doc, suffix):
    path = tmp_path / f"legacy{suffix}"
    shutil.copy(legacy_doc, path)
    doc = load_document(path)
    assert doc.file_type == suffix[1:]
    assert doc.source == str(path)
    assert "组织联建、资源联享" in doc.text
    assert [s.heading for s in split_sections(doc)][1] == "一、建强组织体系，把党组织建在小区里"


def test_legacy_word_without_libreoffice_says_how_to_convert(tmp_path, legacy_doc, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on PATH
    with pytest.raises(InputFileError) as err:
        load_document(legacy_doc)
    assert err.value.code == "converter_missing"
    assert "LibreOffice" in err.value.message and "另存为 .docx" in err.value.message
    assert str(legacy_doc) in err.value.message


def test_seed_file_itself(seed_text):
    assert load_document(SEED).text == seed_text


def test_html_cells_with_paragraphs_and_breaks_in_headings(tmp_path):
    path = tmp_path / "cells.html"
    path.write_text(
        "<h2>一、<br>总体要求</h2><table><tr><td><p>甲</p><p>乙</p></td><td><p>丙</p></td></tr>"
        "<tr><th>丁</th><td></td><td>戊</td></tr></table><p>备注</p>",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc.text == "一、总体要求\n甲乙 | 丙\n丁 |  | 戊\n备注"
