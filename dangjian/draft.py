"""Drafting a report from past cases: a material compilation (素材稿) with every paragraph cited.

For each section of a template (or of the user's own outline) the knowledge base is searched with
the topic and the section's words; passages already used, and near-duplicates of them (the same
material circulates at 社区, 街道 and 区 level), are dropped; the rest become the section's
paragraphs, verbatim, each with a [n] marker pointing into the 参考来源 list (document, section
path, character offsets). With a chat model each section is also rewritten into prose whose
sentences are checked against the material they cite (``llm``). Export: Markdown, or Word in the
official-document layout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DangjianError
from .index.search import Searcher
from .kb import KnowledgeBase
from .llm import DRAFT_PROMPT, Generated, generate, materials
from .officedoc import BODY_FONT, H1_FONT, SIZE_2, TITLE_FONT, add_paragraph, official_document
from .schema import Filters
from .text import char_bigrams

# Section headings and the words that find their material (the seed report's shape for 年度工作总结).
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "年度工作总结": [
        ("一、工作完成情况", "工作完成情况 取得成效"),
        ("二、特色亮点工作", "特色亮点 品牌 创新做法"),
        ("三、存在问题", "存在问题 不足 短板"),
        ("四、下一年工作谋划", "工作谋划 下一步 计划"),
    ],
    "经验材料": [
        ("一、主要做法", "主要做法 工作机制 具体措施"),
        ("二、取得成效", "取得成效 提升 满意度"),
        ("三、经验启示", "经验 启示 下一步"),
    ],
    "汇报提纲": [
        ("一、基本情况", "基本情况 工作开展"),
        ("二、主要工作", "主要工作 做法 成效"),
        ("三、存在问题", "存在问题 不足"),
        ("四、下一步打算", "下一步 打算 工作谋划"),
    ],
}
log = logging.getLogger("dangjian.draft")
PER_SECTION = 3
NEAR_DUPLICATE = 0.6  # share of character bigrams two passages have in common


@dataclass
class Reference:
    marker: int
    doc_id: str
    title: str
    section_path: list[str]
    quote: str  # verbatim: the document's text[start:end]
    start: int
    end: int
    page: int | None
    citation: str


@dataclass
class DraftSection:
    heading: str
    paragraphs: list[tuple[str, int]] = field(default_factory=list)  # (verbatim text, reference marker)
    prose: Generated | None = None  # a language model's rewrite, checked sentence by sentence
    note: str | None = None  # why a configured model's rewrite is missing

    def blocks(self) -> list[str]:
        """What the document shows: the rewrite's paragraphs, else the cited material."""
        if self.prose:
            return [p.strip() for p in self.prose.text.split("\n") if p.strip()]
        return [f"{text}[{marker}]" for text, marker in self.paragraphs] or [EMPTY]


@dataclass
class Draft:
    title: str
    sections: list[DraftSection]
    references: list[Reference]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "sections": [
                {
                    "heading": s.heading,
                    "paragraphs": [{"text": t, "marker": m} for t, m in s.paragraphs],
                    "prose": s.prose.text if s.prose else None,
                    "sentences": [c.to_dict() for c in s.prose.sentences] if s.prose else [],
                    "note": s.note,
                }
                for s in self.sections
            ],
            "references": [vars(r) for r in self.references],
        }

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for section in self.sections:
            lines += [f"## {section.heading}", ""]
            lines += [f"（{section.note}）\n"] if section.note else []
            lines += [f"{block}\n" for block in section.blocks()]
        lines += ["## 参考来源", ""]
        lines += [f"[{r.marker}] {r.citation}，第 {r.start}–{r.end} 字" for r in self.references]
        return "\n".join(lines) + "\n"

    def save_docx(self, path: Path) -> None:
        doc = official_document()
        add_paragraph(doc, self.title, TITLE_FONT, SIZE_2, center=True)
        for section in self.sections:
            add_paragraph(doc, section.heading, H1_FONT)
            for block in section.blocks():
                add_paragraph(doc, block)
        add_paragraph(doc, "参考来源", H1_FONT)
        for r in self.references:
            add_paragraph(doc, f"[{r.marker}] {r.citation}，第 {r.start}–{r.end} 字", BODY_FONT, 12, indent=False)
        doc.save(str(path))

    def save(self, path: Path) -> None:
        """Write ``.docx`` or ``.md``, by the file's suffix."""
        suffix = path.suffix.lower()
        if suffix not in (".docx", ".md", ".markdown"):
            raise DangjianError(
                f"不支持的输出格式“{path.suffix or '（无后缀）'}”：请用 .docx 或 .md", code="bad_output"
            )
        try:
            if suffix == ".docx":
                self.save_docx(path)
            else:
                path.write_text(self.to_markdown(), encoding="utf-8")
        except OSError as exc:
            raise DangjianError(
                f"无法写入 {path}（{exc.strerror or exc}）：请检查目录是否存在、是否有写权限", code="bad_output"
            ) from None


