"""Evaluation: question sets with gold answers located by document + key phrase, the pipelines
they compare (ours, BM25 only, dense only, a Langchain-Chatchat-style peer) and the report.

Sets live in ``evals/`` (JSONL); this package holds the code that runs them (``dangjian eval``).
"""

from .runner import QuestionResult, evaluate, load_questions, peak_rss_mb, summarize

__all__ = ["QuestionResult", "evaluate", "load_questions", "peak_rss_mb", "summarize"]
