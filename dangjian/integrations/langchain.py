"""LangChain integration (needs ``langchain-core``: ``pip install 'dangjian[langchain]'``).

- ``DangjianRetriever``: a ``BaseRetriever`` over a knowledge base; each ``Document`` is a
  verbatim passage whose metadata carries the full citation (document, section path, offsets,
  page, formatted citation, scores);
- ``embeddings(kb)``: the knowledge base's embedder as LangChain ``Embeddings``;
- ``format_docs``: passages numbered [1], [2], … with their citations, for a prompt.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..index.embedders import as_langchain
from ..kb import KnowledgeBase
from ..schema import Filters


class DangjianRetriever(BaseRetriever):
    """Our hybrid search as a LangChain retriever. A question the knowledge base declines
    (off-topic, or asking for a fact no passage states) gives no documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: KnowledgeBase
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = self.kb.search(query, k=self.k, filters=self.filters)
        return [
            Document(
                page_content=hit.text,
                metadata={
                    "rank": hit.rank,
                    "score": hit.score,
                    "passage_id": hit.passage_id,
                    "doc_id": hit.doc_id,
                    "title": hit.title,
                    "collection": hit.collection,
                    "section_path": hit.section_path,
                    "start": hit.start,
                    "end": hit.end,
                    "page": hit.page,
                    "citation": hit.citation,
                },
            )
            for hit in result.hits
        ]


def embeddings(kb: KnowledgeBase) -> Any:
    """The knowledge base's embedder as LangChain ``Embeddings`` (same vectors as the index)."""
    return as_langchain(kb.embedder)


def format_docs(docs: list[Document]) -> str:
    """Passages for a prompt: ``[n] 出处\\n原文`` per passage."""
    return "\n\n".join(f"[{i}] {d.metadata['citation']}\n{d.page_content}" for i, d in enumerate(docs, 1))
