"""Ranking settings: plain defaults, importable without loading any index code (``config.Settings``
takes its defaults from here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SearchSettings:
    """Ranking knobs. Weights are for reciprocal-rank fusion: ``w / (rrf_k + rank)``."""

    candidates: int = 50
    rrf_k: int = 60
    weight_dense: float = 1.0
    weight_lexical: float = 1.0
    boost_weight: float = 1.0
    expand: bool = True  # colloquial → document wording for BM25 (measured: see evals/tuning_log.md)
    # Abstain when the confidence is below the index's calibrated threshold plus this margin
    # (negative: decline less). ``abstain_threshold`` replaces the calibrated one when set.
    abstain_margin: float = 0.0
    abstain_threshold: float | None = None
    # Decline a question asking for a count, date or name that no top passage states (facts.py).
    fact_check: bool = True
    lexical_decisive: bool = True  # BM25's clear winner goes first (DECISIVE_*)
    part_weight: float = 1.0  # the vote of a passage's part of its document (PART_MATCH)
    faiss_threads: int = 1  # measured: faiss's and the embedder's OpenMP threads contend
