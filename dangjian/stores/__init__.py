"""Stores other than the local index directory (which lives in ``dangjian.index.store``).

``DANGJIAN_STORE_URI`` picks one: empty keeps the local FAISS + bm25s files; a path ending in
``.db`` is an embedded milvus-lite database; ``http://host:19530`` is a Milvus server or cluster.
"""

from __future__ import annotations


def is_milvus_uri(uri: str) -> bool:
    uri = (uri or "").strip()
    return uri.endswith(".db") or uri.startswith(("http://", "https://", "tcp://", "unix:"))
