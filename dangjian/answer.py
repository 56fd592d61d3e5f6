"""Extractive answers: the shortest verbatim text that states what was asked, each piece cited.

No language model is involved: every quoted piece is ``document.text[start:end]`` and carries a
marker ``[n]`` pointing to its citation. What is quoted depends on the question's kind
(``index.kinds``), tried in this order:

1. a method or name the corpus only mentions (“五融四零工作法是什么？”): one sentence saying the
   knowledge base does not describe it, and the mention, cited;
2. a complete list: the sentence whose enumeration holds as many items as the name promises
   (十联 → 10), whole;
3. the section the question asks for (``outline``): its parts' lead clauses, one per line;
4. otherwise the best sentences of the first passages — never a bare heading or an announcing
   line (“…汇报如下：”), the one holding the asked fact first, none far below the best.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, replace

from .answer_text import ANNOUNCING_RE, DESCRIBING_RE, clause, core, full_sentences, is_heading, lists, shown_name
from .citations import format_citation, highlight_spans
from .index.facts import asked_fact, labelled_tables
from .index.kinds import LISTING
from .index.query import longest_enumeration
from .ingest.chunking import sentence_spans
from .ingest.patterns import CN_DIGITS, NAME_SUFFIXES, TERMINAL_RE
from .ingest.methods import counted_words, promised_count
from .outline import FILLER, MAX_PARTS, Outline, find_outline, lead_clause, topic_terms
from .schema import Answer, Citation, Hit, Passage, Query, SearchResult
from .text import normalize

NOT_FOUND = "未在知识库中找到与问题相关的内容。"
LACKS_MARK = "没有写明"  # in every answer that says the knowledge base lacks what was asked


def not_stated(missing: str) -> str:
    """What the user is told when the passages about a question do not give what it asks."""
    return f"知识库中有相关内容，但没有写明问题所问的{missing}。以下是相关段落，供核对。"


MAX_SENTENCES = 3
TARGET_CHARS = 300  # an answer's length unless a complete list needs more
FROM_HITS = 3
RELEVANCE_FLOOR = 0.5  # a sentence scoring below this share of the best one is left out
LIST_POOL = 8  # passages a list question's sentences are drawn from
LIST_BONUS = 1.5  # a sentence that lists things (“：…；…；…”, “、…、…、”) for a list question
MAX_LIST_CHARS = 600  # a sentence completed from its document stops here
MAX_ROW_CHARS = 400  # where a table row shows its cell separator
TITLE_SHARE = 0.5  # a fact question's words in the title, against the same in the sentence
FACT_BONUS = 3.0  # a sentence stating the asked kind of fact, against one that does not
UNSHOWN_SHARE = 0.3  # the question's weight a section's heading and parts must leave out to look inside
ANNOUNCER_CHARS = 40  # a sentence this short that the rest of its paragraph follows may announce it
ANNOUNCER_OWN = 0.2  # share of the question's weight an announcing sentence itself carries...
ANNOUNCER_COVERED = 0.6  # ... and with its document's title and section path
ANNOUNCED_CHARS = 900  # what a sentence announces in its paragraph is quoted up to here
LISTED_OWN = 0.4  # a list sentence answering a list question carries this share of its weight...
LISTED_COVERED = 0.8  # ... and with its title and section path, this share
LISTED_MARGIN = 0.3  # ... and this much more than the heading of the section found for it
ITEM_CHARS = 120
PLAN_BONUS = 2.0  # a sentence saying what will be done, for a plan question
_PLAN_RE = re.compile(r"下一步|今后|明年|将|计划|拟|准备|打算|谋划")
RARE_MENTIONS = 2  # a name the question does not quote is rare when the passages use it this often
_RARE_NAME_ENDS = (*NAME_SUFFIXES, "榜", "支部", "小组", "项目")  # ... and it ends as a name does
HOWTO_CHARS = 600  # a how-to question's section whose body is this short is quoted whole
HOWTO_OWN = 0.5  # share of a how-to question's weight the sentence opening its paragraph carries  # an announced item's first sentence longer than this is cut at a comma
_ITEM_RE = re.compile(
    rf"^[ \t\u3000]*(?:——|[（(][{CN_DIGITS}]{{1,3}}[）)]|[0-9]{{1,2}}[.．、](?![0-9])|[{CN_DIGITS}]{{1,3}}是|第[{CN_DIGITS}]{{1,3}}[，,、]|[①-⑳])"
)
# words a question asking for a method's own content may use besides its name (and the
# document it names: 二十大报告讲的“六个必须坚持”)
_OF_A_METHOD = frozenset("内容 工作法 方法 做法 机制 模式 具体 分别 指的 就是 什么样 报告 讲话 文件 党章 章程 决议".split())
_LIST_WORD_RE = re.compile(r"以下|如下|下列")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# a short sentence that announces the problems the rest of its paragraph lists
_PROBLEMS_RE = re.compile(r"(?:面临|看到|认识到|诸多|不少|一些|主要).{0,12}(?:问题|困难|挑战|不足|短板|矛盾|风险)")


@dataclass
class _Piece:
    """One quoted span of a document, and what to cite it with."""

    doc_id: str
    title: str
    text: str  # the document's (or passage's) text the offsets index
    base: int  # offset of ``text`` in the document
    start: int  # span in ``text``
    end: int
    path: list[str]
    page: int | None
    paragraph: int
    passage_id: str
    score: float
    recognised: bool = False
    passage: Passage | None = None  # the passage the span lies in, when not one of the hits
    line: str = ""  # what the answer shows instead of the quote (a table row labelled by its header)


def extractive_answer(result: SearchResult, searcher) -> Answer:
    """The answer to ``result``'s question from the passages it found (``searcher``: the version
    the search read, for documents and more passages)."""
    if result.missing:
        return Answer(
            result.query, not_stated(result.missing), [], result.related, True, result.took_ms, result.missing
        )
    if result.abstained or not result.hits:
        return Answer(result.query, NOT_FOUND, [], [], True, result.took_ms)
    builder = _Builder(result, searcher)
    # a problem section (二、存在问题) before a paragraph announcing problems; a sentence announcing
    # a list (基本原则是：) before the section around it
    shaped = (
        (builder.outline, builder.announced)
        if builder.query.kind == "problem"
        else (builder.announced, builder.outline)
    )
    for attempt in (builder.lacking, builder.complete_list, *shaped, builder.sentences):
        answer = attempt()
        if answer is not None:
            return answer
    raise AssertionError("sentences() always answers")


class _Builder:
    def __init__(self, result: SearchResult, searcher):
        self.result = result
        self.searcher = searcher
        self.query: Query = result.analysed
        self.rows = result.pool or []
        weights, max_idf = searcher.retrieval.term_weights(self.query.lexical)
        self.weights = {t: w or max_idf for t, w in weights.items()}

    @functools.cached_property
    def section(self) -> Outline | None:
        """The section the question asks for, if one clearly is (``outline.find_outline``)."""
        return find_outline(self.query, self.searcher, self.rows, self.weights)

    # --- the kinds of answer ---------------------------------------------------------------

    def lacking(self) -> Answer | None:
        """A definition or how-to question about a name the corpus only mentions."""
        q = self.query
        if q.kind not in ("definition", "howto"):
            return None
        passages = self._passages(10)
        rare = self._rare_name(passages)  # 银铃先锋支部, around the known name 银铃先锋
        if rare and (not q.phrases or any(phrase in rare for phrase in q.phrases)):
            name = rare
        elif q.phrases:
            name = max(q.phrases, key=len)
        else:
            return None
        mentions, described = [], False
        for p in passages:
            norm = normalize(p.text).lower()
            for s, e in sentence_spans(p.text):
                at = norm.find(name, s, e)
                if at < 0:
                    continue
                after, before = norm[at + len(name) : e], norm[max(s, at - 60) : at]
                listed = before.count("、") >= 2 and "的" in before[-3:]  # “…、…、…”的“十联工作法”
                # “实施提振消费专项行动。” opening what its paragraph goes on to describe
                leads = len(after.strip("”」』》 ")) <= 1 and p.text[e:].split("\n", 1)[0].strip() != ""
                # a quoted name, not a plain phrase; an unquoted name the question uses is rare
                coined = name == rare or (at > 0 and norm[at - 1] in '“「『"《')
                heading = " | " not in p.text[s:e] and is_heading(p.text[s:e], p.section_path)  # a row is none
                if not coined or DESCRIBING_RE.match(after) or listed or heading or leads:
                    described = True  # a plain phrase, a description, or a heading over a body
                mentions.append((p, *clause(p.text, s, e, at)))
        if described or not mentions:
            return None
        p, s, e = mentions[0]
        what = "具体做法" if q.kind == "howto" else "它的具体内容"
        lead = f"知识库中只提到“{shown_name(p.text, name)}”，{LACKS_MARK}{what}。"
        return self._answer([self._from_passage(p, s, e, 1.0)], lead=lead)

    def _rare_name(self, passages: list[Passage]) -> str:
        """The name an unquoted question asks about (“银铃先锋支部是个什么样的支部？”): its rarest
        word, widened within the question while the passages still contain it; "" when that is
        no name or the passages use it more than ``RARE_MENTIONS`` times."""
        terms = topic_terms(self.weights)
        if not terms:
            return ""
        word = max(terms, key=lambda t: (terms[t], len(t)))
        texts = [normalize(p.text).lower() for p in passages]
        norm, at = self.query.norm, self.query.norm.find(word)
        if at < 0 or not any(word in t for t in texts):
            return ""
        start, end = at, at + len(word)
        while start > 0 and any(norm[start - 1 : end] in t for t in texts):
            start -= 1
        while end < len(norm) and any(norm[start : end + 1] in t for t in texts):
            end += 1
        name = norm[start:end]
        used = sum(t.count(name) for t in texts)
        named = name.endswith(_RARE_NAME_ENDS)
        return name if len(name) >= 3 and named and used <= RARE_MENTIONS else ""

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
        titles = " ".join(normalize(p.title).lower() for p in passages)
        if any(
            t in q.tokens and t not in name and t not in _OF_A_METHOD and t not in titles
            for t in topic_terms(self.weights)
        ):
            return None  # the question asks something else about it (成效, 重点项目, 下一步)
        short = name[: name.find("联") + 1] if "联" in name else name  # 物业管理十联工作法 → 物业管理十联
        for p in passages:
            norm = normalize(p.text).lower()
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
        for doc_id in dict.fromkeys(p.doc_id for p in passages if lead in normalize(p.text).lower()):
            doc, sections = self.searcher.document(doc_id)
            starts = [m.end() for m in opening.finditer(doc.text)]
            if len(starts) != count:
                continue
            spans = [(a, _sentence_end(doc.text, a, ITEM_CHARS)) for a in starts]
            found = Outline(doc, sections, _section_at(sections, starts[0]), [], 1.0)
            pieces = [self._from_document(found, a, b, _section_at(sections, a)) for a, b in spans]
            return self._answer(pieces, lead=f"《{doc.title}》中的“{name}”共{count}项：", layout="list")
        return None

    def announced(self) -> Answer | None:
        """A list or problem question answered by what a sentence announces: the rest of its
        paragraph (“当前发展面临诸多困难挑战。外部环境…；国内…”), or the numbered paragraphs
        after it (“党的民主集中制的基本原则是：” → （一）…（六）), each item's first sentence."""
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
            norm = normalize(text).lower()
            context = normalize(p.title + " " + " ".join(p.section_path)).lower()
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
                else:
                    announces = colon
                if not announces:
                    continue
                said = norm[s:e] if colon or q.kind == "howto" else norm[s:].split("\n", 1)[0]
                own = sum(w for t, w in terms.items() if t in said) / total
                covered = sum(w for t, w in terms.items() if t in said or t in context) / total
                if own < (HOWTO_OWN if q.kind == "howto" else ANNOUNCER_OWN) or covered < ANNOUNCER_COVERED:
                    continue
                if q.kind == "howto" and self.section is not None and own < self.section.heading + LISTED_MARGIN:
                    continue  # the section found names it as well: its body says how
                if best is None or own + covered > best[0]:
                    best = (own + covered, p, base + s, base + e)
        if best is None:
            return None
        _score, p, start, end = best
        doc, sections = self.searcher.document(p.doc_id)
        while end > start and doc.text[end - 1].isspace():
            end -= 1
        found = Outline(doc, sections, _section_at(sections, start), [], _score)
        paragraph_end = doc.text.find("\n", end)
        paragraph_end = len(doc.text) if paragraph_end < 0 else paragraph_end
        if doc.text[end:paragraph_end].strip():  # the paragraph runs on: what it announces
            limit = start + (HOWTO_CHARS if q.kind == "howto" else ANNOUNCED_CHARS)
            stops = [i + 1 for i in range(end, min(paragraph_end, limit)) if doc.text[i] in "。！？"]
            stop = stops[-1] if paragraph_end > limit and stops else paragraph_end
            while stop > start and doc.text[stop - 1].isspace():
                stop -= 1
            return self._answer([self._from_document(found, start, stop, found.section)])
        following = list(itertools.islice(_lines_after(doc.text, paragraph_end), MAX_PARTS + 1))
        if following and not _ITEM_RE.match(doc.text[slice(*following[0])]) and " | " not in doc.text[slice(*following[0])]:
            stop = following[0][1]  # one line announced: “大会的主题是：” / “高举…而团结奋斗。”
            if stop - start <= ANNOUNCED_CHARS:
                return self._answer([self._from_document(found, start, stop, found.section)])
            return None
        items, rows = [], []
        for line_start, line_end in following:
            line = doc.text[line_start:line_end]
            if " | " in line and not items and len(rows) <= MAX_PARTS:  # a table: its rows
                rows.append((line_start, line_end))
                continue
            if rows or len(items) >= MAX_PARTS or not _ITEM_RE.match(line):
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
                piece = self._from_document(found, a, b, _section_at(sections, a))
                piece.line = labelled_tables(header + "\n" + doc.text[a:b]).splitlines()[-1]
                pieces.append(piece)
        elif len(items) >= 2:
            pieces += [self._from_document(found, a, b, _section_at(sections, a)) for a, b in items]
        else:
            return None
        said = doc.text[start:end].strip().rstrip("：:。")
        return self._answer(pieces, lead=f"《{doc.title}》“{said}”共{len(pieces)}项：", layout="list")

    def _list_sentence(self, found: Outline | None) -> Answer | None:
        """A list question one sentence answers better than the section ``found``: it lists
        things and carries more of the question's words than the section's heading, with its
        document's title (“2023年主要预期目标” → “今年发展主要预期目标是：…；…”)."""
        if self.query.kind != "list":
            return None
        # a method's name says which list, not what is listed (十联工作法取得了哪些成效)
        terms = {t: w for t, w in topic_terms(self.weights).items() if not any(t in n for n in self.query.phrases)}
        total = sum(topic_terms(self.weights).values())
        best = None
        for p in self._passages(LIST_POOL):
            if not self._of_the_year(p):
                continue
            norm = normalize(p.text).lower()
            context = normalize(p.title + " " + " ".join(p.section_path)).lower()
            for s, e in full_sentences(p.text):
                if not lists(p.text[s:e]):
                    continue
                own = sum(w for t, w in terms.items() if t in norm[s:e]) / total
                covered = sum(w for t, w in terms.items() if t in norm[s:e] or t in context) / total
                if found is not None and own < found.heading + LISTED_MARGIN:
                    continue
                if own >= LISTED_OWN and covered >= LISTED_COVERED and (best is None or own + covered > best[0]):
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
        if self.query.kind == "howto" and found.section.end - found.section.heading_end <= HOWTO_CHARS:
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

    def sentences(self) -> Answer:
        """The best sentences of the first passages, by the question's terms and kind."""
        q = self.query
        fact = asked_fact(q.text, self.searcher.person_names) if q.kind == "fact" else None
        terms = {t: w for t, w in self.weights.items() if len(t) > 1}
        candidates = []
        hits = self.result.hits[: (5 if fact else FROM_HITS)]
        if q.kind in LISTING:  # a list may sit in a passage ranked a little lower
            shown = {h.passage_id for h in hits}
            extra = [self.searcher.passage(row) for row in self.rows[:LIST_POOL]]
            hits = hits + [
                self.searcher.hit(p, len(hits) + i + 1, 0.0, q.terms)
                for i, p in enumerate(x for x in extra if x.passage_id not in shown)
            ]
        for hit in hits:
            norm = normalize(hit.text).lower()
            spans = full_sentences(hit.text)
            for s, e in spans:
                sentence = hit.text[s:e]
                row = self._table_row(hit, s)
                if row == "header":
                    continue  # a table's header alone answers nothing
                stated = (
                    fact is not None
                    and fact.kind in ("day", "time", "duration")
                    and fact.present(sentence)
                    and sentence.strip() not in hit.section_path
                )
                if not row and not stated and (is_heading(sentence, hit.section_path) or ANNOUNCING_RE.search(sentence)):
                    continue  # a line stating the asked fact (“（2022年10月16日）”) is kept
                read = normalize(row).lower() if row else norm[s:e]
                overlap = sum(w for t, w in terms.items() if t in read)
                if fact is not None:
                    # the title says what a bare date line (“（2022年10月16日）”) is the date of
                    titled = normalize(hit.title).lower()
                    overlap += TITLE_SHARE * sum(w for t, w in terms.items() if t in titled and t not in read)
                    overlap *= FACT_BONUS if fact.present(row or sentence) else 1 / FACT_BONUS
                if q.kind in LISTING and lists(sentence):
                    overlap *= LIST_BONUS
                if q.kind == "plan" and _PLAN_RE.search(sentence):
                    overlap *= PLAN_BONUS
                candidates.append((overlap / (hit.rank + 1) ** 0.5, hit.rank, s, e, hit, row))
        if not candidates:  # only headings: the first hit's text, as it is
            hit = self.result.hits[0]
            s, e = sentence_spans(hit.text)[0]
            candidates.append((0.0, 1, s, e, hit, None))
        best = max(c[0] for c in candidates)
        chosen, length = [], 0
        for cand in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
            size = cand[3] - cand[2]
            if chosen and (
                len(chosen) >= MAX_SENTENCES or length + size > TARGET_CHARS or cand[0] < RELEVANCE_FLOOR * best
            ):
                continue
            chosen.append(cand)
            length += size
        chosen.sort(key=lambda c: (c[1], c[2]))  # reading order: by passage rank, then position
        pieces = []
        for score, _rank, s, e, hit, row in chosen:
            piece = (
                self._completed(self._from_hit(hit, s, e, score))
                if q.kind in LISTING
                else self._from_hit(hit, s, e, score)
            )
            piece.line = row or ""
            pieces.append(piece)
        bare = len(pieces) == 1 and not TERMINAL_RE.search(pieces[0].text[pieces[0].start : pieces[0].end].strip())
        return self._answer(pieces, lead=f"《{pieces[0].title}》：" if bare else "")  # whose date line it is

    def _completed(self, piece: _Piece) -> _Piece:
        """A sentence cut at its passage's end (a list running on after “：” or “；”) completed
        from the document, up to its full stop."""
        quote = piece.text[piece.start : piece.end].rstrip()
        if not quote or quote[-1] not in "；;：:，,":
            return piece
        doc, _ = self.searcher.document(piece.doc_id)
        start = piece.base + piece.start
        end = piece.base + piece.end
        limit = min(len(doc.text), start + MAX_LIST_CHARS)
        stop = next((i + 1 for i in range(end, limit) if doc.text[i] in "。！？\n"), None)
        if stop is None:
            return piece
        stop = stop - 1 if doc.text[stop - 1] == "\n" else stop
        return replace(piece, text=doc.text, base=0, start=start, end=stop)

    def _table_row(self, hit: Hit, s: int) -> str | None:
        """For a sentence that is a table row: the row read with its table's header
        (“社区：测试一社区，网格数：8个”, ``facts.labelled_tables``), or "header" for the header row
        itself; None otherwise."""
        if " | " not in hit.text[s : s + MAX_ROW_CHARS]:
            return None  # not a table row: no need to read the document
        offset = hit.start + s
        doc, _ = self.searcher.document(hit.doc_id)
        blocks = doc.blocks
        at = next((i for i, b in enumerate(blocks) if b.start <= offset < b.end), None)
        if at is None or blocks[at].kind != "table":
            return None
        first = at
        while first > 0 and blocks[first - 1].kind == "table":
            first -= 1
        if first == at:
            return "header"
        rows = doc.text[blocks[first].start : blocks[first].end] + "\n" + doc.text[blocks[at].start : blocks[at].end]
        labelled = labelled_tables(rows).splitlines()[-1]
        return labelled if labelled.endswith("。") else None

    # --- pieces -----------------------------------------------------------------------------

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
        norm = normalize(text).lower()
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

    def _body(self, found: Outline) -> Answer:
        """A section without parts: its sentences that carry the question's words (a list
        sentence counting more), in reading order, up to the target length; an item's own
        lead sentence (“二是…。”) first."""
        doc, section = found.doc, found.section
        base = section.heading_start if section.kind == "item" else section.heading_end  # 一是… runs on
        text = doc.text[base : section.end]
        norm = normalize(text).lower()
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
            return self.sentences()
        if self.query.kind == "howto" and scored[-1][2] - scored[0][1] <= HOWTO_CHARS:
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

    def _of_the_year(self, p: Passage) -> bool:
        """Whether a passage's document is of the year the question names, if it names one."""
        years = self.query.years
        return not years or any(str(y) in p.title for y in years) or self.searcher.docs[p.doc_id].get("year") in years

    def _passages(self, n: int) -> list[Passage]:
        return [self.searcher.passage(row) for row in self.rows[:n]]

    def _from_hit(self, hit: Hit, s: int, e: int, score: float) -> _Piece:
        return _Piece(
            hit.doc_id,
            hit.title,
            hit.text,
            hit.start,
            s,
            e,
            hit.section_path,
            hit.page,
            hit.paragraph,
            hit.passage_id,
            score,
            recognised="识别文字" in hit.citation,
        )

    def _from_passage(self, p: Passage, s: int, e: int, score: float) -> _Piece:
        return _Piece(
            p.doc_id,
            p.title,
            p.text,
            p.start,
            s,
            e,
            p.section_path,
            p.page,
            p.paragraph,
            p.passage_id,
            score,
            recognised=p.ocr_confidence is not None,
        )

    def _from_document(self, found: Outline, start: int, end: int, section) -> _Piece:
        """A span of an outline's document, cited with the passage it lies in."""
        doc = found.doc
        passage = self._passage_at(doc.doc_id, start)
        return _Piece(
            doc.doc_id,
            doc.title,
            doc.text,
            0,
            start,
            end,
            section.path,
            doc.page_at(start),
            passage.paragraph if passage else 0,
            passage.passage_id if passage else "",
            found.score,
            recognised=bool(passage and passage.ocr_confidence is not None),
            passage=passage,
        )

    def _passage_at(self, doc_id: str, offset: int) -> Passage | None:
        for row in self.searcher.retrieval.doc_rows(doc_id):
            p = self.searcher.passage(row)
            if p.start <= offset < p.end:
                return p
        return None

    def _answer(self, pieces: list[_Piece], *, lead: str = "", layout: str = "text") -> Answer:
        citations, lines = [], []
        for marker, piece in enumerate(pieces, start=1):
            citations.append(_citation(marker, piece, self.query.terms))
            lines.append(f"{piece.line or piece.text[piece.start : piece.end]}[{marker}]")
        body = "\n".join(lines) if layout == "list" else "".join(lines)
        text = f"{lead}\n{body}" if lead and layout == "list" else lead + body
        return Answer(self.result.query, text, citations, self.result.hits, False, self.result.took_ms, layout=layout)


