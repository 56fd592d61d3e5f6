"""Heading recognition: the 公文 ladder, 第X章/条, markdown, items, header metadata."""

from __future__ import annotations

import pytest

from dangjian.ingest import split_sections
from dangjian.ingest.common import make_document
from dangjian.ingest.plain import markdown_blocks


def tree(text: str, **kw) -> list[tuple[int, str]]:
    doc = make_document(text=text, source="t.txt", file_type="txt", fallback_title="t", **kw)
    return [(s.depth, s.heading) for s in split_sections(doc)]


LADDER = """关于加强社区党建工作的意见
一{d}总体要求
坚持党建引领。
（一）工作目标
到年底实现全覆盖。
1{p}建强组织
内容一。
（1）小区党支部
内容二。
二{d}保障措施
内容三。
"""


@pytest.mark.parametrize(
    "dun, dot, lparen, rparen",
    [("、", ".", "（", "）"), ("．", "．", "(", ")"), ("、", "、", "（", ")")],
    ids=["full-width", "half-width", "mixed"],
)
def test_ladder_in_full_and_half_width(dun, dot, lparen, rparen):
    text = LADDER.format(d=dun, p=dot).replace("（", lparen).replace("）", rparen)
    got = tree(text)
    assert [d for d, _ in got] == [0, 1, 2, 3, 4, 1]
    assert got[0][1] == "关于加强社区党建工作的意见"
    assert got[1][1].endswith("总体要求") and got[5][1].endswith("保障措施")
    assert got[4][1].endswith("小区党支部")


def test_numbers_inside_sentences_are_not_headings():
    text = (
        "工作报告\n"
        "完成***社区等*个党群服务中心提档升级。\n"
        "实施社区两委提升工程等3类培训，共1.5万人次。\n"
        "2023年工作打算如下。\n"
        "1.5万人次参加培训。\n"
        "统一是关键，一是要坚持。\n"
    )
    assert tree(text) == [(0, "工作报告")]


def test_english_lines_of_a_bilingual_chinese_text_are_not_headings():
    text = (
        "中国共产党章程\n\n"
        "一、坚持党的基本路线。\n\n"
        "1. Upholding the Party's basic line.\n\n"
        "全党要坚持党的基本路线。\n\n"
        "二、坚持全面从严治党。\n"
    )
    assert tree(text) == [(0, "中国共产党章程"), (1, "一、坚持党的基本路线"), (1, "二、坚持全面从严治党")]
    english = "Report\n\n1. Introduction\n\nSome text.\n"
    assert (1, "1. Introduction") in tree(english)


def test_enumeration_lines_ending_with_semicolon_are_not_headings():
    text = "通知\n一、工作内容\n主要包括：\n（一）走访慰问；\n（二）志愿服务；\n（三）主题党日。\n"
    got = tree(text)
    assert got[:2] == [(0, "通知"), (1, "一、工作内容")]
    assert all("走访慰问" not in h for _, h in got)


def test_chapters_and_articles():
    text = (
        "中国共产党章程\n总纲\n第一章　党员\n第一条　年满十八岁的中国工人……\n第二条　中国共产党党员是……\n"
        "党员必须全心全意为人民服务。\n第二章　党的组织制度\n第十条　党是根据自己的纲领……\n"
        "（一）党员个人服从党的组织；\n（二）少数服从多数。\n"
    )
    got = tree(text)
    assert got == [
        (0, "中国共产党章程"),
        (1, "第一章　党员"),
        (2, "第一条"),
        (2, "第二条"),
        (1, "第二章　党的组织制度"),
        (2, "第十条"),
    ]


def test_articles_nest_under_sections_and_parts():
    text = "某某法\n第一编 总则\n第一章 基本规定\n第一节 一般规定\n第一条 为了……\n第二节 其他\n第二条 本法……\n第二编 分则\n第三条 附则……\n"
    assert [d for d, _ in tree(text)] == [0, 1, 2, 3, 4, 3, 4, 1, 2]


def test_inline_items_need_a_run_and_a_sentence_start():
    text = "报告\n二、存在问题\n一是基础薄弱。有的社区不足。二是力量不够。三是机制不畅，统一是难点。\n总之，问题仍然存在。\n"
    got = tree(text)
    assert got == [(0, "报告"), (1, "二、存在问题"), (2, "一是基础薄弱"), (2, "二是力量不够"), (2, "三是机制不畅")]
    doc = make_document(text=text, source="t", file_type="txt")
    sections = split_sections(doc)
    last = sections[-1]
    assert doc.text[last.start : last.end] == "三是机制不畅，统一是难点。"
    single = "报告\n一是孤立的一句话。后面没有二是。\n"
    assert tree(single) == [(0, "报告")]


@pytest.mark.parametrize("indent", ["", "\u3000\u3000", "  "], ids=["flush", "ideographic-indent", "space-indent"])
def test_items_on_their_own_lines(indent):
    text = f"报告\n（一）主要做法\n{indent}一是抓组织。\n内容补充。\n{indent}二是抓队伍。\n{indent}三是抓阵地。\n"
    got = tree(text)
    assert got[1:] == [(1, "（一）主要做法"), (2, "一是抓组织"), (2, "二是抓队伍"), (2, "三是抓阵地")]


