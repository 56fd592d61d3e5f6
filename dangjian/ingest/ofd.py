"""OFD files (GB/T 33190, China's fixed-layout format) read with ofdkit (Apache-2.0, no
required dependencies).

ofdkit gives each page's text runs with their positions; runs on one baseline make a visual line,
and the lines go through ``layout.assemble`` like a typed PDF's (indents and short lines end
paragraphs, running headers and page numbers are dropped, every range keeps its page). E-invoices and
files with next to no text (e-certificates, image-only scans) are refused with a clear message.
"""

from __future__ import annotations

import re
import statistics
import zipfile
from pathlib import Path

from ..errors import InputFileError
from ..schema import Document
from .common import check_file, make_document
from .layout import Line, Page, assemble
from .limits import check_parts

MIN_CHARS = 20  # fewer readable characters than this: not a document (a certificate, a scan)
_SPACE_RE = re.compile(
    r"(?<=[\u3400-\u9fff，。、；：！？“”（）])[ \u3000]+|[ \u3000]+(?=[\u3400-\u9fff，。、；：！？“”（）])"
)


_ENDS = set("。！？；：!?;:”’）)")


def _units(text: str) -> float:
    return max(sum(0.5 if " " <= ch <= "~" else 1.0 for ch in text), 0.5)


def _page(runs: list, box_height: float) -> Page:
    """Visual lines of one page from ofdkit's text runs (millimetres, origin top left, ``y`` the
    baseline): runs on one baseline are joined left to right; the result is in PDF orientation."""
    runs = sorted((r for r in runs if r.text.strip()), key=lambda r: (round(r.y, 1), r.x))
    if not runs:
        return box_height, []
    height = max(box_height, max(r.y for r in runs) + 5)
    rows: list[list] = []
    for run in runs:
        if rows and abs(run.y - rows[-1][0].y) < 1.0:
            rows[-1].append(run)
        else:
            rows.append([run])
    texts = [_SPACE_RE.sub("", "".join(r.text for r in sorted(row, key=lambda r: r.x))).strip() for row in rows]
    # Widths are recomputed from the characters (a CJK character or “” one em, ASCII half):
    # writers often leave out the font size, and estimated run widths miss full-width quotes.
    ems = [
        (max(r.x + r.width for r in row) - min(r.x for r in row)) / _units(text)
        for row, text in zip(rows, texts)
        if len(text) >= 10
    ]
    em = statistics.median(ems) if ems else 1.0
    lines = []
    for row, text in zip(rows, texts):
        if not text:
            continue
        x0 = min(r.x for r in row)
        base = height - row[0].y
        x1 = max(x0 + _units(text) * em, max(r.x + r.width for r in row))
        lines.append(Line(text, x0, x1, base - 0.2 * em, base + 0.8 * em))
    # Justified lines are spread by the writer's spacing, which the runs do not always carry: a
    # line that ends mid-sentence and is nearly as wide as the widest one ran to the margin.
    right = max((ln.x1 for ln in lines), default=0.0)
    for ln in lines:
        if ln.text[-1] not in _ENDS and ln.x1 >= right - 4 * em and len(ln.text) >= 10:
            ln.x1 = right
    return height, lines


def load_ofd(path: Path, *, max_file_mb: float) -> Document:
    check_file(path, max_file_mb=max_file_mb)
    try:
        import ofdkit
        from ofdkit import OFDError, OFDLimitError
    except ImportError:
        raise InputFileError(
            path, "读取 .ofd 需要 ofdkit；请运行 pip install ofdkit 后重试", code="converter_missing"
        ) from None
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        infos = []  # ofdkit says what is wrong with it
    check_parts(path, infos)  # an OFD is a zip package: the same limits as .docx
    try:
        with ofdkit.open(path) as ofd:
            if ofd.invoice() is not None:
                raise InputFileError(
                    path,
                    "这是电子发票（OFD 发票），不是文档，知识库不导入发票；请只导入文件、报告、讲话稿等文档",
                    code="not_a_document",
                )
            pages = []
            for page in ofd.pages:
                try:
                    pages.append(_page(page.runs, page.height))
                except OFDError:
                    pages.append((page.height, []))
            info = ofd.info.to_dict() if getattr(ofd, "info", None) is not None else {}
    except InputFileError:
        raise
    except OFDLimitError as exc:
        raise InputFileError(
            path, f"OFD 文件内部过大或条目过多，疑似压缩炸弹，已拒绝（{exc}）", code="zip_bomb"
        ) from None
    except (OFDError, OSError, ValueError, KeyError) as exc:
        raise InputFileError(
            path, f"不是有效的 OFD 文件，或文件已损坏（{type(exc).__name__}）", code="corrupt_file"
        ) from None
    chars = sum(len(ln.text) for _, lines in pages for ln in lines)
    if chars < MIN_CHARS:
        raise InputFileError(
            path,
            f"OFD 文件里几乎没有文字（共 {len(pages)} 页，{chars} 个字），可能是电子证照、印章页或只含图片的扫描件；"
            "如果是扫描件，请导出为 PDF 或图片后导入（会自动识别文字）",
            code="not_a_document",
        )
    built = assemble(pages)
    metadata = {"page_count": len(pages)}
    title = str(info.get("title") or "").strip() if isinstance(info, dict) else ""
    if built.empty_pages:
        metadata["pages_without_text"] = built.empty_pages
    return make_document(
        text=built.text,
        source=str(path),
        file_type="ofd",
        blocks=built.blocks,
        pages=built.pages,
        fallback_title=title or path.stem,
        metadata=metadata,
    )
