"""``split_sections(doc)``: the section tree of a document, from its numbering and markup.

Recognised: the title line; the 公文 ladder 一、 → （一） → 1./1． → （1） → ①; 第X部分/编/章/节/条;
markdown ``#`` and Word/HTML heading levels; inline items 一是… 二是… inside paragraphs.
A number inside a sentence is never a heading: only the start of a paragraph counts.
Document header lines (发文机关, 文号, 成文日期) become metadata, not sections.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from ..schema import Block, Document, Section
from ..text import normalize
from .patterns import (
    CLAUSE_END,
    CN_NUM,
    ITEM_AFTER,
    ITEM_RANK,
    ITEM_RE,
    MD_HEADING_RE,
    STYLES,
    cn_to_int,
    is_blank,
    match_style,
)

_TIAO_RANK = next(s.rank for s in STYLES if s.name == "tiao")
_LABEL_END_RE = re.compile("[" + re.escape("".join(ITEM_AFTER)) + "\n]")
_CLAUSE_END_RE = re.compile("[" + re.escape("".join(ITEM_AFTER | CLAUSE_END)) + "\n]")
WHOLE_LINE_LABEL = 30  # a heading line up to this long is its own label
MAX_LABEL = 60

# --- document header metadata -----------------------------------------------------------------

_DOC_NUMBER_RE = re.compile(
    r"^[\u4e00-\u9fff]{1,15}\s*[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*第?\s*\d{1,5}\s*号$"
)
_ISSUER_FILE_RE = re.compile(r"^(.{2,40}?)\s*文\s*件$")
_SIGNER_RE = re.compile(r"^签\s*发\s*人\s*[:：]\s*(.{1,20})$")
_DATE_RE = re.compile(
    rf"^[（(]?\s*((?:19|20)\d{{2}}|[〇零一二三四五六七八九]{{4}})\s*年\s*([0-9{CN_NUM}]{{1,3}})\s*月"
    rf"\s*([0-9{CN_NUM}]{{1,3}})\s*日\s*(?:印发)?\s*[)）]?$"
)
_ORG_SUFFIX_RE = re.compile(
    r"(委员会|办事处|街道|人民政府|政府|党委|党工委|党组|支部|总支|局|办公室|中心|社区|厅|部|院|委)$"
)
_NO_PUNCT_RE = re.compile(r"^[^，。；：！？,.;:!?]+$")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")


def _iso_date(m: re.Match[str]) -> str | None:
    year = m.group(1)
    if not year.isdigit():
        year = "".join(str(cn_to_int(c)) for c in year)
    month, day = cn_to_int(m.group(2)), cn_to_int(m.group(3))
    if not month or not day or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{int(year):04d}-{month:02d}-{day:02d}"


def mark_header_metadata(doc: Document) -> None:
    """Move the document header into ``doc.metadata``.

    At the top: 发文机关 (``issuer``, from “…文件”), 文号 (``doc_number``), 签发人 (``signer``),
    a date line; at the bottom: the signature (``issuer``) and 成文日期 (``date``, ISO format).

    The matching blocks become ``meta`` blocks, so they are never cut into passages.
    """
    content = [b for b in doc.blocks if b.kind in ("text", "heading")]
    if len(content) < 3:
        return
    text = doc.text

    def line(b: Block) -> str:
        return text[b.start : b.end].strip()

    for block in content[:6]:
        s = line(block)
        if "\n" in s:
            break
        if _DOC_NUMBER_RE.match(s):
            doc.metadata.setdefault("doc_number", s)
        elif (m := _SIGNER_RE.match(s)) is not None:
            doc.metadata.setdefault("signer", m.group(1).strip())
        elif (m := _ISSUER_FILE_RE.match(s)) is not None and block is content[0]:
            doc.metadata.setdefault("issuer", m.group(1).strip())
        elif (m := _DATE_RE.match(s)) is not None and (iso := _iso_date(m)):
            doc.metadata.setdefault("date", iso)
        else:
            continue
        block.kind = "meta"
    tail = content[-3:]
    for i, block in enumerate(tail):
        m = _DATE_RE.match(line(block))
        if m is None or not (iso := _iso_date(m)):
            continue
        doc.metadata.setdefault("date", iso)
        block.kind = "meta"
        if i > 0:
            prev = line(tail[i - 1])
            if len(prev) <= 40 and _NO_PUNCT_RE.match(prev) and _ORG_SUFFIX_RE.search(prev):
                doc.metadata.setdefault("issuer", prev)
                tail[i - 1].kind = "meta"
        break


# --- section tree ---------------------------------------------------------------------------------


@dataclass
class _Node:
    kind: str
    heading: str
    rank: int
    start: int
    heading_start: int
    heading_end: int
    style: str
    end: int = -1
    children: list[_Node] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)  # content blocks directly under this node


def _label_end(text: str, start: int, end: int) -> int:
    """End of a heading label: the whole line when short, else its first sentence or clause."""
    line_end = text.find("\n", start, end)
    line_end = end if line_end < 0 else line_end
    if line_end - start <= WHOLE_LINE_LABEL and not _LABEL_END_RE.search(text, start, line_end - 1):
        stop = line_end
    else:
        m = _LABEL_END_RE.search(text, start, min(line_end, start + MAX_LABEL))
        if m is None or m.start() - start > WHOLE_LINE_LABEL:
            m = _CLAUSE_END_RE.search(text, start, min(line_end, start + MAX_LABEL)) or m
        stop = m.start() if m else min(line_end, start + 40)
    while stop > start and text[stop - 1] in " \t\u3000。，、；：！？,.;:!?":
        stop -= 1
    return stop


def _classify(
    text: str, block: Block, in_article: bool, marked_ranks: dict[str, int], chinese: bool
) -> tuple[int, str, int, int] | None:
    """(rank, style, label_start, label_end) when the block opens a heading.

    ``marked_ranks`` remembers the level a file gave each numbering style (``## 一、…``), so a
    later plain ``二、…`` paragraph becomes its sibling, not its child. In a Chinese document a
    paragraph without a Chinese character (the English of a bilingual text: “3. Dedication…”)
    never opens a heading.
    """
    if block.kind not in ("text", "heading"):
        return None
    line = text[block.start : block.end]
    if chinese and block.kind == "text" and not _HAN_RE.search(line):
        return None
    label_start = block.start
    markup_rank = None
    if block.kind == "heading":
        hm = MD_HEADING_RE.match(line)
        if hm:
            label_start += hm.end()
            line = line[hm.end() :]
        markup_rank = block.level or 1
    found = match_style(line)
    if found is not None:
        style, m = found
        is_ladder = style.rank > _TIAO_RANK
        if block.kind == "text":
            if is_ladder and in_article:
                return None  # （一）… inside 第X条 are list items of the article
            if is_ladder and line.rstrip().endswith(("；", "，", ";", ",")):
                return None  # an enumeration item, not a heading
            if style.rank < _TIAO_RANK and len(line) > 50:
                return None
        # A level the file marked itself (markdown #, Word style) decides the nesting.
        if markup_rank is not None:
            marked_ranks.setdefault(style.name, markup_rank)
            rank = markup_rank
        else:
            rank = marked_ranks.get(style.name, style.rank)
        if style.label_is_number:
            return rank, style.name, label_start, label_start + m.end()
        return rank, style.name, label_start, _label_end(text, label_start, block.end)
    if markup_rank is not None:
        return markup_rank, f"h{markup_rank}", label_start, _label_end(text, label_start, block.end)
    return None


def _find_title_block(doc: Document) -> Block | None:
    want = re.sub(r"\s+", "", normalize(doc.title))
    for block in doc.blocks:
        if block.kind == "meta":
            continue
        line = MD_HEADING_RE.sub("", doc.text[block.start : block.end], count=1)
        return block if want and re.sub(r"\s+", "", normalize(line)) == want else None
    return None


def _add_items(text: str, node: _Node) -> None:
    """Turn 一是… 二是… runs in a node's own paragraphs into item children."""
    markers: list[tuple[int, int, Block]] = []  # (position, number, block)
    for block in node.blocks:
        if block.kind != "text":
            continue
        for m in ITEM_RE.finditer(text, block.start, block.end):
            before = m.start() - 1
            while before >= block.start and is_blank(text[before]):
                before -= 1
            if before >= block.start and text[before] not in ITEM_AFTER:
                continue  # 统一是…: inside a sentence, not an item
            n = cn_to_int(m.group(1))
            if n:
                markers.append((m.start(), n, block))
    if len(markers) < 2:
        return
    runs: list[list[tuple[int, int, Block]]] = []
    for marker in markers:
        if marker[1] == 1:
            runs.append([marker])
        elif runs and marker[1] == runs[-1][-1][1] + 1:
            runs[-1].append(marker)
    child_starts = [c.start for c in node.children]
    items: list[_Node] = []
    for run in runs:
        if len(run) < 2:
            continue
        for i, (pos, _n, block) in enumerate(run):
            end = run[i + 1][0] if i + 1 < len(run) else block.end
            # An item never swallows a heading that lies between it and the next item.
            end = min([end] + [c for c in child_starts if pos < c < end])
            while end > pos and text[end - 1].isspace():
                end -= 1
            m = _CLAUSE_END_RE.search(text, pos, min(end, pos + MAX_LABEL))  # 一是 + its first clause
            label_end = _label_end(text, pos, m.start() if m else end)
            items.append(_Node("item", text[pos:label_end], ITEM_RANK, pos, pos, label_end, "item", end=end))
    if items:
        node.children = sorted(node.children + items, key=lambda c: c.start)


def split_sections(doc: Document) -> list[Section]:
    """The section tree of ``doc`` in document order; section 0 is the title (root).

    Every character of ``doc.text`` lies in the root; the deepest section containing an offset
    gives its section path (see ``section_at``).
    """
    text = doc.text
    title_block = _find_title_block(doc)
    root = _Node("title", doc.title, -1, 0, 0, 0, "title", end=len(text))
    if title_block is not None:
        hm = MD_HEADING_RE.match(text, title_block.start, title_block.end)
        root.heading_start = hm.end() if hm else title_block.start
        root.heading_end = title_block.end
    stack = [root]
    marked_ranks: dict[str, int] = {}
    sample = text[:100_000]
    chinese = len(_HAN_RE.findall(sample)) >= 0.1 * len(sample)
    for block in doc.blocks:
        if block.kind == "meta" or block is title_block:
            continue
        in_article = any(n.style == "tiao" for n in stack)
        found = _classify(text, block, in_article, marked_ranks, chinese)
        if found is not None:
            rank, style, label_start, label_end = found
            while stack[-1].rank >= rank:
                stack.pop().end = block.start
            node = _Node("heading", text[label_start:label_end], rank, block.start, label_start, label_end, style)
            stack[-1].children.append(node)
            stack.append(node)
        stack[-1].blocks.append(block)
    for node in stack[1:]:
        node.end = len(text)

    def close_items(node: _Node) -> None:
        for child in node.children:
            close_items(child)
        _add_items(text, node)

    close_items(root)

    sections: list[Section] = []

    def flatten(node: _Node, parent: int | None, depth: int, path: list[str]) -> None:
        end = node.end
        while end > node.start and text[end - 1].isspace():
            end -= 1
        index = len(sections)
        sections.append(
            Section(
                index=index,
                parent=parent,
                depth=depth,
                kind=node.kind,
                heading=node.heading,
                path=path,
                start=node.start,
                end=max(end, node.heading_end),
                heading_start=node.heading_start,
                heading_end=node.heading_end,
                style=node.style,
            )
        )
        for child in node.children:
            flatten(child, index, depth + 1, path + [child.heading])

    flatten(root, None, 0, [])
    sections[0].start, sections[0].end = 0, len(text)
    return sections


def section_at(sections: list[Section], offset: int) -> Section:
    """The deepest section containing ``offset`` (the root when no heading covers it). Sections
    are in pre-order (a parent before its children, by start), so it is the last one starting at
    or before ``offset``, or the nearest of its ancestors that still contains it."""
    section = sections[max(bisect.bisect_right(sections, offset, key=lambda s: s.start) - 1, 0)]
    while not section.start <= offset < section.end and section.parent is not None:
        section = sections[section.parent]
    return section
