"""Fusion rules that need no model: BM25's decisive winner goes first."""

from __future__ import annotations

from dangjian.index.search import SearchSettings
from dangjian.kb import KnowledgeBase

from ..fakes import HashEmbedder

TARGET = "居民议事厅每周三晚上开放，由网格员主持，议题提前三天在小区公开栏公示。"
DECOY = "社区开展文明创建活动，居民积极参与环境整治。"
OTHERS = [f"第{i}项：推进基层党建与业务工作深度融合，提升服务群众水平。" for i in range(8)]


class DecoyEmbedder(HashEmbedder):
    """Every question means the decoy passage to this embedder: dense search is wrong on purpose."""

    def embed_query(self, text):
        return self._vector(DECOY)


def build(tmp_path, decisive: bool, store) -> KnowledgeBase:
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    for i, text in enumerate([TARGET, DECOY, *OTHERS]):
        (folder / f"{i:02d}.txt").write_text(f"材料{i}\n{text}\n", encoding="utf-8")
    settings = SearchSettings(abstain_threshold=-1.0, lexical_decisive=decisive)
    kb = store.fresh().kb(tmp_path / f"idx-{decisive}", embedder=DecoyEmbedder(), search_settings=settings)
    kb.ingest([folder])
    return kb


def test_bm25s_clear_winner_is_not_lost_in_fusion(tmp_path, store):
    question = "居民议事厅每周几开放，谁主持？"
    assert build(tmp_path, False, store).search(question, k=3).hits[0].text != TARGET
    assert build(tmp_path, True, store).search(question, k=3).hits[0].text == TARGET
