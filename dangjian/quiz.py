"""Quizzes for new community workers, built from the method cards and the sections a topic is
about (``quiz_sections``).

Every question is about the requested topic — a method (its name or a short form: “十联” asks
about “物业管理十联工作法” only), a document or a section heading — and no question shows
another's answer: questions are taken in turn by kind, and one whose stem or options contain the
answer of a question already taken (or whose answer an earlier stem shows) is left out. Answers
are compared after ``normalize_answer`` (punctuation, quotes, spaces, full/half width,
traditional/simplified). Each question has its answer and the sentence it comes from (a
document, its section path and offsets); the *evidence* — the words that decide the answer — is
verbatim in that sentence. The kinds from method cards:

- ``fill_blank``: one component of an enumerated method left out (“物业管理十联工作法”包括：组织联建、
  ____、服务联动…);
- ``choose_method``: a sentence with the method's name blanked out, and four names to choose from;
- ``true_false``: “X 的组成部分包括 Y” — Y one of X's components, or one of another method's;
- ``what_problem``: what the text says X solves (“解决一批停车难、充电难…等民生问题”), against the
  problems or component lists of other methods;
- ``count``: how many parts the text lists for X;
- ``cloze`` (a quiz on one method): a sentence naming X with what it says of X blanked.

From the topic's sections: ``number``, ``list_item`` (problems, plans), ``which_item``.

The same cards, topic and seed always give the same quiz.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import DangjianError
from .methods import MethodCard, Source, find_card, named_in
from .quiz_sections import about, list_questions, number_questions
from .schema import Document, Section
from .text import normalize

MAX_QUESTIONS = 100
BLANK = "____"


@dataclass
class QuizQuestion:
    # fill_blank | choose_method | true_false | what_problem | count | cloze | number | list_item | which_item
    kind: str
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

    def shown(self) -> str:
        """What a reader sees before answering: the stem and the options, normalised."""
        return normalize_answer(self.question + "".join(self.options))


_PUNCT = re.compile(r"[\s\u3000“”\"'‘’「」『』《》〈〉（）()【】\[\]，,。．.、；;：:！!？?…—\-·_]+")


def normalize_answer(text: str) -> str:
    """An answer as compared: full/half width and traditional/simplified folded, punctuation,
    quotes and spaces dropped, lower case (“「文化聯育」。” → “文化联育”)."""
    return _PUNCT.sub("", normalize(text or "")).lower()


def answers_match(given: str, answer: str) -> bool:
    """Whether a learner's answer is the expected one, written any of the ways ``normalize_answer`` folds."""
    want = normalize_answer(answer)
    return bool(want) and normalize_answer(given) == want


def _reveals(shown: str, answer: str) -> bool:
    """Whether text a reader sees gives away ``answer`` (single characters such as 对/错 do not)."""
    a = normalize_answer(answer)
    return len(a) >= 2 and a in shown


def _about(card: MethodCard, topic: str) -> bool:
    if not topic:
        return True
    t = normalize(topic)
    texts = [card.name, *card.aliases, card.definition.quote, *card.definition.section_path, card.kind]
    return any(t in normalize(x) or normalize(x) in t for x in texts if x)


def topic_cards(cards: list[MethodCard], topic: str) -> list[MethodCard]:
    """The cards a topic asks about: the one it names (“十联” → 物业管理十联工作法), else those
    whose name contains it, else those whose defining sentence or section does; all when empty."""
    if not topic.strip():
        return list(cards)
    card = find_card(cards, topic) or named_in(cards, topic)
    if card is not None:
        return [card]
    t = normalize(topic.strip().strip("“”\"'"))
    named = [c for c in cards if any(t in normalize(x) for x in (c.name, *c.aliases))]
    return named or [c for c in cards if _about(c, topic)]


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


def _count(card: MethodCard) -> QuizQuestion | None:
    """“X 文中列出了几项？” when the text lists as many parts as the name promises."""
    if not card.count or len(card.components) != card.count or not _listed(card):
        return None
    start = card.definition.start
    listed = card.definition.quote[card.components[0].start - start : card.components[-1].end - start]
    return QuizQuestion(
        "count", f"“{card.name}”包括几项内容？（填数字）", [], str(card.count), listed, card.definition, card.name
    )


def _mention_clozes(card: MethodCard) -> list[QuizQuestion]:
    """A sentence naming the method with what it says of it blanked: the clause right after the
    name (“‘五融四零工作法’____，品牌创建…” → 荣获全省党建创新案例)."""
    out = []
    forms = sorted([card.name, *card.aliases], key=len, reverse=True)
    for source in _unique_sentences(card.mentions):
        for form in forms:
            at = source.quote.find(form)
            if at < 0:
                continue
            after = at + len(form)
            while after < len(source.quote) and source.quote[after] in "”’\"'》":
                after += 1
            m = re.match(r"[^，。；：！？,;:\n]{4,24}(?=[，。；：！？,;:])", source.quote[after:])
            stem = source.quote[:after] + BLANK + source.quote[after + m.end() :] if m else ""
            if m and "*" not in m.group() and "“" not in m.group() and len(stem) - len(BLANK) >= 16:
                question = f"填空：{stem.strip()}"
                out.append(QuizQuestion("cloze", question, [], m.group(), m.group(), source, card.name))
            break
    return out


