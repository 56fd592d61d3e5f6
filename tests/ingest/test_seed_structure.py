"""The client's seed report: its section tree and passages, pinned exactly."""

from __future__ import annotations

import pytest

from dangjian.ingest import chunk_sections, load_document, section_at, split_sections

from ..conftest import SEED, TEN_LIAN

EXPECTED_TREE = [
    (0, "2022年基层党建工作完成情况及2023年工作谋划"),
    (1, "一、2022年工作完成情况"),
    (2, "（一）党建品牌成效明显，社区治理水平发生新变化"),
    (2, "（二）便民服务点多面广，社区党群阵地迎来大提升"),
    (2, "（三）五共理念深入人心，社区美好生活开启新起点"),
    (2, "（四）城市布局优化调整，社区精准服务呈现大提速"),
    (2, "（五）历史难题有效破解，社区物业管理开创新局面"),
    (1, "二、存在问题"),
    (2, "一是“一社一品”特色创建不均衡"),
    (2, "二是党员教育形式较为单一"),
    (2, "三是基层党组织覆盖不全面"),
    (2, "四是培树典型方式和载体不够灵活"),
    (2, "五是社区后备力量储备不充分"),
    (1, "三、2023年工作谋划"),
    (2, "（一）突出政治引领，思想再重视，着力学好“必修课”"),
    (3, "一是加强政治理论学习"),
    (3, "二是强化正面宣传引导"),
    (3, "三是盘好用活党组织阵地"),
    (2, "（二）突出重点难点，行动再加力，着力打好“攻坚战”"),
    (3, "一是全力推进优质物业服务进小区提升工程"),
    (3, "二是全面推进物业企业党组织覆盖"),
    (3, "三是全面提升三方联动共治水平"),
    (2, "（三）突出示范带动，抓手再聚焦，着力做好“新品牌”"),
    (3, "一是提升党建品牌影响力"),
    (3, "二是增强楼宇商圈竞争力"),
    (3, "三是提高新业态、新就业群体凝聚力"),
    (2, "（四）突出培养路径，基础再夯实，着力育好“能干人”"),
    (3, "一是标准化建设小区党支部"),
    (3, "二是高素质打造社区干部队伍"),
    (3, "三是多维度挖掘典型人物"),
    (2, "（五）突出共同缔造，机制再优化，着力谋好“新篇章”"),
    (3, "一是明确“方向引领机制”"),
    (3, "二是畅通“服务凝聚机制”"),
    (3, "三是优化“发展认同机制”"),
]


@pytest.fixture(scope="module")
def seed():
    doc = load_document(SEED)
    sections = split_sections(doc)
    return doc, sections, chunk_sections(doc, sections)


def test_title_and_text_are_the_file(seed):
    doc, _, _ = seed
    assert doc.title == "2022年基层党建工作完成情况及2023年工作谋划"
    assert doc.text == SEED.read_text(encoding="utf-8")


def test_section_tree_is_exactly_the_documents(seed):
    _, sections, _ = seed
    assert [(s.depth, s.heading) for s in sections] == EXPECTED_TREE


def test_section_ranges_nest_and_paths_follow_the_tree(seed):
    doc, sections, _ = seed
    for s in sections[1:]:
        parent = sections[s.parent]
        assert parent.start <= s.start < s.end <= parent.end
        assert s.path == parent.path + [s.heading]
        assert doc.text[s.heading_start : s.heading_end] == s.heading


def test_ten_lian_items_are_in_one_passage(seed):
    _, _, passages = seed
    holding = [p for p in passages if all(item in p.text for item in TEN_LIAN)]
    assert len(holding) == 1
    assert "物业管理十联工作法" in holding[0].text
    assert holding[0].section_path == [
        "三、2023年工作谋划",
        "（二）突出重点难点，行动再加力，着力打好“攻坚战”",
        "一是全力推进优质物业服务进小区提升工程",
    ]


def test_every_passage_is_verbatim_and_has_the_right_path(seed):
    doc, sections, passages = seed
    assert passages, "no passages"
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        # The path is the one of the deepest section at every character of the passage.
        for offset in (p.start, (p.start + p.end) // 2, p.end - 1):
            assert section_at(sections, offset).path == p.section_path


def test_each_item_is_one_whole_passage(seed):
    doc, sections, passages = seed
    items = [s for s in sections if s.kind == "item"]
    assert len(items) == 20
    by_path = {tuple(p.section_path): p for p in passages}
    for item in items:
        passage = by_path[tuple(item.path)]
        assert passage.text == doc.text[item.start : item.end].strip()


def test_preamble_passage_has_empty_path_and_title_is_not_a_passage(seed):
    _, _, passages = seed
    assert passages[0].section_path == []
    assert passages[0].text.startswith("根据会议安排")
    assert not any(p.text.startswith("2022年基层党建工作完成情况及2023年工作谋划") for p in passages)


def test_passages_are_in_document_order_with_stable_ids(seed):
    doc, _, passages = seed
    starts = [p.start for p in passages]
    assert starts == sorted(starts)
    assert [p.passage_id for p in passages] == [f"{doc.doc_id}-{i:05d}" for i in range(len(passages))]
    again = chunk_sections(load_document(SEED), split_sections(load_document(SEED)))
    assert [p.passage_id for p in again] == [p.passage_id for p in passages]
