"""Reading a Milvus store's generation: its documents and passages (``MilvusVersion``), BM25 and
dense candidates for ``Searcher`` (``MilvusRetrieval``).

BM25 uses corpus-wide statistics: the question's sparse vector carries each known term's idf
(from the ``terms`` collection) under its hashed id, so Milvus's inner product over the passages'
term-frequency weights ranks by BM25; the candidates are then scored exactly as the local index
(bm25s, Lucene variant) scores them, with the current average passage length.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import numpy as np

from ..index.lexical import idf, tf_part
from ..ingest.names import merge_names
from ..schema import Document, Passage, Section
from .milvus_bm25 import clean_token, generation_name, quote_list, term_id

LEXICAL_EXTRA = 20  # candidates fetched beyond k, to be scored exactly


class MilvusVersion:
    """One generation of a Milvus store, as a reader sees it (the local ``IndexVersion``'s API)."""

    def __init__(self, store, manifest: dict[str, Any]):
        self.store = store  # a ``milvus.MilvusStore``
        self.manifest = manifest
        self.generation: int = manifest["generation"]
        self.name = generation_name(self.generation)
        self.home = f"{store.uri}（前缀 {store.prefix}）"

    @cached_property
    def _infos(self) -> list[dict[str, Any]]:
        return self.store.document_infos(self.generation)

    def iter_document_info(self) -> Iterator[dict[str, Any]]:
        return iter(self._infos)

    def document(self, info: dict[str, Any]) -> tuple[Document, list[Section]]:
        return self.store.document_body(info["doc_id"], self.generation)

    def iter_documents(self) -> Iterator[tuple[Document, list[Section]]]:
        for info in self._infos:
            yield self.document(info)

    def iter_passages(self) -> Iterator[Passage]:
        for row in self.store.iter_passage_rows(self.generation, ["data"]):
            yield Passage.from_dict(json.loads(row["data"]))

    def names(self) -> list[str]:
        return merge_names(*(info.get("names", []) for info in self._infos))

    def retrieval(self) -> MilvusRetrieval:
        return MilvusRetrieval(self)


class MilvusRetrieval:
    """BM25 and dense candidates from Milvus for ``Searcher`` (see ``index.retrieval``)."""

    MAX_CACHED = 50_000

    def __init__(self, version: MilvusVersion):
        self.version = version
        self.store = version.store
        self.name = version.name
        self.manifest = version.manifest
        self.home = version.home
        self.docs = {info["doc_id"]: info for info in version.iter_document_info()}
        self.doc_ids = list(self.docs)
        self.passage_counts = {d: int(info.get("passages", 0)) for d, info in self.docs.items()}
        self.names = version.names()
        self.n = int(self.manifest["counts"]["passages"])
        self._passages: dict[int, Passage] = {}
        self._weights: dict[str, float] = {}

    def passage(self, row: int) -> Passage:
        p = self._passages.get(row)
        if p is None:
            rows = self.store.call(
                self.store.client.get, self.store.name("passages"), ids=[row], output_fields=["data"]
            )
            p = self._remember(row, rows[0]["data"])
        return p

    def doc_rows(self, doc_id: str) -> list[int]:
        expr = f"doc_id == {json.dumps(doc_id)} and gen <= {self.version.generation}"
        found = [
            (self._remember(int(row["row"]), row["data"]).start, int(row["row"]))
            for row in self.store.query_all("passages", expr, ["row", "data"])
        ]
        return [row for _, row in sorted(found)]

    def _remember(self, row: int, data: str) -> Passage:
        if len(self._passages) > self.MAX_CACHED:
            self._passages.clear()
        p = self._passages[row] = Passage.from_dict(json.loads(data))
        return p

    def _filter(self, allowed: np.ndarray | None) -> str | None:
        """The filter expression for the allowed documents ("" for all; None for none).

        Rows of a newer generation (a write in progress) are dropped from the results instead of
        filtered in Milvus: a filter makes milvus-lite's sparse search many times slower.
        """
        if allowed is None:
            return ""
        ok = [d for d, keep in zip(self.doc_ids, allowed.tolist()) if keep]
        if not ok:
            return None
        if len(ok) == len(self.doc_ids):
            return ""
        if len(ok) <= len(self.doc_ids) - len(ok):
            return f"doc_id in {quote_list(ok)}"
        return f"doc_id not in {quote_list(d for d, keep in zip(self.doc_ids, allowed.tolist()) if not keep)}"

    def _search(self, data, field: str, k: int, allowed, fields: list[str]) -> list[dict[str, Any]]:
        expr = self._filter(allowed)
        if expr is None or k <= 0 or self.n == 0:
            return []
        result = self.store.call(
            self.store.client.search,
            self.store.name("passages"),
            data=[data],
            anns_field=field,
            limit=min(k, 16384),
            filter=expr,
            output_fields=["data", "gen", *fields],
            search_params={"metric_type": "IP"},
        )
        hits = []
        for hit in result[0]:
            if hit["entity"]["gen"] <= self.version.generation:
                row = int(hit["row"] if "row" in hit else hit["id"])
                self._remember(row, hit["entity"]["data"])
                hits.append({**hit["entity"], "row": row, "distance": float(hit["distance"])})
        return hits

    def lexical_search(self, tokens: list[str], k: int, allowed: np.ndarray | None):
        """BM25 candidates by inner product of sparse vectors, then scored exactly as bm25s does."""
        weights, _ = self.term_weights(tokens)
        terms = [clean_token(t) for t in tokens if weights.get(t)]
        query: dict[int, float] = {}
        for t in tokens:
            if weights.get(t):
                tid = term_id(clean_token(t))
                query[tid] = query.get(tid, 0.0) + weights[t]
        hits = self._search(query, "sparse", k + LEXICAL_EXTRA, allowed, ["tokens"]) if query else []
        idf_of = {clean_token(t): w for t, w in weights.items()}
        avgdl = max(self.manifest.get("tokens_total", 0) / max(self.n, 1), 1.0)
        scored = []
        for hit in hits:
            counts = Counter(hit["tokens"].split())
            dl = max(sum(counts.values()), 1)
            score = sum(idf_of[t] * tf_part(counts[t], dl, avgdl) for t in terms if counts[t])
            if score > 0:
                scored.append((-score, hit["row"]))
        scored.sort()
        scored = scored[:k]
        return (
            np.asarray([row for _, row in scored], dtype=np.int64),
            np.asarray([-score for score, _ in scored], dtype=np.float32),
        )

    def dense_search(self, query: np.ndarray, k: int, allowed: np.ndarray | None):
        vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        hits = self._search(vector, "dense", k, allowed, [])
        return (
            np.asarray([h["row"] for h in hits], dtype=np.int64),
            np.asarray([h["distance"] for h in hits], dtype=np.float32),
        )

    def dense_search_many(self, queries: np.ndarray, k: int, allowed: list[np.ndarray | None]):
        return None  # one request each, from the callers' own threads

    def term_weights(self, tokens: list[str]) -> tuple[dict[str, float], float]:
        cleaned = {t: clean_token(t) for t in set(tokens)}
        missing = sorted({c for c in cleaned.values() if c and c not in self._weights})
        if missing:
            df = self.store.document_frequencies(missing)
            if len(self._weights) > self.MAX_CACHED:
                self._weights.clear()
            for term in missing:
                self._weights[term] = float(idf(self.n, df[term])) if term in df else 0.0
        max_idf = float(idf(self.n, 0)) if self.n else 1.0  # as the local index: an unused word weighs most
        return {t: self._weights.get(c, 0.0) if c else 0.0 for t, c in cleaned.items()}, max_idf
