"""Evaluation: question sets with gold answers located by document + key phrase, and metrics.

Sets live in ``evals/`` (JSONL); this package holds the code that runs them.
"""

from .runner import QuestionResult, evaluate, load_questions, peak_rss_mb, summarize

__all__ = ["QuestionResult", "evaluate", "load_questions", "peak_rss_mb", "summarize"]
