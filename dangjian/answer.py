"""Extractive answers: the shortest verbatim text that states what was asked, each piece cited.

No language model is involved: every quoted piece is ``document.text[start:end]`` and carries a
marker ``[n]`` pointing to its citation (``answer_quote``). What is quoted depends on the
question's kind (``index.kinds``), tried in this order:

1. a method or name the corpus only mentions (“五融四零工作法是什么？”): one sentence saying the
   knowledge base does not describe it, and the mention, cited;
2. a complete list of a numbered name (十联 → 10 items), whole (``answer_lists``);
3. what a sentence announces, and the section the question asks for (``answer_lists``) — for a
   problem question the problem section (二、存在问题) first;
4. otherwise the best sentences of the first passages — never a bare heading or an announcing
   line (“…汇报如下：”), the one holding the asked fact first, none far below the best.
"""

from __future__ import annotations

from dataclasses import replace

from .answer_lists import LIST_BONUS, LIST_POOL, RELEVANCE_FLOOR, TARGET_CHARS, Listing
from .answer_quote import Piece
from .answer_text import (
    ANNOUNCING_RE,
    DESCRIBING_RE,
    PLAN_RE,
    clause,
    folded,
    full_sentences,
    is_heading,
    lists,
    shown_name,
)
from .index.facts import asked_fact, labelled_tables
from .index.kinds import LISTING
from .ingest.chunking import sentence_spans
from .ingest.patterns import NAME_SUFFIXES, TERMINAL_RE
from .outline import topic_terms
from .schema import Answer, Hit, Passage, SearchResult
from .text import normalize

NOT_FOUND = "未在知识库中找到与问题相关的内容。"
LACKS_MARK = "没有写明"  # in every answer that says the knowledge base lacks what was asked


def not_stated(missing: str) -> str:
    """What the user is told when the passages about a question do not give what it asks."""
    return f"知识库中有相关内容，但没有写明问题所问的{missing}。以下是相关段落，供核对。"


MAX_SENTENCES = 3
FROM_HITS = 3
MAX_LIST_CHARS = 600  # a sentence completed from its document stops here
MAX_ROW_CHARS = 400  # where a table row shows its cell separator
TITLE_SHARE = 0.5  # a fact question's words in the title, against the same in the sentence
FACT_BONUS = 3.0  # a sentence stating the asked kind of fact, against one that does not
PLAN_BONUS = 2.0  # a sentence saying what will be done, for a plan question
RARE_MENTIONS = 2  # a name the question does not quote is rare when the passages use it this often
_RARE_NAME_ENDS = (*NAME_SUFFIXES, "榜", "支部", "小组", "项目")  # ... and it ends as a name does


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


class _Builder(Listing):
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
            norm = folded(p.text)
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
        texts = [folded(p.text) for p in passages]
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

    def sentences(self) -> Answer:
        """The best sentences of the first passages, by the question's terms and kind."""
        q = self.query
        fact = asked_fact(q.text, self.searcher.person_names) if q.kind == "fact" else None
        terms = {t: w for t, w in self.weights.items() if len(t) > 1}
        candidates = []
        hits = self.result.hits[: (5 if fact else FROM_HITS)]
        if q.kind in LISTING or q.kind == "yesno":  # a list (or the sentence a yes hangs on) may sit lower
            shown = {h.passage_id for h in hits}
            extra = self._passages(LIST_POOL)
            hits = hits + [
                self.searcher.hit(p, len(hits) + i + 1, 0.0, q.terms)
                for i, p in enumerate(x for x in extra if x.passage_id not in shown)
            ]
        for hit in hits:
            norm = folded(hit.text)
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
                if (
                    not row
                    and not stated
                    and (is_heading(sentence, hit.section_path) or ANNOUNCING_RE.search(sentence))
                ):
                    continue  # a line stating the asked fact (“（2022年10月16日）”) is kept
                read = normalize(row).lower() if row else norm[s:e]
                overlap = sum(w for t, w in terms.items() if t in read)
                if fact is not None:
                    # the title says what a bare date line (“（2022年10月16日）”) is the date of
                    titled = folded(hit.title)
                    overlap += TITLE_SHARE * sum(w for t, w in terms.items() if t in titled and t not in read)
                    if overlap:  # (a person's name is looked for by a tagger: only where it may count)
                        overlap *= FACT_BONUS if fact.present(row or sentence) else 1 / FACT_BONUS
                if q.kind in LISTING and lists(sentence):
                    overlap *= LIST_BONUS
                if q.kind == "plan" and PLAN_RE.search(sentence):
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

    def _completed(self, piece: Piece) -> Piece:
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
