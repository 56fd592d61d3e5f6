"""Quizzes from the method cards of the bundled corpus: every answer rests on a verbatim quote."""

from __future__ import annotations

from collections import Counter

import pytest

from dangjian.errors import DangjianError
from dangjian.ingest import iter_documents
from dangjian.ingest.describe import describe
from dangjian.quiz import BLANK, answers_match, make_quiz, normalize_answer

from .conftest import CORPUS, corpus_method_cards


@pytest.fixture(scope="module")
def corpus():
    return corpus_method_cards()


@pytest.fixture(scope="module")
def documents():
    """The bundled corpus's documents with their sections and roles."""
    out = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix in (".txt", ".docx", ".pdf"):
            out += [(doc, describe(doc)) for doc in iter_documents(path)]
    return out


def _check_sources(quiz, texts):
    for q in quiz:
        source = q.source
        assert texts[source.doc_id][source.start : source.end] == source.quote
        assert q.evidence and q.evidence in source.quote, q.question


def _no_stem_shows_another_answer(quiz):
    for q in quiz:
        for other in quiz:
            if other is not q and len(normalize_answer(other.answer)) >= 2:
                assert normalize_answer(other.answer) not in q.shown(), (q.question, other.answer)


def test_questions_over_every_method_each_answered_by_a_verbatim_quote(corpus, documents):
    cards, texts = corpus
    quiz = make_quiz(cards, n=30, seed=7, documents=documents)
    assert len(quiz) == 30 and [q.number for q in quiz] == list(range(1, 31))
    kinds = Counter(q.kind for q in quiz)
    assert min(kinds[k] for k in ("fill_blank", "choose_method", "true_false")) >= 2
    _check_sources(quiz, texts)
    _no_stem_shows_another_answer(quiz)
    for q in quiz:
        if q.kind in ("fill_blank", "what_problem"):
            assert q.answer == q.evidence
        if q.kind == "fill_blank":
            assert BLANK in q.question and q.answer not in q.question.split("包括：")[1]
        elif q.kind in ("choose_method", "what_problem"):
            assert len(set(q.options)) == 4 and q.answer in q.options and q.answer not in q.question
        elif q.kind == "true_false":
            assert q.options == ["对", "错"] and q.answer in q.options
            item = q.question.split("包括“")[1].rstrip("”。")
            assert (q.answer == "对") == (item == q.evidence)
    assert len({q.question for q in quiz}) == 30


TEN = "物业管理十联工作法"


@pytest.mark.parametrize("topic", ["十联工作法", "十联", "物业管理十联工作法"])
def test_fifty_questions_on_shilian_from_five_seeds_are_all_about_shilian(corpus, documents, topic):
    """Issue 23: “2 of every 10 questions are about other methods” — now none is, and within a
    quiz no question's stem or options show another's answer."""
    cards, texts = corpus
    asked = []
    for seed in range(5):
        quiz = make_quiz(cards, topic=topic, n=10, seed=seed, documents=documents)
        assert len(quiz) == 10
        _check_sources(quiz, texts)
        _no_stem_shows_another_answer(quiz)
        asked += quiz
    assert len(asked) == 50
    by_doc = {doc.doc_id: doc.title for doc, _ in documents}
    for q in asked:
        assert q.method == TEN, q.question
        # About 十联: the question names it, or its source does, or the source's document is about it.
        assert "十联" in q.question or "十联" in q.source.quote or "十联" in by_doc[q.source.doc_id], q.question
    assert {"fill_blank", "true_false", "number", "which_item"} <= {q.kind for q in asked}
    assert not any(q.kind == "choose_method" for q in asked)  # its answer would be the topic itself


