"""Scans, photos, OFD, archives and spreadsheets on real files: the seed report rendered with a CJK
font (300 dpi; 150 dpi rotated 2° with noise) and OCR'd, an OFD written by a real OFD library,
zip archives (and bombs), an .xlsx table with a header."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from dangjian.errors import InputFileError
from dangjian.ingest import SUPPORTED_SUFFIXES, chunk_sections, iter_documents, load_document, split_sections
from dangjian.kb import KnowledgeBase

from ..conftest import SEED, TEN_LIAN
from ..fakes import fake_kb
from .scans import cer, degrade, font_path, render_pages, save_pdf

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.skipif(font_path() is None, reason="needs fonts-noto-cjk")


def _tree(doc):
    return [(s.depth, s.heading) for s in split_sections(doc)]


@pytest.fixture(scope="module")
def typed():
    return load_document(SEED)


@pytest.fixture(scope="module")
def scan300(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "扫描件_300dpi.pdf"
    return save_pdf(render_pages(SEED.read_text(encoding="utf-8"), dpi=300), path, 300)


@pytest.fixture(scope="module")
def doc300(scan300):
    return load_document(scan300)


@pytest.mark.slow
def test_scanned_seed_300dpi_reads_like_the_typed_report(doc300, typed):
    assert cer(typed.text, doc300.text) <= 0.02
    assert _tree(doc300) == _tree(typed)
    ocr = doc300.metadata["ocr"]
    assert ocr["pages"] == [1, 2, 3, 4, 5] and ocr["confidence"] > 0.9
    assert "党建工作汇报材料" not in doc300.text  # the running header is dropped
    assert "— 1 —" not in doc300.text and "—1—" not in doc300.text
    passages = chunk_sections(doc300, split_sections(doc300))
    holding = [p for p in passages if all(item in p.text for item in TEN_LIAN)]
    assert len(holding) == 1 and holding[0].page is not None
    assert all(p.ocr_confidence is not None and 0.5 < p.ocr_confidence <= 1 for p in passages)
    assert all(doc300.text[p.start : p.end] == p.text for p in passages)


@pytest.mark.slow
def test_scanned_seed_answers_with_page_numbers(scan300, tmp_path):
    kb = KnowledgeBase(tmp_path / "index")
    report = kb.ingest([scan300])
    assert len(report.added) == 1 and not report.skipped
    answer = kb.ask("物业管理十联工作法包括什么")
    assert not answer.abstained
    quote = " ".join(c.quote for c in answer.citations)
    assert all(item in quote for item in TEN_LIAN)
    assert all(c.page for c in answer.citations)
    hit = kb.search("物业管理十联工作法").hits[0]
    assert hit.page and f"识别文字，第{hit.page}页" in hit.citation  # staff check recognised text on its page


@pytest.mark.slow
def test_scanned_seed_150dpi_rotated_and_noisy(tmp_path, typed):
    pages = [degrade(p, angle=2, noise=0.002, seed=i) for i, p in enumerate(render_pages(typed.text, dpi=150))]
    doc = load_document(save_pdf(pages, tmp_path / "rotated.pdf", 150))
    assert cer(typed.text, doc.text) <= 0.04
    assert _tree(doc) == _tree(typed)


@pytest.mark.slow
def test_png_photo_with_a_seal_is_recognised_and_searchable(tmp_path, typed):
    from PIL import ImageDraw, ImageFont

    page = render_pages(typed.text, dpi=200, header=None)[0].convert("RGB")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(font_path(), 40)
    draw.ellipse((1000, 1900, 1400, 2300), outline=(220, 30, 30), width=10)
    draw.text((1060, 2070), "某某街道党工委", font=font, fill=(220, 30, 30))
    path = tmp_path / "汇报材料照片.png"
    page.save(path)
    doc = load_document(path)
    assert doc.file_type == "png" and doc.metadata["ocr"]["pages"] == [1]
    assert "某某街道党工委" not in doc.text  # seal ink is not text of the document
    assert "（一）党建品牌成效明显，社区治理水平发生新变化" in doc.text
    assert doc.page_at(len(doc.text) - 1) == 1
    kb = fake_kb(tmp_path / "index")
    kb.ingest([path])
    assert "党建品牌" in kb.search("党建品牌成效明显").hits[0].text


def test_ofd_written_by_an_ofd_library(typed):
    doc = load_document(DATA / "seed_report.ofd")
    assert doc.file_type == "ofd" and doc.metadata["page_count"] >= 5
    assert cer(typed.text, doc.text) <= 0.01
    assert _tree(doc) == _tree(typed)
    assert "党建工作汇报材料" not in doc.text
    liang = doc.text.index("组织联建")
    assert doc.page_at(liang) > 1


def test_ofd_without_text_and_e_invoices_are_refused(tmp_path):
    with pytest.raises(InputFileError) as err:
        load_document(DATA / "image_only.ofd")
    assert err.value.code == "not_a_document" and "几乎没有文字" in err.value.message
    invoice = tmp_path / "发票.ofd"
    with zipfile.ZipFile(DATA / "seed_report.ofd") as src, zipfile.ZipFile(invoice, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "OFD.xml":
                xml = data.decode("utf-8")
                custom = '<ofd:CustomDatas><ofd:CustomData Name="发票号码">24110000000012345678</ofd:CustomData></ofd:CustomDatas>'
                data = xml.replace("</ofd:DocInfo>", custom + "</ofd:DocInfo>").encode("utf-8")
            dst.writestr(item, data)
    with pytest.raises(InputFileError) as err:
        load_document(invoice)
    assert err.value.code == "not_a_document" and "电子发票" in err.value.message


def _xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "网格统计"
    for row in (["社区", "网格数", "网格员"], ["测试一社区", 8, 11], ["测试二社区", 6, 9]):
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_rows_carry_their_header(tmp_path):
    doc = load_document(_xlsx(tmp_path / "网格.xlsx"))
    assert "社区：测试一社区 | 网格数：8 | 网格员：11" in doc.text
    kb = fake_kb(tmp_path / "index")
    kb.ingest([tmp_path / "网格.xlsx"])
    hit = kb.search("测试一社区网格员").hits[0]
    assert "社区：测试一社区 | 网格数：8 | 网格员：11" in hit.text


def test_zip_members_are_ingested_and_named_by_their_path(tmp_path):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.write(_xlsx(tmp_path / "网格.xlsx"), "表格/网格.xlsx")
    archive = tmp_path / "材料.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SEED, "2022/汇报.txt")
        zf.write(inner, "附件.zip")
        zf.writestr("说明.numbers", b"PK")
        zf.write(DATA / "seed_report.ofd", "2022/汇报.ofd")
    items = list(iter_documents(archive))
    docs = {i.source: i for i in items if not isinstance(i, InputFileError)}
    errors = [i for i in items if isinstance(i, InputFileError)]
    assert set(docs) == {
        f"{archive}!/2022/汇报.txt",
        f"{archive}!/附件.zip!/表格/网格.xlsx",
        f"{archive}!/2022/汇报.ofd",
    }
    assert docs[f"{archive}!/附件.zip!/表格/网格.xlsx"].title == "网格"
    assert [(e.code, e.path) for e in errors] == [("unsupported_file", f"{archive}!/说明.numbers")]
    kb = fake_kb(tmp_path / "index")
    report = kb.ingest([archive])
    assert len(report.added) == 2  # the .txt and the .xlsx; the .ofd is the same report again
    assert [d.source for d in report.duplicates] == [f"{archive}!/2022/汇报.txt"] or [
        d.duplicate_of for d in report.duplicates
    ] == [f"{archive}!/2022/汇报.txt"]
    assert "测试一社区" in kb.search("测试一社区网格员").hits[0].text


def test_zip_bombs_and_huge_archives_are_refused_and_nothing_is_lost(tmp_path):
    kb = fake_kb(tmp_path / "index")
    kb.ingest([SEED])
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("报告.txt", "w") as fh:
            block = b"\0" * (1 << 20)
            for _ in range(64):
                fh.write(block)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(10_000):
            zf.writestr(f"f{i}.txt", "一、内容\n正文。")
    report = kb.ingest([bomb, many])
    codes = {Path(s.path).name: (s.code, s.reason) for s in report.skipped}
    assert codes["bomb.zip"][0] == "zip_bomb" and "压缩炸弹" in codes["bomb.zip"][1]
    assert codes["many.zip"][0] == "too_many_files" and "10,000" in codes["many.zip"][1]
    assert [d.title for d, _ in kb.open().iter_documents()] == ["2022年基层党建工作完成情况及2023年工作谋划"]


def test_new_types_are_supported():
    for suffix in (".ofd", ".png", ".jpg", ".jpeg", ".tif", ".bmp", ".webp", ".zip", ".xlsx", ".et", ".pptx", ".dps"):
        assert suffix in SUPPORTED_SUFFIXES


def test_pptx_slides_and_tables(tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "物业管理十联工作法"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for r, row in enumerate((("做法", "内容"), ("组织联建", "小区党支部应建尽建"))):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    path = tmp_path / "汇报.pptx"
    deck.save(path)
    doc = load_document(path)
    assert doc.text.splitlines()[:2] == ["第1张幻灯片", "物业管理十联工作法"]
    assert "做法：组织联建 | 内容：小区党支部应建尽建" in doc.text


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
def test_wps_spreadsheet_et_via_libreoffice(tmp_path):
    xlsx = _xlsx(tmp_path / "网格.xlsx")
    et = tmp_path / "网格.et"
    shutil.copy(xlsx, et)  # WPS saves .et as an OOXML package too; binary .et goes through LibreOffice
    doc = load_document(et)
    assert doc.file_type == "et" and "社区：测试一社区 | 网格数：8 | 网格员：11" in doc.text
