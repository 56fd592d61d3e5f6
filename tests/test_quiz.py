"""Quizzes from the method cards of the bundled corpus: every answer rests on a verbatim quote."""

from __future__ import annotations

from collections import Counter

import pytest

from dangjian.errors import DangjianError
from dangjian.quiz import BLANK, make_quiz

from .conftest import corpus_method_cards


@pytest.fixture(scope="module")
def corpus():
    return corpus_method_cards()


def test_fifty_questions_each_answered_by_a_verbatim_quote(corpus):
    cards, texts = corpus
    quiz = make_quiz(cards, n=50, seed=7)
    assert len(quiz) == 50 and [q.number for q in quiz] == list(range(1, 51))
    kinds = Counter(q.kind for q in quiz)
    assert kinds["what_problem"] == 1  # the corpus states one solved problem without redaction
    assert min(kinds[k] for k in ("fill_blank", "choose_method", "true_false")) >= 10
    for q in quiz:
        source = q.source
        assert texts[source.doc_id][source.start : source.end] == source.quote
        assert q.evidence and q.evidence in source.quote, q.question
        if q.kind in ("fill_blank", "what_problem"):
            assert q.answer == q.evidence
        if q.kind == "fill_blank":
            assert BLANK in q.question and q.answer == q.evidence and q.answer not in q.question.split("包括：")[1]
        elif q.kind in ("choose_method", "what_problem"):
            assert len(set(q.options)) == 4 and q.answer in q.options and q.answer not in q.question
        else:
            assert q.options == ["对", "错"] and q.answer in q.options
            item = q.question.split("包括“")[1].rstrip("”。")
            assert (q.answer == "对") == (item == q.evidence)
    assert len({q.question for q in quiz}) == 50


def test_a_seed_gives_the_same_quiz_and_a_topic_narrows_it(corpus):
    cards, _ = corpus
    first = [q.to_dict() for q in make_quiz(cards, n=20, seed=1)]
    assert first == [q.to_dict() for q in make_quiz(cards, n=20, seed=1)]
    assert first != [q.to_dict() for q in make_quiz(cards, n=20, seed=2)]
    ten = make_quiz(cards, topic="物业管理十联工作法", n=30, seed=1)
    assert Counter(q.method for q in ten).most_common(1)[0][0] == "物业管理十联工作法"
    assert {q.answer for q in ten if q.kind == "fill_blank"} == {
        c.text for c in cards[[c.name for c in cards].index("物业管理十联工作法")].components
    }


def test_bad_requests_are_refused_in_chinese(corpus):
    cards, _ = corpus
    with pytest.raises(DangjianError, match="题目数量"):
        make_quiz(cards, n=0)
    with pytest.raises(DangjianError, match="没有与“红烧肉”有关的工作法"):
        make_quiz(cards, topic="红烧肉")
