"""A printable training sheet (.docx): the questions, then the answers with their sources.

Same official layout as drafts (``officedoc``); a page break separates the answers, so the first
pages can be handed out and the last kept by whoever leads the session.
"""

from __future__ import annotations

import io
from pathlib import Path

from .errors import DangjianError
from .officedoc import BODY_FONT, H1_FONT, SIZE_2, TITLE_FONT, add_paragraph, official_document
from .quiz import QuizQuestion

KIND_NAMES = {
    "fill_blank": "填空",
    "choose_method": "选择",
    "true_false": "判断",
    "what_problem": "选择",
    "count": "填空",
    "cloze": "填空",
    "number": "填空",
    "list_item": "填空",
    "which_item": "填空",
}


def sheet_title(topic: str) -> str:
    return f"“{topic.strip()}”学习测试题" if topic.strip() else "党建工作法学习测试题"


def build_sheet(questions: list[QuizQuestion], topic: str = ""):
    """The sheet as a python-docx document."""
    doc = official_document()
    add_paragraph(doc, sheet_title(topic), TITLE_FONT, SIZE_2, center=True, keep_with_next=True)
    add_paragraph(doc, "姓名：__________　　单位：__________　　得分：__________", BODY_FONT, 14, indent=False)
    add_paragraph(doc, "一、试题", H1_FONT, keep_with_next=True)
    for q in questions:
        stem = q.question.replace("\n", " ")
        kind = KIND_NAMES.get(q.kind, "填空")
        add_paragraph(doc, f"{q.number}.（{kind}）{stem}", BODY_FONT, 14, indent=False, keep_with_next=bool(q.options))
        if q.options and q.kind != "true_false":
            line = "　".join(f"{letter}. {option}" for letter, option in zip("ABCD", q.options, strict=False))
            add_paragraph(doc, line, BODY_FONT, 14)
        elif q.kind == "true_false":
            add_paragraph(doc, "（对 / 错）", BODY_FONT, 14)
    heading = add_paragraph(doc, "二、参考答案及出处", H1_FONT, keep_with_next=True)
    heading.paragraph_format.page_break_before = True  # the answers start a page of their own
    for q in questions:
        add_paragraph(doc, f"{q.number}. {q.answer}", BODY_FONT, 14, indent=False, keep_with_next=True)
        add_paragraph(doc, f"依据：“{q.evidence}”（{q.source.citation()}）", BODY_FONT, 12)
    return doc


def save_sheet(questions: list[QuizQuestion], path: Path, topic: str = "") -> None:
    if path.suffix.lower() != ".docx":
        raise DangjianError(f"试卷只能保存为 .docx，收到“{path.suffix or '（无后缀）'}”", code="bad_output")
    try:
        build_sheet(questions, topic).save(str(path))
    except OSError as exc:
        raise DangjianError(
            f"无法写入 {path}（{exc.strerror or exc}）：请检查目录是否存在、是否有写权限", code="bad_output"
        ) from None


def sheet_bytes(questions: list[QuizQuestion], topic: str = "") -> bytes:
    buffer = io.BytesIO()
    build_sheet(questions, topic).save(buffer)
    return buffer.getvalue()
