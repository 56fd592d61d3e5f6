"""Properties of ``chunk_sections`` over random documents (hypothesis)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangjian.ingest import chunk_sections, split_sections
from dangjian.ingest.chunking import text_length
from dangjian.ingest.common import make_document
from dangjian.ingest.patterns import is_blank

_HAN = re.compile(r"[\u4e00-\u9fff]")

CN = "一二三四五六七八九十"
WORDS = [
    "党建",
    "社区",
    "引领",
    "服务",
    "群众",
    "网格",
    "物业",
    "组织",
    "培训",
    "党员",
    "治理",
    "阵地",
    "*",
    "***",
    "2023年",
    "A类",
    "黨組織",
    "ＡＢＣ",
]

word = st.sampled_from(WORDS)
clause = st.lists(word, min_size=1, max_size=12).map("".join)
enumeration = st.lists(st.lists(word, min_size=1, max_size=2).map("".join), min_size=3, max_size=10).map(
    lambda items: "“" + "、".join(items) + "”"
)
sentence = st.tuples(st.lists(st.one_of(clause, enumeration), min_size=1, max_size=5), st.sampled_from("。！？；")).map(
    lambda t: "，".join(t[0]) + t[1]
)
paragraph = st.lists(sentence, min_size=1, max_size=40).map("".join)
items = st.lists(sentence, min_size=2, max_size=5).map(lambda ss: "".join(f"{CN[i]}是{s}" for i, s in enumerate(ss)))
heading = st.tuples(
    st.sampled_from(
        ["{n}、", "（{n}）", "({n})", "{d}.", "{d}．", "（{d}）", "第{n}章 ", "第{n}条 ", "## ", "第{n}节　"]
    ),
    st.integers(1, 9),
    clause,
).map(lambda t: t[0].format(n=CN[t[1] - 1], d=t[1]) + t[2])
unbalanced = st.tuples(paragraph, st.sampled_from("“（《「")).map(lambda t: t[1] + t[0])
wrapped_heading = st.tuples(heading, paragraph).map(lambda t: t[0] + "，\n" + t[1])
line = st.one_of(heading, paragraph, items, unbalanced, wrapped_heading, st.just(""), st.text(max_size=30))
document = st.tuples(clause, st.lists(line, min_size=1, max_size=30), st.sampled_from(["\n", "\n\n", "\r\n"])).map(
    lambda t: t[0] + "\n" + t[2].join(t[1]) + "\n"
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=document, target=st.integers(20, 400), extra=st.integers(0, 300))
def test_passages_are_verbatim_bounded_and_never_cross_sections(text, target, extra):
    text = text.replace("\r\n", "\n")
    max_chars = target + extra
    doc = make_document(text=text, source="random.txt", file_type="txt", fallback_title="random")
    sections = split_sections(doc)
    passages = chunk_sections(doc, sections, target_chars=target, max_chars=max_chars)

    prev_end = 0
    starts = {s.start for s in sections[1:]}
    for p in passages:
        assert doc.text[p.start : p.end] == p.text  # verbatim, offsets into the original
        assert p.text and p.text == p.text.strip()
        assert text_length(p.text) <= max_chars  # a Latin word counts as one character
        assert p.start >= prev_end  # in order, no overlap
        prev_end = p.end
        assert not any(p.start < s < p.end for s in starts), "a passage crosses a section boundary"

    # No text is lost: every character of the body is in a passage, except headings whose
    # sections have children (they live on in the children's paths) and the title line.
    covered = bytearray(len(text))
    for p in passages:
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    parents = {s.parent for s in sections}
    for s in sections:
        if s.index in parents:  # the heading line, markup included, of a section with children
            covered[s.start : s.heading_end] = b"\x01" * (s.heading_end - s.start)
            own_end = min((c.start for c in sections if c.parent == s.index), default=s.end)
            if _HAN.search(text, s.start, s.heading_end) and not _HAN.search(text, s.heading_end, own_end):
                covered[s.start : own_end] = b"\x01" * (own_end - s.start)  # and its translation
    title = sections[0]
    covered[title.heading_start : title.heading_end] = b"\x01" * (title.heading_end - title.heading_start)
    for b in doc.blocks:
        if b.kind == "meta":
            continue
        for i in range(b.start, b.end):
            assert covered[i] or is_blank(text[i]), f"lost {text[i]!r} at {i}"


@settings(max_examples=150, deadline=None)
@given(body=st.lists(sentence, min_size=5, max_size=60).map("".join))
def test_quoted_enumerations_are_never_cut(body):
    text = "标题\n一、部分\n" + body + "\n"
    doc = make_document(text=text, source="t.txt", file_type="txt")
    passages = chunk_sections(doc, split_sections(doc), target_chars=20, max_chars=70)
    for m in re.finditer(r"“[^“”]*、[^“”]*”", text):
        if m.end() - m.start() > 70:
            continue
        assert any(p.start <= m.start() and m.end() <= p.end for p in passages), m.group(0)