def test_markdown_headings_and_front_matter():
    text = "---\ntitle: 示例\nyear: 2023\n---\n# 社区党建手册\n\n## 一、组织建设\n\n正文。\n\n### 第一条 规定\n\n## 二、队伍建设\n\n正文二。\n"
    blocks, meta = markdown_blocks(text)
    assert meta == {"title": "示例", "year": 2023}
    doc = make_document(text=text, source="t.md", file_type="md", blocks=blocks, metadata=meta)
    assert doc.title == "社区党建手册"
    got = [(s.depth, s.heading) for s in split_sections(doc)]
    assert got == [(0, "社区党建手册"), (1, "一、组织建设"), (2, "第一条"), (1, "二、队伍建设")]


def test_header_metadata_goes_to_metadata_not_sections():
    text = (
        "中共某某街道工作委员会文件\n某街发〔2023〕12号\n签发人：张三\n关于开展主题党日活动的通知\n"
        "各社区党组织：\n一、活动内容\n开展学习。\n中共某某街道工作委员会\n二〇二三年三月五日\n"
    )
    doc = make_document(text=text, source="t", file_type="txt")
    assert doc.metadata == {
        "issuer": "中共某某街道工作委员会",
        "doc_number": "某街发〔2023〕12号",
        "signer": "张三",
        "date": "2023-03-05",
    }
    assert doc.title == "关于开展主题党日活动的通知"
    sections = split_sections(doc)
    assert [s.heading for s in sections] == ["关于开展主题党日活动的通知", "一、活动内容"]
    meta_text = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "meta"]
    assert "中共某某街道工作委员会" in meta_text and "二〇二三年三月五日" in meta_text


def test_soft_wrapped_paragraphs_are_joined_but_headings_are_not():
    text = (
        "各位代表：\n\n现在，我代表国务院，向大会报告政府工作，\n请予审议。\n\n\n一、过去一年的工作\n\n"
        "制定\n“十四五”规划\n，全面推进。\n\n二、今年的任务\n\n继续努力。\n"
    )
    doc = make_document(text=text, source="t", file_type="txt")
    paragraphs = [doc.text[b.start : b.end] for b in doc.blocks]
    assert "现在，我代表国务院，向大会报告政府工作，\n请予审议。" in paragraphs
    assert "制定\n“十四五”规划\n，全面推进。" in paragraphs
    assert [s.heading for s in split_sections(doc)][1:] == ["一、过去一年的工作", "二、今年的任务"]


def test_wrapped_heading_lines_are_joined_and_stay_headings():
    text = (
        "报告\n\n（一）坚持党建引领基层治理，深化网格化管理提质增效，\n群众满意度持续提升。\n\n"
        "（二）加强队伍建设，\n着力提升能力。\n\n1.加强组织建设。全年新建小区党支部12个，\n新发展党员30名。\n\n"
        "一、总体要求\n正文内容在下一行。\n"
    )
    got = tree(text)
    assert got == [
        (0, "报告"),
        (1, "（一）坚持党建引领基层治理，深化网格化管理提质增效"),
        (1, "（二）加强队伍建设"),
        (2, "1.加强组织建设"),
        (1, "一、总体要求"),
    ]


def test_numbering_marked_once_by_markup_keeps_its_level_when_plain():
    text = "# 标题\n\n## 一、总则\n\n正文。\n\n二、分则\n\n正文二。\n\n### 第一条 内容\n\n第二条 内容二\n"
    blocks, meta = markdown_blocks(text)
    doc = make_document(text=text, source="t.md", file_type="md", blocks=blocks, metadata=meta)
    assert [(s.depth, s.heading) for s in split_sections(doc)] == [
        (0, "标题"),
        (1, "一、总则"),
        (1, "二、分则"),
        (2, "第一条"),
        (2, "第二条"),
    ]


def test_annex_closes_the_articles_before_it():
    text = "某办法\n第一章 总则\n第一条 为了规范……\n第二条 本办法……\n附件1：申请表\n一、基本信息\n姓名。\n二、申请事项\n事项。\n"
    assert tree(text) == [
        (0, "某办法"),
        (1, "第一章 总则"),
        (2, "第一条"),
        (2, "第二条"),
        (1, "附件1"),
        (2, "一、基本信息"),
        (2, "二、申请事项"),
    ]


def test_markdown_rules_are_not_front_matter():
    text = "---\n\n正文第一段，不是元数据。\n\n---\n\n正文第二段。\n<!-- 注释 -->\n<!-- 没有闭合的注释\n最后一段。\n"
    blocks, meta = markdown_blocks(text)
    assert meta == {}
    visible = [text[b.start : b.end] for b in blocks if b.kind != "meta"]
    assert "正文第一段，不是元数据。" in visible and "最后一段。" in visible
    assert [text[b.start : b.end] for b in blocks if b.kind == "meta"] == ["<!-- 注释 -->"]


def test_front_matter_dates_become_strings():
    text = "---\ndate: 2023-01-05\ntags: [2023-01-01, 党建]\n---\n# 标题\n\n正文。\n"
    _, meta = markdown_blocks(text)
    assert meta == {"date": "2023-01-05", "tags": ["2023-01-01", "党建"]}


def test_unbalanced_quote_does_not_stop_sentence_cuts():
    from dangjian.ingest import chunk_sections

    body = "开头有个“没有闭合的引号。" + "这是一句完整的话，内容很多很多。" * 80
    doc = make_document(text="标题\n" + body + "\n", source="t", file_type="txt")
    passages = chunk_sections(doc, split_sections(doc))
    assert len(passages) > 2
    assert all(p.text.endswith("。") for p in passages)  # cut at sentence ends, not by length
