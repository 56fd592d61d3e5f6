"""Quizzes for new community workers, built from the method cards.

Four kinds of question, each with its answer and the sentence it comes from (a document, its
section path and offsets); the *evidence* — the words that decide the answer — is verbatim in that
sentence:

- ``fill_blank``: one component of an enumerated method left out (“物业管理十联工作法”包括：组织联建、
  ____、服务联动…);
- ``choose_method``: a sentence with the method's name blanked out, and four names to choose from;
- ``true_false``: “X 的组成部分包括 Y” — Y one of X's components, or one of another method's;
- ``what_problem``: what the text says X solves (“解决一批停车难、充电难…等民生问题”), against the
  problems or component lists of other methods.

The same cards, topic and seed always give the same quiz.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from .errors import DangjianError
from .methods import MethodCard, Source
from .text import normalize

MAX_QUESTIONS = 100
BLANK = "____"


@dataclass
class QuizQuestion:
    kind: str  # fill_blank | choose_method | true_false | what_problem
    question: str
    options: list[str]
    answer: str
    evidence: str  # verbatim in source.quote: what decides the answer
    source: Source
    method: str
    number: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "question": self.question,
            "options": self.options,
            "answer": self.answer,
            "evidence": self.evidence,
            "method": self.method,
            "source": {**vars(self.source), "citation": self.source.citation()},
        }


def _about(card: MethodCard, topic: str) -> bool:
    if not topic:
        return True
    t = normalize(topic)
    texts = [card.name, *card.aliases, card.definition.quote, *card.definition.section_path, card.kind]
    return any(t in normalize(x) or normalize(x) in t for x in texts if x)


def _listed(card: MethodCard) -> bool:
    """The components sit in the defining sentence, as written."""
    quote, start = card.definition.quote, card.definition.start
    return len(card.components) >= 2 and all(
        c.doc_id == card.definition.doc_id and quote[c.start - start : c.end - start] == c.text for c in card.components
    )


def _fill_blanks(card: MethodCard) -> list[QuizQuestion]:
    out = []
    for i, missing in enumerate(card.components):
        shown = [BLANK if j == i else c.text for j, c in enumerate(card.components)]
        out.append(
            QuizQuestion(
                "fill_blank",
                f"“{card.name}”包括：{'、'.join(shown)}。空格处是什么？",
                [],
                missing.text,
                missing.text,
                card.definition,
                card.name,
            )
        )
    return out


def _choose(card: MethodCard, others: list[MethodCard], rng: random.Random) -> QuizQuestion | None:
    forms = sorted([card.name, *card.aliases], key=len, reverse=True)
    quote = card.definition.quote
    if card.name not in quote or len(others) < 3:
        return None
    masked = re.sub("|".join(re.escape(f) for f in forms), BLANK, quote)
    if BLANK not in masked or len(masked.replace(BLANK, "")) < 10:
        return None
    options = [card.name, *(o.name for o in rng.sample(others, 3))]
    rng.shuffle(options)
    return QuizQuestion(
        "choose_method",
        f"下面这句话中空出的是哪一项？\n{masked}",
        options,
        card.name,
        card.name,
        card.definition,
        card.name,
    )


def _true_false(card: MethodCard, others: list[MethodCard], rng: random.Random) -> list[QuizQuestion]:
    """A true statement per component; a false one swaps in a component of another method. The
    evidence of a false statement is the whole list as the sentence gives it."""
    own = {c.text for c in card.components}
    foreign = [c.text for o in others for c in o.components if c.text not in own]
    start = card.definition.start
    listed = card.definition.quote[card.components[0].start - start : card.components[-1].end - start]
    out = []
    for component in card.components:
        out.append(_statement(card, component.text, "对", component.text))
        if foreign:
            out.append(_statement(card, rng.choice(foreign), "错", listed))
    return out


def _statement(card: MethodCard, item: str, answer: str, evidence: str) -> QuizQuestion:
    question = f"判断：“{card.name}”的组成部分包括“{item}”。"
    return QuizQuestion("true_false", question, ["对", "错"], answer, evidence, card.definition, card.name)


_SOLVED_RE = re.compile(r"(?:解决|破解|化解)(?:了|好)?(?:一批)?([^，。；]{2,60}?)等?(?:民生)?(?:问题|难题)")


def _problem_phrase(card: MethodCard) -> tuple[str, Source] | None:
    """What the text says the method solves (“停车难、充电难…”), with the sentence saying it."""
    for source in card.problems:
        m = _SOLVED_RE.search(source.quote)
        if m and "*" not in m.group(1):
            return m.group(1), source
    return None


def _what_problem(card: MethodCard, others: list[MethodCard], rng: random.Random) -> QuizQuestion | None:
    """“X 要解决什么问题”: the phrase the text gives, against others' problems or component lists."""
    found = _problem_phrase(card)
    if not found:
        return None
    phrase, source = found
    distractors = [p for o in others if (q := _problem_phrase(o)) and (p := q[0]) != phrase]
    distractors += ["、".join(c.text for c in o.components[:4]) for o in others if len(o.components) >= 2]
    distractors = list(dict.fromkeys(d for d in distractors if d != phrase))
    if len(distractors) < 3:
        return None
    options = [phrase, *rng.sample(distractors, 3)]
    rng.shuffle(options)
    return QuizQuestion(
        "what_problem", f"“{card.name}”要解决的是哪些问题？", options, phrase, phrase, source, card.name
    )


def make_quiz(cards: list[MethodCard], *, topic: str = "", n: int = 10, seed: int = 0) -> list[QuizQuestion]:
    """``n`` questions about the cards matching ``topic`` (all cards when empty), mixing the kinds."""
    if not 1 <= n <= MAX_QUESTIONS:
        raise DangjianError(f"题目数量应在 1 到 {MAX_QUESTIONS} 之间，收到 {n}", code="bad_quiz")
    rng = random.Random(seed)
    chosen = [c for c in cards if _about(c, topic)]
    if not chosen:
        raise DangjianError(
            f"知识库中没有与“{topic}”有关的工作法，出不了题（可用 dangjian methods 查看全部工作法）", code="no_quiz"
        )
    pools: dict[str, list[QuizQuestion]] = {"fill_blank": [], "choose_method": [], "true_false": [], "what_problem": []}
    for card in chosen:
        others = [c for c in cards if c is not card]
        if _listed(card):
            pools["fill_blank"] += _fill_blanks(card)
            pools["true_false"] += _true_false(card, others, rng)
        for kind, question in (
            ("choose_method", _choose(card, others, rng)),
            ("what_problem", _what_problem(card, others, rng)),
        ):
            if question:
                pools[kind].append(question)
    for pool in pools.values():
        rng.shuffle(pool)
    quiz: list[QuizQuestion] = []
    asked: set[str] = set()
    while len(quiz) < n and any(pools.values()):
        for pool in pools.values():  # take the kinds in turn
            if pool and len(quiz) < n:
                question = pool.pop()
                if question.question not in asked:
                    asked.add(question.question)
                    quiz.append(question)
    for i, question in enumerate(quiz, 1):
        question.number = i
    return quiz
