"""Follow-up questions resolved against the turns before them, without a language model.

A turn is a dict as a conversation stores it (``conversation.py``): ``question``, ``resolved``
(the question as understood, or ``None``), ``answer``, ``layout`` and ``citations`` (each with
``title`` and ``section_path``). ``resolve(question, turns)`` carries the topic of the turns since
the last question that stood alone into the new one:

- a pronoun or demonstrative (它、这个、该、这项工作、这个方法) → the topic: the method or quoted
  name of the latest turn that has one, else the subject of the question that opened the topic;
  “这份报告” → the document of the last answer, “这部分” → its section;
- an ordinal reference to the last list (第三项、第3条、最后一条、前两个) → the item text(s), in
  order, of the latest answer that listed items (a list answer's lines, 一是…二是…, or 、-lists);
- ellipsis: “2023年的呢？” → the last question with its year replaced; “那存在问题呢？” → topic +
  存在问题; a question without its own subject (“效果怎么样？”、“具体怎么做？”) → topic + question.

A question with a subject of its own (its own method, document or topic words) and none of these
cues stands alone: it is left as asked, and starts the topic of the turns after it.

With a chat model, ``resolve_with`` lets the model rewrite a follow-up (never a standalone
question) and keeps the rewrite only when it contains one of the conversation's topic terms.
Measured on ``evals/conversations.jsonl`` (``dangjian eval conversations``; see evals/REPORT.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .ingest.patterns import CN_COUNT, cn_to_int
from .text import normalize

Turn = dict[str, Any]

_MARKER_RE = re.compile(r"\[\d+\]")
_YEAR_RE = re.compile(r"(?:19|20)\d{2}年")
_QUOTED_RE = re.compile(r"[“「『\"《]([^”」』\"》]{2,30})[”」』\"》]")
# Words that open a follow-up without saying anything (“那”, “那么”, “还有”, “请问”).
_OPENER_RE = re.compile(r"^(?:那么|那|还有|另外|再问一下|请问|再说说|说说)[，,、]?")
_NUM = rf"[{CN_COUNT}\d]+"
_UNIT = r"(?:件事|大任务|大项|部分|方面|项|条|个|点|件|类|种|步)"
_ORDINAL_RE = re.compile(rf"第({_NUM}){_UNIT}|最后(?:一)?{_UNIT}|(前|后)({_NUM}){_UNIT}")
_DEMONSTRATIVE = r"(?:这个|那个|这项|那项|这一|这种|这套|这些|那些|这条|(?<!应)该(?!怎|如|是|不|有|去|做|咋)|这(?![样里么次儿时边些位]))"
_DOC_NOUN = r"(?:报告|文件|材料|文章|文档|计划|总结|党章|章程)"
_SECTION_NOUN = r"(?:部分|一块|块|方面|一段|段|章节|一章|一节)"
_TOPIC_NOUN = r"(?:工作法|方法|机制|做法|工作|活动|品牌|模式|项目|制度|措施|规定|举措|经验|理念|工程|平台|专区|要求|任务|目标|行动)"
_REFERENCE_RE = re.compile(
    rf"(?P<doc>{_DEMONSTRATIVE}(?:份|篇|个)?{_DOC_NOUN})|(?P<section>(?<![^在对从就，,]){_DEMONSTRATIVE}{_SECTION_NOUN})"
    rf"|(?P<topic>(?!这[块方部]){_DEMONSTRATIVE}{_TOPIC_NOUN}?|它们|它)"
)
_YEAR_ONLY_RE = re.compile(
    r"^((?:19|20)\d{2})年?(?:的|呢|的呢|怎么样|的情况呢|情况呢|又如何|如何|的怎么样)*[？?。！!]*$"
)
_ELLIPSIS_RE = re.compile(r"^(?P<x>[^，,？?。呢]{1,12})呢[？?。]*$")
# Where a question's subject ends: the predicate or the question word.
_PREDICATE_RE = re.compile(
    r"是什么|是指|是哪|是不是|是否|是怎么|是谁|是个|(?<![享拥具占])有(?:哪|什么|啥|没有|多少|无)|包括|包含|分为|怎么|怎样|如何|具体|"
    r"取得|存在|主要|都有|都是|都要|要求|需要|应当|应该|在哪|哪些|哪几|哪个|哪|什么|多少|几[个项条种类大方年名次]|为什么|"
    r"为何|效果|成效|情况|进展|定了|提了|讲了|提到|说了|说的|由谁|谁|何时|多久|多长|哪天|哪年|什么时候|呢|吗|么|？|\?"
)
# A subject made only of these asks about no topic of its own (“具体效果”, “主要问题”).
_ASPECT_RE = re.compile(
    r"效果|成效|成绩|存在|问题|短板|不足|做法|措施|经验|亮点|目标|任务|安排|打算|计划|意义|作用|要求|内容|原因|背景|"
    r"进展|情况|特点|难点|困难|下一步|具体|详细|主要|其他|其它|还|都|又|再|一下|那么|那|的|了|在|里|中|上|对|年|，|,|\s"
)
_SUBJECT_TRIM = "的在里中上对要和与把将给让被从是"
# Verbs that ask without a subject when nothing else precedes the question word (“采取哪几种方式”).
_VERB_RE = re.compile(
    r"采取|采用|开展|推进|解决|安排|落实|实施|做|干|搞|抓|学|选|派|用|讲|提|定|发|建|管|过|了|会|能|可以"
)
_TRAILING_VERB_RE = re.compile(r"(?:采取|采用|开展|推进|解决|安排|落实|实施|走|做|干|搞|抓|学|选|派|用)了?$")
_TOPIC_MARKER_RE = re.compile(r"(?<=.)(?:这|那)(?:一)?(?:块|方面|部分)$")
_ABOUT_RE = re.compile(r"^(?:对于|对|关于|针对)")
MAX_ITEM_CHARS = 30


@dataclass
class Resolution:
    """The question as understood: ``text`` (the question itself when nothing was carried) and
    ``cue``, what made it a follow-up (``pronoun``, ``ordinal``, ``year``, ``ellipsis``,
    ``bare``) or ``None`` for a question that stands alone."""

    text: str
    cue: str | None = None
    topic: str = ""

    @property
    def resolved(self) -> bool:
        return self.cue is not None and self.text != ""


@dataclass
class Context:
    """What the turns since the last question that stood alone are about."""

    topic: str = ""  # the method or quoted name, else the subject of the opening question
    question: str = ""  # the last question as understood
    document: str = ""  # the title of the last answer's first citation
    section: str = ""  # the section the last answer quotes (its citations' common heading)
    items: tuple[str, ...] = ()  # the last list, in order

    def terms(self) -> list[str]:
        """What a rewrite of a follow-up must keep one of (``llm_rewrite``)."""
        return [t for t in (self.topic, self.document, self.section, *self.items) if t]


def understood(turn: Turn) -> str:
    return turn.get("resolved") or turn.get("question") or ""


def context_of(turns: Sequence[Turn], names: Iterable[str] = ()) -> Context:
    """The context the next question reads (``names``: the normalised method names a question
    may mention, longest first, as the searcher boosts them)."""
    if not turns:
        return Context()
    names = list(names)
    chain: list[Turn] = []
    for turn in reversed(turns):  # back to (and including) the turn that opened the topic
        chain.append(turn)
        if not turn.get("resolved"):
            break
    last = turns[-1]
    topic = next((p for t in chain for p in phrases(understood(t), names)[:1]), "")
    if not topic:
        topic = next((s for t in reversed(chain) if (s := subject(understood(t)))), "")
    section = answer_section(last)
    # “第四项呢？” after “第一项具体要干哪几件事？” counts in the same list as “第一项” did
    listing = [t for t in chain if not (t.get("resolved") and _ORDINAL_RE.search(t.get("question") or ""))]
    items = next((found for t in listing if len(found := list_items(t)) >= 2), [])
    citations = last.get("citations") or []
    return Context(
        topic=topic or section,
        question=understood(last),
        document=document_name(citations[0].get("title", "")) if citations else "",
        section=section,
        items=tuple(items),
    )


def resolve(question: str, turns: Sequence[Turn], names: Iterable[str] = ()) -> Resolution:
    """``question`` as understood after ``turns`` (see the module's docstring)."""
    question = question.strip()
    if not turns:
        return Resolution(question)
    names = list(names)
    ctx = context_of(turns, names)
    if not ctx.question:
        return Resolution(question)
    body = _OPENER_RE.sub("", question)

    year = _YEAR_ONLY_RE.match(body)
    if year:
        return _resolved(_with_year(ctx.question, year.group(1)), "year", ctx)

    own = phrases(body, names)
    ellipsis = _ELLIPSIS_RE.match(body)
    if ellipsis:
        x = _TOPIC_MARKER_RE.sub("", ellipsis.group("x")).rstrip("的")  # 党员教育这块 → 党员教育
        x, _ = _references(x, ctx)  # 第四项呢？ → its item
        if own and ctx.topic and ctx.topic in ctx.question:  # 那六百工作法呢？ → the last question about it
            return _resolved(ctx.question.replace(ctx.topic, own[0], 1), "ellipsis", ctx)
        if _ASPECT_RE.sub("", x):  # 那党支部呢？ → the last question, asked of 党支部
            head = subject(ctx.question, trim=False)
            if head and ctx.question.startswith(head):
                years = "".join(y for y in _YEAR_RE.findall(head) if y not in x)
                return _resolved(years + x + ctx.question[len(head) :], "ellipsis", ctx)
        if ctx.topic:  # 那存在问题呢？ → the topic's
            return _resolved(f"{ctx.topic}{x}有哪些？" if len(x) <= 8 else f"{ctx.topic}{x}？", "ellipsis", ctx)

    text, cue = _references(body, ctx)
    if cue:
        return _resolved(text, cue, ctx)
    if own or not ctx.topic:
        return Resolution(question)
    if _bare(body):
        return _resolved(ctx.topic + body, "bare", ctx)
    if _ABOUT_RE.match(body):  # 对城市社区党建有什么要求？ → what the document in focus says
        return _resolved((ctx.document or ctx.topic) + body, "bare", ctx)
    return Resolution(question)


def _resolved(text: str, cue: str, ctx: Context) -> Resolution:
    text = text.strip()
    if text and text[-1] not in "？?。！!":
        text += "？"
    return Resolution(text, cue, ctx.topic)


def _references(body: str, ctx: Context) -> tuple[str, str | None]:
    """``body`` with its ordinals and pronouns replaced by what they refer to."""
    cue = None
    text = body
    if ctx.items:

        def item(m: re.Match) -> str:
            nonlocal cue
            chosen = _ordinal_items(m, list(ctx.items))
            if not chosen:
                return m.group(0)
            cue = "ordinal"
            return "、".join(chosen)

        text = _ORDINAL_RE.sub(item, text)

    def ref(m: re.Match) -> str:
        nonlocal cue
        if m.group("doc"):
            target = ctx.document or ctx.topic
            noun = re.search(_DOC_NOUN + "$", m.group(0))
            if ctx.document and noun and not re.search(_DOC_NOUN + "$", target):
                target += noun.group(0)  # 这个报告 → 二十大报告
        elif m.group("section"):
            target = ctx.section or ctx.topic
        else:
            target = ctx.topic
        if not target:
            return m.group(0)
        cue = cue or "pronoun"
        return target

    if cue != "ordinal":  # “第三项的牵头单位”: the item is the subject; 该 etc. then refer to it
        text = _REFERENCE_RE.sub(ref, text)
    return text, cue


def _ordinal_items(m: re.Match, items: list[str]) -> list[str]:
    whole = m.group(0)
    if whole.startswith("最后"):
        return items[-1:]
    if m.group(2):  # 前两个 / 后两项
        n = _number(m.group(3))
        if not n:
            return []
        return items[:n] if m.group(2) == "前" else items[-n:]
    n = _number(m.group(1))
    return [items[n - 1]] if n and 1 <= n <= len(items) else []


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text in ("两", "俩"):
        return 2
    try:
        return cn_to_int(text)
    except (KeyError, ValueError):
        return None


def _with_year(question: str, year: str) -> str:
    if _YEAR_RE.search(question):
        return _YEAR_RE.sub(f"{year}年", question)
    return f"{year}年{question}"


def _bare(body: str) -> bool:
    """Whether a question names no subject of its own (“效果怎么样？”, “存在什么问题？”,
    “采取哪几种方式？”)."""
    return not _VERB_RE.sub("", _ASPECT_RE.sub("", subject(body, trim=False)))


def subject(question: str, *, trim: bool = True) -> str:
    """What a question asks about: its words before the predicate or question word
    (“物业管理十联工作法包括哪些内容？” → “物业管理十联工作法”); ``trim``: without a year-only or
    aspect-only remainder."""
    body = _OPENER_RE.sub("", question.strip())
    m = _PREDICATE_RE.search(body)
    head = (body[: m.start()] if m else body).strip("，,。 ").rstrip(_SUBJECT_TRIM)
    if trim:
        for _ in range(2):  # “党员培训采取” → “党员培训”, “入党要走” → “入党”
            head = _TRAILING_VERB_RE.sub("", head).rstrip(_SUBJECT_TRIM)
        if not _ASPECT_RE.sub("", _YEAR_RE.sub("", head)):
            return ""
    return head


def phrases(text: str, names: Iterable[str]) -> list[str]:
    """The quoted names and method names ``text`` mentions, in the order found."""
    norm = normalize(text).lower()
    found = [m.group(1) for m in _QUOTED_RE.finditer(text)]
    for name in names:
        if name in norm and not any(name in normalize(f).lower() for f in found):
            start = norm.index(name)
            found.append(text[start : start + len(name)] if len(text) == len(norm) else name)
    return found


def document_name(title: str) -> str:
    """A document as a question names it: its short alias (“二十大”) when it has one, else its
    title without brackets and quotes."""
    from .index.query import doc_aliases, title_name

    aliases = sorted(doc_aliases(title), key=len)
    return aliases[0] if aliases else title_name(title) or title


def answer_section(turn: Turn) -> str:
    """The heading of the section the turn's answer quotes: the deepest heading its citations
    share, without its numbering (“三、2023年工作谋划” → “2023年工作谋划”)."""
    paths = [c.get("section_path") or [] for c in turn.get("citations") or []]
    if not paths:
        return ""
    common = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(common), len(path)) and common[n] == path[n]:
            n += 1
        common = common[:n]
    return _clean_item(common[-1]) if common else ""


