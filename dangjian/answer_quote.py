"""Quoted spans of documents and their citations, for the extractive answer.

Every piece an answer quotes is ``text[start:end]`` of a document (or of a passage, whose offset
in its document is known), cited with the passage it lies in. ``Quoting`` is what the answer
builder starts from: the question, its ranked passages and their term weights, and the pieces
made from hits, passages and document spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .citations import format_citation, highlight_spans
from .index.query import document_years
from .outline import Outline
from .schema import Answer, Citation, Hit, Passage, Query, SearchResult

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Piece:
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


class Quoting:
    """A question's search result, and the cited pieces an answer is made of."""

    def __init__(self, result: SearchResult, searcher):
        self.result = result
        self.searcher = searcher
        self.query: Query = result.analysed
        self.rows = result.pool or []
        weights, max_idf = searcher.retrieval.term_weights(self.query.lexical)
        self.weights = {t: w or max_idf for t, w in weights.items()}
        self._read_rows: dict[int, Passage] = {}

    def _passages(self, n: int) -> list[Passage]:
        """The first ``n`` passages of the ranked pool (each read once per question)."""
        return [self._read(row) for row in self.rows[:n]]

    def _read(self, row: int) -> Passage:
        if row not in self._read_rows:
            self._read_rows[row] = self.searcher.passage(row)
        return self._read_rows[row]

    def _of_the_year(self, p: Passage) -> bool:
        """Whether a passage's document is of the year the question names, if it names one (the
        year it gives a document, if any: “2024年政府工作报告里说2023年…” → 2024)."""
        years = document_years(self.query.norm) or self.query.years
        return not years or any(str(y) in p.title for y in years) or self.searcher.docs[p.doc_id].get("year") in years

    def _from_hit(self, hit: Hit, s: int, e: int, score: float) -> Piece:
        return Piece(
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

    def _from_passage(self, p: Passage, s: int, e: int, score: float) -> Piece:
        return Piece(
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

    def _from_document(self, found: Outline, start: int, end: int, section) -> Piece:
        """A span of an outline's document, cited with the passage it lies in."""
        doc = found.doc
        passage = self._passage_at(doc.doc_id, start)
        return Piece(
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
        """The passage of ``doc_id`` holding ``offset`` (a document's passages are in order)."""
        rows = self.searcher.retrieval.doc_rows(doc_id)
        lo, hi = 0, len(rows)
        while lo < hi:  # the first passage ending after ``offset``
            mid = (lo + hi) // 2
            if self._read(rows[mid]).end <= offset:
                lo = mid + 1
            else:
                hi = mid
        found = self._read(rows[lo]) if lo < len(rows) else None
        return found if found is not None and found.start <= offset else None

    def _answer(self, pieces: list[Piece], *, lead: str = "", layout: str = "text") -> Answer:
        citations, lines = [], []
        for marker, piece in enumerate(pieces, start=1):
            citations.append(cite(marker, piece, self.query.terms))
            lines.append(f"{piece.line or piece.text[piece.start : piece.end]}[{marker}]")
        body = "\n".join(lines) if layout == "list" else "".join(lines)
        text = f"{lead}\n{body}" if lead and layout == "list" else lead + body
        return Answer(self.result.query, text, citations, self.result.hits, False, self.result.took_ms, layout=layout)


def section_at(sections, offset: int):
    """The deepest section holding ``offset``."""
    inside = [s for s in sections if s.start <= offset < s.end] or sections[:1]
    return max(inside, key=lambda s: s.depth)


def sentence_end(text: str, start: int, limit: int) -> int:
    """The end of the sentence opening at ``start``: its full stop, else its line's end, at most
    ``limit`` characters on."""
    stop = min(len(text), start + limit)
    for i in range(start, stop):
        if text[i] in "。；！？":
            return i + 1
        if text[i] == "\n":
            return i
    return stop


def lines_after(text: str, offset: int):
    """``(start, end)`` of the lines with Chinese text after ``offset`` (the end of a line)."""
    at = offset
    while at < len(text):
        end = text.find("\n", at + 1)
        end = len(text) if end < 0 else end
        if _CJK_RE.search(text, at, end):  # a line without Chinese is a translation beside it
            yield at + (1 if text[at] == "\n" else 0), end
        at = end


def cite(marker: int, piece: Piece, terms: list[str]) -> Citation:
    """The citation numbered ``marker`` of a quoted piece."""
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
    piece = Piece(
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
    return replace(cite(marker, piece, list(terms)), citation=hit.citation)
