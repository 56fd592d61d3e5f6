"""Method cards: named working methods found in the seed report against a hand-labelled list."""

from __future__ import annotations

import pytest

from dangjian.ingest import iter_documents, split_sections
from dangjian.ingest.methods import find_methods
from dangjian.methods import build_cards, find_card, named_in

from .conftest import SEED, TEN_LIAN, corpus_method_cards, method_records

# Hand-labelled (2026-11-27): every name in the seed report that a worker could apply or copy —
# methods, mechanisms, numbered formulas and the brands of activities, places and platforms.
# Not methods: slogans and goals (新品牌, 新篇章, 小切口, 大变化, 先动手不空手, 干部带头干…),
# ordinary quoted words (两委, 三方, 攻坚战, 必修课, 能干人, 晋级, 有形/有肉/有魂/有效, 要我做),
# a principle (以路为界、体量适中), a database (人才资源库), unnamed lists (党建引领好、参与治理好…).
LABELLED = {
    "一社一品",
    "书记沙龙",
    "红色名片",
    "五融四零工作法",
    "初心驿站",
    "全科社工",
    "六百工作法",
    "五共理念",
    "湾组夜话",
    "幸福石墩会",
    "两手抓",
    "理论热点面对面",
    "时间银行",
    "爱心超市",
    "物业管理十联工作法",
    "双向进入、交叉任职",
    "七个一",
    "暖‘新’",
    "党建引领＋N",
    "党建＋典型在现场",
    "方向引领机制",
    "服务凝聚机制",
    "以奖代补",
    "发展认同机制",
}
NOT_METHODS = {"新品牌", "新篇章", "小切口", "大变化", "两委", "三方", "攻坚战", "必修课", "人才资源库", "先动手不空手"}


@pytest.fixture(scope="module")
def seed_methods():
    (doc,) = iter_documents(SEED)
    return doc, {m.name: m for m in find_methods(doc, split_sections(doc))}


def test_seed_methods_against_the_labelled_list(seed_methods):
    _, found = seed_methods
    hits = LABELLED & set(found)
    precision, recall = len(hits) / len(found), len(hits) / len(LABELLED)
    assert precision >= 0.9 and recall >= 0.9, (sorted(set(found) - LABELLED), sorted(LABELLED - set(found)))
    for name in ("五融四零工作法", "物业管理十联工作法", "六百工作法", "一社一品", "书记沙龙", "初心驿站", "五共理念"):
        assert name in found
    assert not NOT_METHODS & set(found)


def test_ten_links_has_its_ten_components_in_order_with_offsets(seed_methods):
    doc, found = seed_methods
    ten = found["物业管理十联工作法"]
    assert ten.kind == "工作法" and ten.count == 10
    assert [c.text for c in ten.components] == TEN_LIAN
    assert all(doc.text[c.start : c.end] == c.text for c in ten.components)
    assert [c.start for c in ten.components] == sorted(c.start for c in ten.components)


def test_a_name_promising_more_than_the_text_lists_is_reported(seed_methods):
    doc, found = seed_methods
    seven = found["七个一"]
    assert seven.count == 7 and [c.text for c in seven.components][0] == "选派一个党建指导员"
    assert len(seven.components) == 4
    two = found["两手抓"]
    assert [c.text for c in two.components] == ["一手抓完善功能提升品质", "一手抓党建引领基层社会治理"]
    cards = {c.name: c for c in build_cards([method_records(doc, found.values())])}
    assert cards["七个一"].count_note == "名称为7项，文中只列出4项"
    assert cards["物业管理十联工作法"].count_note == "名称为10项，文中列出10项，相符"


def test_cards_merge_a_method_across_documents_by_name_or_alias():
    cards, texts = corpus_method_cards()
    ten = find_card(cards, "十联工作法")
    assert ten is not None and ten.name == "物业管理十联工作法" and {"十联工作法", "十联"} <= set(ten.aliases)
    assert len(ten.documents) == 3  # the report, the experience material and the training plan
    assert [c.text for c in ten.components] == TEN_LIAN
    for source in [ten.definition, *ten.mentions]:
        assert texts[source.doc_id][source.start : source.end] == source.quote
    assert any("满意度由2021年的72%提升到2023年的93%" in r.quote for r in ten.results)
    assert "示例社区" in [p.text for p in ten.places]
    assert all(texts[p.doc_id][p.start : p.end] == p.text for p in ten.places)
    fang = find_card(cards, "方向引领机制")
    assert any("停车难、充电难" in p.quote for p in fang.problems)
    for source in [*ten.results, *fang.problems]:
        assert texts[source.doc_id][source.start : source.end] == source.quote
    assert named_in(cards, "十联是哪十联？") is ten
    assert named_in(cards, "五共理念指什么") is find_card(cards, "五共")
    assert named_in(cards, "社区党组织怎样联系物业？") is None


def test_cards_are_sorted_by_how_much_the_corpus_says_and_generic_ones_come_last():
    """Issue 23: 十联 was the 15th of 28 unsorted cards, and 学习强国 and 三会一课 were listed as
    working methods."""
    from dangjian.methods import group_cards

    cards, _ = corpus_method_cards()
    assert cards[0].name == "物业管理十联工作法"
    generic = [c.name for c in cards if c.generic]
    assert set(generic) == {"三会一课", "学习强国"} and [c.name for c in cards[-2:]] == generic
    assert {find_card(cards, "三会一课").group, find_card(cards, "学习强国").group} == {"通用制度", "通用平台"}
    own = [c for c in cards if not c.generic]
    assert [c.weight for c in own] == sorted((c.weight for c in own), reverse=True)
    groups = group_cards(cards)
    assert list(groups)[0] == "工作法" and list(groups)[-2:] == ["通用制度", "通用平台"]
    assert sum(len(g) for g in groups.values()) == len(cards)


def test_a_sentence_naming_several_methods_is_shown_whole_on_none_of_them():
    """The opening sentence of the seed report names 一社一品, 书记沙龙, 红色名片, 五融四零工作法 and
    全科社工: each card now shows the clause naming it, verbatim, at its own offsets."""
    from collections import Counter

    cards, texts = corpus_method_cards()
    shown = Counter((c.definition.doc_id, c.definition.start, c.definition.end) for c in cards)
    assert max(shown.values()) <= 2  # two names in one clause (“湾组夜话”、“幸福石墩会”) at most
    five = find_card(cards, "五融四零")
    assert five.definition.quote == "**“五融四零工作法”荣获全省党建创新案例，"
    for card in cards:
        d = card.definition
        assert texts[d.doc_id][d.start : d.end] == d.quote and any(n in d.quote for n in [card.name, *card.aliases])


def test_cards_are_searchable_by_name_component_or_sentence():
    from dangjian.methods import search_cards

    cards, _ = corpus_method_cards()
    assert [c.name for c in search_cards(cards, "文化联育")] == ["物业管理十联工作法"]
    assert [c.name for c in search_cards(cards, "十联")][0] == "物业管理十联工作法"
    assert "时间银行" in [c.name for c in search_cards(cards, "积分模式")]
    assert search_cards(cards, " ") == cards


def test_a_result_sentence_is_not_repeated_on_cards_it_does_not_name():
    cards, texts = corpus_method_cards()
    assert [r.quote for r in find_card(cards, "五融四零").results] == ["**“五融四零工作法”荣获全省党建创新案例，"]
    for card in cards:
        for r in card.results:
            assert texts[r.doc_id][r.start : r.end] == r.quote
    shared = [r.quote for c in cards for r in c.results]
    assert all(shared.count(q) <= 2 for q in shared)  # two names in one clause at most