_NUMBERING_RE = re.compile(
    rf"^\s*(?:[（(][{CN_COUNT}\d]+[）)]|[{CN_COUNT}]+[、是]|\d+[.、．)）]|第[{CN_COUNT}\d]+[章节条项]\s*)\s*"
)
_ROW_RE = re.compile(r"^[^：:，,]{1,6}[：:]\s*\d+[，,]\s*[^：:，,]{1,8}[：:]\s*([^，,。]+)")
_ENUMERATION_RE = re.compile(r"[^、，。；：“”\n]{1,12}(?:、[^、，。；：“”\n]{1,12}){2,}")
_SHI_RE = re.compile(rf"(?:^|[。；;\n])\s*[{CN_COUNT}]是([^。；;\n]+)")


def _clean_item(text: str) -> str:
    text = _NUMBERING_RE.sub("", _MARKER_RE.sub("", text)).strip().strip("。；;：:")
    row = _ROW_RE.match(text)
    if row:  # a table row as a list line: “序号：1，项目：小区党支部标准化建设，…” → its first named cell
        text = row.group(1)
    if len(text) > MAX_ITEM_CHARS:
        text = re.split(r"[，,。；;：:]", text)[0]
    return text


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")] if "|" in line else []


def list_items(turn: Turn) -> list[str]:
    """The items the turn's answer lists, in order: the lines of a list answer, else its
    一是…二是… parts, else its longest 、-separated enumeration of three or more."""
    if turn.get("abstained"):
        return []
    answer = _MARKER_RE.sub("", turn.get("answer") or "")
    if turn.get("layout") == "list":
        return [item for line in answer.splitlines()[1:] if (item := _clean_item(line))]
    rows = [cells[1] for line in answer.splitlines() if len(cells := _cells(line)) >= 2 and cells[0].isdigit()]
    if len(rows) >= 2:  # a table's numbered rows: 序号 | 项目 | …
        return rows
    parts = [_clean_item(m.group(1)) for m in _SHI_RE.finditer(answer)]
    if len(parts) >= 2:
        return parts
    enumerations = [m.group(0) for m in _ENUMERATION_RE.finditer(answer)]
    if not enumerations:
        return []
    longest = max(enumerations, key=lambda e: e.count("、"))
    return [part.strip() for part in longest.split("、") if part.strip()]


