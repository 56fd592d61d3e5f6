"""Quiz questions from the sections a topic is about: the numbers they state, the items of their
lists of problems and plans, and which item names the topic.

A section is *about* a topic when its text names it (any form: “物业管理十联工作法”, “十联”), or
when the topic is its heading or its document's title. Every question cites the sentence (or the
item's lead clause) it comes from, verbatim: ``doc.text[start:end] == source.quote``.

- ``number``: a sentence with one stated number blanked (“物业费收缴率由68%提高到____”);
- ``list_item``: “《…》“二、存在问题”列出的第2项是什么？” — an item's lead clause;
- ``which_item``: “…提到“十联工作法”的是哪一项工作？” — the lead clause of the item naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .ingest.patterns import CN_DIGITS
from .methods import Source
from .schema import Document, Section
from .text import normalize

BLANK = "____"
NUMBER_RE = re.compile(
    r"(?<![\d.*＊])\d+(?:\.\d+)?(?:%|％|个|名|件|次|户|人|处|项|万元|元|家|支|场|类|期|年度?)(?![\d*＊])"
)
SENTENCE_RE = re.compile(r"[^。！？；\n]+[。！？；]?")
ROLE_NOUN = {"存在问题": "问题", "原因": "原因", "工作谋划": "工作", "主要做法": "做法", "成效": "成效"}
ITEM_LABEL = re.compile(rf"^(?:[{CN_DIGITS}]+是|[{CN_DIGITS}]+、|（[{CN_DIGITS}]+）|\d+[.．、])")


def _source(doc: Document, section: Section, start: int, end: int) -> Source:
    return Source(doc.doc_id, doc.title, list(section.path), doc.text[start:end], start, end)


def about(doc: Document, sections: list[Section], forms: list[str]) -> tuple[list[Section], bool]:
    """The sections of ``doc`` about the topic (given in its ``forms``, normalised) and whether
    their lists are the topic's own: the sections whose heading names it (a section topic:
    “存在问题”); else the whole document (its root) when its title names it; else each top-level
    section whose text does, and the root first when its opening paragraph does (those only
    mention it: their lists are not the topic's)."""
    headed = [s for s in sections[1:] if any(f in normalize(s.heading) for f in forms)]
    if headed:
        return [s for s in headed if not any(h.start <= s.start < h.end and h is not s for h in headed)], True
    if any(f in normalize(doc.title) for f in forms):
        return [sections[0]], True
    found = [s for s in sections[1:] if s.depth == 1 and any(f in normalize(doc.text[s.start : s.end]) for f in forms)]
    opening_end = min([s.start for s in sections[1:]] or [len(doc.text)])
    if any(f in normalize(doc.text[sections[0].heading_end : opening_end]) for f in forms):
        found.insert(0, sections[0])  # the opening paragraph names it: its own text only
    return found, False


def _sentences(doc: Document, start: int, end: int) -> Iterable[tuple[int, int]]:
    for m in SENTENCE_RE.finditer(doc.text, start, end):
        yield m.start(), m.end()


def number_questions(doc: Document, sections: list[Section], chosen: list[Section]) -> list[tuple[str, str, Source]]:
    """(question, answer, source) for each number a sentence of ``chosen`` states."""
    out = []
    seen = set()
    for section in chosen:
        end = section.end
        if section.index == 0 and len(sections) > 1:
            end = min(s.start for s in sections[1:])  # the opening paragraph, not the whole document
        for s, e in _sentences(doc, section.heading_end, end):
            sentence = doc.text[s:e].strip()
            if (s, e) in seen or "*" in sentence or len(sentence) < 12 or len(sentence) > 160:
                continue
            seen.add((s, e))
            for m in NUMBER_RE.finditer(sentence):
                if re.fullmatch(r"\d{4}年度?", m.group()):
                    continue  # a year is a date, not a stated result
                stem = sentence[: m.start()] + BLANK + sentence[m.end() :]
                where = " > ".join(_path_of(sections, s)) or "开头"
                question = f"据《{doc.title}》（{where}）：“{stem}”空格处的数字是多少？"
                lead = len(doc.text[s:e]) - len(doc.text[s:e].lstrip())
                out.append((question, m.group(), _source(doc, section, s + lead, s + lead + len(sentence))))
    return out


def _path_of(sections: list[Section], offset: int) -> list[str]:
    best = sections[0]
    for s in sections:
        if s.start <= offset < s.end and s.depth >= best.depth:
            best = s
    return [h if len(h) <= 20 else h[:19] + "…" for h in best.path]


def _items(doc: Document, sections: list[Section], parent: Section) -> list[tuple[str, int, int]]:
    """(lead clause without its label, start, end) of each child of ``parent`` that is an item
    (一是…, 1.…)."""
    out = []
    for s in sections:
        if s.parent != parent.index:
            continue
        label = ITEM_LABEL.match(s.heading)
        if not label:
            continue
        lead = s.heading[label.end() :].strip("。，；： ")
        if 4 <= len(lead) <= 40:
            start = s.heading_start + label.end()
            out.append((lead, start, start + len(lead)))
    return out


def list_questions(
    doc: Document, sections: list[Section], chosen: list[Section], forms: list[str], own: bool
) -> list[tuple[str, str, Source, str]]:
    """(question, answer, source, kind) from the lists of problems, plans and practices in
    ``chosen`` and below them: the item naming the topic, and — when the lists are the topic's
    own (``own``) — the n-th item of a list."""
    out = []
    inside = {s.index for c in chosen if c.index or own for s in sections if c.start <= s.start and s.end <= c.end}
    for parent in sections:
        if parent.index not in inside or parent.role not in ROLE_NOUN:
            continue
        items = _items(doc, sections, parent)
        if len(items) < 2:
            continue
        noun = ROLE_NOUN[parent.role]
        where = parent.heading if len(parent.heading) <= 30 else parent.heading[:29] + "…"
        for n, (lead, start, end) in enumerate(items, 1):
            item_section = next(s for s in sections if s.parent == parent.index and s.heading_start <= start < s.end)
            source = _source(doc, item_section, start, end)
            text = normalize(doc.text[item_section.start : item_section.end])
            named = [f for f in forms if f in text and f not in normalize(lead)]
            if named and not own:
                question = f"《{doc.title}》“{where}”中，提到“{named[0]}”的是哪一项{noun}？"
                out.append((question, lead, source, "which_item"))
            # The n-th item of a list the topic is (a heading, a document about it), not of any
            # list that merely mentions it somewhere.
            if own or any(f in normalize(parent.heading) for f in forms):
                question = f"《{doc.title}》“{where}”列出的第{CN_DIGITS[n - 1] if n <= 10 else n}项{noun}是什么？"
                out.append((question, lead, source, "list_item"))
    return out