def _section_at(sections, offset: int):
    """The deepest section holding ``offset``."""
    inside = [s for s in sections if s.start <= offset < s.end] or sections[:1]
    return max(inside, key=lambda s: s.depth)


def _sentence_end(text: str, start: int, limit: int) -> int:
    """The end of the sentence opening at ``start``: its full stop, else its line's end, at most
    ``limit`` characters on."""
    stop = min(len(text), start + limit)
    for i in range(start, stop):
        if text[i] in "。；！？":
            return i + 1
        if text[i] == "\n":
            return i
    return stop


def _lines_after(text: str, offset: int):
    """``(start, end)`` of the lines with Chinese text after ``offset`` (the end of a line)."""
    at = offset
    while at < len(text):
        end = text.find("\n", at + 1)
        end = len(text) if end < 0 else end
        if _CJK_RE.search(text, at, end):  # a line without Chinese is a translation beside it
            yield at + (1 if text[at] == "\n" else 0), end
        at = end


def _citation(marker: int, piece: _Piece, terms: list[str]) -> Citation:
    quote = piece.text[piece.start : piece.end]
    return Citation(
        marker=marker,
        passage_id=piece.passage_id,
        doc_id=piece.doc_id,
        title=piece.title,
        section_path=piece.path,
        quote=quote,
        start=piece.base + piece.start,
        end=piece.base + piece.end,
        page=piece.page,
        citation=format_citation(piece.title, piece.path, piece.page, piece.paragraph, recognised=piece.recognised),
        score=round(piece.score, 6),
        highlights=highlight_spans(quote, terms),
    )


def citation_of(marker: int, hit: Hit, terms: list[str] = ()) -> Citation:
    """A whole passage as the citation numbered ``marker`` (a language model's answer cites these)."""
    piece = _Piece(
        hit.doc_id,
        hit.title,
        hit.text,
        hit.start,
        0,
        len(hit.text),
        hit.section_path,
        hit.page,
        hit.paragraph,
        hit.passage_id,
        hit.score,
    )
    citation = _citation(marker, piece, list(terms))
    return replace(citation, citation=hit.citation)
