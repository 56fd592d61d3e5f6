"""Extractive answers: the best sentences of the top passages, verbatim, each with its citation.

No language model is involved: every sentence of an answer is a quote, ``quote ==
document.text[start:end]``, and carries a marker ``[n]`` pointing to its citation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from .citations import highlight_spans
from .ingest.chunking import sentence_spans
from .schema import Answer, Citation, Hit, SearchResult
from .text import normalize

log = logging.getLogger("dangjian.answer")

NOT_FOUND = "未在知识库中找到与问题相关的内容。"


def not_stated(missing: str) -> str:
    """What the user is told when the passages about a question do not give what it asks."""
    return f"知识库中有相关内容，但没有写明问题所问的{missing}。以下是相关段落，供核对。"


MAX_SENTENCES = 3
MAX_ANSWER_CHARS = 400
FROM_HITS = 3


def extractive_answer(result: SearchResult) -> Answer:
    """The best sentences of the first hits for ``result``'s question (analysed by the search)."""
    if result.missing:
        return Answer(
            result.query, not_stated(result.missing), [], result.related, True, result.took_ms, result.missing
        )
    if result.abstained or not result.hits:
        return Answer(result.query, NOT_FOUND, [], [], True, result.took_ms)
    terms = {t for t in result.analysed.tokens if len(t) > 1}
    highlights = result.analysed.terms
    candidates = []  # (score, hit rank, start in passage, end, hit)
    for hit in result.hits[:FROM_HITS]:
        norm = normalize(hit.text).lower()
        for s, e in sentence_spans(hit.text):
            overlap = sum(len(t) for t in terms if t in norm[s:e])
            if overlap or (hit.rank == 1 and not candidates):
                candidates.append((overlap / (hit.rank + 1), hit.rank, s, e, hit))
    if not candidates:
        hit = result.hits[0]
        s, e = sentence_spans(hit.text)[0]
        candidates.append((0.0, 1, s, e, hit))
    chosen, length = [], 0
    for cand in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        size = cand[3] - cand[2]
        if chosen and (len(chosen) >= MAX_SENTENCES or length + size > MAX_ANSWER_CHARS):
            continue
        chosen.append(cand)
        length += size
    chosen.sort(key=lambda c: (c[1], c[2]))  # reading order: by passage rank, then position
    citations, pieces = [], []
    for marker, (_score, _rank, s, e, hit) in enumerate(chosen, start=1):
        citations.append(_citation(marker, hit, s, e, highlights))
        pieces.append(f"{hit.text[s:e]}[{marker}]")
    return Answer(result.query, "".join(pieces), citations, result.hits, False, result.took_ms)


def _citation(marker: int, hit: Hit, s: int = 0, e: int | None = None, terms: list[str] = ()) -> Citation:
    """``hit.text[s:e]`` (the whole passage by default) as the citation numbered ``marker``,
    with ``terms`` highlighted."""
    e = len(hit.text) if e is None else e
    return Citation(
        marker=marker,
        passage_id=hit.passage_id,
        doc_id=hit.doc_id,
        title=hit.title,
        section_path=hit.section_path,
        quote=hit.text[s:e],
        start=hit.start + s,
        end=hit.start + e,
        page=hit.page,
        citation=hit.citation,
        score=round(hit.score, 6),
        highlights=highlight_spans(hit.text[s:e], list(terms)),
    )


def generated_answer(extractive: Answer, model, terms: list[str] = ()) -> Answer:
    """A language model's answer over the passages of ``extractive``, each sentence checked
    against the passages it cites; on an error or timeout, ``extractive`` saying why."""
    from .llm import ANSWER_PROMPT, generate, materials

    if extractive.abstained or not extractive.hits:
        return extractive
    started = time.perf_counter()
    hits = {h.rank: h for h in extractive.hits}
    prompt = materials({n: (h.citation, h.text) for n, h in hits.items()}) + f"\n\n问题：{extractive.question}"
    try:
        out = generate(model, ANSWER_PROMPT, prompt, {n: h.text for n, h in hits.items()})
    except Exception as exc:  # noqa: BLE001 - any failure of the model falls back, saying why
        reason = "超时" if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower() else "出错"
        log.warning("language model failed (%s): %s", type(exc).__name__, exc)
        return replace(extractive, fallback=f"大模型{reason}，未能生成回答；以下是从原文摘录的答案。")
    used = sorted({n for s in out.sentences for n in s.markers if n in hits})
    citations = [_citation(n, hits[n], terms=terms) for n in used]
    took = extractive.took_ms + round((time.perf_counter() - started) * 1000, 2)
    return replace(
        extractive, answer=out.text, citations=citations, generated=True, sentences=out.sentences, took_ms=took
    )
