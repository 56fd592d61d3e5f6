"""Question analysis, done once per question (``analyse``): normalised text, tokens, the document
wording of colloquial phrases, method names and quoted phrases, years, highlight terms; and what
a question says about documents (titles it contains, documents it names as its source) and lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ..citations import highlight_terms
from ..ingest.patterns import CN_COUNT, CN_DIGITS, cn_to_int, quoted_re
from ..schema import Query
from ..text import Tokenizer, data_lines, normalize
from .kinds import question_kind

MAX_QUERY_CHARS = 500
MAX_TITLE_CHARS = 40
_QUOTED_RE = quoted_re(2, 30, '“”「」『』""《》')
LIST_RE = re.compile(rf"哪些|哪几|哪[{CN_COUNT}]+[个项条种类]|有什么")
_YEAR_RE = re.compile(r"((?:19|20)\d{2})年")
_EVERY_RE = re.compile(r"都(?:要|得|需要|应该|应|必须)?([\u4e00-\u9fff])(?=[吗呢？?。，,！!]|$)")
_DOCUMENT_YEAR_RE = re.compile(r"((?:19|20)\d{2})年的?(?:政府)?(?:工作)?(?:报告|总结)")
_NUMBERED_RE = re.compile(rf"^([{CN_COUNT}]+)(?:个|联|项|条|种|大|化|心|共|好|步|必须|要|不)")
_ENUMERATION_RE = re.compile(r"[^、，。；：“”\n]{1,12}(?:、[^、，。；：“”\n]{1,12}){2,}")
_CONGRESS_TITLE_RE = re.compile(rf"[（(]\s*([{CN_DIGITS}]{{1,3}})大\s*[）)]|第([{CN_DIGITS}]{{1,3}})次全国代表大会")
_BRACKETED_RE = re.compile(r"\[[^\]]*\]|（[^）]*）|\([^)]*\)|[《》“”\"]")
_SOURCE_CUE_RE = re.compile(r"(?:报告)?(?:里|中|上|说|讲|提|指出|强调|要求|规定|明确|写|对|关于|怎么|有|和|与)")


def analyse(text: str, tokenizer: Tokenizer, boost_names: Iterable[str], *, expand: bool = True) -> Query:
    """``text`` (stripped) analysed with ``tokenizer``; ``boost_names``: the normalised method
    names a question may mention, longest first."""
    norm = normalize(text).lower()
    tokens = tokenizer.tokenize(text)
    lexical = list(tokens)
    if expand:
        extra = [t for term in expansion_terms(norm) for t in tokenizer.tokenize(term)]
        lexical += [t for t in dict.fromkeys(extra) if t not in lexical]
    phrases = [normalize(m.group(1)).lower() for m in _QUOTED_RE.finditer(text)]
    for name in boost_names:
        if name in norm and not any(name in f for f in phrases):
            phrases.append(name)
    return Query(
        text=text,
        norm=norm,
        tokens=tokens,
        lexical=lexical,
        phrases=phrases,
        years={int(y) for y in _YEAR_RE.findall(norm)},
        terms=highlight_terms(lexical, phrases),
        kind=question_kind(norm),
    )


def document_years(norm: str) -> set[int]:
    """The years a (normalised) question gives a document: “2024年政府工作报告里说2023年…” → 2024."""
    return {int(y) for y in _DOCUMENT_YEAR_RE.findall(norm)}


def numbered_count(name: str) -> int | None:
    """The count a numbered method name promises: 十联工作法 → 10, 七个一 → 7, 四个好 → 4."""
    m = _NUMBERED_RE.match(name)
    return cn_to_int(m.group(1)) if m else None


def longest_enumeration(text: str) -> int:
    """Items in the longest 、-separated list of ``text``."""
    return max((m.group(0).count("、") + 1 for m in _ENUMERATION_RE.finditer(text)), default=0)


def title_name(title: str) -> str:
    """A title as a question would mention it: without bracketed parts and quotes (“潘淑 [DEV_1]”
    → “潘淑”); empty when shorter than two characters or too long to be typed."""
    name = _BRACKETED_RE.sub("", normalize(title)).strip().lower()
    return name if 2 <= len(name) <= MAX_TITLE_CHARS else ""


def mentions_title(norm: str, titles: set[str]) -> bool:
    """Whether a (normalised, lower-case) question contains one of ``titles``."""
    n = len(norm)
    return any(
        norm[i : i + size] in titles for size in range(2, min(n, MAX_TITLE_CHARS) + 1) for i in range(n - size + 1)
    )


def doc_aliases(title: str) -> set[str]:
    """Short names users give a document: “二十大” for the 20th Congress report (from “(二十大)”
    or “第二十次全国代表大会” in its title), and those of ``dangjian/data/doc_aliases.txt``."""
    title = normalize(title)
    aliases = {short for short, part in _alias_table() if part in title}
    m = _CONGRESS_TITLE_RE.search(title)
    if m:
        aliases.add((m.group(1) or m.group(2)) + "大")
    return aliases


@lru_cache(maxsize=1)
def _alias_table() -> tuple[tuple[str, str], ...]:
    return tuple(tuple(line.split("\t", 1)) for line in data_lines("doc_aliases.txt") if "\t" in line)


def mentioned_aliases(norm: str, aliases: Iterable[str]) -> set[str]:
    """The documents a question names as its source: an alias followed by a source cue (“二十大
    报告里…”, “党章规定…”, “十九大说…”), not a topic (“学习二十大精神”). A congress alias must not
    be part of a longer numeral (“十大” in “二十大”)."""
    found = set()
    for alias in aliases:
        for m in re.finditer(re.escape(alias), norm):
            if alias[0] in CN_DIGITS and m.start() and norm[m.start() - 1] in CN_DIGITS:
                continue
            if _SOURCE_CUE_RE.match(norm, m.end()):
                found.add(alias)
                break
    return found


@lru_cache(maxsize=1)
def _synonyms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    rows = []
    for line in data_lines("query_synonyms.txt"):
        if "\t" in line:
            key, terms = line.split("\t", 1)
            rows.append((normalize(key).lower(), tuple(normalize(terms).lower().split())))
    return tuple(rows)


@lru_cache(maxsize=4096)
def document_forms(phrase: str) -> tuple[str, ...]:
    """The document wording of a phrase that has one (业委会 → 业主委员会): a passage using it
    contains the phrase."""
    return tuple(term for key, terms in _synonyms() if key == phrase for term in terms if term != phrase)


def expansion_terms(norm: str) -> list[str]:
    """Document wording for the colloquial phrases of a (normalised) question (``query_synonyms.txt``),
    and the official “应X尽X” for “都要X” (是不是都要建 → 应建尽建)."""
    every = [f"应{m.group(1)}尽{m.group(1)}" for m in _EVERY_RE.finditer(norm)]
    return [term for key, terms in _synonyms() if key in norm for term in terms] + every
