"""The answer evaluation's scoring: items found in the answer text, whatever its width or script."""

from dangjian.evaluation.answers import score, summarize


def test_items_are_found_without_width_script_or_marker_differences():
    question = {"id": "q", "question": "？", "kind": "list", "required": ["组织联建", "资源联享", "ABC", "服务联动"]}
    result = score(question, "組織聯建、资源[1]联享，ａｂｃ。[2]")  # markers are not part of the text
    assert result.found == ["组织联建", "资源联享", "ABC"] and result.missing == ["服务联动"]
    assert result.recall == 0.75 and not result.complete
    assert result.chars == len("組織聯建、资源联享，ａｂｃ。")


def test_a_lacks_question_is_right_only_when_the_answer_says_so():
    question = {"id": "q", "question": "？", "kind": "definition", "required": [], "lacks": True}
    assert score(question, "知识库中只提到“X”，没有写明它的具体内容。“X”荣获…[1]").complete
    assert not score(question, "X 是一种工作方法。[1]").complete


def test_summary_reads_recall_per_hundred_characters():
    rows = [
        score({"id": str(i), "question": "？", "required": ["甲乙"]}, text)
        for i, text in enumerate(["甲乙" + "丙" * 98, "丁" * 100])
    ]
    summary = summarize(rows)
    assert summary["item_recall"] == 0.5 and summary["complete"] == 0.5
    assert summary["median_chars"] == 100 and summary["recall_per_100_chars"] == 0.5
