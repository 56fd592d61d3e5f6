"""Which fact a question asks for, and whether a passage states it (no model needed)."""

from __future__ import annotations

import pytest

from dangjian.index.facts import asked_fact, is_person_name, support


def no_names(_sentence):
    return []


@pytest.mark.parametrize(
    ("question", "kind", "stated", "not_stated"),
    [
        ("示例社区一共派了多少个指导员下小区？", "count", "选派14名党建指导员", "党建指导员驻点指导"),
        ("物业费每平方米多少钱？", "count", "每平方米1.2元", "物业费收缴率由68%提高到91%"),
        ("要几个人介绍？", "count", "要有两名正式党员作介绍人", "要有正式党员作介绍人"),
        ("考核打了多少分？", "count", "考核得分95分", "要十分注意考核"),
        ("社区党群服务中心周末几点开门？", "time", "周末上午9:00开门", "周末开放"),
        ("换届的具体日期是哪天？", "day", "于3月15日换届", "2023年完成换届"),
        ("党龄从哪天开始算？", "day", "党龄从预备期满转为正式党员之日算起", "党龄按规定计算"),
        ("交费的比例是多少？", "amount", "收缴率91%", "收缴率明显提升"),
    ],
)
def test_fact_kinds_and_their_evidence(question, kind, stated, not_stated):
    fact = asked_fact(question, no_names)
    assert fact is not None and fact.kind == kind
    assert fact.present(stated)
    assert not fact.present(not_stated)


@pytest.mark.parametrize(
    "question", ["十联工作法包括什么", "物业样板项目要达到哪几个“好”？", "怎么服务外卖骑手？", "党员有哪些义务"]
)
def test_questions_without_a_specific_fact(question):
    assert asked_fact(question, no_names) is None


def test_a_name_question_needs_a_person_name():
    fact = asked_fact("新业态党支部的书记是谁？", lambda s: ["李强"] if "李强" in s else [])
    assert fact.kind == "name"
    assert fact.present("支部书记由李强同志担任")
    assert not fact.present("从热心党员中推选小区党支部书记")
    assert asked_fact("这所中学叫什么名字？", no_names) is None  # a school's name is not a person's


def test_person_names_exclude_common_words_jieba_tags_as_names():
    assert is_person_name("李强", "nrfg")
    assert is_person_name("司马晏", "nr")
    assert not is_person_name("文明", "nr")
    assert not is_person_name("二十大", "nrt")


WEIGHTS = {"物业费": 2.0, "平方米": 2.0, "收缴率": 1.0}


def test_support_compares_the_fact_sentence_with_the_best_sentence():
    fact = asked_fact("物业费每平方米多少钱？", no_names)
    about_it = ("物业费按每平方米1.2元收取。", "2023 经验材料")
    assert support("物业费每平方米多少钱？", fact, [about_it], WEIGHTS) == 1.0
    only_related = ("物业费收缴率由68%提高到91%。小区面积约十万平方米。", "2023 经验材料")
    assert support("物业费每平方米多少钱？", fact, [only_related], WEIGHTS) == 0.0


def test_a_year_the_question_names_must_be_the_documents():
    fact = asked_fact("2025年我们街道发展了多少名党员？", no_names)
    weights = {"发展": 1.0, "党员": 1.0}
    passage = ("全年发展党员**名。", "2022 2022年基层党建工作完成情况")
    assert support("2025年我们街道发展了多少名党员？", fact, [passage], weights) == 0.0
    assert support("2022年我们街道发展了多少名党员？", fact, [passage], weights) == 1.0
    # a target year (“到2000年”) is not the question's date
    assert support("到2000年要发展多少名党员？", fact, [passage], weights) == 1.0
