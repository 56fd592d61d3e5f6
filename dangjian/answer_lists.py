"""Answers shaped by what the question asks for as a whole: a numbered name's complete list,
what a sentence announces, the section asked for, or the one sentence that lists it.

- a numbered name (十联, 六个必须坚持): the sentence enumerating as many items as it promises,
  or the paragraphs opening alike that many times;
- what a sentence announces: the rest of its paragraph (“当前发展面临诸多困难挑战。…”), the
  items or table rows after it (“党的民主集中制的基本原则是：” → （一）…（六）), the line after
  it (“大会的主题是：”), or the paragraph it opens for a how-to (“实施提振消费专项行动。…”);
- the section the question asks for (``outline``): its parts' lead clauses, a list sentence
  inside it, or its body; a list sentence elsewhere that says more of the question wins.
"""

from __future__ import annotations

import functools
import itertools
import re

from .answer_quote import Quoting, lines_after, section_at, sentence_end
from .answer_text import ANNOUNCING_RE, PLAN_RE, core, folded, full_sentences, is_heading, lists
from .index.facts import labelled_tables
from .index.kinds import LISTING
from .index.query import longest_enumeration
from .ingest.chunking import sentence_spans
from .ingest.methods import counted_words, promised_count
from .ingest.patterns import CN_DIGITS, cn_to_int
from .outline import MAX_PARTS, Outline, find_outline, lead_clause, topic_terms
from .schema import Answer, Passage
from .text import normalize

TARGET_CHARS = 300  # an answer's length unless a complete list needs more
RELEVANCE_FLOOR = 0.5  # a sentence scoring below this share of the best one is left out
LIST_POOL = 8  # passages a list question's sentences are drawn from
LIST_BONUS = 1.5  # a sentence that lists things (“：…；…；…”, “、…、…、”) for a list question
UNSHOWN_SHARE = 0.3  # the question's weight a section's heading and parts must leave out to look inside
ANNOUNCER_CHARS = 40  # a sentence this short that the rest of its paragraph follows may announce it
ANNOUNCER_OWN = 0.2  # share of the question's weight an announcing sentence itself carries...
ANNOUNCER_COVERED = 0.6  # ... and with its document's title and section path
ANNOUNCED_CHARS = 900  # what a sentence announces in its paragraph is quoted up to here
ITEM_CHARS = 120  # an announced item's first sentence longer than this is cut at a comma
HOWTO_CHARS = 600  # a how-to's section (or the paragraph it opens) this short is quoted whole
HOWTO_OWN = 0.5  # share of a how-to question's weight the sentence opening its paragraph carries
UNSAID_OWN = 0.8  # ... and one ending its paragraph before numbered ones, without saying so, this share
LISTED_OWN = 0.4  # a list sentence answering a list question carries this share of its weight...
LISTED_COVERED = 0.8  # ... and with its title and section path, this share
LISTED_MARGIN = 0.3  # ... and this much more than the heading of the section found for it
_ITEM_RE = re.compile(
    rf"^[ \t\u3000]*(?:——|[（(][{CN_DIGITS}]{{1,3}}[）)]|[0-9]{{1,2}}[.．、](?![0-9])|[{CN_DIGITS}]{{1,3}}是"
    rf"|第[{CN_DIGITS}]{{1,3}}[，,、]|[①-⑳])"
)
_NUMBER_RE = re.compile(
    rf"^[ \t\u3000]*(?:[（(]([{CN_DIGITS}]{{1,3}})[）)]|([0-9]{{1,2}})[.．、](?![0-9])|([{CN_DIGITS}]{{1,3}})是)"
)
# words a question asking for a method's own content may use besides its name (and the
# document it names: 二十大报告讲的“六个必须坚持”)
_OF_A_METHOD = frozenset(
    "内容 工作法 方法 做法 机制 模式 具体 分别 指的 就是 什么样 报告 讲话 文件 党章 章程 决议".split()
)
# a sentence ending on what it announces (“下面简述几项重点。”), not one holding it (“誓词如下：我志愿…”)
_LIST_WORD_RE = re.compile(r"(?:以下|如下|下列|下面)[^。！？：:]{0,12}[。！？：:]?\s*$")
# a short sentence that announces the problems the rest of its paragraph lists
_PROBLEMS_RE = re.compile(r"(?:面临|看到|认识到|诸多|不少|一些|主要).{0,12}(?:问题|困难|挑战|不足|短板|矛盾|风险)")


