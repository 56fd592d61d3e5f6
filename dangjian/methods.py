"""Method cards: what the whole knowledge base says about each named working method.

Each document's methods are found at ingest (``dangjian.ingest.methods``) and kept in its index
record; a card merges them across documents — the same name, or a name that is another's alias
(a report that only says “十联工作法” joins the card of “物业管理十联工作法”). Every field carries
its source: the defining sentence, each component and each mention cite a document, its section
path and character offsets into the original text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .ingest.methods import _RESULT_RE, aliases
from .ingest.patterns import GENERIC_INSTITUTIONS, GENERIC_PLATFORMS
from .text import normalize, normalize_name

GENERIC_GROUPS = {**{n: "通用制度" for n in GENERIC_INSTITUTIONS}, **{n: "通用平台" for n in GENERIC_PLATFORMS}}


@dataclass
class Source:
    doc_id: str
    title: str
    section_path: list[str]
    quote: str
    start: int
    end: int

    def citation(self) -> str:
        path = " > ".join(self.section_path)
        return f"《{self.title}》{path}" if path else f"《{self.title}》"


@dataclass
class CardComponent:
    text: str
    doc_id: str
    start: int
    end: int


@dataclass
class MethodCard:
    name: str
    aliases: list[str]
    kind: str
    count: int | None  # what the name promises (十联 → 10)
    components: list[CardComponent]
    count_note: str  # whether the text lists as many components as the name promises
    definition: Source  # the sentence that lists the components, else the first mention
    mentions: list[Source] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)  # doc_id, title, year, collection
    results: list[Source] = field(default_factory=list)  # sentences stating what it achieved
    problems: list[Source] = field(default_factory=list)  # sentences naming the problems it addresses
    places: list[CardComponent] = field(default_factory=list)  # units named beside it (示例社区, ***社区)

    @property
    def group(self) -> str:
        """What the card is listed under: its kind (工作法, 机制, 品牌…), or 通用制度 / 通用平台 for
        the institutions and platforms every Party organisation uses (三会一课, 学习强国)."""
        return GENERIC_GROUPS.get(self.name) or next(
            (GENERIC_GROUPS[a] for a in self.aliases if a in GENERIC_GROUPS), self.kind
        )

    @property
    def generic(self) -> bool:
        return self.group in ("通用制度", "通用平台")

    @property
    def weight(self) -> int:
        """How much the corpus says about it: each listed component 3, each document 2, each
        mention and each result 1 (cards are listed heaviest first)."""
        return 3 * len(self.components) + 2 * len(self.documents) + len(self.mentions) + len(self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": self.aliases,
            "kind": self.kind,
            "group": self.group,
            "generic": self.generic,
            "weight": self.weight,
            "count": self.count,
            "components": [vars(c) for c in self.components],
            "count_note": self.count_note,
            "definition": {**vars(self.definition), "citation": self.definition.citation()},
            "mentions": [{**vars(m), "citation": m.citation()} for m in self.mentions],
            "documents": self.documents,
            "results": [{**vars(m), "citation": m.citation()} for m in self.results],
            "problems": [{**vars(m), "citation": m.citation()} for m in self.problems],
            "places": [vars(c) for c in self.places],
        }


def _count_note(count: int | None, found: int) -> str:
    if not count:
        return ""
    if found == count:
        return f"名称为{count}项，文中列出{found}项，相符"
    if found == 0:
        return f"名称为{count}项，文中没有逐项列出"
    return f"名称为{count}项，文中只列出{found}项"


def build_cards(records: Iterable[dict[str, Any]]) -> list[MethodCard]:
    """Cards from document index records (``doc_index.jsonl`` rows with their ``methods``):
    working methods first, heaviest first (``MethodCard.weight``), then the generic institutions
    and platforms; a sentence that names several methods is each card's only where it lists that
    card's parts, elsewhere each card shows just the clause naming it (``_own_clauses``)."""
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    canonical: dict[str, str] = {}  # any form (normalised) -> the card's key
    for record in records:
        for method in record.get("methods", []):
            forms = [method["name"], *aliases(method["name"])]
            key = next((canonical[normalize(f)] for f in forms if normalize(f) in canonical), None)
            if key is None:
                key = method["name"]
                groups[key] = []
            for form in forms:
                canonical.setdefault(normalize(form), key)
            groups[key].append((record, method))
    cards = []
    for found in groups.values():
        names = [m["name"] for _, m in found]
        name = max(names, key=lambda n: (len(n), -names.index(n)))  # the fullest form
        listed = [(r, m) for r, m in found if m["components"]]
        count = next((m["count"] for _, m in found if m["count"]), None)
        best = max(listed, key=lambda rm: (len(rm[1]["components"]) == count, len(rm[1]["components"])), default=None)
        record, method = best or found[0]
        mention = method["mentions"][method["defined_at"]]
        cards.append(
            MethodCard(
                name=name,
                aliases=sorted({a for n in names for a in [n, *aliases(n)]} - {name}, key=len, reverse=True),
                kind=method["kind"],
                count=count,
                components=[
                    CardComponent(c["text"], record["doc_id"], c["start"], c["end"]) for c in method["components"]
                ],
                count_note=_count_note(count, len(method["components"])),
                definition=_source(record, mention),
                mentions=[_source(r, m) for r, meth in found for m in meth["mentions"]],
                results=_unique(_source(r, m) for r, meth in found for m in meth.get("results", [])),
                problems=_unique(_source(r, m) for r, meth in found for m in meth.get("problems", [])),
                places=list(
                    {
                        p["text"]: CardComponent(p["text"], r["doc_id"], p["start"], p["end"])
                        for r, meth in found
                        for p in meth.get("places", [])
                    }.values()
                ),
                documents=list(
                    {
                        r["doc_id"]: {k: r.get(k) for k in ("doc_id", "title", "year", "collection")} for r, _ in found
                    }.values()
                ),
            )
        )
    _own_clauses(cards)
    order = {id(c): i for i, c in enumerate(cards)}
    return sorted(cards, key=lambda c: (c.generic, -c.weight, order[id(c)]))


