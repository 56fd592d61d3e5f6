"""The section a question asks for, and its parts.

Staff ask for a part of a report by its heading or by its role (“存在哪些问题” → 二、存在问题,
“明年打算” → 三、2023年工作谋划, “党员要履行哪些义务” → 第三条). The answer is then the section's
outline — its child headings, its 一是/二是 items, or the numbered paragraphs of its body — each
part as its lead clause, verbatim; a section without parts answers with its body.

Sections are scored over the documents of the best-ranked passages (the search's pool), so a
section whose body is long but whose heading is the question is found even when none of its
passages made the first five: by how much of the question's term weight its own heading carries,
whether it (or a section above it) has the role the question asks for, and how well its passages
ranked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from .answer_text import folded, full_sentences, lists
from .ingest.patterns import CN_DIGITS
from .schema import Document, Passage, Query, Section
from .text import normalize

# Words in a heading that give its section a role, and what in a question asks for that role
# (besides its kind: a problem question asks for the problems).
ROLE_WORDS = {
    "problem": ("问题", "不足", "短板", "差距", "困难", "挑战", "薄弱"),
    "plan": (
        "谋划",
        "计划",
        "打算",
        "思路",
        "安排",
        "下一步",
        "目标任务",
        "重点工作",
        "工作重点",
        "部署",
        "工作的建议",
        "工作任务",
    ),
    "howto": ("做法", "措施", "举措", "经验", "主要工作", "路径", "机制", "程序"),
    "achieved": ("完成情况", "成效", "成绩", "成果", "工作回顾", "主要工作", "亮点"),
}
_ASKS_ROLE = {"achieved": re.compile(r"成绩|成效|成果|取得|做了|干了|完成|亮点|回顾")}


def asked_roles(query: Query) -> set[str]:
    """The section roles a question asks for: its kind's, and those its words name."""
    roles = {query.kind} & set(ROLE_WORDS)
    return roles | {role for role, cue in _ASKS_ROLE.items() if cue.search(query.norm)}


# Words of a question that say nothing about which section it wants.
FILLER = frozenset(
    "有 什么 哪些 哪几 哪 几 个 些 方面 是 的 了 吗 呢 啊 要 都 还 在 和 与 及 把 对 这 那 这块 那块 部分 具体 主要 一下 "
    "怎么 怎样 如何 做 干 搞 啥 说 讲 提 里 中 上 包括 包含 存在".split()
)
_ASKING_RE = re.compile(r"^(?:几|哪|多少|什么|怎)")  # 几件事, 哪几点: the question's asking words


def topic_terms(weights: dict[str, float]) -> dict[str, float]:
    """The terms of a question that say what it is about: no filler, no asking words, no verb
    with its particle (提了, 定了)."""
    return {
        t: w
        for t, w in weights.items()
        if t not in FILLER and len(t) > 1 and w > 0 and not _ASKING_RE.match(t) and not t.endswith(("了", "过"))
    }


MIN_SCORE = 0.45  # below this the best section is not clearly what was asked (measured on evals/answer_questions)
MIN_HEADING = 0.2  # a section chosen without its role must carry this share of the question's weight in its heading
MAX_PARTS = 12
WANTS_PARTS = frozenset({"list", "problem", "plan"})  # a section without parts answers them badly
LEAF_PENALTY = 0.3
TITLE_WEIGHT = 0.3  # how much the question's words in a document's title count for its sections
TITLE_NAMED = 0.5  # a title carrying this share of the question's weight names the one document asked about
NARROW_GAIN = 0.15  # a part whose heading carries this much more of the question is asked for
NARROW_MIN = 0.3  # ... and at least this much of it
POOL_ROWS = 20  # the documents of the first pool passages are searched for the section...
MAX_DOCS = 5  # ... the first few of them (each is read whole: measured 1 ms a law under load)
LABEL_ONLY = 6  # a heading this short is a bare label (第三条)
LEAD_MAX = 60  # a lead clause longer than this is cut at its first comma
_PART_RE = re.compile(
    rf"(?m)^[ \t\u3000]*(?:[（(][{CN_DIGITS}]{{1,3}}[）)]|[0-9]{{1,2}}[.．、](?![0-9])|[{CN_DIGITS}]{{1,3}}是|[①-⑳])"
)
_CLAUSE_END = "，,；;。！？：:\n"


