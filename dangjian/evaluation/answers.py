"""Answer evaluation: does the answer *text* state what was asked?

Each question of ``evals/answer_questions.jsonl`` lists the ``required`` items (verbatim key
phrases) a complete answer contains; a question marked ``lacks`` asks about something the corpus
only mentions, and is answered right when the answer says so. Measured for our extractive answer
and for what a Langchain-Chatchat user reads (the peer pipeline's first three chunks):

- item recall: the share of required items the text contains (compared without whitespace,
  width, case or traditional/simplified differences), averaged over questions;
- complete: the share of questions whose text contains every item (lacks: says so);
- heading-only sentences: quoted sentences of a running-text answer that are only a section
  heading (a list answer's parts are headings by design and do not count);
- answer length in characters (median, p90), without the ``[n]`` markers;
- recall per 100 characters read: item recall divided by the median length, times 100.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..answer import LACKS_MARK
from ..ingest.patterns import TERMINAL_RE
from .runner import load_questions, squash

QUESTIONS = "answer_questions.jsonl"
PEER_CHUNKS = 3
_MARKER_RE = re.compile(r"\[\d+\]")


@dataclass
class AnswerResult:
    id: str
    question: str
    kind: str
    found: list[str]
    missing: list[str]
    recall: float
    complete: bool
    chars: int
    heading_only: int
    answer: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(question: dict[str, Any], text: str, heading_only: int = 0) -> AnswerResult:
    """How much of what ``question`` requires the answer ``text`` states."""
    plain = _MARKER_RE.sub("", text)
    body = squash(plain)
    required = question.get("required") or []
    if question.get("lacks"):
        found, missing = ([LACKS_MARK], []) if LACKS_MARK in plain else ([], [LACKS_MARK])
    else:
        found = [item for item in required if squash(item) in body]
        missing = [item for item in required if squash(item) not in body]
    total = len(found) + len(missing)
    return AnswerResult(
        id=question["id"],
        question=question["question"],
        kind=question.get("kind", ""),
        found=found,
        missing=missing,
        recall=len(found) / total if total else 1.0,
        complete=not missing,
        chars=len(plain.replace("\n", "")),
        heading_only=heading_only,
        answer=text,
    )


def heading_only_sentences(answer, document_text) -> int:
    """Quoted sentences of a running-text answer that are only a heading: one of its section
    path's headings, or a whole line of its document without a sentence's ending (a table row
    or a dateline in brackets is not a heading). ``document_text``: doc id → the document's text."""
    if answer.layout == "list":
        return 0
    count = 0
    for c in answer.citations:
        quote = c.quote.strip()
        if any(squash(quote) == squash(h) for h in c.section_path):
            count += 1
            continue
        text = document_text(c.doc_id)
        whole_line = (c.start == 0 or text[c.start - 1] == "\n") and (c.end >= len(text) or text[c.end] in "\r\n")
        dateline = quote.startswith(("（", "(")) and quote.endswith(("）", ")"))  # （2022年10月16日）
        if whole_line and " | " not in quote and not dateline and not TERMINAL_RE.search(quote):
            count += 1
    return count


def summarize(results: list[AnswerResult]) -> dict[str, Any]:
    if not results:
        return {}
    lengths = sorted(r.chars for r in results)
    recall = statistics.fmean(r.recall for r in results)
    median = statistics.median(lengths)
    return {
        "questions": len(results),
        "item_recall": round(recall, 4),
        "complete": round(sum(r.complete for r in results) / len(results), 4),
        "heading_only": sum(r.heading_only for r in results),
        "median_chars": median,
        "p90_chars": lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))],
        "recall_per_100_chars": round(100 * recall / median, 4) if median else 0.0,
    }


def evaluate_answers(kb, questions: list[dict[str, Any]], peer=None) -> dict[str, Any]:
    """Our answers (``kb.ask``) and, with a ``peer`` pipeline, its first three chunks."""
    ours, theirs = [], []
    searcher = kb.searcher()

    def document_text(doc_id: str) -> str:
        return searcher.document(doc_id)[0].text

    for q in questions:
        answer = kb.ask(q["question"], searcher=searcher)
        ours.append(score(q, answer.answer, heading_only_sentences(answer, document_text)))
        if peer is not None:
            texts = peer.search(q["question"], PEER_CHUNKS).texts
            theirs.append(score(q, "\n".join(texts[:PEER_CHUNKS])))
    out = {"ours": {"summary": summarize(ours), "results": [r.to_dict() for r in ours]}}
    if peer is not None:
        out["peer"] = {"summary": summarize(theirs), "results": [r.to_dict() for r in theirs]}
        mine, peer_rate = out["ours"]["summary"], out["peer"]["summary"]["recall_per_100_chars"]
        mine["vs_peer_per_100_chars"] = round(mine["recall_per_100_chars"] / peer_rate, 2) if peer_rate else None
    return out


def load_answer_questions(evals: Path) -> list[dict[str, Any]]:
    return load_questions(evals / QUESTIONS)
