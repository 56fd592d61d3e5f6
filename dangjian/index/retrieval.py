"""What search reads from a store: document records, passages, and BM25 and dense candidates.

``Searcher`` ranks; a retrieval only fetches. ``LocalRetrieval`` reads one local index version
(FAISS + bm25s + JSONL files, all in this process); ``dangjian.stores.milvus.MilvusRetrieval``
asks a Milvus server for the same things. Both give each passage an integer ``row`` that is
stable while the retrieval is open, and take filters as a boolean array over ``doc_ids``.
"""

from __future__ import annotations

import json
import mmap
from typing import Any, Protocol

import numpy as np

from ..errors import IndexCorruptError
from ..schema import Passage
from .dense import DenseIndex
from .layout import DENSE, LEXICAL, PASSAGE_DOCS, PASSAGE_OFFSETS, PASSAGES, VECTORS, IndexVersion, line_offsets
from .lexical import LexicalIndex

LEXICAL_MMAP_FROM = 500_000  # passages from which BM25 is read from its files, not loaded


class Retrieval(Protocol):
    name: str  # the version (local) or generation (Milvus) being read
    manifest: dict[str, Any]
    home: str  # where the index lives, for messages
    docs: dict[str, dict[str, Any]]  # doc_id -> the small record of ``store.document_info``
    doc_ids: list[str]
    passage_counts: dict[str, int]
    names: list[str]  # the corpus's names, for the tokenizer's dictionary
    n: int  # passages

    def passage(self, row: int) -> Passage: ...

    def doc_rows(self, doc_id: str) -> list[int]:
        """The rows of one document's passages, in document order."""
        ...

    def lexical_search(
        self, tokens: list[str], k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def dense_search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]: ...

    def dense_search_many(
        self, queries: np.ndarray, k: int, allowed: list[np.ndarray | None]
    ) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """``dense_search`` for each row of ``queries`` at once, or None: search one by one."""
        ...

    def term_weights(self, tokens: list[str]) -> tuple[dict[str, float], float]:
        """BM25 idf of each token (0 for a word the corpus never uses) and the largest idf."""
        ...


class LocalIndexes:
    """FAISS and BM25 over the same rows: what ranking needs of a local index."""

    def __init__(self, dense: DenseIndex, lexical: LexicalIndex, passage_doc: np.ndarray | None = None):
        self.dense = dense
        self.lexical = lexical
        self.n = lexical.n
        self._passage_doc = passage_doc  # row -> position in doc_ids, for filters

    def _rows(self, allowed: np.ndarray | None) -> np.ndarray | None:
        return None if allowed is None else allowed[self._passage_doc]

    def lexical_search(self, tokens, k, allowed):
        return self.lexical.search(tokens, k, self._rows(allowed))

    def dense_search(self, query, k, allowed):
        return self.dense.search(query, k, self._rows(allowed))

    def dense_search_many(self, queries, k, allowed):
        return self.dense.search_many(queries, k, [self._rows(a) for a in allowed])

    def term_weights(self, tokens: list[str]) -> tuple[dict[str, float], float]:
        return {t: self.lexical.term_idf(t) for t in set(tokens)}, self.lexical.max_idf


class LocalRetrieval(LocalIndexes):
    """One local index version opened in this process: document records and the dense index in
    memory; passages read from ``passages.jsonl`` (memory-mapped) when ranking needs them; the
    BM25 index memory-mapped too from ``LEXICAL_MMAP_FROM`` passages."""

    def __init__(self, version: IndexVersion):
        self.version = version
        self.name = version.name
        self.manifest = version.manifest
        self.home = str(version.home)
        self.docs: dict[str, dict[str, Any]] = {doc["doc_id"]: doc for doc in version.iter_document_info()}
        self.doc_ids = list(self.docs)
        self.names = version.names()
        path = version.path
        try:
            if (path / PASSAGE_OFFSETS).exists():
                self._offsets = np.load(path / PASSAGE_OFFSETS)
                passage_doc = np.load(path / PASSAGE_DOCS)
            else:  # written before these files existed: find the same once, here
                self._offsets = line_offsets(path / PASSAGES)
                doc_index = {d: i for i, d in enumerate(self.doc_ids)}
                passage_doc = np.array([doc_index[p.doc_id] for p in version.iter_passages()], dtype=np.int32)
            with open(path / PASSAGES, "rb") as fh:
                self._lines = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if self._offsets[-1] else b""
            n = len(passage_doc)
            dense = DenseIndex.load(self.manifest["dense"]["kind"], path / VECTORS, path / DENSE)
            lexical = LexicalIndex.load(path / LEXICAL, mmap=n >= LEXICAL_MMAP_FROM)
        except (OSError, KeyError, ValueError) as exc:
            raise IndexCorruptError(
                f"索引 {path} 的向量或词项文件无法读取（{exc}）；请运行 dangjian reindex 重建"
            ) from None
        if (
            dense.n != n
            or lexical.n != n
            or len(self._offsets) != n + 1
            or (n and passage_doc.max() >= len(self.doc_ids))
        ):
            raise IndexCorruptError(f"索引 {path} 的文件条数不一致；请运行 dangjian reindex 重建")
        super().__init__(dense, lexical, passage_doc)
        self._doc_position = {d: i for i, d in enumerate(self.doc_ids)}
        counts = np.bincount(passage_doc, minlength=len(self.doc_ids)).tolist()
        self.passage_counts: dict[str, int] = dict(zip(self.doc_ids, counts))

    def passage(self, row: int) -> Passage:
        line = self._lines[int(self._offsets[row]) : int(self._offsets[row + 1])]
        return Passage.from_dict(json.loads(line))

    def doc_rows(self, doc_id: str) -> list[int]:
        return np.flatnonzero(self._passage_doc == self._doc_position[doc_id]).tolist()


def open_retrieval(version) -> Retrieval:
    """The retrieval of a local ``IndexVersion`` or of a Milvus store's current generation."""
    opener = getattr(version, "retrieval", None)
    return opener() if opener is not None else LocalRetrieval(version)