@dataclass
class Part:
    start: int  # the part's lead clause: doc.text[start:end]
    end: int
    section: Section  # the section it lies in (for its path)


@dataclass
class Outline:
    doc: Document
    sections: list[Section]
    section: Section
    parts: list[Part]  # empty: the section's body answers
    score: float
    heading: float = 0.0  # the share of the question's weight its heading carries


def find_outline(query: Query, searcher, pool: list[Passage], weights: dict[str, float]) -> Outline | None:
    """The section of the pool's documents that best matches ``query`` (``pool``: the ranked pool's
    passages; ``weights``: term → idf), or None when no section is clearly asked for."""
    terms = topic_terms(weights)
    total = sum(terms.values())
    if not total:
        return None
    expansions = set(query.lexical) - set(query.tokens)
    years = {t for t in terms if t.isdigit() and len(t) == 4}
    support: dict[tuple[str, int], float] = defaultdict(float)
    for rank, p in enumerate(pool):
        support[(p.doc_id, p.section_index)] += 1.0 / (rank + 2)
    roles = [word for role in asked_roles(query) for word in ROLE_WORDS[role]]

    def match(text: str, *, own_words: bool = False) -> float:
        """The share of the question's term weight ``text`` carries (colloquial expansions half;
        none with ``own_words``)."""
        norm = folded(text)
        weight = 0.0 if own_words else 0.5
        found = [t for t in terms if t in norm]
        if all(t in years for t in found):
            return 0.0  # a year alone (“2023年工作谋划” for “2023年主要预期目标”) names no section
        return sum(terms[t] * (weight if t in expansions else 1.0) for t in found) / total

    best: Outline | None = None
    candidates = list(dict.fromkeys(p.doc_id for p in pool[:POOL_ROWS]))[:MAX_DOCS]
    titles = {doc_id: match(searcher.docs[doc_id].get("title", "")) for doc_id in candidates}
    if max(titles.values(), default=0.0) >= TITLE_NAMED:  # “2023年政府工作报告…” names the document
        candidates = [doc_id for doc_id in candidates if titles[doc_id] >= TITLE_NAMED]
    for doc_id in candidates:
        doc, sections = searcher.document(doc_id)
        titled = TITLE_WEIGHT * titles[doc_id]
        # only sections holding a pool passage can be asked for: those passages' sections and the
        # sections above them (a document's other sections are never read)
        ranked: dict[int, float] = defaultdict(float)
        for (d, index), value in support.items():
            node: Section | None = sections[index] if d == doc_id and index < len(sections) else None
            while node is not None and node.parent is not None:
                ranked[node.index] += value
                node = sections[node.parent]
        for index, value in ranked.items():
            section = sections[index]
            heading = match(heading_text(doc, section))
            chain = _chain(sections, section)
            own_role = any(word in chain[0] for word in roles)
            role = own_role or any(word in h for word in roles for h in chain[1:])
            if not role and query.kind == "problem":
                continue  # a problem question wants a problem section
            if heading < MIN_HEADING and (not role or query.kind == "howto"):
                continue  # 做法/措施 sections are everywhere: a how-to's section names its topic
                continue
            parts = parts_of(doc, sections, section)
            score = heading + titled + (0.4 if own_role else 0.2 if role else 0.0) + min(value, 0.5)
            if not parts and query.kind in WANTS_PARTS and not _holds_list(doc, section, match):
                score -= LEAF_PENALTY
            if (
                best is None
                or score > best.score + 1e-9
                or (abs(score - best.score) <= 1e-9 and index < best.section.index and best.doc is doc)
            ):
                best = Outline(doc, sections, section, parts, score, heading)
    if best is None or best.score < MIN_SCORE:
        return None
    return _narrowed(best, match)