REWRITE_PROMPT = (
    "你负责把对话中的追问改写成一个完整、独立的问题，供检索公文使用。"
    "把代词、序号（第三项、最后一条）和省略的内容换成前文所指的具体词语，不要回答问题，不要添加前文没有的内容。"
    "只输出改写后的一句问题。"
)


def llm_rewrite(model, question: str, turns: Sequence[Turn], ctx: Context) -> str | None:
    """A language model's rewrite of a follow-up, kept only when it keeps one of the
    conversation's topic terms (``Context.terms``) and is a single short question; ``None``
    otherwise or when the model fails (the rule-based resolution is used then)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    history = "\n".join(
        f"问：{understood(t)}\n答：{_MARKER_RE.sub('', t.get('answer') or '')[:300]}" for t in turns[-3:]
    )
    try:
        reply = model.invoke([SystemMessage(REWRITE_PROMPT), HumanMessage(f"{history}\n\n追问：{question}")])
    except Exception:  # noqa: BLE001 - the rule-based resolution stands
        return None
    text = (reply.content if isinstance(reply.content, str) else str(reply.content)).strip().splitlines()
    rewrite = text[0].strip().strip('“”"') if text else ""
    if not rewrite or len(rewrite) > 200:
        return None
    squash = normalize(rewrite).lower()
    if not any(normalize(term).lower() in squash for term in ctx.terms()):
        return None
    return rewrite


def resolve_with(question: str, turns: Sequence[Turn], names: Iterable[str] = (), model=None) -> Resolution:
    """``resolve``, and with a chat ``model`` its rewrite of a follow-up (checked by
    ``llm_rewrite``); a question that stands alone is never sent to the model."""
    names = list(names)
    found = resolve(question, turns, names)
    if model is None or not found.resolved:
        return found
    rewrite = llm_rewrite(model, question, turns, context_of(turns, names))
    return Resolution(rewrite, "model", found.topic) if rewrite else found


def ask_followup(kb, question: str, turns: Sequence[Turn], *, k: int = 5, filters=None, model=None, searcher=None):
    """``kb.ask`` for ``question`` as understood after ``turns``: ``(answer, resolution)``;
    the answer is the one to the resolved question (``answer.question``)."""
    searcher = searcher or kb.searcher()
    found = resolve_with(question, turns, searcher.boost_names, model)
    asked = found.text if found.resolved else question
    answer = kb.ask(asked, k=k, filters=filters, model=model, searcher=searcher)
    return answer, found