CLAUSE_END = "，。；！？,;!?\n"


def _clause(source: Source, names: list[str]) -> Source:
    """The clause of ``source`` (between commas or sentence ends) naming one of ``names``;
    ``source`` itself when none does."""
    quote = source.quote
    at = min((i for i in (quote.find(n) for n in names) if i >= 0), default=-1)
    if at < 0:
        return source
    start = max((quote.rfind(c, 0, at) for c in CLAUSE_END), default=-1) + 1
    ends = [i for i in (quote.find(c, at) for c in CLAUSE_END) if i >= 0]
    end = min(ends) + 1 if ends else len(quote)
    return Source(
        source.doc_id, source.title, source.section_path, quote[start:end], source.start + start, source.start + end
    )


def _own_clauses(cards: list[MethodCard]) -> None:
    """A defining sentence shared by several cards (“擦亮‘一社一品’…开展‘书记沙龙’…‘五融四零工作法’
    荣获…” defines four) stays whole only on the card whose parts it lists; the others show the
    clause naming them."""
    shared: dict[tuple[str, int], int] = {}
    for card in cards:
        key = (card.definition.doc_id, card.definition.start)
        shared[key] = shared.get(key, 0) + 1
    for card in cards:
        if shared[(card.definition.doc_id, card.definition.start)] > 1 and not card.components:
            card.definition = _clause(card.definition, [card.name, *card.aliases])
    # A result sentence several cards share, likewise: each card keeps the clause naming it when that
    # clause states a result (“‘五融四零工作法’荣获全省党建创新案例”), else not the sentence.
    said: dict[tuple[str, int], int] = {}
    for card in cards:
        for source in card.results:
            said[(source.doc_id, source.start)] = said.get((source.doc_id, source.start), 0) + 1
    for card in cards:
        kept = []
        for source in card.results:
            if said[(source.doc_id, source.start)] > 1:
                forms = [card.name, *card.aliases]
                if not any(f in source.quote for f in forms):
                    continue  # a neighbouring sentence several cards share: it names none of them
                source = _clause(source, forms)
                if not _RESULT_RE.search(source.quote):
                    continue
            kept.append(source)
        card.results = kept


def group_cards(cards: list[MethodCard]) -> dict[str, list[MethodCard]]:
    """The cards by ``group``, groups in order of their heaviest card (generic groups last)."""
    groups: dict[str, list[MethodCard]] = {}
    for card in cards:
        groups.setdefault(card.group, []).append(card)
    return groups


def search_cards(cards: list[MethodCard], query: str) -> list[MethodCard]:
    """The cards whose name, short forms, components or defining sentence contain ``query``
    (normalised); all when it is empty."""
    q = normalize(query.strip())
    if not q:
        return list(cards)
    return [
        c
        for c in cards
        if any(q in normalize(x) for x in (c.name, *c.aliases, c.definition.quote, *(p.text for p in c.components)))
    ]


def _unique(sources: Iterable[Source]) -> list[Source]:
    return list({(s.doc_id, s.start): s for s in sources}.values())


def _source(record: dict[str, Any], mention: dict[str, Any]) -> Source:
    return Source(
        doc_id=record["doc_id"],
        title=record["title"],
        section_path=mention["section_path"],
        quote=mention["quote"],
        start=mention["sentence_start"],
        end=mention["sentence_end"],
    )


def find_card(cards: list[MethodCard], name: str) -> MethodCard | None:
    """The card called ``name`` or one of its aliases (quotes and spacing ignored)."""
    wanted = normalize(name.strip().strip("“”\"'"))
    for card in cards:
        if wanted in (normalize_name(n) for n in (card.name, *card.aliases)):
            return card
    return None


_FORMS: dict[int, tuple[list[MethodCard], list[tuple[str, MethodCard]]]] = {}


def _forms(cards: list[MethodCard]) -> list[tuple[str, MethodCard]]:
    """Every card's normalised names, longest first (a list of cards is looked up on every
    question: the catalogue keeps one list per index version and scope)."""
    kept = _FORMS.get(id(cards))
    if kept is None or kept[0] is not cards:
        if len(_FORMS) > 64:
            _FORMS.clear()
        forms = [(normalize(form), card) for card in cards for form in (card.name, *card.aliases)]
        forms.sort(key=lambda pair: -len(pair[0]))  # stable: the first card of a length wins
        kept = _FORMS[id(cards)] = (cards, [(f, card) for f, card in forms if len(f) > 1])
    return kept[1]


def named_in(cards: list[MethodCard], question: str) -> MethodCard | None:
    """The card whose name or alias the question uses (the longest such name wins)."""
    q = normalize(question)
    return next((card for form, card in _forms(cards) if form in q), None)
