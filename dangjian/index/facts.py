"""Does the corpus state the fact a question asks for?

A question asking for a specific fact — a count (“多少名党员”), an amount, a time of day, a date, a
person's name — is answered only if some sentence of the best passages gives a fact of that kind
*and* is about the question: it covers the question's words about as well as the best-matching
sentence does. “物业费每平方米多少钱？” finds passages about 物业费, but none gives a price; “2025年
我们街道发展了多少名党员？” finds 发展党员 counts, but for 2022. Such questions are declined with the
related passages instead of a wrong-looking answer. Measured on the domain evaluation and CMRC
(evals/tuning_log.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..text import normalize

# A sentence must cover at least this share of the question's term weight that the best-covering
# sentence of the same passages does.
SUPPORT_RATIO = 0.35
SENTENCE_RE = re.compile(r"[^。；！？!?;\n]+")
YEAR_RE = re.compile(r"(?<![到至止前])((?:19|20)\d{2})年")
_NUMBER = r"(?:\d[\d.,]*|[一二三四五六七八九十百千万亿两零〇半几数]+|[*＊]+)"
_MULTIPLIER = r"\s*(?:多|余|万|亿|千|百)*\s*"
CLASSIFIERS = "个名人位员家间所座处条项件次年天日岁元亩分篇场批届期户栋辆台部本首种类支只块张颗枚"
# Units that answer each other: “几个人” is answered by “两名”, “多少钱” by “20元”.
UNIT_FAMILIES = {
    "名": "名人位员",
    "人": "名人位员",
    "位": "名人位员",
    "家": "家间所座个",
    "所": "家间所座个",
    "条": "条路根线",
    "钱": "元块镑",
    "元": "元块镑",
    "天": "天日",
    "个": CLASSIFIERS,
}
_UNITS = "名|个|件|天|分|岁|人|次|年|亩|元|家|所|户|条|项|课时|小时|位|期|批|届|番|钱|点|篇|场|处"
_COUNT_RE = re.compile(rf"(?<![哪那这])(?:多少|几)({_UNITS})")
_PEOPLE_RE = re.compile(r"人|党员|干部|群众|居民|同志|代表|委员|书记|学生|孩子|老人|职工|志愿者")
_AMOUNT_RE = re.compile(r"(?<![哪那这])多少")
_DAY_RE = re.compile(r"哪天|哪一天|具体日期|几号|几月几")
_WHEN_RE = re.compile(r"什么时候|啥时候|何时")
_NAME_RE = re.compile(r"是谁|都有谁|有哪些人|叫什么名字")
_DUTY_RE = re.compile(r"责任人|负责人|牵头|负责|召集人|主持")  # 第一责任人是谁: a post answers
_HOLDER_RE = re.compile(r"书记|主任|委员|党委|党支部|党组织|居委会|委员会|组长|站长|经理")
_DURATION_RE = re.compile(r"多长时间|多久|多长")
_DURATION_EVIDENCE = re.compile(
    _NUMBER + r"\s*个?(?:年|月|天|日|周|星期|小时|分钟|学时|课时|届)|半年|每(?:年|月|季度|周|天|日|届)|任期|长期|终身"
)
_ROLE_RE = re.compile(r"书记|主任|校长|会长|主席|局长|部长|经理|队长|组长|站长|院长|所长|委员|党员|[负创代主]\w?人")
_DATE_EVIDENCE = re.compile(
    _NUMBER + r"\s*[年月日号]|之日|日起|期间|以前|以后|之前|之后|世纪|年代|时期|时代|朝|末年|初年|以来"
    r"|[春夏秋冬][季天末初]|每年|夜间|白天|晚上|早上|清晨|黄昏|中午|傍晚|凌晨|季节"
)
_DAY_EVIDENCE = re.compile(_NUMBER + r"\s*[月日号]|之日|日起")
_FOREIGN_NAME_RE = re.compile(r"·|[A-Za-z]{2,}")
_CN_NUMERAL_RE = re.compile("[一二三四五六七八九十百千]")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("司马", "欧阳", "诸葛", "上官", "慕容", "长孙")


@dataclass(frozen=True)
class Fact:
    """The kind of fact a question asks for, and how to recognise one in a sentence."""

    kind: str  # count | amount | day | time | duration | name
    label: str  # what the user is told is missing
    present: Callable[[str], bool]
    asking: str = ""  # the question's words that ask (“多少件”): not evidence of being on topic


def asked_fact(query: str, person_names: Callable[[str], Iterable[str]]) -> Fact | None:
    """The specific fact a question asks for, if any. ``person_names`` lists the person names
    in a sentence (a part-of-speech tagger's)."""
    q = normalize(query)
    m = _COUNT_RE.search(q)
    if m:
        unit, asking = m.group(1), m.group(0)
        if unit == "点":
            return Fact("time", "具体时间", re.compile(r"\d{1,2}\s*[:：点时]|[上下]午|早上|晚上").search, asking)
        if unit == "个" and _PEOPLE_RE.match(q, m.end()):  # 几个人, 几个党员
            unit = "人"
        family = UNIT_FAMILIES.get(unit, unit)
        alternatives = [unit] if len(unit) > 1 else list(family)
        if unit == "课时":
            alternatives = ["课时", "学时", "小时"]
        # A score is written in digits: 十分 is “very”, 部分 “part”.
        number = r"(?:\d[\d.]*|[*＊]+)" if unit == "分" else _NUMBER
        pattern = re.compile(number + _MULTIPLIER + r"(?:美|港|欧|日|英|台币)?(?:" + "|".join(alternatives) + ")")
        return Fact("count", "具体数字", pattern.search, asking)
    if m := _DAY_RE.search(q):
        return Fact("day", "具体日期", _DAY_EVIDENCE.search, m.group(0))
    if m := _WHEN_RE.search(q):
        return Fact("day", "具体时间", _DATE_EVIDENCE.search, m.group(0))
    m = _NAME_RE.search(q)
    if m and (m.group(0) != "叫什么名字" or _ROLE_RE.search(q, 0, m.start())):  # a person's name, not a school's
        duty = bool(_DUTY_RE.search(q, 0, m.start()))

        def named(sentence: str) -> bool:
            if duty and _HOLDER_RE.search(sentence):
                return True
            return bool(_FOREIGN_NAME_RE.search(sentence)) or any(True for _ in person_names(sentence))

        return Fact("name", "具体人名", named, m.group(0))
    if m := _DURATION_RE.search(q):
        return Fact("duration", "具体时长", _DURATION_EVIDENCE.search, m.group(0))
    if m := _AMOUNT_RE.search(q):
        return Fact("amount", "具体数字", re.compile(_NUMBER + "|%").search, m.group(0))
    return None


def is_person_name(word: str, flag: str) -> bool:
    """A part-of-speech tagger's person name that looks like one: jieba tags common words such as
    文明 or 楼栋 ``nr`` too, so a Chinese name must start with a common surname."""
    if flag not in ("nr", "nrt", "nrfg") or not 2 <= len(word) <= 4 or _CN_NUMERAL_RE.search(word):
        return False
    return flag == "nrt" or word[0] in SURNAMES or word.startswith(_COMPOUND_SURNAMES)


def _cn_year(year: str) -> str:
    return "".join("〇一二三四五六七八九"[int(d)] for d in year)


def support(query: str, fact: Fact, passages: Iterable[tuple[str, str]], weights: dict[str, float]) -> float:
    """How well the best sentence stating ``fact`` covers the question, relative to the best
    sentence overall (0 when no sentence states it). ``passages`` are (text, what the document
    says about its date: year and title); ``weights`` the question's terms by idf. A sentence is
    read with the one before it (“该站…。它有两条线路”). A year the question names (“2025年…”) must
    be the document's or the sentence's."""
    weights = {term: w for term, w in weights.items() if term not in fact.asking}
    total = sum(weights.values())
    if not total:
        return 1.0
    years = [(y, _cn_year(y)) for y in YEAR_RE.findall(normalize(query))]
    best_fact = best_any = 0.0
    for text, dated in passages:
        previous = ""
        for m in SENTENCE_RE.finditer(normalize(labelled_tables(text)).lower()):
            sentence = m.group(0)
            window = previous + sentence
            covered = sum(w for term, w in weights.items() if term in window) / total
            best_any = max(best_any, covered)
            if covered > best_fact and fact.present(sentence):
                if all(y in dated or y in window or cn in window for y, cn in years):
                    best_fact = covered
            previous = sentence
    return best_fact / best_any if best_any else 0.0


_NUMBER_CELL_RE = re.compile(r"\d[\d.]*")


def labelled_tables(text: str) -> str:
    """``text`` with each table row (cells joined by `` | ``) read with its table's header, one
    sentence per row: “测试一社区 | 8” under “社区 | 网格数” becomes “社区：测试一社区，网格数：8个。”, so a
    count in a column whose header counts something (…数) states a count."""
    lines, header, out = text.split("\n"), None, []
    for line in lines:
        cells = [c.strip() for c in line.split("|")] if " | " in line else None
        if cells is None:
            header = None
            out.append(line)
        elif header is None or len(cells) != len(header):
            header = cells
            out.append(line)
        else:
            out.append(
                "，".join(
                    f"{h}：{c}" + ("个" if h.endswith("数") and _NUMBER_CELL_RE.fullmatch(c) else "")
                    for h, c in zip(header, cells)
                )
                + "。"
            )
    return "\n".join(out)