EMPTY = "（知识库中没有找到这一部分的素材。）"


def outline_of(template: str | None, headings: list[str] | None) -> list[tuple[str, str]]:
    """The sections to fill: the user's headings (each also its own query) or a template's."""
    if headings:
        cleaned = [h.strip() for h in headings if h.strip()]
        if not cleaned:
            raise DangjianError("提纲是空的：每行写一个标题", code="bad_outline")
        return [(h, h) for h in cleaned]
    name = template or "年度工作总结"
    if name not in TEMPLATES:
        raise DangjianError(f"没有模板“{name}”，可选：{'、'.join(TEMPLATES)}", code="bad_template")
    return TEMPLATES[name]


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= NEAR_DUPLICATE


def make_draft(
    kb: KnowledgeBase | Searcher,
    topic: str,
    *,
    template: str | None = None,
    headings: list[str] | None = None,
    filters: Filters | None = None,
    per_section: int = PER_SECTION,
    model=None,
) -> Draft:
    """The material for each section, searched in ``kb`` (a request passes its one ``Searcher``
    snapshot); with a chat ``model`` each section is also rewritten into prose whose sentences are
    checked against the material they cite."""
    topic = topic.strip()
    if not topic:
        raise DangjianError("请给出材料的题目，如“2023年社区党建工作总结”", code="empty_topic")
    sections: list[DraftSection] = []
    references: list[Reference] = []
    used: list[set[str]] = []
    for heading, words in outline_of(template, headings):
        section = DraftSection(heading)
        result = kb.search(f"{topic} {words}"[:500], k=per_section * 4, filters=filters)
        for hit in result.hits:
            if hit.text.rstrip().endswith(("：", ":")):
                continue  # announces what follows (“汇报如下：”); the material is in the next passage
            grams = char_bigrams(hit.text)
            if any(_near_duplicate(grams, seen) for seen in used):
                continue
            used.append(grams)
            marker = len(references) + 1
            references.append(
                Reference(
                    marker,
                    hit.doc_id,
                    hit.title,
                    hit.section_path,
                    hit.text,
                    hit.start,
                    hit.end,
                    hit.page,
                    hit.citation,
                )
            )
            section.paragraphs.append((hit.text, marker))
            if len(section.paragraphs) == per_section:
                break
        if model is not None and section.paragraphs:
            _rewrite(section, model, references)
        sections.append(section)
    return Draft(topic, sections, references)


def _rewrite(section: DraftSection, model, references: list[Reference]) -> None:
    sources = {m: references[m - 1] for _, m in section.paragraphs}
    prompt = materials({m: (r.citation, r.quote) for m, r in sources.items()})
    try:
        section.prose = generate(
            model, DRAFT_PROMPT.format(heading=section.heading), prompt, {m: r.quote for m, r in sources.items()}
        )
    except Exception as exc:  # noqa: BLE001 - any failure of the model keeps the material, saying why
        log.warning("language model failed on %s (%s): %s", section.heading, type(exc).__name__, exc)
        section.note = "大模型改写失败，以下保留摘录的素材"
