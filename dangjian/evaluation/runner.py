"""Run a question set through a pipeline and measure where the gold passages rank.

A question's gold is a list of locators ``{"doc": <part of the title>, "phrase": <verbatim key
phrase>}`` (``phrase`` optional: then every unit of the document is gold). A unit — our passage or
a peer pipeline's chunk — is gold when its title contains ``doc`` and its text contains ``phrase``,
both compared without whitespace, case, width or traditional/simplified differences. Labels
therefore survive re-chunking. Questions without gold are expected to be declined.

Enumeration questions list their ``items``; completeness is the share of items present in the
first ``COMPLETENESS_K`` returned texts.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..text import normalize
from .pipelines import Unit

_WS = re.compile(r"\s+")
CUTS = (1, 3, 5, 10)
COMPLETENESS_K = 5


def squash(text: str) -> str:
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
    kind: str
    answerable: bool
    rank: int | None  # 1-based rank of the first gold unit among the returned ones
    gold_ranks: list[int]
    gold_count: int
    abstained: bool
    took_ms: float
    completeness: float | None = None
    verbatim: list[bool] | None = None
    top: list[str] = field(default_factory=list)  # citations of the first hits, for reading misses
    gold: list[str] = field(default_factory=list)  # where the gold is, for reading misses

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GoldResolver:
    """Finds the units a locator points to (titles are grouped, so a set of thousands of
    questions over thousands of units resolves in seconds)."""

    def __init__(self, units: list[Unit]):
        self.by_title: dict[str, list[tuple[Unit, str]]] = defaultdict(list)
        for u in units:
            self.by_title[squash(u.title)].append((u, squash(u.text)))

    def resolve(self, locators: list[dict[str, str]]) -> list[Unit]:
        found: dict[str, Unit] = {}
        for loc in locators:
            doc_part, phrase = squash(loc["doc"]), squash(loc.get("phrase", ""))
            for title, units in self.by_title.items():
                if doc_part in title:
                    found.update((u.id, u) for u, text in units if phrase in text)
        return list(found.values())


def evaluate(pipeline, questions: list[dict[str, Any]], *, k: int = 10, slice_ok: bool = False) -> list[QuestionResult]:
    """Every question through ``pipeline``. A gold locator matching nothing is an error, unless
    ``slice_ok`` (a slice of the corpus: such questions are skipped)."""
    resolver = GoldResolver(pipeline.units())
    results = []
    for q in questions:
        gold = resolver.resolve(q.get("gold", []))
        if q.get("gold") and not gold:
            if slice_ok:
                continue
            raise ValueError(f"{q['id']}: no unit matches its gold locator {q['gold']}")
        gold_ids = {u.id for u in gold}
        got = pipeline.search(q["question"], k)
        gold_ranks = [i + 1 for i, uid in enumerate(got.ids) if uid in gold_ids]
        completeness = None
        if q.get("items"):
            seen = squash("".join(got.texts[:COMPLETENESS_K]))
            completeness = sum(squash(item) in seen for item in q["items"]) / len(q["items"])
        results.append(
            QuestionResult(
                id=q["id"],
                question=q["question"],
                kind=q.get("kind", "answerable" if gold else "declinable"),
                answerable=bool(gold),
                rank=gold_ranks[0] if gold_ranks else None,
                gold_ranks=gold_ranks,
                gold_count=len(gold_ids),
                abstained=got.abstained,
                took_ms=got.took_ms,
                completeness=completeness,
                verbatim=got.verbatim,
                top=got.citations[:3],
                gold=sorted({f"《{u.title}》" for u in gold})[:3],
            )
        )
    return results


def _ndcg(r: QuestionResult, cut: int = 10) -> float:
    dcg = sum(1 / math.log2(rank + 1) for rank in r.gold_ranks if rank <= cut)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(r.gold_count, cut)))
    return dcg / ideal if ideal else 0.0


def _share(values) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else None


def summarize(results: list[QuestionResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.answerable]
    declinable = [r for r in results if not r.answerable]
    out: dict[str, Any] = {"questions": len(results)}
    if answerable:
        for cut in CUTS:
            out[f"hit@{cut}"] = _share(bool(r.rank and r.rank <= cut) for r in answerable)
        out["mrr@10"] = _share(1 / r.rank if r.rank and r.rank <= 10 else 0 for r in answerable)
        out["ndcg@10"] = _share(_ndcg(r) for r in answerable)
        out["answerable_declined"] = _share(r.abstained for r in answerable)
        enum = [r.completeness for r in answerable if r.completeness is not None]
        if enum:
            out["completeness"] = _share(enum)
    if declinable:
        out["declined"] = _share(r.abstained for r in declinable)
        declined = [r for r in results if r.abstained]
        out["abstain_precision"] = _share(not r.answerable for r in declined) if declined else None
        out["abstain_recall"] = out["declined"]
    quotes = [v for r in results if r.verbatim is not None for v in r.verbatim]
    if quotes:
        out["verbatim"] = _share(quotes)
    latencies = sorted(r.took_ms for r in results)
    if latencies:
        out["p50_ms"] = round(statistics.median(latencies), 2)
        out["p95_ms"] = round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2)
    return out


def by_kind(results: list[QuestionResult], cut: int = 5) -> dict[str, dict[str, Any]]:
    """Count and hit@cut per kind of answerable question; count and declined share per kind of
    declinable one (off-topic, unanswerable)."""
    groups: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        groups[r.kind].append(r)
    out = {}
    for kind, rs in sorted(groups.items()):
        entry: dict[str, Any] = {"questions": len(rs)}
        if answerable := [r for r in rs if r.answerable]:
            entry[f"hit@{cut}"] = _share(bool(r.rank and r.rank <= cut) for r in answerable)
        if declinable := [r for r in rs if not r.answerable]:
            entry["declined"] = _share(r.abstained for r in declinable)
        out[kind] = entry
    return out
