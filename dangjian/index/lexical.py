"""Lexical index: BM25 (bm25s) over the project's jieba tokens, built once and saved as files.

Tokens are kept per passage as ids into one vocabulary (``TokenTable``), so a new index version
reuses the tokens of unchanged passages instead of tokenising them again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)

K1 = 1.2
B = 0.75


def idf(n: int, df):
    """BM25's idf (the Lucene variant bm25s scores with) of ``df`` passages out of ``n``; ``df``
    may be one count or an array."""
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def tf_part(tf: int, dl: int, avgdl: float) -> float:
    """BM25's term-frequency part for ``tf`` occurrences in a passage of ``dl`` tokens."""
    return tf / (tf + K1 * (1.0 - B + B * dl / avgdl))


class TokenTable:
    """Token ids of each passage (one ``int32`` array per row) against a shared vocabulary.

    Id 0 is the empty token: a passage without tokens gets ``[0]`` so every row stays aligned.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {"": 0}
        self.rows: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, tokens: list[str]) -> None:
        vocab = self.vocab
        ids = [vocab.setdefault(t, len(vocab)) for t in tokens]
        self.rows.append(np.asarray(ids or [0], dtype=np.int32))

    def extend_from(self, folder: Path, rows: list[int], retokenize: dict[int, list[str]]) -> None:
        """Append ``rows`` of a saved table, replacing those in ``retokenize`` with new tokens."""
        old_vocab = json.loads((folder / "token_vocab.json").read_text(encoding="utf-8"))
        ids = np.load(folder / "token_ids.npy", mmap_mode="r")
        offsets = np.load(folder / "token_offsets.npy")
        remap = np.full(len(old_vocab), -1, dtype=np.int64)
        for row in rows:
            if row in retokenize:
                self.add(retokenize[row])
                continue
            old = np.asarray(ids[offsets[row] : offsets[row + 1]])
            missing = np.unique(old[remap[old] < 0])
            for tid in missing.tolist():
                remap[tid] = self.vocab.setdefault(old_vocab[tid], len(self.vocab))
            self.rows.append(remap[old].astype(np.int32))

    def tokens(self, row: int) -> list[str]:
        inverse = getattr(self, "_inverse", None)
        if inverse is None or len(inverse) != len(self.vocab):
            inverse = self._inverse = sorted(self.vocab, key=self.vocab.__getitem__)
        return [inverse[i] for i in self.rows[row].tolist() if i]

    def save(self, folder: Path) -> None:
        lengths = np.array([len(r) for r in self.rows], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        np.save(folder / "token_ids.npy", np.concatenate(self.rows) if self.rows else np.empty(0, np.int32))
        np.save(folder / "token_offsets.npy", offsets)
        vocab_list = sorted(self.vocab, key=self.vocab.__getitem__)
        (folder / "token_vocab.json").write_text(json.dumps(vocab_list, ensure_ascii=False), encoding="utf-8")


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, n: int):
        self.retriever = retriever
        self.n = n
        self.vocab: dict[str, int] = retriever.vocab_dict or {}
        indptr = retriever.scores["indptr"]
        df = np.diff(indptr).astype(np.float64)  # documents per term (csc columns)
        self.idf = idf(n, df) if n else df
        self.max_idf = float(self.idf.max()) if n and len(self.idf) else 1.0

    @classmethod
    def build(cls, table: TokenTable) -> LexicalIndex:
        retriever = bm25s.BM25(k1=K1, b=B)
        rows = table.rows or [np.zeros(1, dtype=np.int32)]
        retriever.index((rows, dict(table.vocab)), create_empty_token=False, show_progress=False)
        return cls(retriever, len(table))

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory), show_progress=False)
        (directory / "count.txt").write_text(str(self.n), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = False) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False)
        n = int((directory / "count.txt").read_text(encoding="utf-8"))
        return cls(retriever, n)

    def known(self, tokens: list[str]) -> list[str]:
        return [t for t in tokens if t in self.vocab and t]

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