def test_a_method_with_few_facts_gets_few_questions_not_repeats(corpus, documents):
    """五融四零 is named once, with what it won: one question, not five on the same sentence."""
    cards, _ = corpus
    quiz = make_quiz(cards, topic="五融四零", n=5, seed=0, documents=documents)
    assert 1 <= len(quiz) <= 2 and all(q.method == "五融四零工作法" for q in quiz)
    assert quiz[0].answer == "荣获全省党建创新案例"
    assert len({(q.source.doc_id, q.source.start) for q in quiz}) == len(quiz)


def test_a_section_as_topic_asks_its_lists(corpus, documents):
    cards, texts = corpus
    quiz = make_quiz(cards, topic="存在问题", n=10, seed=3, documents=documents)
    assert len(quiz) == 5 and {q.kind for q in quiz} == {"list_item"}
    assert {q.answer for q in quiz} == {
        "“一社一品”特色创建不均衡",
        "党员教育形式较为单一",
        "基层党组织覆盖不全面",
        "培树典型方式和载体不够灵活",
        "社区后备力量储备不充分",
    }
    _check_sources(quiz, texts)


@pytest.mark.parametrize(
    "given", ["文化联育", "文化联育。", "“文化联育”", "「文化聯育」", " 文化联育 ", "ｗ文化联育"[1:], "文化联育！"]
)
def test_answers_are_compared_normalised(given):
    assert answers_match(given, "文化联育")


@pytest.mark.parametrize("given", ["文化联", "文化联育联", "", "环境联优"])
def test_wrong_answers_stay_wrong(given):
    assert not answers_match(given, "文化联育")


def test_numbers_and_width_fold_too():
    assert answers_match("９１％", "91%") and answers_match("286名", "２８６名") and not answers_match("90%", "91%")


def test_the_training_sheet_lists_questions_then_answers_with_sources(corpus, documents, tmp_path, make_samples):
    import docx
    from pypdf import PdfReader

    from dangjian.quiz_sheet import save_sheet

    cards, _ = corpus
    quiz = make_quiz(cards, topic="十联", n=10, seed=0, documents=documents)
    path = tmp_path / "试卷.docx"
    save_sheet(quiz, path, "十联")
    paragraphs = [p.text for p in docx.Document(str(path)).paragraphs]
    assert paragraphs[0] == "“十联”学习测试题"
    answers_at = paragraphs.index("二、参考答案及出处")
    assert docx.Document(str(path)).paragraphs[answers_at].paragraph_format.page_break_before
    questions, answers = "\n".join(paragraphs[:answers_at]), "\n".join(paragraphs[answers_at:])
    for q in quiz:
        assert f"{q.number}.（" in questions and f"\n{q.number}. {q.answer}" in answers
        assert q.source.citation() in answers
    with pytest.raises(DangjianError, match="只能保存为 .docx"):
        save_sheet(quiz, tmp_path / "试卷.pdf")
    pdf = make_samples.docx_to_pdf(path, tmp_path / "试卷.pdf")
    assert len(PdfReader(str(pdf)).pages) >= 2


def test_a_seed_gives_the_same_quiz_and_a_topic_narrows_it(corpus):
    cards, _ = corpus
    first = [q.to_dict() for q in make_quiz(cards, n=20, seed=1)]
    assert first == [q.to_dict() for q in make_quiz(cards, n=20, seed=1)]
    assert first != [q.to_dict() for q in make_quiz(cards, n=20, seed=2)]
    ten = make_quiz(cards, topic="物业管理十联工作法", n=30, seed=1)
    assert {q.method for q in ten} == {TEN}
    # One list, one fill-in: a second would show the first one's answer in its list.
    blanks = {q.answer for q in ten if q.kind == "fill_blank"}
    assert len(blanks) == 1 and blanks < {c.text for c in cards[[c.name for c in cards].index(TEN)].components}


def test_bad_requests_are_refused_in_chinese(corpus):
    cards, _ = corpus
    with pytest.raises(DangjianError, match="题目数量"):
        make_quiz(cards, n=0)
    with pytest.raises(DangjianError, match="没有与“红烧肉”有关的工作法或章节"):
        make_quiz(cards, topic="红烧肉")
