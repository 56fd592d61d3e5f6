"""Drafting a report from past cases: a material compilation (素材稿) with every paragraph cited.

Each part of a template (or of the user's own outline) draws on sections of the matching role
and year (``draft_material``): a “2022年社区党建工作总结”'s 工作完成情况 comes from a 2022 report's
完成情况, its 存在问题 from 存在问题, its 下一年工作谋划 from the plan for 2023; where the
knowledge base has no such section, the part falls back and its note says so. Paragraphs are the
sources' sentences, verbatim, with the sources' headings left out (they are context, in the
citation), disclaimers, announcing lines and near-duplicates dropped (the same material
circulates at 社区, 街道 and 区 level); each has a [n] marker pointing into the 参考来源 list
(document, section path, character offsets). Unused candidates are kept as ``spare`` so a page
can swap a paragraph. With a chat model each part is also rewritten into prose whose sentences
are checked against the material they cite (``llm``). Export (``draft_export``): Markdown, or
Word in the official-document layout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .citations import format_citation
from .draft_material import Candidate, Part, Pool, clean
from .errors import DangjianError
from .index.search import Searcher
from .ingest.roles import heading_role, years_in
from .kb import KnowledgeBase
from .llm import DRAFT_PROMPT, Generated, generate, materials
from .schema import Filters
from .text import char_bigrams

# The parts of each template: heading, the words that find material, the section roles it draws
# on (``ingest.roles``), those it falls back to, and the year relative to the topic's.
TEMPLATES: dict[str, list[Part]] = {
    "年度工作总结": [
        Part("一、工作完成情况", "工作完成情况 取得成效", ("完成情况", "成效")),
        Part("二、特色亮点工作", "特色亮点 品牌 创新做法", ("特色亮点",), ("成效", "完成情况")),
        Part("三、存在问题", "存在问题 不足 短板", ("存在问题", "原因")),
        Part("四、下一年工作谋划", "工作谋划 下一步 计划", ("工作谋划",), year_offset=1),
    ],
    "经验材料": [
        Part("一、主要做法", "主要做法 工作机制 具体措施", ("主要做法", "特色亮点"), ("完成情况",)),
        Part("二、取得成效", "取得成效 提升 满意度", ("成效",), ("完成情况",)),
        Part("三、经验启示", "经验 启示 体会", ("经验启示",), ("特色亮点", "成效")),
    ],
    "汇报提纲": [
        Part("一、基本情况", "基本情况 工作开展", ("基本情况",), ("完成情况",)),
        Part("二、主要工作", "主要工作 做法 成效", ("完成情况", "主要做法", "成效", "特色亮点")),
        Part("三、存在问题", "存在问题 不足", ("存在问题", "原因")),
        Part("四、下一步打算", "下一步 打算 工作谋划", ("工作谋划",), year_offset=1),
    ],
}
log = logging.getLogger("dangjian.draft")
PER_SECTION = 3
SPARE = 3  # unused candidates kept per part, for swapping a paragraph
NEAR_DUPLICATE = 0.6  # share of character bigrams two paragraphs have in common
REVIEW_ROLES = ("完成情况", "成效", "特色亮点", "主要做法")


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
    paragraphs: list[tuple[str, int]] = field(default_factory=list)  # (text, reference marker)
    prose: Generated | None = None  # a language model's rewrite, checked sentence by sentence
    note: str | None = None  # a fallback of the material, or why a configured model's rewrite is missing
    spare: list[tuple[str, Reference]] = field(default_factory=list)  # candidates not used

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
                    "spare": [{"text": t, "reference": vars(r)} for t, r in s.spare],
                }
                for s in self.sections
            ],
            "references": [vars(r) for r in self.references],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        """A draft as a page edited it (paragraphs swapped or dropped): references renumbered in
        the order their paragraphs now appear, unused ones left out. A rewrite is not kept."""
        refs = {r["marker"]: r for r in data.get("references", [])}
        references: list[Reference] = []
        sections = []
        for s in data.get("sections", []):
            section = DraftSection(str(s.get("heading", "")), note=s.get("note"))
            for p in s.get("paragraphs", []):
                ref = p.get("reference") or refs.get(p.get("marker"))
                if ref is None:
                    raise DangjianError(f"段落的出处编号 {p.get('marker')} 不在参考来源中", code="bad_draft")
                fields_ = {
                    k: ref[k] for k in ("doc_id", "title", "section_path", "quote", "start", "end", "page", "citation")
                }
                references.append(Reference(len(references) + 1, **fields_))
                section.paragraphs.append((str(p["text"]), len(references)))
            sections.append(section)
        return cls(str(data.get("title", "")), sections, references)

    def to_markdown(self) -> str:
        from .draft_export import to_markdown

        return to_markdown(self)

    def save(self, path: Path) -> None:
        """Write ``.docx`` or ``.md``, by the file's suffix."""
        from .draft_export import save

        save(self, path)


EMPTY = "（知识库中没有找到这一部分的素材。）"


