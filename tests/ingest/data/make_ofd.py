"""Regenerate the OFD fixtures with a real OFD writer (easyofd, Apache-2.0; not a project
dependency: ``pip install easyofd`` to run this). Run from the repository root:

    python tests/ingest/data/make_ofd.py

``seed_report.ofd``: the seed report written as .docx (scripts/make_samples.py, every font set to
Noto Serif CJK SC so quotes stay in the CJK font), printed to PDF by LibreOffice, converted to
OFD by easyofd with its text layer. ``image_only.ofd``: one picture page, no text (what an
e-certificate or a scan looks like to a text reader).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "scripts"))


def _cjk_fonts(path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    doc = docx.Document(str(path))
    elements = [s.element for s in doc.styles] + list(doc.element.body.iter(qn("w:r")))
    for el in elements:
        rpr = el.find(qn("w:rPr"))
        if rpr is None:
            continue
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, fonts)
        for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(key), "Noto Serif CJK SC")
    doc.save(str(path))


def main() -> None:
    import make_samples
    from easyofd.ofd import OFD
    from PIL import Image, ImageDraw

    text = (REPO / "corpus" / "000_47bfaefce9c6aa4d.txt").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_samples.write_docx(text, tmp / "seed.docx", header="党建工作汇报材料")
        _cjk_fonts(tmp / "seed.docx")
        make_samples.docx_to_pdf(tmp / "seed.docx", tmp / "seed.pdf")
        pdf = (tmp / "seed.pdf").read_bytes()
        picture = Image.new("RGB", (600, 400), "white")
        ImageDraw.Draw(picture).ellipse((200, 100, 400, 300), outline="red", width=8)
        cwd = os.getcwd()
        try:
            # easyofd writes a scratch folder "./test" into the working directory: one each.
            os.chdir(tmp / "a" if (tmp / "a").mkdir() is None else tmp)
            seed = OFD().pdf2ofd(pdf, optional_text=True)
            os.chdir(tmp / "b" if (tmp / "b").mkdir() is None else tmp)
            image_only = OFD().jpg2ofd([picture])
        finally:
            os.chdir(cwd)
    (HERE / "seed_report.ofd").write_bytes(seed)
    (HERE / "image_only.ofd").write_bytes(image_only)


if __name__ == "__main__":
    main()
