"""How Chinese official documents number their headings.

The 公文 ladder is 一、 → （一） → 1. → （1）; laws and charters use 第X编/章/节/条. Each style has
a rank: a heading of rank r closes every open section of rank >= r. A heading the file marks
itself (markdown ``#``, Word heading styles, ``<h1>``–``<h6>``) ranks by its level (1–9), above
all numbered styles, whether or not it is also numbered.
Full-width and half-width punctuation both count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = "一二三四五六七八九十"  # the numerals of headings, items and congresses (二十大)
CN_COUNT = CN_DIGITS + "两"  # and of counts in names (两手抓)
CN_NUM = CN_COUNT + "百千零〇"  # any Chinese numeral

# The last word of a working method's name (“物业管理十联工作法”, “书记沙龙”): what method cards
# accept as a method (``methods.py``)...
METHOD_WORDS = (
    "工作法",
    "机制",
    "理念",
    "模式",
    "工程",
    "品牌",
    "驿站",
    "沙龙",
    "夜话",
    "银行",
    "超市",
    "名片",
    "书屋",
    "小站",
    "课堂",
    "工作室",
    "石墩会",
    "议事会",
    "联盟",
)
# ...and, with broader words, what marks a quoted phrase as a coined name for the tokenizer's
# dictionary (``names.py``).
NAME_SUFFIXES = (
    *METHOD_WORDS,
    "法",
    "体系",
    "计划",
    "行动",
    "平台",
    "会",
    "站",
    "室",
    "岗",
    "队",
    "家",
    "清单",
    "网格",
    "服务",
)
_NUM = rf"[{CN_NUM}0-9０-９]+"


@dataclass(frozen=True, slots=True)
class HeadingStyle:
    name: str
    rank: int
    pattern: re.Pattern[str]
    # Whether the heading is only the number (``第三条``) with the body on the same line.
    label_is_number: bool = False


# Order matters only where two patterns could match the same start; ranks give the nesting.
STYLES: tuple[HeadingStyle, ...] = (
    # 附件1：/ 附录 — closes the articles and sections before it
    HeadingStyle("annex", 9, re.compile(rf"附\s*[件录]\s*[0-9０-９{CN_DIGITS}]*(?:\s*[:：]|(?=[\s\u3000]|$))")),
    HeadingStyle("part", 10, re.compile(rf"第{_NUM}部分(?=[\s\u3000]|$)")),
    HeadingStyle("bian", 11, re.compile(rf"第{_NUM}编(?=[\s\u3000]|$)")),
    HeadingStyle("zhang", 12, re.compile(rf"第{_NUM}章(?=[\s\u3000]|$)")),
    HeadingStyle("jie", 13, re.compile(rf"第{_NUM}节(?=[\s\u3000]|$)")),
    HeadingStyle("tiao", 14, re.compile(rf"第{_NUM}条(?:之[{CN_NUM}]+)?(?=[\s\u3000]|$)"), label_is_number=True),
    HeadingStyle("cn", 15, re.compile(rf"[{CN_NUM}]{{1,3}}(?:、|[．.](?![0-9０-９]))")),
    HeadingStyle("paren_cn", 16, re.compile(rf"[（(][{CN_NUM}]{{1,3}}[）)]")),
    HeadingStyle("arabic", 17, re.compile(r"[0-9０-９]{1,2}(?:、|[.．](?![0-9０-９]))")),
    HeadingStyle("paren_arabic", 18, re.compile(r"[（(][0-9０-９]{1,2}[）)]")),
    HeadingStyle("circled", 19, re.compile(r"[①-⑳]")),
)
ITEM_RANK = 30  # 一是/二是… inside a paragraph

MD_HEADING_RE = re.compile(r"(#{1,6})[ \t]+(?=\S)")

# Punctuation, in one place. A sentence ends at 。！？； (and their half-width forms); a clause at
# ，：. Items 一是… count at the start of a paragraph or right after a sentence or clause end.
SENTENCE_END = frozenset("。！？；!?;")
CLAUSE_END = frozenset("，,：:")
ITEM_AFTER = SENTENCE_END | frozenset("：:")
ITEM_RE = re.compile(rf"([{CN_NUM}]{{1,3}})是")

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def is_blank(ch: str) -> bool:
    """Whitespace, including the zero-width characters web pages leave behind."""
    return ch.isspace() or ch in _ZERO_WIDTH


TERMINAL_RE = re.compile(r"[。！？；：…!?;:][”’」』）)]*$")
BLANK_RE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
CONTINUATION_START = "，、。；：！？）》」』”,;:!?)"


def match_style(line: str) -> tuple[HeadingStyle, re.Match[str]] | None:
    """The numbered heading style ``line`` starts with, if any (``line`` is already stripped)."""
    first = line[:1]
    if not first:
        return None
    for style in STYLES:
        m = style.pattern.match(line)
        if m:
            return style, m
    return None


def looks_like_heading_start(line: str) -> bool:
    return bool(MD_HEADING_RE.match(line)) or match_style(line) is not None


_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
_CN_DIGITS.update({"〇": 0, "两": 2})
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def cn_to_int(text: str) -> int | None:
    """Parse small Chinese or Arabic numerals (``十二`` → 12, ``二十`` → 20, ``一百零五`` → 105)."""
    text = text.translate(_FULLWIDTH_DIGITS)
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return total + current


def quoted_re(min_chars: int, max_chars: int, quotes: str = "“”") -> re.Pattern[str]:
    """A quoted phrase of ``min_chars``–``max_chars`` characters between any of the opening and
    closing marks of ``quotes`` (pairs: “” 「」 『』 《》 or a straight ``"`` twice); the phrase is
    group 1 and holds no quote mark or line break. Each caller names its own bounds: a coined
    name is short, a quoted phrase in a question may be a whole clause."""
    opening = "".join(quotes[i] for i in range(0, len(quotes), 2))
    closing = "".join(quotes[i + 1] for i in range(0, len(quotes), 2))
    marks = re.escape("".join(dict.fromkeys(quotes)))
    return re.compile(f"[{re.escape(opening)}]([^{marks}\\n]{{{min_chars},{max_chars}}})[{re.escape(closing)}]")


# Names that are not a place's own working method but institutions and platforms every Party
# organisation uses (method cards mark them 通用制度 / 通用平台 rather than calling them 工作法).
GENERIC_INSTITUTIONS = (
    "三会一课",
    "主题党日",
    "组织生活会",
    "民主生活会",
    "民主评议党员",
    "谈心谈话",
    "两学一做",
    "第一议题",
    "四议两公开",
    "党员积分制",
)
GENERIC_PLATFORMS = ("学习强国", "共产党员网", "灯塔在线", "党建云", "全国党员管理信息系统", "党员信息管理系统")
