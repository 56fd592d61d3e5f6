"""The data model: the one place these types are defined.

Offsets always point into the original ``Document.text``:
``doc.text[p.start:p.end] == p.text`` for every passage ``p`` of ``doc``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields
from typing import Any


def _shallow_dict(obj: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` without its deep copies (hot when writing 100k passages)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _with_spans(obj: Any) -> dict[str, Any]:
    """``_shallow_dict`` with ``highlights`` as JSON lists."""
    data = _shallow_dict(obj)
    data["highlights"] = [list(span) for span in obj.highlights]
    return data


@dataclass(slots=True)
class Block:
    """A paragraph-like range of ``Document.text`` as the source file laid it out.

    ``kind``: ``text`` (a paragraph), ``table`` (one table row, cells joined by `` | ``),
    ``heading`` (the file itself marked it as a heading: Word style, ``<h2>``, markdown ``##``),
    ``meta`` (front matter, document header, comments: never cut into passages).
    ``level`` is the heading level the file gave (1 = top) when ``kind == "heading"``.
    """

    start: int
    end: int
    kind: str = "text"
    level: int | None = None


@dataclass(slots=True)
class PageSpan:
    """Characters ``[start, end)`` of ``Document.text`` come from page ``page`` (1-based)."""

    start: int
    end: int
    page: int


@dataclass(slots=True)
class Document:
    doc_id: str
    title: str
    text: str
    source: str
    file_type: str
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    pages: list[PageSpan] = field(default_factory=list)
    collection: str = "default"

    def page_at(self, offset: int) -> int | None:
        """The page of the character at ``offset`` (PDFs); ``None`` for files without pages."""
        if not self.pages:
            return None
        i = bisect.bisect_right([span.start for span in self.pages], offset) - 1
        return self.pages[max(i, 0)].page

    def to_dict(self) -> dict[str, Any]:
        data = _shallow_dict(self)
        data["blocks"] = [_shallow_dict(b) for b in self.blocks]
        data["pages"] = [_shallow_dict(p) for p in self.pages]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        data = dict(data)
        data["blocks"] = [Block(**b) for b in data.get("blocks", [])]
        data["pages"] = [PageSpan(**p) for p in data.get("pages", [])]
        return cls(**data)


@dataclass(slots=True)
class Section:
    """A node of the document's section tree.

    ``start``/``end`` cover the heading and everything under it, children included.
    ``heading`` is the label as written (``（二）突出重点难点，行动再加力，着力打好“攻坚战”``,
    ``一是加强政治理论学习``, ``第三条``); ``path`` is the labels from the top level down to this
    section (the document title is not part of it). ``kind``: ``title`` (the root, one per
    document), ``heading`` (a numbered or styled heading), ``item`` (一是/二是… inside a
    paragraph).
    """

    index: int
    parent: int | None
    depth: int
    kind: str
    heading: str
    path: list[str]
    start: int
    end: int
    heading_start: int
    heading_end: int
    style: str = ""
    # What the section is for (``ingest.roles.ROLES``: 完成情况, 存在问题, 工作谋划…; ``""``: not
    # said) and the year it speaks of (a 2022 report's “2023年工作谋划” plans 2023). Sections of
    # indexes built before roles were stored load with the defaults.
    role: str = ""
    role_year: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _shallow_dict(self)


@dataclass(slots=True)
class Passage:
    passage_id: str
    doc_id: str
    title: str
    section_path: list[str]
    text: str
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None
    section_index: int = 0
    paragraph: int = 0  # 1-based number of the paragraph (block) the passage starts in
    # Recognised (OCR) text: the recogniser's confidence (0–1, the lowest of the pages the passage
    # spans); ``None`` for typed text. Citations of such passages say “识别文字”.
    ocr_confidence: float | None = None
    # The roles of its section and the sections above it, nearest first (``ingest.roles``), and
    # the year its section speaks of; empty in indexes built before roles were stored.
    roles: list[str] = field(default_factory=list)
    role_year: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = _shallow_dict(self)
        for key in ("ocr_confidence", "role_year"):  # the common case: keep old rows unchanged
            if data[key] is None:
                del data[key]
        if not data["roles"]:
            del data["roles"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(**data)


@dataclass(slots=True)
class Hit:
    """One ranked passage, with everything needed to cite it.

    ``highlights`` are ``[start, end)`` ranges inside ``text`` where query terms matched.
    ``citation`` is the formatted source: 《标题》三、… > （二）… ，第N段.
    """

    rank: int
    score: float
    passage_id: str
    doc_id: str
    title: str
    section_path: list[str]
    text: str
    start: int
    end: int
    page: int | None
    page_end: int | None
    paragraph: int
    highlights: list[tuple[int, int]]
    citation: str
    collection: str = "default"
    dense_score: float | None = None
    lexical_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _with_spans(self)


@dataclass(slots=True)
class Citation:
    """A verbatim quote an answer relies on: ``quote == document.text[start:end]``."""

    marker: int
    passage_id: str
    doc_id: str
    title: str
    section_path: list[str]
    quote: str
    start: int
    end: int
    page: int | None
    citation: str
    score: float
    highlights: list[tuple[int, int]] = field(default_factory=list)  # question terms in ``quote``

    def to_dict(self) -> dict[str, Any]:
        return _with_spans(self)


@dataclass(slots=True)
class Answer:
    question: str
    answer: str
    citations: list[Citation]
    hits: list[Hit]
    abstained: bool
    took_ms: float
    # Declined because the passages about the question do not state the fact it asks for
    # (“具体数字”); ``hits`` are then those related passages.
    missing: str | None = None
    generated: bool = False  # written by a language model (``answer`` flags unsupported sentences)
    sentences: list[Any] = field(default_factory=list)  # llm.CheckedSentence of a generated answer
    fallback: str | None = None  # why a configured model's answer was not used
    layout: str = "text"  # "list": a lead line, then one cited part per line

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "abstained": self.abstained,
            "missing": self.missing,
            "generated": self.generated,
            "sentences": [s.to_dict() for s in self.sentences],
            "fallback": self.fallback,
            "took_ms": self.took_ms,
        }


@dataclass
class Filters:
    """Which documents a search may return (each list: any of; None or empty: no limit)."""

    collections: list[str] | None = None
    doc_ids: list[str] | None = None
    types: list[str] | None = None
    years: list[int] | None = None
    roles: list[str] | None = None  # section roles (``ingest.roles.ROLES``): a passage under any of them

    def empty(self) -> bool:
        return not (self.collections or self.doc_ids or self.types or self.years or self.roles)


@dataclass
class Query:
    """A question analysed once (``index.query.analyse``): what ranking, highlights, answers and
    method-card lookup read of it.

    ``norm`` is the normalised, lower-case text; ``tokens`` the tokenizer's words of the question;
    ``lexical`` those plus the document wording of its colloquial phrases (what BM25 searches);
    ``phrases`` the method names and quoted phrases it uses; ``terms`` what is highlighted;
    ``kind`` what kind of answer it wants (``index.kinds``)."""

    text: str
    norm: str
    tokens: list[str]
    lexical: list[str]
    phrases: list[str]
    years: set[int]
    terms: list[str]
    kind: str = "general"


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    abstained: bool
    took_ms: float
    # When declined because the passages about the question do not state the fact it asks for:
    # what is missing (“具体数字”) and those passages.
    missing: str | None = None
    related: list[Hit] = field(default_factory=list)
    analysed: Query | None = None
    pool: list[int] = field(default_factory=list)  # the best rows beyond ``hits``, for the answer builder

    def to_dict(self) -> dict[str, Any]:
        out = {
            "query": self.query,
            "abstained": self.abstained,
            "took_ms": self.took_ms,
            "hits": [h.to_dict() for h in self.hits],
        }
        if self.missing:
            out["missing"] = self.missing
            out["related"] = [h.to_dict() for h in self.related]
        return out
