#!/usr/bin/env python3
"""Generate the sample .docx and .pdf documents of ``corpus/samples/`` from plain text.

The layout follows the official-document style (GB/T 9704): title in 小标宋/宋体 二号, body in
仿宋 三号 with a two-character first-line indent, level-1 headings in 黑体, level-2 in 楷体, page
numbers “— 1 —” in the footer. Headings are formatted directly, without Word heading styles, as
most 公文 are. Lines of the source text that start with ``|`` form a table.

PDFs are exported from the .docx by headless LibreOffice (``soffice``), as users' PDFs usually are.

    python scripts/make_samples.py            # regenerate corpus/samples/
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from dangjian.officedoc import fontconfig_env, official_document
from dangjian.officedoc import set_font as _font

ROOT = Path(__file__).resolve().parent.parent
TEXTS = Path(__file__).resolve().parent / "sample_texts"
OUT = ROOT / "corpus" / "samples"

SAMPLES = [
    # (source text, output file, running header or None)
    ("shili_shilian_jingyan.txt", "示例_十联工作法经验材料.docx", None),
    ("shili_jiaoyu_jihua.txt", "示例_党员教育培训计划.pdf", "示例社区党委 党员教育培训计划"),
]

_H1 = re.compile(r"^[一二三四五六七八九十]+、")
_H2 = re.compile(r"^（[一二三四五六七八九十]+）")


def write_docx(text: str, path: Path, *, header: str | None = None, heading_styles: bool = False) -> Path:
    """Write ``text`` as an official-style .docx. ``heading_styles`` also applies Word's Heading 1/2."""
    doc = official_document()
    if header:
        hp = doc.sections[0].header.paragraphs[0]
        hp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(hp.add_run(header), "宋体", 10.5)

    lines = [ln for ln in text.split("\n") if ln.strip()]
    title_done = False
    table_rows: list[list[str]] = []

    def flush_table() -> None:
        if not table_rows:
            return
        table = doc.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        table.style = "Table Grid"
        for r, row in enumerate(table_rows):
            for c, cell_text in enumerate(row):
                cell = table.cell(r, c)
                cell.text = ""
                _font(cell.paragraphs[0].add_run(cell_text), "仿宋", 12, bold=(r == 0))
        table_rows.clear()

    for line in lines:
        if line.startswith("|"):
            table_rows.append([c.strip() for c in line.strip("|").split("|")])
            continue
        flush_table()
        p = doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.line_spacing = Pt(28)
        if line.endswith("文件") and not title_done and len(line) < 30:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(line), "方正小标宋简体", 26)
        elif re.search(r"〔\d{4}〕\d+号$", line):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(line), "仿宋", 16)
        elif not title_done:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(line), "方正小标宋简体", 22)
            title_done = True
        elif _H1.match(line):
            fmt.first_line_indent = Pt(32)
            _font(p.add_run(line), "黑体", 16)
            if heading_styles:
                p.style = doc.styles["Heading 1"]
        elif _H2.match(line):
            fmt.first_line_indent = Pt(32)
            _font(p.add_run(line), "楷体", 16)
            if heading_styles:
                p.style = doc.styles["Heading 2"]
        else:
            fmt.first_line_indent = Pt(32)
            _font(p.add_run(line), "仿宋", 16)
    flush_table()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def docx_to_pdf(docx_path: Path, pdf_path: Path, *, timeout: float = 180) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("需要 LibreOffice（soffice）来生成 PDF：apt install libreoffice-writer-nogui fonts-noto-cjk")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{tmp}/profile",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                tmp,
                str(docx_path),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
            env=fontconfig_env(),  # the GB/T 9704 font names mapped to the installed CJK fonts
        )
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / (docx_path.stem + ".pdf")), pdf_path)
    return pdf_path


def make_sample(text: str, out: Path, *, header: str | None = None) -> Path:
    if out.suffix == ".docx":
        return write_docx(text, out, header=header)
    with tempfile.TemporaryDirectory() as tmp:
        docx_path = write_docx(text, Path(tmp) / (out.stem + ".docx"), header=header)
        return docx_to_pdf(docx_path, out)


def main() -> None:
    for source, name, header in SAMPLES:
        out = make_sample((TEXTS / source).read_text(encoding="utf-8"), OUT / name, header=header)
        print(f"已生成 {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