def _item_number(line: str) -> int | None:
    """The number of an item's marker: （三） → 3, 2. → 2, 四是 → 4."""
    m = _NUMBER_RE.match(line)
    return cn_to_int(next(g for g in m.groups() if g)) if m else None


def _names_document(question: str, term: str) -> bool:
    """Whether ``term`` names the document a question asks about (二十大报告, 党章里)."""
    return bool(re.search(re.escape(term) + r"[\u4e00-\u9fff]?(?:的)?(?:报告|讲话|文件|里|中)", question))


def _quotable(found: Outline) -> bool:
    """Whether a how-to's section is quoted whole: short, without headings of its own below it
    (their parts answer) and without a table (its rows read badly run together)."""
    section = found.section
    below = any(s.parent == section.index and s.kind != "item" for s in found.sections)
    body = found.doc.text[section.heading_end : section.end]
    return len(body) <= HOWTO_CHARS and not below and " | " not in body


class Listing(Quoting):
    """The answers of this module; ``answer._Builder`` adds the rest."""

    @functools.cached_property
    def section(self) -> Outline | None:
        """The section the question asks for, if one clearly is (``outline.find_outline``)."""
        return find_outline(self.query, self.searcher, self._passages(len(self.rows)), self.weights)

    def complete_list(self) -> Answer | None:
        """A list or how-to question about a numbered name (十联): the sentence listing all its items."""
        q = self.query
        if q.kind not in ("list", "howto", "definition"):
            return None
        counted = [(name, promised_count(name)) for name in q.phrases]
        counted = [(name, n) for name, n in counted if n and n >= 3]
        if not counted:
            return None
        name, count = max(counted, key=lambda c: len(c[0]))
        passages = self._passages(10)
        titles = " ".join(folded(p.title) for p in passages)
        if any(
            t in q.tokens
            and t not in name
            and t not in _OF_A_METHOD
            and t not in titles
            and not _names_document(q.norm, t)
            for t in topic_terms(self.weights)
        ):
            return None  # the question asks something else about it (成效, 重点项目, 下一步)
        short = name[: name.find("联") + 1] if "联" in name else name  # 物业管理十联工作法 → 物业管理十联
        for p in passages:
            norm = folded(p.text)
            for s, e in sentence_spans(p.text):
                if (name in norm[s:e] or core(short) in norm[s:e]) and longest_enumeration(p.text[s:e]) >= count:
                    return self._answer([self._from_passage(p, s, e, 1.0)])
        return self._parallel(passages, name, count)

    def _parallel(self, passages: list[Passage], name: str, count: int) -> Answer | None:
        """A numbered name whose items are paragraphs opening alike (“六个必须坚持” → the six
        paragraphs “——必须坚持人民至上。…”): each one's first sentence."""
        lead = counted_words(name)
        if len(lead) < 2:
            return None
        opening = re.compile(rf"(?m)^[ \t\u3000]*(?:——|[（(]?[{CN_DIGITS}0-9]{{1,2}}[）)、.．]?)?(?={re.escape(lead)})")
        for doc_id in dict.fromkeys(p.doc_id for p in passages if lead in folded(p.text)):
            doc, sections = self.searcher.document(doc_id)
            starts = [m.end() for m in opening.finditer(doc.text)]
            if len(starts) != count:
                continue
            spans = [(a, sentence_end(doc.text, a, ITEM_CHARS)) for a in starts]
            found = Outline(doc, sections, section_at(sections, starts[0]), [], 1.0)
            pieces = [self._from_document(found, a, b, section_at(sections, a)) for a, b in spans]
            return self._answer(pieces, lead=f"《{doc.title}》中的“{name}”共{count}项：", layout="list")
        return None

    def announced(self) -> Answer | None:
        """A question answered by what a sentence announces: the rest of its paragraph (problems:
        “当前发展面临诸多困难挑战。外部环境…；国内…”; a how-to: the paragraph “实施提振消费专项行动。”
        opens), the numbered paragraphs or table rows after it (“党的民主集中制的基本原则是：” →
        （一）…（六）, each item's first sentence), or the one line after it (a definition:
        “大会的主题是：”). The announcing sentence carries the question's words (with its title and
        section path); it comes from the document of the year the question names."""
        q = self.query
        if q.kind not in ("list", "problem", "definition", "howto"):
            return None
        terms = topic_terms(self.weights)
        total = sum(terms.values())
        if not total:
            return None
        best = None
        for p in self._passages(10):
            if not self._of_the_year(p):
                continue
            text, base = p.text, p.start
            if q.kind == "problem" and base > 0:  # the problems' announcement may open its paragraph
                doc, _ = self.searcher.document(p.doc_id)
                base = doc.text.rfind("\n", 0, base) + 1
                text = doc.text[base : p.end]
            norm = folded(text)
            context = folded(p.title + " " + " ".join(p.section_path))
            for s, e in full_sentences(text):
                sentence = text[s:e].strip()
                last_in_paragraph = not text[e:].split("\n", 1)[0].strip()
                if _ITEM_RE.match(sentence):
                    continue  # an item itself, not what announces the items
                colon = bool(ANNOUNCING_RE.search(sentence) or _LIST_WORD_RE.search(sentence))
                short, runs_on = len(sentence) <= ANNOUNCER_CHARS, not last_in_paragraph
                if q.kind == "definition":  # “大会的主题是：” and the line it announces
                    announces = sentence.endswith(("：", ":")) and not runs_on
                elif q.kind == "howto":  # “实施提振消费专项行动。” opening the paragraph saying how
                    announces = short and runs_on and ((s == 0 and base == 0) or text[:s].endswith("\n"))
                elif q.kind == "problem":  # “当前发展面临诸多困难挑战。” and the problems after it
                    announces = colon or (short and runs_on and bool(_PROBLEMS_RE.search(sentence)))
                else:  # a list: a sentence saying so, or one ending its paragraph before items
                    announces = colon or not runs_on
                if not announces:
                    continue
                said = norm[s:e] if colon or q.kind in ("howto", "list") else norm[s:].split("\n", 1)[0]
                own = sum(w for t, w in terms.items() if t in said) / total
                if q.kind == "list" and not colon and (own < UNSAID_OWN or not self._items_follow(p, base + e)):
                    continue  # “…更有基于自己国情的中国特色。” then “——中国式现代化是…的现代化。” ×5
                covered = sum(w for t, w in terms.items() if t in said or t in context) / total
                if own < (HOWTO_OWN if q.kind == "howto" else ANNOUNCER_OWN) or covered < ANNOUNCER_COVERED:
                    continue
                if q.kind == "howto" and self.section is not None and own < self.section.heading + LISTED_MARGIN:
                    continue  # the section found names it as well: its body says how
                score = own + covered + colon  # a sentence saying it announces wins
                if best is None or score > best[0]:
                    best = (score, p, base + s, base + e)
        if best is None:
            return None
        _score, p, start, end = best
        doc, sections = self.searcher.document(p.doc_id)
        while end > start and doc.text[end - 1].isspace():
            end -= 1
        found = Outline(doc, sections, section_at(sections, start), [], _score)
        paragraph_end = doc.text.find("\n", end)
        paragraph_end = len(doc.text) if paragraph_end < 0 else paragraph_end
        if doc.text[end:paragraph_end].strip():  # the paragraph runs on: what it announces
            limit = start + (HOWTO_CHARS if q.kind == "howto" else ANNOUNCED_CHARS)
            stops = [i + 1 for i in range(end, min(paragraph_end, limit)) if doc.text[i] in "。！？"]
            stop = stops[-1] if paragraph_end > limit and stops else paragraph_end
            while stop > start and doc.text[stop - 1].isspace():
                stop -= 1
            return self._answer([self._from_document(found, start, stop, found.section)])
        following = list(itertools.islice(lines_after(doc.text, paragraph_end), 3 * MAX_PARTS))
        if (
            following
            and not _ITEM_RE.match(doc.text[slice(*following[0])])
            and " | " not in doc.text[slice(*following[0])]
        ):
            stop = following[0][1]  # one line announced: “大会的主题是：” / “高举…而团结奋斗。”
            if stop - start <= ANNOUNCED_CHARS:
                return self._answer([self._from_document(found, start, stop, found.section)])
            return None
        items, rows = [], []
        for n, (line_start, line_end) in enumerate(following):
            line = doc.text[line_start:line_end]
            if " | " in line and not items and len(rows) <= MAX_PARTS:  # a table: its rows
                rows.append((line_start, line_end))
                continue
            if rows or len(items) >= MAX_PARTS:
                break
            if not _ITEM_RE.match(line):
                if items and self._next_item(doc.text, items[-1][0], following[n + 1 : n + 3]):
                    continue  # an item's paragraph broken across lines (“…积极推动加入\n全面与进步…”)
                break
            at = line_start + len(doc.text[line_start:line_end]) - len(doc.text[line_start:line_end].lstrip())
            stop = next((i + 1 for i in range(at, line_end) if doc.text[i] in "。！？；;"), line_end)
            if stop - at > ITEM_CHARS:
                stop = lead_clause(doc.text, at, line_end)[1]
            items.append((at, stop))
        pieces = []
        if len(rows) >= 2:
            header = doc.text[rows[0][0] : rows[0][1]]
            for a, b in rows[1:]:
                piece = self._from_document(found, a, b, section_at(sections, a))
                piece.line = labelled_tables(header + "\n" + doc.text[a:b]).splitlines()[-1]
                pieces.append(piece)
        elif len(items) >= 2:
            pieces += [self._from_document(found, a, b, section_at(sections, a)) for a, b in items]
        else:
            return None
        said = doc.text[start:end].strip().rstrip("：:。")
        if len(said) > ANNOUNCER_CHARS:  # its last clause says what follows (“……下面简述几项重点”)
            said = "……" + re.split(r"[，,；;]", said)[-1]
        return self._answer(pieces, lead=f"《{doc.title}》“{said}”共{len(pieces)}项：", layout="list")

    @staticmethod
    def _next_item(text: str, item: int, lines: list[tuple[int, int]]) -> bool:
        """Whether one of ``lines`` is the item numbered next after the one at offset ``item``."""
        number = _item_number(text[item : item + 8])
        return number is not None and any(_item_number(text[a:b]) == number + 1 for a, b in lines)

    def _items_follow(self, p: Passage, end: int) -> bool:
        """Whether offset ``end`` of ``p``'s document ends its paragraph and three numbered or
        dashed paragraphs follow."""
        doc, _ = self.searcher.document(p.doc_id)
        paragraph_end = doc.text.find("\n", end)
        paragraph_end = len(doc.text) if paragraph_end < 0 else paragraph_end
        if doc.text[end:paragraph_end].strip():
            return False
        following = itertools.islice(lines_after(doc.text, paragraph_end), 3)
        return sum(bool(_ITEM_RE.match(doc.text[a:b])) for a, b in following) == 3

    def _list_sentence(self, found: Outline | None) -> Answer | None:
        """A list or plan question one sentence answers better than the section ``found``: it
        lists things (or says what will be done) and carries more of the question's words
        than the section's heading, with its document's title (“2023年主要预期目标” →
        “今年发展主要预期目标是：…；…”; “十联机制下一步还准备怎么干” → “下一步，社区将继续深化
        “十联”机制，…”, not the plan section of another document)."""
        kind = self.query.kind
        if kind not in ("list", "plan"):
            return None
        topic = topic_terms(self.weights)
        if kind == "list":  # a method's name says which list, not what is listed (十联工作法取得了哪些成效)
            terms = {t: w for t, w in topic.items() if not any(t in n for n in self.query.phrases)}
            total = sum(topic.values())
        else:  # what a plan is about: the question's own words, not its plan words (下一步, 准备)
            planned = "".join(m.group(0) for m in PLAN_RE.finditer(self.query.norm))
            terms = {t: w for t, w in topic.items() if t in self.query.tokens and t not in planned}
            total = sum(terms.values())
            named = "" if found is None else folded(found.doc.title + found.section.heading)
            if not total or all(t in named for t in terms):
                return None  # nothing the plan section found does not name (2023年有什么工作打算)
        best = None
        for p in self._passages(LIST_POOL):
            if not self._of_the_year(p):
                continue
            norm = folded(p.text)
            context = folded(p.title + " " + " ".join(p.section_path))
            for s, e in full_sentences(p.text):
                if not (lists(p.text[s:e]) if kind == "list" else PLAN_RE.search(p.text[s:e])):
                    continue
                own = sum(w for t, w in terms.items() if t in norm[s:e]) / total
                covered = sum(w for t, w in terms.items() if t in norm[s:e] or t in context) / total
                if found is not None and own < found.heading + LISTED_MARGIN:
                    continue
                least = LISTED_OWN if kind == "list" else LISTED_COVERED
                if own >= least and covered >= LISTED_COVERED and (best is None or own + covered > best[0]):
                    best = (own + covered, p, s, e)
        if best is None:
            return None
        score, p, s, e = best
        return self._answer([self._completed(self._from_passage(p, s, e, score))])

    def outline(self) -> Answer | None:
        """The section the question asks for: its parts, or its body."""
        if self.query.kind not in LISTING:
            return None
        found = self.section
        listed = self._list_sentence(found)
        if listed is not None or found is None:
            return listed
        if self.query.kind == "howto" and _quotable(found):
            return self._body(found)  # a short how-to section is quoted whole
        if found.parts:
            listed = self._listed_in(found)
            if listed is not None:
                return listed
            pieces = [self._from_document(found, part.start, part.end, part.section) for part in found.parts]
            title = found.doc.title
            lead = f"《{title}》“{found.section.heading}”共{len(pieces)}项："
            return self._answer(pieces, lead=lead, layout="list")
        return self._body(found)

    def _listed_in(self, found: Outline) -> Answer | None:
        """When the question's own words are not in the section's heading or its parts but a
        list sentence inside it carries them (“哪些民生难题” → “…停车难、充电难…等民生问题”),
        that sentence is the answer rather than the parts."""
        doc, section = found.doc, found.section
        shown = normalize(" ".join([section.heading, *(doc.text[p.start : p.end] for p in found.parts)])).lower()
        terms = {t: w for t, w in self.weights.items() if len(t) > 1 and t in self.query.tokens}
        total = sum(terms.values()) or 1.0
        missing = {t: w for t, w in terms.items() if t not in shown}
        if sum(missing.values()) / total < UNSHOWN_SHARE:
            return None
        text = doc.text[section.heading_end : section.end]
        norm = folded(text)
        best, span = 0.0, None
        for s, e in full_sentences(text):
            if not lists(text[s:e]):
                continue
            score = sum(w for t, w in missing.items() if t in norm[s:e])
            if score > best:
                best, span = score, (s, e)
        if span is None or best / sum(missing.values()) < UNSHOWN_SHARE:
            return None
        start = section.heading_end + span[0]
        return self._answer([self._from_document(found, start, section.heading_end + span[1], section)])

    def _body(self, found: Outline) -> Answer | None:
        """A section without parts: its sentences that carry the question's words (a list
        sentence counting more), in reading order, up to the target length; an item's own
        lead sentence (“二是…。”) first."""
        doc, section = found.doc, found.section
        base = section.heading_start if section.kind == "item" else section.heading_end  # 一是… runs on
        text = doc.text[base : section.end]
        norm = folded(text)
        terms = {t: w for t, w in self.weights.items() if len(t) > 1}
        scored = []
        for s, e in full_sentences(text):
            if is_heading(text[s:e], section.path) or ANNOUNCING_RE.search(text[s:e]):
                continue
            score = sum(w for t, w in terms.items() if t in norm[s:e])
            if self.query.kind in LISTING and lists(text[s:e]):
                score *= LIST_BONUS
            if section.kind == "item" and s == 0:
                score = float("inf")  # the item's own statement
            scored.append((score, s, e))
        if not scored:
            return None
        if self.query.kind == "howto" and _quotable(found):
            return self._answer([self._from_document(found, base + scored[0][1], base + scored[-1][2], section)])
        best = max(x[0] for x in scored if x[0] != float("inf")) if len(scored) > 1 else 0.0
        chosen, length = [], 0
        for score, s, e in sorted(scored, key=lambda x: (-x[0], x[1])):
            if chosen and (length + e - s > TARGET_CHARS or score < RELEVANCE_FLOOR * best):
                continue
            chosen.append((s, e))
            length += e - s
        pieces = [self._from_document(found, base + s, base + e, section) for s, e in sorted(chosen)]
        return self._answer(pieces)
