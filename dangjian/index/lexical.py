"""Lexical index: BM25 (bm25s) over the project's jieba tokens, built once and saved as files."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)

K1 = 1.2
B = 0.75


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, n: int):
        self.retriever = retriever
        self.n = n
        self.vocab: dict[str, int] = retriever.vocab_dict or {}
        indptr = retriever.scores["indptr"]
        df = np.diff(indptr).astype(np.float64)  # documents per term (csc columns)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)) if n else df

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> LexicalIndex:
        retriever = bm25s.BM25(k1=K1, b=B)
        # An empty passage still needs a row so ids stay aligned with passages.jsonl.
        retriever.index([tokens or [""] for tokens in token_lists] or [[""]], show_progress=False)
        return cls(retriever, len(token_lists))

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory), show_progress=False)
        (directory / "count.txt").write_text(str(self.n), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = False) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False)
        n = int((directory / "count.txt").read_text(encoding="utf-8"))
        return cls(retriever, n)

    def known(self, tokens: list[str]) -> list[str]:
        return [t for t in tokens if t in self.vocab]

    def term_idf(self, token: str) -> float:
        tid = self.vocab.get(token)
        return float(self.idf[tid]) if tid is not None else 0.0

    def scores(self, tokens: list[str]) -> np.ndarray:
        tokens = self.known(tokens)
        if not tokens or self.n == 0:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)[: self.n]

    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and BM25 scores of the best ``k`` rows with a positive score."""
        scores = self.scores(tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, int(np.count_nonzero(scores > 0)))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top]
