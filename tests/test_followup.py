"""Follow-up resolution (``followup.resolve``): pure functions over stored turns."""

from __future__ import annotations

import pytest

from dangjian.followup import context_of, list_items, resolve, subject

from .conftest import TEN_LIAN

NAMES = ["物业管理十联工作法", "十联工作法", "六百工作法", "五融四零工作法"]


def turn(question, answer, *, layout="text", resolved=None, titles=("示例文档",), paths=(["一、做法"],)):
    citations = [{"title": t, "section_path": list(p)} for t, p in zip(titles, paths, strict=False)]
    return {
        "question": question,
        "resolved": resolved,
        "answer": answer,
        "layout": layout,
        "citations": citations,
        "abstained": False,
    }


TEN = turn("物业管理十联工作法包括哪些内容？", "社区党委推行“" + "、".join(TEN_LIAN) + "”的“十联”机制。[1]")
PLAN = turn(
    "2023年有什么工作打算？",
    "《报告》“三、2023年工作谋划”共3项：\n（一）突出政治引领，思想再重视[1]\n（二）突出重点难点，行动再加力[2]\n"
    "（三）突出示范带动，抓手再聚焦[3]",
    layout="list",
    paths=(["三、2023年工作谋划", "（一）突出政治引领"],),
)
GOV = turn("2024年政府工作报告提到了哪些困难和挑战？", "有效需求不足。[1]", titles=("2024年政府工作报告",))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("第三项具体怎么做？", "服务联动具体怎么做？"),
        ("第3条具体怎么做？", "服务联动具体怎么做？"),
        ("最后一条具体怎么做？", "发展联促具体怎么做？"),
        ("前两个是什么意思？", "组织联建、资源联享是什么意思？"),
    ],
)
def test_an_ordinal_refers_to_the_last_list_in_order(question, expected):
    found = resolve(question, [TEN], NAMES)
    assert found.cue == "ordinal"
    assert found.text == expected


def test_an_outline_answer_lists_its_parts():
    assert list_items(PLAN) == ["突出政治引领，思想再重视", "突出重点难点，行动再加力", "突出示范带动，抓手再聚焦"]
    assert resolve("第二项具体怎么干？", [PLAN]).text == "突出重点难点，行动再加力具体怎么干？"


@pytest.mark.parametrize("question", ["它在哪个社区试点的？", "这个方法取得了哪些成效？", "该工作法取得了哪些成效？"])
def test_a_pronoun_refers_to_the_method_in_focus(question):
    found = resolve(question, [TEN], NAMES)
    assert found.cue == "pronoun"
    assert found.text.startswith("物业管理十联工作法")
    assert "它" not in found.text and "这个" not in found.text


def test_a_pronoun_after_an_ordinal_still_means_the_method():
    second = turn("第三项具体怎么做？", "服务联动……[1]", resolved="服务联动具体怎么做？")
    assert resolve("它取得了哪些成效？", [TEN, second], NAMES).text == "物业管理十联工作法取得了哪些成效？"
    third = turn("它在哪里推行？", "……", resolved="物业管理十联工作法在哪里推行？")
    assert resolve("它取得了哪些成效？", [TEN, third], NAMES).text == "物业管理十联工作法取得了哪些成效？"


@pytest.mark.parametrize(("question", "year"), [("2023年的呢？", "2023"), ("那2022年呢？", "2022")])
def test_ellipsis_with_a_new_year_asks_the_last_question_of_that_year(question, year):
    found = resolve(question, [GOV])
    assert found.cue == "year"
    assert found.text == f"{year}年政府工作报告提到了哪些困难和挑战？"


def test_ellipsis_of_an_aspect_and_a_bare_question_carry_the_topic():
    assert resolve("那存在问题呢？", [TEN], NAMES).text.startswith("物业管理十联工作法存在问题")
    assert resolve("效果怎么样？", [TEN], NAMES).text == "物业管理十联工作法效果怎么样？"


def test_parallel_ellipsis_replaces_the_subject_of_the_last_question():
    first = turn("党的基层组织有哪些基本任务？", "……")
    assert resolve("那党支部呢？", [first]).text == "党支部有哪些基本任务？"
    second = turn("第一项具体要干哪几件事？", "……", resolved="突出政治引领，思想再重视具体要干哪几件事？")
    assert resolve("第三项呢？", [PLAN, second]).text == "突出示范带动，抓手再聚焦具体要干哪几件事？"


@pytest.mark.parametrize(
    "question",
    ["六百工作法是怎么做的？", "党员享有哪些权利？", "2025年赤字率定的多少？", "入党要几个介绍人？"],
)
def test_a_question_that_stands_alone_is_left_alone(question):
    found = resolve(question, [TEN], NAMES)
    assert found.cue is None and not found.resolved
    assert found.text == question


def test_a_change_of_topic_starts_fresh():
    """After a standalone question the topic is that question's: 它 no longer means the first method."""
    changed = turn("六百工作法是怎么做的？", "……[1]")
    found = resolve("它取得了哪些成效？", [TEN, changed], NAMES)
    assert found.text == "六百工作法取得了哪些成效？"
    assert context_of([TEN, changed], NAMES).items == ()  # the old list is not in focus any more
    assert resolve("第三项具体怎么做？", [TEN, changed], NAMES).cue is None


def test_no_turns_no_resolution():
    assert resolve("它取得了哪些成效？", []).text == "它取得了哪些成效？"
    assert resolve("它取得了哪些成效？", []).cue is None


def test_subject_is_what_a_question_asks_about():
    assert subject("物业管理十联工作法包括哪些内容？") == "物业管理十联工作法"
    assert subject("去年党建工作存在哪些问题？") == "去年党建工作"
    assert subject("效果怎么样？") == ""


class Model:
    """A chat model's stand-in: replies with ``reply`` and records what it was asked."""

    def __init__(self, reply: str | Exception):
        self.reply = reply
        self.asked: list = []

    def invoke(self, messages):
        self.asked.append(messages)
        if isinstance(self.reply, Exception):
            raise self.reply
        return type("Reply", (), {"content": self.reply})()


def test_a_models_rewrite_is_used_only_when_it_keeps_a_topic_term():
    from dangjian.followup import resolve_with

    kept = Model("物业管理十联工作法中的服务联动具体怎么做？")
    found = resolve_with("第三项具体怎么做？", [TEN], NAMES, kept)
    assert found.cue == "model" and found.text == "物业管理十联工作法中的服务联动具体怎么做？"
    assert "第三项具体怎么做？" in kept.asked[0][-1].content

    drifted = Model("党员享有哪些权利？")  # keeps no term of the conversation: the rules' reading stands
    assert resolve_with("第三项具体怎么做？", [TEN], NAMES, drifted).text == "服务联动具体怎么做？"
    broken = Model(TimeoutError("timed out"))
    assert resolve_with("第三项具体怎么做？", [TEN], NAMES, broken).text == "服务联动具体怎么做？"

    alone = Model("不该被用到")
    assert resolve_with("六百工作法是怎么做的？", [TEN], NAMES, alone).cue is None
    assert alone.asked == []  # a question that stands alone is never sent to the model
