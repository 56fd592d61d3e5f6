"""The retrieval pipelines an evaluation compares, behind one small interface.

- ``ours``: the product's hybrid search (``Searcher``) with the knowledge base's settings;
- ``bm25`` / ``dense``: the same index with only one of the two ranked lists and no boosts,
  section vote or abstention — fusion must not lose what its best part finds;
- ``peer``: built the way Langchain-Chatchat does it by default (see ``PeerPipeline``).

A pipeline exposes its retrieval units (``Unit``: id, title, text) so gold locators can be
resolved against whatever it chunked, and answers ``search(question, k)`` with a ``Retrieved``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..index.settings import SearchSettings
from ..kb import KnowledgeBase


@dataclass(frozen=True)
class Unit:
    id: str
    title: str
    text: str


@dataclass
class Retrieved:
    ids: list[str]
    texts: list[str]
    abstained: bool
    took_ms: float
    citations: list[str]
    verbatim: list[bool] | None = None  # per returned quote: equal to the original text slice


NO_ABSTAIN = -1e9


class OursPipeline:
    """Our search over a knowledge base; ``only`` keeps one ranked list (the BM25/dense baselines)."""

    def __init__(self, kb: KnowledgeBase, name: str = "ours", only: str | None = None):
        self.name = name
        self.kb = kb
        settings = kb.search_settings
        if only == "bm25":
            settings = replace(
                settings,
                weight_dense=0.0,
                boost_weight=0.0,
                part_weight=0.0,
                abstain_threshold=NO_ABSTAIN,
                fact_check=False,
                lexical_decisive=False,
            )
        elif only == "dense":
            settings = replace(
                settings,
                weight_lexical=0.0,
                boost_weight=0.0,
                part_weight=0.0,
                abstain_threshold=NO_ABSTAIN,
                fact_check=False,
                lexical_decisive=False,
            )
        self.searcher = _searcher(kb, settings)
        self._doc_text: dict[str, str] | None = None

    def units(self) -> list[Unit]:
        return [Unit(p.passage_id, p.title, p.text) for p in self.searcher.version.iter_passages()]

    def _texts(self) -> dict[str, str]:
        if self._doc_text is None:
            self._doc_text = {doc.doc_id: doc.text for doc, _ in self.searcher.version.iter_documents()}
        return self._doc_text

    def search(self, question: str, k: int) -> Retrieved:
        from ..answer import extractive_answer

        res = self.searcher.search(question, k=k)
        answer = extractive_answer(res, self.searcher)
        docs = self._texts()
        # A question declined because no passage states the fact it asks for still shows the
        # related passages (counted as declined all the same): they are what the user reads.
        shown = res.hits or res.related
        verbatim = [docs[h.doc_id][h.start : h.end] == h.text for h in shown]
        verbatim += [docs[c.doc_id][c.start : c.end] == c.quote for c in answer.citations]
        return Retrieved(
            ids=[h.passage_id for h in shown],
            texts=[h.text for h in shown],
            abstained=res.abstained,
            took_ms=res.took_ms,
            citations=[h.citation for h in shown],
            verbatim=verbatim,
        )


def _searcher(kb: KnowledgeBase, settings: SearchSettings):
    from ..index.search import Searcher

    return Searcher(kb.open(), kb.embedder, settings)


# Langchain-Chatchat's default text splitting (ChineseRecursiveTextSplitter's separators as regex).
PEER_SEPARATORS = ["\n\n", "\n", "。|！|？", r"；|;\s", r"，|,\s"]
PEER_CHUNK_SIZE = 750
PEER_OVERLAP = 150
PEER_WEIGHTS = (0.5, 0.5)  # BM25, dense — EnsembleRetriever
PEER_RRF_C = 60


class PeerPipeline:
    """A pipeline built the way Langchain-Chatchat does by default, with our bundled embedder.

    LangChain ``RecursiveCharacterTextSplitter`` (the separators above as regex, 750 characters,
    150 overlap); BM25 over ``jieba.lcut_for_search`` tokens (Okapi: k1 1.5, b 0.75) and FAISS
    inner-product search over the same model's vectors, fused like LangChain's
    ``EnsembleRetriever`` (weighted reciprocal rank, c = 60, weights 0.5/0.5). Chatchat shows the
    top 3; here it returns as many as asked so ranking metrics compare like for like. It never
    abstains (Chatchat's score threshold is off by default).
    """

    name = "peer"

    def __init__(self, files: Iterable[Path], embedder, max_file_mb: float = 100):
        import bm25s
        import faiss
        import jieba

        from ..errors import DangjianError, InputFileError

        try:
            from langchain_text_splitters import RecursiveCharacterTextSplitter
        except ImportError:
            raise DangjianError(
                "对比基线 peer 需要 langchain-text-splitters：请运行 pip install '.[dev]'", code="missing_dependency"
            ) from None
        from ..ingest.loaders import iter_documents

        splitter = RecursiveCharacterTextSplitter(
            separators=PEER_SEPARATORS,
            is_separator_regex=True,
            chunk_size=PEER_CHUNK_SIZE,
            chunk_overlap=PEER_OVERLAP,
        )
        self._units: list[Unit] = []
        for path in files:
            for doc in iter_documents(path, max_file_mb=max_file_mb):
                if isinstance(doc, InputFileError):
                    continue
                for chunk in splitter.split_text(doc.text):
                    self._units.append(Unit(f"peer-{len(self._units)}", doc.title, chunk))
        texts = [u.text for u in self._units]
        self._cut = jieba.lcut_for_search
        self.bm25 = bm25s.BM25(method="robertson", k1=1.5, b=0.75)
        self.bm25.index([self._cut(t) for t in texts], show_progress=False)
        self.embedder = embedder
        vectors = embedder.embed_passages(texts)
        self.dense = faiss.IndexFlatIP(vectors.shape[1])
        self.dense.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def units(self) -> list[Unit]:
        return self._units

    def search(self, question: str, k: int) -> Retrieved:
        started = time.perf_counter()
        k = min(k, len(self._units))
        fused: dict[int, float] = {}
        tokens = [t for t in self._cut(question) if t.strip()]
        if tokens and k:
            ids, scores = self.bm25.retrieve([tokens], k=k, show_progress=False)
            lexical = [int(i) for i, s in zip(ids[0], scores[0]) if s > 0]
        else:
            lexical = []
        _, dense = self.dense.search(self.embedder.embed_query(question).reshape(1, -1), k)
        for weight, ranked in zip(PEER_WEIGHTS, (lexical, [int(i) for i in dense[0] if i >= 0])):
            for rank, row in enumerate(ranked, start=1):
                fused[row] = fused.get(row, 0.0) + weight / (rank + PEER_RRF_C)
        order = sorted(fused, key=lambda r: -fused[r])[:k]
        return Retrieved(
            ids=[self._units[r].id for r in order],
            texts=[self._units[r].text for r in order],
            abstained=False,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            citations=[f"《{self._units[r].title}》" for r in order],
        )
