"""A fake embedder for unit tests of plumbing only (never for retrieval quality).

Character-hash bag-of-words vectors: deterministic, fast, and similar texts get similar vectors.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np


class HashEmbedder:
    name = "test/hash-embedder"

    def __init__(self, dimension: int = 64):
        self.dimension = dimension

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for i in range(len(text) - 1):
            v[zlib.crc32(text[i : i + 2].encode("utf-8")) % self.dimension] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v + 1.0 / np.sqrt(self.dimension)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.empty((0, self.dimension), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.embed_query(t) for t in texts])

    def identity(self) -> dict:
        return {"name": self.name, "dimension": self.dimension, "passage_prefix": "", "query_prefix": ""}


def fake_kb(index_dir, **kwargs):
    """A KnowledgeBase with the fake embedder, for tests about ingest and index plumbing.

    Abstention is off: its calibration means nothing for hash vectors.
    """
    from dangjian.index.settings import SearchSettings
    from dangjian.kb import KnowledgeBase

    kwargs.setdefault("search_settings", SearchSettings(abstain_threshold=-1.0))
    return KnowledgeBase(index_dir, embedder=HashEmbedder(), **kwargs)
