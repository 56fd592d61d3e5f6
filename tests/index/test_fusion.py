"""Fusion rules that need no model: BM25's decisive winner goes first."""

from __future__ import annotations

from dangjian.index.settings import SearchSettings
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


def test_a_phrase_boost_counts_the_document_wording_of_an_abbreviation(tmp_path):
    """A question saying “业委会” boosts a passage that says “业主委员会” as much as one that
    uses the abbreviation (query_synonyms.txt maps the one to the other)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    texts = ["业主委员会每月召开一次例会，研究小区公共事务。", "业委会成员名单在小区公开栏公示。", DECOY]
    for i, text in enumerate(texts):
        (folder / f"{i}.txt").write_text(f"材料{i}\n{text}\n", encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder=DecoyEmbedder())
    kb.ingest([folder])
    searcher = kb.searcher()
    rows = {searcher.retrieval.passage(row).text: row for row in range(searcher.retrieval.n)}
    assert searcher._boost(rows[texts[0]], ["业委会"], set()) == 1
    assert searcher._boost(rows[texts[1]], ["业委会"], set()) == 1
    assert searcher._boost(rows[DECOY], ["业委会"], set()) == 0


def test_candidates_of_one_section_vote_together(tmp_path):
    """A paraphrased question also ranks passages by their part of a document: the top-level
    section (or the whole document where it has none) whose candidates' fused scores sum
    highest comes first."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.txt").write_text(
        "街道工作报告\n一、工作回顾\n（一）议事协商\n居民议事厅全年召开会议二十次。\n"
        "（二）走访服务\n网格员走访群众三千户。\n二、下一步打算\n推进老旧小区加装电梯。\n",
        encoding="utf-8",
    )
    (folder / "other.txt").write_text(f"材料\n{DECOY}\n", encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder=DecoyEmbedder())
    kb.ingest([folder])
    searcher = kb.searcher()
    rows = {searcher.retrieval.passage(row).text.splitlines()[-1]: row for row in range(searcher.retrieval.n)}
    meeting, visits = rows["居民议事厅全年召开会议二十次。"], rows["网格员走访群众三千户。"]
    lift, decoy = rows["推进老旧小区加装电梯。"], rows[DECOY]
    ranks = searcher._part_ranks({meeting: 0.02, visits: 0.015, lift: 0.03, decoy: 0.025})
    assert ranks == {meeting: 0, visits: 0, lift: 1, decoy: 2}
