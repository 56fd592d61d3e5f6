"""What a sentence of a passage is, for the answer builder: whole sentences (clauses joined by
“；” stay together), bare headings, announcing lines (“…汇报如下：”), sentences that list things,
and the clause around a name."""

from __future__ import annotations

import re
from functools import lru_cache

from .index.query import longest_enumeration
from .ingest.chunking import sentence_spans
from .ingest.patterns import TERMINAL_RE
from .text import normalize, normalize_name

PLAN_RE = re.compile(r"下一步|今后|明年|将|计划|拟|准备|打算|谋划")  # a sentence saying what will be done
ANNOUNCING_RE = re.compile(r"(?:如下|以下|汇报如下|报告如下|情况如下)\s*[：:]?\s*$|[：:]\s*$")
# After a name, words that begin describing it (“…工作法，即…”, “…机制：一是…”); a sentence that
# only names it (“荣获全省党建创新案例”) does not.
DESCRIBING_RE = re.compile(
    r"^[”」』》]?(?:[，,：:]?\s*(?:是|指|即|就是|包括|包含|主要|具体|通过|坚持|推行|实行|围绕|由|分为|以)|[：:（(])"
)


CACHED_CHARS = 2000  # texts this short (passages) keep their sentences and folded form for the next question


def full_sentences(text: str) -> tuple[tuple[int, int], ...]:
    """Sentences ending at 。！？ or a line end: clauses joined by ；stay together (a list of
    targets or tasks is one such sentence)."""
    return _full_sentences(text) if len(text) <= CACHED_CHARS else _full_sentences.__wrapped__(text)


@lru_cache(maxsize=4096)
def _full_sentences(text: str) -> tuple[tuple[int, int], ...]:
    spans, start = [], None
    pieces = sentence_spans(text)
    for i, (s, e) in enumerate(pieces):
        start = s if start is None else start
        nxt = pieces[i + 1][0] if i + 1 < len(pieces) else None
        joined = text[e - 1] in "；;" and nxt is not None and "\n" not in text[e:nxt]
        if not joined:
            spans.append((start, e))
            start = None
    return tuple(spans)


def folded(text: str) -> str:
    """``text`` normalised and lower-cased, as a question is (the same length as ``text``)."""
    return _folded(text) if len(text) <= CACHED_CHARS else normalize(text).lower()


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    return normalize(text).lower()


def lists(sentence: str) -> bool:
    """Whether a sentence lists several things: clauses after a colon, or an enumeration."""
    return sentence.count("；") >= 2 or longest_enumeration(sentence) >= 3 or bool(re.search(r"[：:].*；", sentence))


def is_heading(sentence: str, path: list[str]) -> bool:
    """A heading line standing alone: one of the passage's section headings, or short and
    without a sentence's ending."""
    sentence = normalize(sentence.strip())
    if any(sentence == normalize_name(h) for h in path):  # headings: met by every sentence under them
        return True
    return len(sentence) <= 40 and not TERMINAL_RE.search(sentence) and "，" not in sentence


def clause(text: str, s: int, e: int, at: int) -> tuple[int, int]:
    """The clause of sentence ``[s, e)`` that holds position ``at``: between its commas."""
    start = max((i + 1 for i in range(s, at) if text[i] in "，,；;"), default=s)
    end = next((i for i in range(at, e) if text[i] in "，,；;。！？"), e)
    while start < end and text[start] in "*＊ ":
        start += 1
    return start, end


def core(name: str) -> str:
    return normalize(name).lower()


def shown_name(text: str, name: str) -> str:
    """``name`` as the passage writes it (the question's form is normalised)."""
    at = normalize(text).lower().find(name)
    return text[at : at + len(name)] if at >= 0 else name
