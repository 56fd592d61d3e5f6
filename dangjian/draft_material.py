"""The material of a draft's parts: passages of the matching section role and year, cleaned.

A part of an outline (``Part``) wants sections of some roles (``ingest.roles``) speaking of some
year: a 2022 summary's 工作完成情况 wants 完成情况/成效 of 2022, its 下一年工作谋划 wants 工作谋划
of 2023. ``Pool`` ranks the knowledge base's documents by the topic, walks their passages in
document order and keeps those whose section (or a section above it) has a wanted role and year;
when none has, it falls back (the year's plan for the year's work, another year's material) and
says so in the part's note.

``clean`` turns a passage into a paragraph: the source's own headings (“（一）党建品牌成效明显…”)
are dropped — they are context, kept in the citation — a heading that opens a line with text
after it loses only its number (a lead clause), 一是/二是 labels go, and so do disclaimers
(“（示例文档，…虚构…）”), a closing announcing sentence (“主要做法如下：”) and, outside plans,
plan sentences (“下一步，社区将…”). Every kept sentence is verbatim in the cited passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .index.search import Searcher
from .ingest.roles import has_role, passage_roles
from .schema import Filters, Passage, Section

# A heading's number or an item's label at the start of a line.
LABEL_RE = re.compile(
    r"^[\s\u3000]*(?:[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、]|"
    r"[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，、,])[\s\u3000]*"
)
DISCLAIMER_RE = re.compile(r"[（(][^（）()\n]{0,40}(?:示例|虚构|脱敏|仅供|仅用于|演示)[^（）()\n]{0,40}[）)]")
PLAN_SENTENCE_RE = re.compile(r"^(?:下一步|下步|今后|接下来|明年|来年)")
ANNOUNCING_RE = re.compile(r"(?:如下|以下|汇报|报告|情况)[^。；]{0,6}[：:]\s*$|[：:]\s*$")
SENTENCE_RE = re.compile(r"[^。！？；\n]*(?:[。！？；]|\n|$)")
TABLE_CELL = " | "
MIN_CHARS = 12  # a cleaned paragraph shorter than this is a leftover (a label, a closing line)


@dataclass(frozen=True)
class Part:
    """One part of an outline: its heading, the words that find its material, the roles it
    wants (in order of preference; ``fallback`` when none of those is found) and the year it
    speaks of relative to the topic's (0: the topic's year; 1: the next, for a plan)."""

    heading: str
    words: str
    roles: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()
    year_offset: int = 0

    @property
    def plan(self) -> bool:
        return "工作谋划" in self.roles


def _sentences(line: str) -> list[str]:
    return [s for s in SENTENCE_RE.findall(line) if s]


def clean(p: Passage, sections: list[Section], *, plan: bool) -> str:
    """The passage as a draft paragraph (see the module's docstring); ``""`` when nothing is left."""
    text = p.text
    # Whole-line headings inside the passage (offsets relative to it) are context, not body.
    heading_lines: set[int] = set()
    lead_lines: set[int] = set()
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    for s in sections:
        if s.kind == "title" or not (p.start <= s.heading_start < p.end):
            continue
        rel = s.heading_start - p.start
        line = max(i for i, start in enumerate(line_starts) if start <= rel)
        line_text = text[line_starts[line] :].split("\n", 1)[0]
        rest = (
            text[s.heading_end - p.start : line_starts[line] + len(line_text)]
            if s.heading_end > s.heading_start
            else ""
        )
        if s.kind == "heading" and not rest.strip(" \u3000，。；：:"):
            heading_lines.add(line)
        else:
            lead_lines.add(line)
    kept: list[str] = []
    table: list[str] = []
    for i, raw in enumerate(text.split("\n")):
        if i in heading_lines:
            continue
        if TABLE_CELL in raw:
            table.append(raw.strip())
            continue
        if table:
            kept.append("\n".join(table))
            table = []
        line = DISCLAIMER_RE.sub("", raw)
        line = LABEL_RE.sub("", line, count=1) if i in lead_lines or LABEL_RE.match(line) else line
        sentences = _sentences(line.strip())
        if not plan:
            sentences = [s for s in sentences if not PLAN_SENTENCE_RE.match(s.strip("，, "))]
        line = "".join(sentences).strip()
        if line:
            kept.append(line)
    if table:
        kept.append("\n".join(table))
    # A closing line that only announces what follows (“主要做法如下：”) has nothing to announce.
    while kept and TABLE_CELL not in kept[-1] and ANNOUNCING_RE.search(kept[-1]):
        last = _sentences(kept[-1])
        kept[-1] = "".join(last[:-1]).strip()
        if not kept[-1]:
            kept.pop()
    out = "\n".join(kept).strip()
    return out if len(out.replace(TABLE_CELL, "")) >= MIN_CHARS else ""


@dataclass
class Candidate:
    passage: Passage
    text: str  # cleaned
    doc_rank: int
    relevance: int  # rank in the part's own search (lower is better); large when not found


class Pool:
    """The documents a draft draws on, ranked by the topic, and their passages."""

    MAX_WALKED = 60  # documents whose passages are walked; beyond this only search hits count

    def __init__(self, searcher: Searcher, topic: str, filters: Filters | None):
        self.searcher = searcher
        self.topic = topic
        self.filters = filters
        self.doc_rank: dict[str, int] = {}
        self._add_docs(self._search(topic, 50))
        if len(searcher.docs) <= self.MAX_WALKED:  # a small knowledge base: every allowed document
            for doc_id, info in searcher.docs.items():
                if self._allowed(doc_id, info):
                    self.doc_rank.setdefault(doc_id, len(self.doc_rank))
        self._passages: dict[str, list[Passage]] = {}

    def _search(self, query: str, k: int, roles: list[str] | None = None):
        f = self.filters or Filters()
        filters = Filters(f.collections, f.doc_ids, f.types, f.years, roles)
        result = self.searcher.search(query[:500], k=k, filters=None if filters.empty() else filters)
        return result.hits or result.related

    def _add_docs(self, hits) -> None:
        for hit in hits:
            self.doc_rank.setdefault(hit.doc_id, len(self.doc_rank))

    def _allowed(self, doc_id: str, info: dict) -> bool:
        f = self.filters
        if f is None:
            return True
        return not (
            (f.collections and info.get("collection") not in f.collections)
            or (f.doc_ids and doc_id not in f.doc_ids)
            or (f.types and info.get("type") not in f.types)
            or (f.years and info.get("year") not in f.years)
        )

    def passages(self, doc_id: str) -> list[Passage]:
        if doc_id not in self._passages:
            rows = self.searcher.retrieval.doc_rows(doc_id)
            self._passages[doc_id] = [self.searcher.retrieval.passage(r) for r in rows]
        return self._passages[doc_id]

    def candidates(self, part: Part, roles: tuple[str, ...], year: int | None) -> list[Candidate]:
        """Passages under ``roles`` speaking of ``year`` (any year when None), best first: by
        the part's own search, then by document rank and position."""
        hits = self._search(f"{self.topic} {part.words}", 40, list(roles))
        self._add_docs(hits)
        relevance = {h.passage_id: i for i, h in enumerate(hits)}
        out = []
        for doc_id, rank in sorted(self.doc_rank.items(), key=lambda kv: kv[1])[: self.MAX_WALKED]:
            sections = None
            for p in self.passages(doc_id):
                if not has_role(p, roles):
                    continue
                # An index built before roles were stored has no years: its passages match any year.
                if year is not None and p.role_year != year and (p.roles or p.role_year is not None):
                    continue
                if not part.plan and "工作谋划" in passage_roles(p)[:1] and "工作谋划" not in roles:
                    continue  # a plan nested in a review part is still a plan
                if sections is None:
                    sections = self.searcher.document(doc_id)[1]
                text = clean(p, sections, plan="工作谋划" in roles)
                if text:
                    out.append(Candidate(p, text, rank, relevance.get(p.passage_id, 10_000)))
        out.sort(key=lambda c: (c.relevance, c.doc_rank, c.passage.start))
        return out

    def years(self, roles: tuple[str, ...]) -> list[int]:
        """The years the walked documents' sections of ``roles`` speak of, newest first."""
        found = {
            p.role_year
            for doc_id in list(self.doc_rank)[: self.MAX_WALKED]
            for p in self.passages(doc_id)
            if p.role_year and has_role(p, roles)
        }
        return sorted(found, reverse=True)
