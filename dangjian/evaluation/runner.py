"""Run a question set against a knowledge base and measure where the gold passages rank.

A question's gold is a list of locators ``{"doc": <part of the title>, "phrase": <verbatim key
phrase>}``: every passage of a matching document whose text contains the phrase is gold. Labels
therefore survive re-chunking. Questions without gold are expected to be declined.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..text import normalize

_WS = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _WS.sub("", normalize(text)).lower()


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (``VmHWM``; unlike ``ru_maxrss`` it starts
    afresh at exec, so a child started by a large parent measures only itself)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise OSError("VmHWM not found in /proc/self/status")


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


@dataclass
class QuestionResult:
    id: str
    question: str
    answerable: bool
    rank: int | None  # 1-based rank of the first gold passage in the returned hits
    abstained: bool
    took_ms: float
    gold_ids: list[str] = field(default_factory=list)
    top: list[str] = field(default_factory=list)  # citations of the first hits, for reading misses
    signals: dict[str, float] = field(default_factory=dict)


def _gold_ids(searcher, locators: list[dict[str, str]]) -> list[str]:
    ids = []
    for loc in locators:
        doc_part, phrase = _squash(loc["doc"]), _squash(loc["phrase"])
        for p in searcher.passages:
            if doc_part in _squash(p.title) and phrase in _squash(p.text):
                ids.append(p.passage_id)
    return ids


def evaluate(kb, questions: list[dict[str, Any]], *, k: int = 10) -> list[QuestionResult]:
    searcher = kb.searcher()
    results = []
    for q in questions:
        gold = _gold_ids(searcher, q.get("gold", []))
        if q.get("gold") and not gold:
            raise ValueError(f"{q['id']}: no passage matches its gold locator {q['gold']}")
        res = searcher.search(q["question"], k=k)
        ids = [h.passage_id for h in res.hits]
        rank = next((i + 1 for i, pid in enumerate(ids) if pid in gold), None)
        results.append(
            QuestionResult(
                id=q["id"],
                question=q["question"],
                answerable=bool(q.get("gold")),
                rank=rank,
                abstained=res.abstained,
                took_ms=res.took_ms,
                gold_ids=gold,
                top=[h.citation for h in res.hits[:3]],
                signals=res.signals,
            )
        )
    return results


def summarize(results: list[QuestionResult]) -> dict[str, float]:
    answerable = [r for r in results if r.answerable]
    declinable = [r for r in results if not r.answerable]
    out: dict[str, float] = {}
    if answerable:
        for cut in (1, 3, 5, 10):
            out[f"hit@{cut}"] = round(sum(1 for r in answerable if r.rank and r.rank <= cut) / len(answerable), 4)
        out["mrr@10"] = round(sum(1 / r.rank for r in answerable if r.rank and r.rank <= 10) / len(answerable), 4)
        out["answerable_declined"] = round(sum(r.abstained for r in answerable) / len(answerable), 4)
    if declinable:
        out["declined"] = round(sum(r.abstained for r in declinable) / len(declinable), 4)
    latencies = sorted(r.took_ms for r in results)
    if latencies:
        out["p50_ms"] = round(statistics.median(latencies), 2)
        out["p95_ms"] = round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2)
    out["questions"] = len(results)
    return out
