"""Bad input: each gives a clear Chinese message naming the file and the reason, never a traceback,
and never damages an existing index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dangjian.errors import DangjianError, InputFileError
from dangjian.ingest import load_document

from ..conftest import CORPUS, REPO, SEED
from ..fakes import fake_kb

SAMPLE_DOCX = CORPUS / "samples" / "示例_十联工作法经验材料.docx"
SAMPLE_PDF = CORPUS / "samples" / "示例_党员教育培训计划.pdf"


def expect_error(path: Path, code: str, *fragments: str) -> InputFileError:
    with pytest.raises(InputFileError) as err:
        load_document(path)
    exc = err.value
    assert exc.code == code, exc.message
    assert str(path) in exc.message, "the message names the file"
    for fragment in fragments:
        assert fragment in exc.message
    return exc


def run_isolated(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, incl. its peak RSS."""
    prelude = "import json, sys\nfrom dangjian.evaluation import peak_rss_mb\n"
    epilogue = "\nresult['rss_mb'] = peak_rss_mb()\nprint(json.dumps(result, ensure_ascii=False))\n"
    proc = subprocess.run(
        [sys.executable, "-c", prelude + code + epilogue, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    expect_error(path, "empty_file", "空")
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\u3000\n", encoding="utf-8")
    expect_error(blank, "empty_file", "没有文字")


def test_binary_garbage_named_txt(tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(os.urandom(20000))
    expect_error(path, "binary_file", "不是可识别的文本")
    elf = tmp_path / "program.txt"
    elf.write_bytes(Path(sys.executable).resolve().read_bytes()[:50000])
    expect_error(elf, "binary_file")


def test_truncated_docx(tmp_path):
    path = tmp_path / "truncated.docx"
    path.write_bytes(SAMPLE_DOCX.read_bytes()[:5000])
    expect_error(path, "corrupt_file", "损坏")


def test_docx_that_is_not_a_word_document(tmp_path):
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "not word")
    expect_error(path, "corrupt_file", "word/document.xml")


def test_encrypted_office_file(tmp_path):
    path = tmp_path / "locked.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096))  # OLE container
    expect_error(path, "encrypted_file", "加密")


def _zip_bomb(path: Path, megabytes: int) -> Path:
    """A .docx whose word/document.xml inflates to ``megabytes`` MB from a few hundred KB."""
    with zipfile.ZipFile(SAMPLE_DOCX) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item, src.read(item.filename))
        with dst.open("word/document.xml", "w", force_zip64=True) as fh:
            chunk = b"<w:t>" + b" " * (1024 * 1024 - 11) + b"</w:t>"
            for _ in range(megabytes):
                fh.write(chunk)
    return path


def test_docx_zip_bomb_is_refused_with_bounded_memory(tmp_path):
    bomb = _zip_bomb(tmp_path / "bomb.docx", 1024)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    result = run_isolated(
        "from tests.fakes import fake_kb\n"
        "r = fake_kb(sys.argv[1]).ingest([sys.argv[2]])\n"
        "result = {'skipped': [s.code for s in r.skipped], 'message': r.skipped[0].reason}\n",
        str(tmp_path / "index"),
        str(bomb),
    )
    assert result["skipped"] == ["zip_bomb"]
    assert "压缩炸弹" in result["message"] and "bomb.docx" in result["message"]
    assert result["rss_mb"] < 300


def test_encrypted_pdf(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(SAMPLE_PDF))
    writer.encrypt(user_password="secret", owner_password="owner")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    expect_error(path, "encrypted_file", "加密", "密码")


def test_pdf_with_only_an_owner_password_still_reads(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(SAMPLE_PDF))
    writer.encrypt(user_password="", owner_password="owner")
    path = tmp_path / "restricted.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    assert "一、指导思想" in load_document(path).text


def test_scanned_pdf_is_recognised(tmp_path):
    from PIL import Image, ImageDraw, ImageFont

    font_path = next(Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.ttc"))
    pages = []
    for n in range(2):
        image = Image.new("RGB", (1240, 1754), "white")
        ImageDraw.Draw(image).text(
            (100, 300),
            f"扫描件第{n + 1}页：社区党建工作总结",
            fill="black",
            font=ImageFont.truetype(str(font_path), 48),
        )
        pages.append(image)
    path = tmp_path / "scan.pdf"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    doc = load_document(path)
    # One line a page: whether page 2 starts a new paragraph cannot be told, the text can.
    assert doc.text.replace("\n", "") == "扫描件第1页：社区党建工作总结扫描件第2页：社区党建工作总结"
    assert [doc.page_at(0), doc.page_at(len(doc.text) - 1)] == [1, 2]
    assert doc.metadata["ocr"]["pages"] == [1, 2]


def test_blank_scanned_pdf_says_no_text_was_found(tmp_path):
    from PIL import Image

    path = tmp_path / "blank-scan.pdf"
    Image.new("RGB", (620, 877), "white").save(path)
    expect_error(path, "no_text_layer", "没有可提取的文字", "识别也没有得到文字")


def test_truncated_pdf(tmp_path):
    path = tmp_path / "truncated.pdf"
    path.write_bytes(SAMPLE_PDF.read_bytes()[:3000])
    expect_error(path, "corrupt_file", "PDF")


def test_gbk_and_utf16_files_ingest(tmp_path, seed_text):
    (tmp_path / "gbk.txt").write_bytes(seed_text.replace("2022年", "二〇二二年").encode("gbk"))
    (tmp_path / "utf16.txt").write_bytes(seed_text.replace("2023年", "二〇二三年").encode("utf-16"))
    report = fake_kb(tmp_path / "index").ingest([tmp_path])
    assert len(report.added) == 2 and not report.skipped


def test_fifty_megabyte_text_file_with_bounded_memory(tmp_path, seed_text):
    path = tmp_path / "big.txt"
    with open(path, "w", encoding="utf-8") as fh:
        n = 0
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(f"第{n + 1}部分 汇编\n" + seed_text.replace("***", f"第{n}号"))
            n += 1
    result = run_isolated(
        "from tests.fakes import fake_kb\n"
        "r = fake_kb(sys.argv[1]).ingest([sys.argv[2]])\n"
        "result = {'added': len(r.added), 'passages': r.passages, 'skipped': [s.reason for s in r.skipped]}\n",
        str(tmp_path / "index"),
        str(path),
    )
    assert result["skipped"] == [] and result["added"] == 1
    assert result["passages"] > 100_000
    assert result["rss_mb"] < 1024


def test_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "large.txt"
    path.write_bytes(b"a" * (2 * 1024 * 1024))
    with pytest.raises(InputFileError) as err:
        load_document(path, max_file_mb=1)
    assert err.value.code == "file_too_large" and "DANGJIAN_MAX_FILE_MB" in err.value.message


def test_unknown_extension(tmp_path):
    path = tmp_path / "table.numbers"
    path.write_bytes(b"PK\x03\x04 something")
    exc = expect_error(path, "unsupported_file", "不支持的文件类型", ".numbers")
    assert ".docx" in exc.message  # lists what is supported


def test_missing_path(tmp_path):
    expect_error(tmp_path / "nope.txt", "not_found", "不存在")


def test_unreadable_permissions(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("一、内容\n正文。\n", encoding="utf-8")
    path.chmod(0)
    if os.geteuid() != 0:
        expect_error(path, "permission_denied", "没有读取权限")
        return
    # Root reads anything: check in a child process that drops to the ``nobody`` user.
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                load_document(path)
                out = "loaded"
            except InputFileError as exc:
                out = json.dumps({"code": exc.code, "message": exc.message}, ensure_ascii=False)
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            out = f"crash {exc!r}"
        os.write(write_fd, out.encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as fh:
        out = fh.read()
    os.waitpid(pid, 0)
    result = json.loads(out)
    assert result["code"] == "permission_denied", out
    assert "没有读取权限" in result["message"] and "secret.txt" in result["message"]


def test_folder_ingest_continues_past_bad_files_and_lists_them(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEED, folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "garbage.txt").write_bytes(os.urandom(5000))
    (folder / "data.numbers").write_bytes(b"PK")
    (folder / "broken.docx").write_bytes(SAMPLE_DOCX.read_bytes()[:4000])
    report = fake_kb(tmp_path / "index").ingest([folder, tmp_path / "missing"])
    assert len(report.added) == 1
    codes = sorted(s.code for s in report.skipped)
    assert codes == ["binary_file", "corrupt_file", "empty_file", "not_found", "unsupported_file"]
    for skipped in report.skipped:
        assert skipped.reason.startswith("无法导入文件")


def test_existing_index_is_never_damaged_by_a_failed_ingest(tmp_path, monkeypatch):
    kb = fake_kb(tmp_path / "index")
    kb.ingest([SEED])
    before = kb.open()
    files_before = {p: p.read_bytes() for p in before.path.rglob("*") if p.is_file()}

    # 1. Only bad files: nothing changes, no new version.
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    report = kb.ingest([bad])
    assert report.version == before.name and len(report.skipped) == 1

    # 2. A crash while writing the new version: the old one stays current and intact.
    good = tmp_path / "new.txt"
    good.write_text("新文档\n一、内容\n正文内容。\n", encoding="utf-8")
    from dangjian.index import layout as store

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write_jsonl", explode)
    with pytest.raises(DangjianError) as err:
        kb.ingest([good])
    assert err.value.code == "index_write_failed" and "原有索引未受影响" in err.value.message
    monkeypatch.undo()
    after = kb.open()
    assert after.name == before.name
    assert {p: p.read_bytes() for p in after.path.rglob("*") if p.is_file()} == files_before
    assert not list((tmp_path / "index" / "versions").glob(".tmp-*"))
    assert [d.title for d, _ in after.iter_documents()] == ["2022年基层党建工作完成情况及2023年工作谋划"]


def _docx_with_body(tmp_path: Path, name: str, body_xml: str) -> Path:
    """The sample .docx with its <w:body> replaced by ``body_xml``."""
    path = tmp_path / name
    with zipfile.ZipFile(SAMPLE_DOCX) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                xml = data.decode("utf-8")
                start, end = xml.index("<w:body>"), xml.index("</w:body>") + len("</w:body>")
                data = (xml[:start] + body_xml + xml[end:]).encode("utf-8")
            dst.writestr(item, data)
    return path


def test_odd_but_valid_docx_xml_reads(tmp_path):
    body = (
        "<w:body><!-- a comment --><?pi data?>"
        "<w:p><w:r><w:t>一、正文</w:t></w:r><w:ins w:id='1' w:author='a'><w:r><w:t>（修订插入）</w:t></w:r></w:ins>"
        "<w:del w:id='2' w:author='a'><w:r><w:delText>已删除</w:delText></w:r></w:del></w:p>"
        "<w:tbl><w:tr><w:tc><w:tcPr><w:vMerge w:val='restart'/></w:tcPr><w:p><w:r><w:t>合并</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>甲</w:t></w:r></w:p></w:tc></w:tr>"
        "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r><w:t>乙</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "<w:customXml w:element='x'><w:p><w:r><w:t>自定义标记里的段落。</w:t></w:r></w:p></w:customXml>"
        "</w:body>"
    )
    doc = load_document(_docx_with_body(tmp_path, "odd.docx", body))
    assert doc.text == "一、正文（修订插入）\n合并 | 甲\n合并 | 乙\n自定义标记里的段落。"


def test_docx_with_broken_xml_is_a_clear_error_and_the_folder_goes_on(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _docx_with_body(folder, "broken.docx", "<w:body><w:p><w:r><w:t>没有闭合")
    shutil.copy(SEED, folder / "good.txt")
    report = fake_kb(tmp_path / "idx").ingest([folder])
    assert len(report.added) == 1
    assert [s.code for s in report.skipped] == ["corrupt_file"]
    assert "broken.docx" in report.skipped[0].reason


def test_jsonl_lines_that_break_the_json_parser(tmp_path):
    from dangjian.ingest import iter_documents

    path = tmp_path / "odd.jsonl"
    path.write_text(
        "[" * 100_000 + "\n" + '{"n": ' + "9" * 5000 + "}\n" + '{"title": "好", "content": "正文。"}\n',
        encoding="utf-8",
    )
    items = list(iter_documents(path))
    assert [type(i).__name__ for i in items] == ["InputFileError", "InputFileError", "Document"]
    assert all("JSON" in i.message for i in items[:2])


def test_only_zero_width_characters_is_empty(tmp_path):
    path = tmp_path / "zw.txt"
    path.write_text("\u200b\ufeff\u200b\n\u200d", encoding="utf-8")
    expect_error(path, "empty_file", "没有文字")
