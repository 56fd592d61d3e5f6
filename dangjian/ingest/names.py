"""Names a corpus coins: quoted method and brand names (“五融四零工作法”, “一社一品”, “书记沙龙”).

They join the tokenizer's dictionary so that each stays one token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .patterns import CN_NUM, NAME_SUFFIXES, quoted_re

_QUOTED_RE = quoted_re(2, 12, '“”「」『』""')
_NAME_CHARS_RE = re.compile(r"^[0-9A-Za-z\u3400-\u9fff＋+·]+$")
_NUMBERED_RE = re.compile(rf"^[{CN_NUM}][\u4e00-\u9fff]*[{CN_NUM}]|^[{CN_NUM}][个项联融共零心]")


def is_method_like(name: str) -> bool:
    """Whether a quoted phrase reads as a coined name rather than an ordinary quoted word."""
    if not (2 <= len(name) <= 12) or not _NAME_CHARS_RE.match(name):
        return False
    if name.endswith(NAME_SUFFIXES) and len(name) >= 3:
        return True
    if _NUMBERED_RE.match(name) and len(name) >= 3:
        return True  # 七个一, 两手抓, 五融四零, 一社一品
    return 4 <= len(name) <= 8


def find_names(text: str) -> list[str]:
    """Quoted names in ``text`` that look like methods or brands, in order of first appearance."""
    found: dict[str, None] = {}
    for m in _QUOTED_RE.finditer(text):
        name = m.group(1).strip()
        if is_method_like(name):
            found.setdefault(name, None)
    return list(found)


def merge_names(*groups: Iterable[str]) -> list[str]:
    merged: dict[str, None] = {}
    for group in groups:
        for name in group:
            merged.setdefault(name, None)
    return sorted(merged)
