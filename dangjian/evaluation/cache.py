"""A passage-vector cache for evaluation runs.

Evaluation builds several indexes over the same texts (our chunking, the peer pipeline's, a
tuning variant); embedding is the slow part (about 2,000 characters per second here), so passage
vectors are kept in one SQLite file keyed by the embedder's identity and the exact text. Query
vectors are never cached: query latency is part of what is measured.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..index.embedders import Embedder

_BATCH = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)
_SAVE_EVERY = 256


class CachedEmbedder:
    """Wraps an embedder; same identity, so indexes built through it open with the plain one."""

    def __init__(self, inner: Embedder, path: str | Path):
        self.inner = inner
        self.name = inner.name
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._namespace = json.dumps(inner.identity(), sort_keys=True)

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self._namespace}\0{text}".encode()).hexdigest()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), _BATCH):
            chunk = keys[i : i + _BATCH]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        text_of = dict(zip(keys, texts))
        for i in range(0, len(missing), _SAVE_EVERY):  # saved as it goes: an interrupted run keeps its work
            batch = missing[i : i + _SAVE_EVERY]
            vectors = self.inner.embed_passages([text_of[k] for k in batch])
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, v.astype(np.float32).tobytes()) for k, v in zip(batch, vectors)],
            )
            self._db.commit()
            found.update(zip(batch, vectors))
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Seed the cache with vectors computed elsewhere by the same embedder."""
        rows = [(self._key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors, strict=True)]
        self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        self._db.commit()

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()
