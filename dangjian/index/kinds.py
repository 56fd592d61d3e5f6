"""What kind of answer a question wants, from its wording: the answer builder shapes the answer
by it (a list answers with the items, a plan question with the plan section's parts, a fact
question with the sentence holding the fact).

Kinds: ``problem`` (存在…问题/短板), ``plan`` (打算/谋划/下一步), ``howto`` (怎么做/具体做法/如何),
``definition`` (是什么/指什么), ``list`` (有哪些/包括什么/哪几个方面), ``yesno`` (是否/有没有…吗),
``fact`` (a number, date, duration, person or place), ``general`` (anything else). The first
that matches wins, in that order: “存在哪些问题” is a problem question that also wants a list.
"""

from __future__ import annotations

import re

from ..ingest.patterns import CN_COUNT

KINDS = ("problem", "plan", "howto", "definition", "list", "yesno", "fact", "general")
_PATTERNS = (
    ("problem", re.compile(r"问题|短板|不足|差距|困难|弱项|薄弱|欠缺")),
    ("fact", re.compile(r"多少|多长时间|多久|哪天|哪一天|何时|什么时候|谁")),  # 安排了多少 asks a number
    ("plan", re.compile(r"打算|谋划|计划|下一步|明年|今后|将来|准备(?:做|干|怎么|抓|推进)|思路|安排|目标任务")),
    (
        "howto",
        re.compile(r"怎么(?!样|回事|说|讲|写|规定)|怎样(?!$)|如何|具体做法|做法|措施|举措|是怎么"),
    ),
    ("definition", re.compile(r"是什么|指什么|什么是|是指|含义|什么意思|啥意思|是啥|是个什么|什么样的")),
    (
        "list",
        re.compile(rf"哪些|哪几|哪[{CN_COUNT}]+[个项条种类]|有什么|包括|包含|分为|几个方面|几方面|几项|几种|几类|几大"),
    ),
    ("yesno", re.compile(r"是否|有没有|是不是|能不能|可不可以|会不会|有无|吗[？?]?$")),
    (
        "fact",
        re.compile(
            r"多少|几(?:个|名|人|次|年|月|天|家|户|所|处|条|项|位|届|岁|倍)|哪年|哪一年|何时|什么时候|多长时间|多久|谁|哪里|在哪|哪个(?:社区|街道|单位|地方)"
        ),
    ),
)
# Kinds whose answer is several parts of a section, or the items of a list.
LISTING = frozenset({"problem", "plan", "howto", "list"})


def question_kind(norm: str) -> str:
    """The kind of a normalised question (see the module's docstring)."""
    return next((kind for kind, pattern in _PATTERNS if pattern.search(norm)), "general")