def _unique_sentences(sources: list[Source]) -> list[Source]:
    return list({(s.doc_id, s.start): s for s in sources}.values())


def _section_questions(
    documents: Iterable[tuple[Document, list[Section]]], topic: str, forms: list[str], label: str
) -> dict[str, list[QuizQuestion]]:
    """Questions from the sections of ``documents`` about the topic (its normalised ``forms``)."""
    pools: dict[str, list[QuizQuestion]] = {"number": [], "list_item": [], "which_item": []}
    for doc, sections in documents:
        chosen, own = about(doc, sections, forms)
        if not chosen:
            continue
        for question, answer, source in number_questions(doc, sections, chosen):
            pools["number"].append(QuizQuestion("number", question, [], answer, answer, source, label))
        for question, answer, source, kind in list_questions(doc, sections, chosen, forms, own):
            pools[kind].append(QuizQuestion(kind, question, [], answer, answer, source, label))
    return pools


def make_quiz(
    cards: list[MethodCard],
    *,
    topic: str = "",
    n: int = 10,
    seed: int = 0,
    documents: Iterable[tuple[Document, list[Section]]] = (),
) -> list[QuizQuestion]:
    """``n`` questions about ``topic`` (all cards when empty), mixing the kinds; ``documents``
    (with their sections, roles assigned) add questions from the sections about the topic."""
    if not 1 <= n <= MAX_QUESTIONS:
        raise DangjianError(f"题目数量应在 1 到 {MAX_QUESTIONS} 之间，收到 {n}", code="bad_quiz")
    rng = random.Random(seed)
    topic = topic.strip()
    chosen = topic_cards(cards, topic)
    one = len(chosen) == 1 and bool(topic)  # a quiz on one method: “which method is this” gives itself away
    pools: dict[str, list[QuizQuestion]] = {
        "fill_blank": [],
        "choose_method": [],
        "true_false": [],
        "what_problem": [],
        "count": [],
        "cloze": [],
    }
    for card in chosen:
        others = [c for c in cards if c is not card]
        if _listed(card):
            pools["fill_blank"] += _fill_blanks(card)
            pools["true_false"] += _true_false(card, others, rng)
        for kind, question in (
            ("choose_method", None if one else _choose(card, others, rng)),
            ("what_problem", _what_problem(card, others, rng)),
            ("count", _count(card) if topic else None),
        ):
            if question:
                pools[kind].append(question)
        if one:
            pools["cloze"] += _mention_clozes(card)
    if topic:
        forms = sorted(
            {normalize(f) for c in chosen[:1] if one for f in (c.name, *c.aliases)} | {normalize(topic)}, key=len
        )
        forms = [f for f in forms if len(f) >= 2]
        label = chosen[0].name if one else topic
        pools.update(_section_questions(documents, topic, forms, label))
    if not any(pools.values()):
        raise DangjianError(
            f"知识库中没有与“{topic}”有关的工作法或章节，出不了题（可用 dangjian methods 查看全部工作法）",
            code="no_quiz",
        )
    for pool in pools.values():
        rng.shuffle(pool)
    return _select(pools, n)


def _select(pools: dict[str, list[QuizQuestion]], n: int) -> list[QuizQuestion]:
    """Up to ``n`` questions, the kinds in turn, none showing another's answer."""
    quiz: list[QuizQuestion] = []
    asked: set[str] = set()
    shown: list[str] = []
    while len(quiz) < n and any(pools.values()):
        for pool in pools.values():
            while pool and len(quiz) < n:
                question = pool.pop()
                seen = question.shown()
                if (
                    question.question in asked
                    or any(_reveals(seen, q.answer) for q in quiz)
                    or any(_reveals(s, question.answer) for s in shown)
                ):
                    continue
                asked.add(question.question)
                shown.append(seen)
                quiz.append(question)
                break
    for i, question in enumerate(quiz, 1):
        question.number = i
    return quiz


def quiz_documents(
    docs: dict[str, dict[str, Any]],
    load: Callable[[str], tuple[Document, list[Section]]],
    cards: list[MethodCard],
    topic: str,
    *,
    visible: Collection[str] | None = None,
    collections: Collection[str] | None = None,
    limit: int = 200,
) -> Iterator[tuple[Document, list[Section]]]:
    """The documents (with sections and their roles) a quiz on ``topic`` reads: every one the
    caller sees in a knowledge base of up to ``limit`` documents; in a larger one those of the
    topic's method cards and those whose title names the topic. ``load(doc_id)`` reads one."""
    from .ingest.roles import assign_roles

    def seen(info: dict[str, Any]) -> bool:
        collection = info.get("collection", "default")
        return (visible is None or collection in visible) and (not collections or collection in collections)

    ids = [d for d, info in docs.items() if seen(info)]
    if len(ids) > limit and topic.strip():
        wanted = {d["doc_id"] for c in topic_cards(cards, topic) for d in c.documents}
        t = normalize(topic)
        ids = [d for d in ids if d in wanted or t in normalize(docs[d].get("title", ""))][:limit]
    elif not topic.strip():
        ids = []  # a quiz on every method: the cards are enough
    for doc_id in ids:
        doc, sections = load(doc_id)
        if not any(s.role for s in sections):  # an index built before roles were stored
            assign_roles(doc, sections)
        yield doc, sections
