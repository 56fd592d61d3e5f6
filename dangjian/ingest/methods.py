"""Named working methods, mechanisms and brands a document describes, found at ingest.

A *method* is a name a worker could apply or copy elsewhere: a 工作法 (“物业管理十联工作法”), a
机制 (“方向引领机制”), a numbered formula (“两手抓”, “七个一”, 五共理念) or the brand of an activity,
place or platform (“书记沙龙”, “初心驿站”, “湾组夜话”). Slogans, goals and ordinary quoted words
(“新篇章”, “小切口”, “两委”) are not. A quoted phrase is taken when

- it ends with a method word (工作法, 机制, 驿站, 沙龙, …) after at least two characters of its own;
- it is a numbered formula (a numeral, a word, then a numeral again or a counted unit: 五融四零,
  一社一品, 十联, 七个一, 两手抓);
- the words right after it (past a list of further quoted names and 等) name a kind of method:
  “党建＋典型在现场”线下活动, “湾组夜话”、“幸福石墩会”等群众议事决策平台; or
- the document quotes it at least twice (a coined name is quoted every time it is used).

Unquoted, a numbered formula ending with a method word counts too (“（三）五共理念深入人心”).

For a name that promises a count (十联 → 10, 七个一 → 7, 两手抓 → 2) the list that defines it is
looked for next to a mention: a 、-separated list just before it (“组织联建、…、发展联促”的“物业管理
十联工作法”; “选派一个…、建设一个党群服务站等“七个一””) or right after it, or clauses after it
that repeat one opening (“一手抓…，一手抓…”). Every component keeps its offsets in the text.

A method's first ``MAX_MENTIONS`` mentions in a document are kept (a compilation repeating one
report thousands of times would otherwise cost time and space for nothing).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from ..schema import Document, Section
from .patterns import CN_COUNT, METHOD_WORDS, cn_to_int, quoted_re
from .structure import section_at

_NUMERAL = CN_COUNT
_QUOTED_RE = quoted_re(2, 16)
_NAME_CHARS_RE = re.compile(r"^[0-9A-Za-z\u3400-\u9fff＋+·、‘’]+$")
# Words after a quoted name that say what kind of thing it names.
_KIND_WORDS = ("活动", "工作法", "机制", "工程", "模式", "平台", "专区", "阵地", "品牌", "理念", "示范")
_COUNTED_RE = re.compile(rf"([{_NUMERAL}]+)(个|联|项|条|种|手|好|共|化|心|必须|要|不)")
_UNQUOTED_RE = re.compile(rf"(?<![\u4e00-\u9fff])([{_NUMERAL}][\u4e00-\u9fff]{{1,3}}(?:工作法|理念|机制|模式))")
_LIST_ITEM = r"[^、，。；：“”\n]{2,16}"
_LIST_BEFORE_RE = re.compile(rf"{_LIST_ITEM}(?:、{_LIST_ITEM})+(?:等)?$")
_SENTENCE_END = "。！？；\n"
MAX_MENTIONS = 20  # per method and document: a card cites where it is named, not every repetition


@dataclass
class Component:
    text: str
    start: int
    end: int


@dataclass
class Mention:
    """One place a document names the method: the sentence around it and its section path."""

    start: int
    end: int
    sentence_start: int
    sentence_end: int
    quote: str  # the sentence, verbatim: text[sentence_start:sentence_end]
    section_path: list[str] = field(default_factory=list)


@dataclass
class DocumentMethod:
    name: str
    kind: str
    count: int | None  # what the name promises (十联 → 10), if anything
    components: list[Component]
    mentions: list[Mention]
    defined_at: int  # index into ``mentions`` of the mention the components sit next to (or the first)
    results: list[Mention] = field(default_factory=list)  # sentences stating what it achieved
    problems: list[Mention] = field(default_factory=list)  # sentences naming the problems it addresses
    places: list[Component] = field(default_factory=list)  # units named where it is mentioned (示例社区)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "components": [vars(c) for c in self.components],
            "mentions": [vars(m) for m in self.mentions],
            "defined_at": self.defined_at,
            "results": [vars(m) for m in self.results],
            "problems": [vars(m) for m in self.problems],
            "places": [vars(c) for c in self.places],
        }


# A sentence at or after a mention, in the same section, that states a result, or names a problem
# being solved (解决…问题, 破解…难题).
_RESULT_RE = re.compile(r"荣获|获评|评为|获得|提升到|提高到|提升至|提高至|下降|增长|实现了|满意度|成效|被纳入|全覆盖")
_SOLVING_RE = re.compile(r"解决|破解|化解|针对|应对|缓解")
_PROBLEM_RE = re.compile(r"问题|难题|矛盾|短板|困难|[^，。、]{1,2}难[、，。等]")
CONTEXT_SENTENCES = 3
# A unit named in a sentence about a method: “示例社区” after a punctuation mark, or a redacted
# “***社区” (redacted names stay redacted). Verbs and quantifiers before 社区 make no name.
_PLACE_RE = re.compile(
    r"(?:(?<=[，。；：、“”（）\s])|^)([\u4e00-\u9fff]{2,4}|[*＊]{2,})(社区|街道|小区|村|商圈|党支部)", re.M
)
_NOT_A_NAME = re.compile(
    r"^(?:走进|推动|推进|实施|完成|明确|制定|例如|建设|打造|深入|服务|开展|加强|全面|各个|所有|每个|以及|其他|示范)|[等各全每和与及的做好]"
)


def _places(text: str, mentions: list[Mention]) -> list[Component]:
    found: dict[str, Component] = {}
    for mention in mentions:
        for m in _PLACE_RE.finditer(text, mention.sentence_start, mention.sentence_end):
            if not _NOT_A_NAME.search(m.group(1)):
                found.setdefault(m.group(0), Component(m.group(0), m.start(), m.end()))
    return list(found.values())


def _outcomes(text: str, sections: list[Section], mentions: list[Mention]) -> tuple[list[Mention], list[Mention]]:
    results: dict[int, Mention] = {}
    problems: dict[int, Mention] = {}
    for mention in mentions:
        start = mention.sentence_start
        for _ in range(CONTEXT_SENTENCES):
            if start >= len(text):
                break
            s, e = _sentence(text, start, start)
            if e <= s or section_at(sections, s).path != mention.section_path:
                break
            sentence = Mention(s, e, s, e, text[s:e], mention.section_path)
            if _RESULT_RE.search(sentence.quote):
                results.setdefault(s, sentence)
            elif _SOLVING_RE.search(sentence.quote) and _PROBLEM_RE.search(sentence.quote):
                problems.setdefault(s, sentence)
            start = e
            while start < len(text) and text[start] in _SENTENCE_END + " \u3000":
                start += 1
    return list(results.values()), list(problems.values())


def promised_count(name: str) -> int | None:
    """The count a numbered name promises: 物业管理十联工作法 → 10, 七个一 → 7, 两手抓 → 2."""
    m = _COUNTED_RE.search(name)
    return cn_to_int(m.group(1)) if m else None


def counted_words(name: str) -> str:
    """What a numbered name counts: 六个必须坚持 → 必须坚持 ("" for a name without a count)."""
    m = _COUNTED_RE.search(name)
    return name[m.end() :] if m else ""


_KINDS = ("工作法", "机制", "理念", "模式", "工程", "平台", "活动", "专区")


def method_kind(name: str, after: str = "") -> str:
    """What a name names: its own last word (工作法, 机制, …), else the kind the text gives it right
    after (“以奖代补”激励机制 → 机制), else 提法 for a numbered formula and 品牌 for the rest."""
    for word in _KINDS:
        if name.endswith(word):
            return word
    if after:
        for word in _KINDS:
            if word in after:
                return word
    return "提法" if _is_numbered(name) else "品牌"


def aliases(name: str) -> list[str]:
    """Shorter names the text may use for ``name``: 物业管理十联工作法 → 十联工作法, 十联;
    五融四零工作法 → 五融四零; 五共理念 → 五共."""
    found = []
    body = _body(name)
    if body and _is_numbered(body, shortest=2):
        found.append(body)
    m = _COUNTED_RE.search(name)
    if m and m.start() > 0:
        found.append(name[m.start() :])
    if m and m.group(0) != name and name[m.end() :] in METHOD_WORDS:
        found.append(m.group(0))
    return [a for a in dict.fromkeys(found) if a != name]


def _body(name: str) -> str | None:
    """``name`` without the method word it ends with (物业管理十联工作法 → 物业管理十联), if any."""
    return next((name[: -len(w)] for w in METHOD_WORDS if name.endswith(w)), None)


def _is_numbered(name: str, shortest: int = 3) -> bool:
    if len(name) < shortest or name[0] not in _NUMERAL:
        return False
    return bool(_COUNTED_RE.match(name)) or any(ch in _NUMERAL for ch in name[1:])


def _kind_after(text: str, end: int) -> str:
    """The words after a quoted name (past further quoted names and 等) when they name a kind of
    method (“党建＋典型在现场”线下活动), else ``""``."""
    rest = text[end : end + 40]
    rest = re.sub(r"^(?:、“[^“”\n]{1,16}”)*等?", "", rest)
    words = re.match(r"[\u4e00-\u9fff]{1,10}", rest)
    if words and (words.group(0).startswith(_KIND_WORDS) or words.group(0).endswith(_KIND_WORDS)):
        return words.group(0)
    return ""


def _accepts(name: str, text: str, end: int, quoted_times: int) -> bool:
    if not _NAME_CHARS_RE.match(name) or len(name) < 3:
        return False
    body = _body(name)
    if body is not None and len(body) >= 2:
        return True
    return _is_numbered(name) or bool(_kind_after(text, end)) or quoted_times >= 2


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    s = start
    while s > 0 and text[s - 1] not in _SENTENCE_END:
        s -= 1
    e = end
    while e < len(text) and text[e] not in _SENTENCE_END:
        e += 1
    if e < len(text) and text[e] != "\n":
        e += 1
    while s < e and text[s].isspace():
        s += 1
    return s, e


_LEADING_RE = re.compile(r"^(?:按照|通过|围绕|坚持|包括|推行|探索|实行|开展|即)")


def _split_items(text: str, start: int, end: int) -> list[Component]:
    lead = _LEADING_RE.match(text[start:end])
    if lead:
        start += lead.end()
    items, pos = [], start
    for piece in text[start:end].split("、"):
        items.append(Component(piece, pos, pos + len(piece)))
        pos += len(piece) + 1
    if items and items[-1].text.endswith("等"):
        last = items[-1]
        items[-1] = Component(last.text[:-1], last.start, last.end - 1)
    return [c for c in items if c.text]


def _components(text: str, mention: Mention, quote_start: int, quote_end: int, name: str) -> list[Component]:
    """The list defining ``name`` next to this mention, if there is one."""
    count = promised_count(name)
    unit = _COUNTED_RE.search(name).group(2) if count else ""
    candidates: list[list[Component]] = []
    # Just before: “A、B、C”的“name”, or A、B、C等“name”.
    head = text[mention.sentence_start : quote_start]
    head = re.sub(r"(?:”的|的|”)?“?$", "", head)
    m = _LIST_BEFORE_RE.search(head)
    if m:
        begin = mention.sentence_start + m.start()
        inner = text[begin : mention.sentence_start + m.end()]
        if inner.startswith("“"):
            begin += 1
        candidates.append(_split_items(text, begin, mention.sentence_start + m.end()))
    # Just after: “name”：A、B、C  or  “name”，一手抓…，一手抓…
    tail_start = quote_end
    tail = text[tail_start : mention.sentence_end]
    m = re.match(rf"[”]?[，：:即是为]{{0,2}}({_LIST_ITEM}(?:、{_LIST_ITEM})+)", tail)
    if m:
        candidates.append(_split_items(text, tail_start + m.start(1), tail_start + m.end(1)))
    m = re.match(r"[”]?，", tail)
    if m:
        clauses, pos = [], tail_start + m.end()
        for piece in re.split(r"(?<=，)", text[pos : mention.sentence_end]):
            clean = piece.rstrip("，。；")
            clauses.append(Component(clean, pos, pos + len(clean)))
            pos += len(piece)
        opening = clauses[0].text[:3] if clauses else ""
        same = [c for c in clauses if len(opening) == 3 and c.text.startswith(opening)]
        if len(same) >= 2:
            candidates.append(same)
    best: list[Component] = []
    for items in candidates:
        if unit and len(unit) == 1 and unit not in "个项条种" and not all(unit in c.text for c in items):
            continue  # 十联's items each have 联
        if count and len(items) == count:
            return items
        if len(items) > len(best):
            best = items
    return best if count else []


def find_methods(doc: Document, sections: list[Section]) -> list[DocumentMethod]:
    """The methods ``doc`` names, in order of first mention, with every mention (of the name or
    an alias) and the components next to the mention that lists them."""
    text = doc.text
    quoted: dict[str, list[tuple[int, int]]] = {}  # name -> (start, end) of its first quotings
    times: dict[str, int] = {}
    for m in _QUOTED_RE.finditer(text):
        name = m.group(1).strip()
        times[name] = times.get(name, 0) + 1
        if times[name] <= MAX_MENTIONS:
            quoted.setdefault(name, []).append(m.span())
    names: dict[str, int] = {}
    after: dict[str, str] = {}
    for name, spans in quoted.items():
        if any(_accepts(name, text, end, times[name]) for _, end in spans):
            names[name] = spans[0][0]
            after[name] = next((k for _, end in spans if (k := _kind_after(text, end))), "")
    for m in _UNQUOTED_RE.finditer(text):
        name = m.group(1)
        if name not in names and not any(name in other for other in names):
            names[name] = m.start()
    found = []
    for name in sorted(names, key=names.__getitem__):
        forms = sorted([name, *aliases(name)], key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(f) for f in forms))
        mentions = []
        for m in itertools.islice(pattern.finditer(text), MAX_MENTIONS):
            s, e = _sentence(text, m.start(), m.end())
            mentions.append(Mention(m.start(), m.end(), s, e, text[s:e], list(section_at(sections, m.start()).path)))
        count = promised_count(name)
        components: list[Component] = []
        defined_at = 0
        if count:
            for i, mention in enumerate(mentions):
                quote_start = mention.start - (text[mention.start - 1 : mention.start] == "“")
                quote_end = mention.end + (text[mention.end : mention.end + 1] == "”")
                items = _components(text, mention, quote_start, quote_end, name)
                if len(items) > len(components) and (len(components) != count):
                    components, defined_at = items, i
        results, problems = _outcomes(text, sections, mentions)
        kind = method_kind(name, after.get(name, ""))
        places = _places(text, mentions)
        found.append(DocumentMethod(name, kind, count, components, mentions, defined_at, results, problems, places))
    return _without_fragments(found)


def _without_fragments(methods: list[DocumentMethod]) -> list[DocumentMethod]:
    """A name found only inside a longer found name (十联工作法 inside 物业管理十联工作法) is an alias,
    not a method of its own."""
    kept = []
    for method in methods:
        longer = [o for o in methods if o is not method and method.name in o.name]
        if longer and all(
            any(o_m.start <= m.start and m.end <= o_m.end for o in longer for o_m in o.mentions)
            for m in method.mentions
        ):
            continue
        kept.append(method)
    return kept