def outline_of(template: str | None, headings: list[str] | None) -> list[Part]:
    """The parts to fill: the user's headings (each its own query, its role read from its words)
    or a template's."""
    if headings:
        cleaned = [h.strip() for h in headings if h.strip()]
        if not cleaned:
            raise DangjianError("提纲是空的：每行写一个标题", code="bad_outline")
        parts = []
        for h in cleaned:
            role = heading_role(h)
            plan = role == "工作谋划"
            parts.append(Part(h, h, (role,) if role else (), year_offset=1 if plan and not years_in(h) else 0))
        return parts
    name = template or "年度工作总结"
    if name not in TEMPLATES:
        raise DangjianError(f"没有模板“{name}”，可选：{'、'.join(TEMPLATES)}", code="bad_template")
    return TEMPLATES[name]


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= NEAR_DUPLICATE


def _material(pool: Pool, part: Part, year: int | None) -> tuple[list[Candidate], str | None]:
    """The part's candidates and, when they are not what the part asked for, a note saying so."""
    if not part.roles:  # an outline heading that names no role: the topic's search decides
        return [], None
    wanted = year + part.year_offset if year else None
    names = "、".join(part.roles)
    found = pool.candidates(part, part.roles, wanted)
    if found or wanted is None:
        if found or not part.fallback:
            return found, None
    if wanted is not None and not part.plan and any(r in REVIEW_ROLES for r in part.roles):
        plans = pool.candidates(Part(part.heading, f"{part.words} 工作谋划", ("工作谋划",)), ("工作谋划",), wanted)
        if plans:
            return (
                plans,
                f"知识库中没有{wanted}年{names}的材料，以下摘自{wanted}年的工作谋划（是计划，不是已完成的工作，请核实后改写）",
            )
    if part.fallback:
        found = pool.candidates(part, part.fallback, wanted)
        if found:
            return found, f"知识库中没有标为{names}的章节，以下取自{'、'.join(part.fallback)}部分"
    others = [y for y in pool.years(part.roles) if y != wanted]
    if wanted is not None and others:
        found = pool.candidates(part, part.roles, others[0])
        if found:
            return found, f"知识库中没有{wanted}年{names}的材料，以下是{others[0]}年的，请注意年份"
    return [], None


def make_draft(
    kb: KnowledgeBase | Searcher,
    topic: str,
    *,
    template: str | None = None,
    headings: list[str] | None = None,
    filters: Filters | None = None,
    per_section: int = PER_SECTION,
    model=None,
    year: int | None = None,
) -> Draft:
    """The material for each part, from ``kb`` (a request passes its one ``Searcher`` snapshot),
    of the topic's year (``year``, else the first year the topic names); with a chat ``model``
    each part is also rewritten into prose whose sentences are checked against its material."""
    topic = topic.strip()
    if not topic:
        raise DangjianError("请给出材料的题目，如“2023年社区党建工作总结”", code="empty_topic")
    parts = outline_of(template, headings)
    searcher = kb if isinstance(kb, Searcher) else kb.searcher()
    year = year or next(iter(years_in(topic)), None)
    pool = Pool(searcher, topic, filters)
    sections: list[DraftSection] = []
    references: list[Reference] = []
    used: list[set[str]] = []
    for part in parts:
        section = DraftSection(part.heading)
        found, section.note = _material(pool, part, year)
        if not part.roles:
            found = _searched(pool, part)
        chosen: list[tuple[Candidate, set[str]]] = []
        for c in found:
            grams = char_bigrams(c.text)
            if any(_near_duplicate(grams, seen) for seen in used):
                continue
            if len(chosen) < per_section:
                used.append(grams)
                chosen.append((c, grams))
            elif len(section.spare) < SPARE:
                section.spare.append((c.text, _reference(0, c)))
        chosen.sort(key=lambda cg: (cg[0].doc_rank, cg[0].passage.start))  # the sources' order reads best
        for c, _ in chosen:
            references.append(_reference(len(references) + 1, c))
            section.paragraphs.append((c.text, len(references)))
        if model is not None and section.paragraphs:
            _rewrite(section, model, references)
        sections.append(section)
    return Draft(topic, sections, references)


def _searched(pool: Pool, part: Part) -> list[Candidate]:
    """An outline heading naming no role: the passages its own search finds, cleaned."""
    out = []
    for i, hit in enumerate(pool._search(f"{pool.topic} {part.words}", 20)):
        p = next((q for q in pool.passages(hit.doc_id) if q.passage_id == hit.passage_id), None)
        if p is None:
            continue
        text = clean(p, pool.searcher.document(hit.doc_id)[1], plan=True)
        if text:
            out.append(Candidate(p, text, pool.doc_rank.setdefault(hit.doc_id, len(pool.doc_rank)), i))
    return out


def _reference(marker: int, c: Candidate) -> Reference:
    p = c.passage
    citation = format_citation(p.title, p.section_path, p.page, p.paragraph, recognised=p.ocr_confidence is not None)
    return Reference(marker, p.doc_id, p.title, p.section_path, p.text, p.start, p.end, p.page, citation)


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
