"""What each section of a report is for — its *role* — and the year it speaks of.

Roles (``ROLES``): 完成情况 (what was done), 主要做法 (how), 成效 (results), 特色亮点 (highlights),
存在问题, 原因, 工作谋划 (plans), 经验启示, 基本情况; ``""`` when neither the heading nor the text
says (a charter's 第三条, a law's chapter).

A section's role comes from its own heading first (“二、存在问题”, “三、2023年工作谋划”), then from
its parent (“（一）突出政治引领…” under a plan is a plan), then from its text where the heading is
silent (a paragraph of 将/要/进一步 is a plan; one of 不足/薄弱/短板 a problem). The year is the one
its heading names (“2023年工作谋划” → 2023, also 一九五八年), else its parent's, else what the
document's title implies: a 2022 report's review speaks of 2022 and its plan of 2023.

Used at ingest (``describe``: stored on sections and passages), by ``inspect``, by the ``roles``
search filter and by drafts (``dangjian.draft``). Accuracy on 120 hand-labelled sections of the
seed corpus and ``party_gov``: ``evals/section_roles.jsonl`` (``dangjian eval``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import DangjianError
from ..schema import Document, Passage, Section

ROLES = ("完成情况", "主要做法", "成效", "特色亮点", "存在问题", "原因", "工作谋划", "经验启示", "基本情况")
REVIEW_ROLES = ("完成情况", "主要做法", "成效", "特色亮点", "存在问题", "原因", "经验启示", "基本情况")

# Heading words, most specific first: the first rule whose pattern the heading matches decides.
# “经验做法” is 经验启示 only when it says 启示/体会; “问题” beats everything (a 问题 heading that
# names 措施 is still about problems only when it does not announce 对策 — “存在问题及下步打算”
# counts as 存在问题, its plan half follows as text).
_HEADING_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("原因", r"原因|根源|症结"),
        (
            "存在问题",
            r"存在(?:的)?问题|问题(?:与|和|及)?(?:不足|挑战)|不足之处|短板|薄弱环节|困难(?:和|与)问题|差距|主要问题",
        ),
        ("经验启示", r"启示|体会|经验(?:总结)?$|几点经验|经验(?:与|和)"),
        ("完成情况", r"完成情况|工作回顾|回顾|执行情况|落实情况|进展情况|开展情况"),
        (
            "工作谋划",
            r"谋划|计划|打算|下一步|下步|思路|目标任务|工作任务|工作安排|工作要点|部署|展望|总体要求|"
            r"主要任务|重点工作|工作重点|今后|奋斗|努力方向|政策取向|预期目标|建议",
        ),
        ("主要做法", r"做法|举措|措施|方法|机制|路径|抓手"),
        ("成效", r"成效|成果|成绩|成就|胜利|效果|变化|取得"),
        ("特色亮点", r"(?<!中国)特色|亮点|品牌|典型"),
        ("完成情况", r"主要工作|工作总结|决算|过去(?:一|五|的)"),
        ("基本情况", r"基本情况|概况|简介|情况介绍|基本概况"),
    )
)
# Text cues for a heading that says nothing of its role: plans speak in the future, problems name
# shortcomings. Counted per sentence; a clear majority decides.
_PLAN_TEXT = re.compile(r"将|要|必须|力争|计划|争取|拟|今年|明年|下一步|下步")
_PAST_TEXT = re.compile(r"完成|实现|开展了|建成|取得|获得|累计|共计|同比|增长|达到|已经|已")
_PROBLEM_TEXT = re.compile(r"不足|不够|不均衡|单一|薄弱|短板|滞后|欠缺|不强|不高|不到位|缺乏|有待|差距")
YEAR_RE = re.compile(r"((?:19|20)\d{2})年|([一二三四五六七八九〇零○]{4})年")
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0"}


def years_in(text: str) -> list[int]:
    """The years a text names (“2023年”, “一九五八年”, full-width digits too), in order."""
    text = text.translate({0xFF10 + i: ord("0") + i for i in range(10)})
    out = []
    for m in YEAR_RE.finditer(text):
        digits = m.group(1) or "".join(_CN_DIGIT[c] for c in m.group(2))
        year = int(digits)
        if 1900 <= year <= 2100:
            out.append(year)
    return out


def heading_role(heading: str) -> str:
    """The role a heading names (“二、存在问题” → 存在问题), ``""`` when it names none. A heading
    joining two with 和/及/与 (“三、取得的成效和下一步打算”) has the one it names first, others the
    first rule's (“（一）党建品牌成效明显” is 成效, not 特色亮点); 原因 always wins
    (“问题产生的原因”)."""
    found = []
    joined = bool(re.search(r"[和及与]", heading))
    for order, (role, pattern) in enumerate(_HEADING_RULES):
        m = pattern.search(heading)
        if m:
            found.append((0 if role == "原因" else 1, m.start() if joined else 0, order, role))
    return min(found)[3] if found else ""


def text_role(text: str) -> str:
    """The role a section's text implies when its heading is silent: 存在问题 when most sentences
    name a shortcoming, 工作谋划 when plans outnumber deeds two to one, else ``""``."""
    sentences = [s for s in re.split(r"[。；！？\n]", text) if len(s.strip()) > 6]
    if not sentences:
        return ""
    problems = sum(bool(_PROBLEM_TEXT.search(s)) for s in sentences)
    plans = sum(bool(_PLAN_TEXT.search(s)) and not _PAST_TEXT.search(s) for s in sentences)
    past = sum(bool(_PAST_TEXT.search(s)) for s in sentences)
    if problems * 2 > len(sentences):
        return "存在问题"
    if plans >= 2 and plans >= 2 * past:
        return "工作谋划"
    return ""


def title_years(title: str) -> tuple[int | None, int | None]:
    """(the year a document reviews, the year it plans) by its title: “2022年…完成情况及2023年工作
    谋划” → (2022, 2023); “2022年…工作总结” → (2022, 2023); “2023年…计划” → (2022, 2023)."""
    years = years_in(title)
    if not years:
        return None, None
    first, last = min(years), max(years)
    if len(set(years)) > 1:
        return first, last
    if re.search(r"总结|完成情况|回顾", title):
        return first, first + 1
    if heading_role(title) == "工作谋划" or "报告" in title:  # a plan, or a report given early in its year
        return first - 1, first
    return first, first + 1


def assign_roles(doc: Document, sections: Sequence[Section]) -> None:
    """Set ``role`` and ``role_year`` of every section (the root keeps ``""`` unless its title
    names one); parents come before their children in ``sections``."""
    review_year, plan_year = title_years(doc.title)
    dated = str(doc.metadata.get("year") or doc.metadata.get("date") or "")[:4]
    if review_year is None and dated.isdigit():
        review_year, plan_year = int(dated) - 1, int(dated)
    kind = f"{doc.title} {doc.metadata.get('type', '')}"
    for section in sections:
        parent = sections[section.parent] if section.parent is not None else None
        if section.kind == "title":
            # A plan (“…2023年党员教育培训计划”, “工作要点”) is a plan throughout; a review's
            # title names several roles and gives none to its parts.
            plan = heading_role(doc.title) == "工作谋划" and not re.search(r"总结|完成情况|回顾|报告", doc.title)
            section.role, section.role_year = ("工作谋划", plan_year) if plan else ("", None)
            continue
        role = heading_role(section.heading)
        if (
            parent is not None
            and parent.role
            and (not role or section.kind == "item" or parent.role in ("存在问题", "原因"))
        ):
            role = parent.role  # 一是… under 存在问题 is a problem whatever words it uses
        if not role and parent is not None and parent.kind == "title" and re.search(r"经验|典型", kind):
            role = "主要做法"  # the silent parts of an experience report are its practices
        if not role:
            body = doc.text[section.heading_end : section.end]
            role = text_role(body[:2000])
        if parent is not None and parent.role == "工作谋划" and role in ("主要做法", "特色亮点", "成效"):
            role = "工作谋划"  # “（三）突出示范带动…着力做好‘新品牌’” under a plan is planned work
        section.role = role
        named = years_in(section.heading)
        if named:
            section.role_year = named[-1] if role == "工作谋划" else named[0]
        elif parent is not None and parent.role_year is not None and parent.kind != "title":
            section.role_year = parent.role_year
        elif role:
            section.role_year = plan_year if role == "工作谋划" else review_year
        else:
            section.role_year = None


def role_chain(sections: Sequence[Section], index: int) -> list[str]:
    """The roles of a section and its ancestors, nearest first (empty roles left out)."""
    out = []
    while index is not None and 0 <= index < len(sections):
        section = sections[index]
        if section.role:
            out.append(section.role)
        index = section.parent
    return out


def top_section(sections: Sequence[Section], index: int) -> Section:
    """The level-1 section (child of the root) holding section ``index``; the root itself when
    ``index`` is the root."""
    section = sections[index]
    while section.parent is not None and sections[section.parent].parent is not None:
        section = sections[section.parent]
    return section


def path_role(section_path: Sequence[str]) -> str:
    """A passage's role from its section path's headings alone (indexes built before roles were
    stored): the nearest heading that names one."""
    for heading in reversed(list(section_path)):
        role = heading_role(heading)
        if role:
            return role
    return ""


def passage_roles(p: Passage) -> list[str]:
    """A passage's roles, nearest first: stored ones, else read from its section path's headings."""
    if p.roles:
        return p.roles
    role = path_role(p.section_path)
    return [role] if role else []


def has_role(p: Passage, roles: Sequence[str]) -> bool:
    """Whether the passage lies in a section of one of ``roles`` (its own or one above it)."""
    return any(r in roles for r in passage_roles(p))


def check_roles(roles: Sequence[str] | None) -> list[str] | None:
    """``roles`` checked against ``ROLES`` (计划 is read as 工作谋划); None when empty."""
    if not roles:
        return None
    out = []
    for role in roles:
        role = {"计划": "工作谋划", "谋划": "工作谋划", "问题": "存在问题", "做法": "主要做法"}.get(
            role.strip(), role.strip()
        )
        if role not in ROLES:
            raise DangjianError(f"没有章节作用“{role}”，可选：{'、'.join(ROLES)}", code="bad_role")
        out.append(role)
    return out
