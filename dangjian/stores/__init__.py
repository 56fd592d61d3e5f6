"""Stores other than the local index directory (which lives in ``dangjian.index.store``).

``DANGJIAN_STORE_URI`` picks one: empty keeps the local FAISS + bm25s files; a path ending in
``.db`` is an embedded milvus-lite database; ``http://host:19530`` is a Milvus server or cluster.
"""

from __future__ import annotations


def is_milvus_uri(uri: str) -> bool:
    uri = (uri or "").strip()
    return uri.endswith(".db") or uri.startswith(("http://", "https://", "tcp://", "unix:"))


def open_store(home, *, uri: str = "", token: str = "", prefix: str = "dangjian", dense_index: str = "auto"):
    """The store ``DANGJIAN_STORE_URI`` names: the one place that chooses. Both kinds have the
    same interface: ``home``, ``exists``, ``current_name``, ``open`` (a version),
    ``write_lock`` and ``commit(change)``."""
    from ..errors import DangjianError

    if not uri:
        from ..index.store import IndexStore

        return IndexStore(home, dense_index=dense_index)
    if is_milvus_uri(uri):
        from .milvus import MilvusStore

        return MilvusStore(uri, token=token, prefix=prefix, state_dir=home)
    raise DangjianError(
        f"无法识别的存储地址“{uri}”：请用以 .db 结尾的文件路径（milvus-lite）"
        f"或 http://主机:19530（Milvus 服务器），留空则使用本地索引目录",
        code="bad_setting",
    )
