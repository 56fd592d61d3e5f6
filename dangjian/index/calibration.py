"""Confidence that the corpus answers a question, and the abstention threshold calibrated on an
index: the best dense similarity, plus a little for how much of the question's term weight the
best BM25 passage matches and how much of it the corpus knows at all.

A question whose best BM25 passage matches ``LEXICAL_GUARD`` of its term weight is never
declined. Weights and guard measured on the development, off-topic and CMRC questions (see
bench/RESULTS.md and evals/tuning_log.md).
"""

from __future__ import annotations

import numpy as np

from ..text import Tokenizer, data_lines
from .embedders import Embedder
from .retrieval import Retrieval

CONF_LEXICAL = 0.1
CONF_VOCAB = 0.05
LEXICAL_GUARD = 0.35
# Off-topic questions almost never make the two retrievers agree (``Searcher._on_topic``).
AGREEMENT_MATCH = 0.15
AGREEMENT_DEPTH = 5


def evidence(
    dense_scores: np.ndarray, lexical_scores: np.ndarray, tokens: list[str], retrieval: Retrieval
) -> tuple[float, float]:
    """(confidence, lexical match) of a question from its best dense and BM25 scores."""
    top_dense = float(dense_scores[0]) if len(dense_scores) else 0.0
    if not tokens or retrieval.n == 0:
        return top_dense, 0.0
    weights, max_idf = retrieval.term_weights(tokens)
    total = sum(w or max_idf for w in weights.values())  # a word the corpus never uses weighs most
    known = sum(weights.values()) / total
    match = float(lexical_scores[0]) / total if len(lexical_scores) else 0.0
    return top_dense + CONF_LEXICAL * match + CONF_VOCAB * known, match


def calibrate_abstention(retrieval: Retrieval, tokenizer: Tokenizer, embedder: Embedder) -> dict:
    """The highest confidence that off-topic probe questions reach on this index is the threshold.

    Probes the corpus answers word for word (a general corpus may well say how many planets
    there are) are left out. Measured on the domain evaluation (evals/tuning_log.md): the
    highest probe declines 92.5 % of the held-out off-topic questions with 1.9 % of answerable
    ones declined; the second-highest let 12.5 % of off-topic questions through. Questions that
    are plainly about the corpus are never declined (see ``Searcher.search``).
    """
    scores = []
    for probe in probe_questions():
        tokens = tokenizer.tokenize(probe)
        _, lex = retrieval.lexical_search(tokens, 1, None)
        _, den = retrieval.dense_search(embedder.embed_query(probe), 1, None)
        conf, match = evidence(den, lex, tokens, retrieval)
        if match < LEXICAL_GUARD:  # a probe the corpus answers word for word is not off-topic for it
            scores.append(conf)
    scores.sort()
    return {
        "threshold": round(scores[-1] if scores else 0.0, 5),
        "lexical_guard": LEXICAL_GUARD,
        "probes": len(scores),
        "probe_mean": round(float(np.mean(scores)), 5) if scores else 0.0,
    }


def probe_questions() -> list[str]:
    return data_lines("abstain_probes.txt")