def _narrowed(found: Outline, match) -> Outline:
    """A part of the chosen section whose own heading the question names (“政治引领这块”): the
    question asks for that part, not for the whole section."""
    own = match(heading_text(found.doc, found.section), own_words=True)
    below = [
        s for s in found.sections if s.index != found.section.index and _inside(found.sections, s.index, found.section)
    ]
    scored = [(match(heading_text(found.doc, s), own_words=True) - own, s) for s in below]
    gain, section = max(scored, key=lambda x: (x[0], -x[1].depth), default=(0.0, None))
    if section is None or gain < NARROW_GAIN or match(heading_text(found.doc, section), own_words=True) < NARROW_MIN:
        return found
    parts = parts_of(found.doc, found.sections, section)
    return Outline(found.doc, found.sections, section, parts, found.score, match(heading_text(found.doc, section)))


def heading_text(doc: Document, section: Section) -> str:
    """What a section's heading says: an article labelled only by its number (“第三条”) is read
    with its first clause (“党员必须履行下列义务：”)."""
    if section.heading_end - section.heading_start > LABEL_ONLY:
        return section.heading
    end = min(section.end, section.heading_end + LEAD_MAX)
    stop = next((i for i in range(section.heading_end, end) if doc.text[i] in "：:。\n"), end)
    return doc.text[section.heading_start : stop]


def _holds_list(doc: Document, section: Section, match) -> bool:
    """Whether a section's body has a sentence listing things that carries the question's words
    (a list answers from it)."""
    text = doc.text[section.heading_end : section.end]
    return any(lists(text[s:e]) and match(text[s:e]) >= NARROW_MIN for s, e in full_sentences(text))


def _chain(sections: list[Section], section: Section) -> list[str]:
    """The normalised headings of ``section`` and the sections above it."""
    out = []
    node: Section | None = section
    while node is not None and node.parent is not None:
        out.append(normalize(node.heading))
        node = sections[node.parent]
    return out


def _inside(sections: list[Section], index: int, ancestor: Section) -> bool:
    node: Section | None = sections[index]
    while node is not None:
        if node.index == ancestor.index:
            return True
        node = sections[node.parent] if node.parent is not None else None
    return False


def parts_of(doc: Document, sections: list[Section], section: Section) -> list[Part]:
    """The parts of a section: its child sections, else the numbered paragraphs of its body."""
    children = [s for s in sections if s.parent == section.index]
    if len(children) >= 2:
        return [Part(*lead_clause(doc.text, c.heading_start, c.end), c) for c in children[:MAX_PARTS]]
    body_start = section.heading_end
    starts = [
        m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        for m in _PART_RE.finditer(doc.text, body_start, section.end)
    ]
    if len(starts) < 2:
        return []
    return [Part(*lead_clause(doc.text, s, section.end), section) for s in starts[:MAX_PARTS]]


def lead_clause(text: str, start: int, limit: int) -> tuple[int, int]:
    """``[start, end)`` of the clause a part opens with: up to its first sentence end, or its first
    comma when that sentence is longer than ``LEAD_MAX``; a heading line is whole."""
    line_end = text.find("\n", start, limit)
    line_end = limit if line_end < 0 else line_end
    end = start
    for i in range(start, line_end):
        if text[i] in "。；;！？：:":
            end = i
            break
    else:
        end = line_end
    if end - start > LEAD_MAX:
        comma = next((i for i in range(start + 4, end) if text[i] in "，,"), end)
        end = comma
    while end > start and text[end - 1] in " \t\u3000":
        end -= 1
    return start, end
