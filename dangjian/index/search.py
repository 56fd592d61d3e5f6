"""Hybrid search over one index version: BM25 + dense, fused by weighted reciprocal rank.

Exact mentions of method names or quoted phrases in the question boost the passages that
contain them; when nothing is relevant the search abstains instead of returning the least-bad
passage.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import faiss
import numpy as np

from ..errors import DangjianError, IndexCorruptError
from ..ingest.names import is_method_like
from ..ingest.patterns import cn_to_int
from ..schema import Hit, Passage
from ..text import Tokenizer, data_lines, domain_words, normalize, searchable_text
from .dense import MANY_FROM
from .embedders import Embedder, QueryBatcher
from .facts import SUPPORT_RATIO, Fact, asked_fact, is_person_name, support
from .retrieval import Retrieval, open_retrieval

MAX_QUERY_CHARS = 500
FACT_DEPTH = 5  # passages searched for the fact a question asks for
_QUOTED_RE = re.compile(r"[“「『\"《]([^“”「」『』\"《》]{2,30})[”」』\"》]")


@dataclass
class SearchSettings:
    """Ranking knobs. Weights are for reciprocal-rank fusion: ``w / (rrf_k + rank)``."""

    candidates: int = 50
    rrf_k: int = 60
    weight_dense: float = 1.0
    weight_lexical: float = 1.0
    boost_weight: float = 1.0
    expand: bool = True  # colloquial → document wording for BM25 (measured: see evals/tuning_log.md)
    # Abstain when the confidence is below the index's calibrated threshold plus this margin
    # (negative: decline less). ``abstain_threshold`` replaces the calibrated one when set.
    abstain_margin: float = 0.0
    abstain_threshold: float | None = None
    # Decline a question asking for a count, date or name that no top passage states (facts.py).
    fact_check: bool = True
    lexical_decisive: bool = True  # BM25's clear winner goes first (DECISIVE_*)
    part_weight: float = 1.0  # the vote of a passage's part of its document (PART_MATCH)
    faiss_threads: int = 1  # measured: faiss's and the embedder's OpenMP threads contend


@dataclass
class Filters:
    collections: list[str] | None = None
    doc_ids: list[str] | None = None
    types: list[str] | None = None
    years: list[int] | None = None

    def empty(self) -> bool:
        return not (self.collections or self.doc_ids or self.types or self.years)


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    abstained: bool
    took_ms: float
    signals: dict[str, float] = field(default_factory=dict)
    # When declined because the passages about the question do not state the fact it asks for:
    # what is missing (“具体数字”) and those passages.
    missing: str | None = None
    related: list[Hit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "query": self.query,
            "abstained": self.abstained,
            "took_ms": self.took_ms,
            "hits": [h.to_dict() for h in self.hits],
        }
        if self.missing:
            out["missing"] = self.missing
            out["related"] = [h.to_dict() for h in self.related]
        return out


# Confidence that the corpus answers a question: the best dense similarity, plus a little for how
# much of the question's term weight the best BM25 passage matches and how much of it the corpus
# knows at all. A question whose best BM25 passage matches LEXICAL_GUARD of its term weight is
# never declined. Weights and guard measured on the development, off-topic and CMRC questions
# (see bench/RESULTS.md).
CONF_LEXICAL = 0.1
CONF_VOCAB = 0.05
LEXICAL_GUARD = 0.35
AGREEMENT_MATCH = 0.15
AGREEMENT_DEPTH = 5
# BM25's best passage is put first when it matches this share of the question's term weight and
# scores this many times its second (measured: CMRC +36/-3 questions at hit@1, DRCD +81/-0).
DECISIVE_MATCH = 0.3
DECISIVE_RATIO = 1.5
# A question whose words match less than this share (paraphrase) also ranks passages by their
# part of a document — its top-level section, or the whole document where it has none — scored by
# the sum of its candidates' fused scores: a section where several candidates meet is likelier to
# hold the answer than a lone passage of an unrelated report. Questions that match more (names,
# exact terms: most of CMRC) keep passage-level ranking (measured: see evals/tuning_log.md).
PART_MATCH = 0.3
# A question asking for a list (“有哪些”, “哪几项”) gets BM25's best passage within the first
# LIST_SLOT when it matches at least LIST_MATCH of the question's term weight: dense search
# reads a long passage listing many things as being about none of them.
LIST_SLOT = 3
LIST_MATCH = 0.2
_LIST_RE = re.compile(r"哪些|哪几|哪[一二三四五六七八九十两]+[个项条种类]|有什么")
_YEAR_RE = re.compile(r"((?:19|20)\d{2})年")
_NUMBERED_RE = re.compile(r"^([一二三四五六七八九十两]+)(?:个|联|项|条|种|大|化|心|共|好|步|必须|要|不)")
_ENUMERATION_RE = re.compile(r"[^、，。；：“”\n]{1,12}(?:、[^、，。；：“”\n]{1,12}){2,}")
_CN_NUM = "一二三四五六七八九十"
_CONGRESS_TITLE_RE = re.compile(rf"[（(]\s*([{_CN_NUM}]{{1,3}})大\s*[）)]|第([{_CN_NUM}]{{1,3}})次全国代表大会")


def evidence(
    dense_scores: np.ndarray, lexical_scores: np.ndarray, tokens: list[str], retrieval: Retrieval
) -> tuple[float, float]:
    """(confidence, lexical match) of a question from its best dense and BM25 scores."""
    top_dense = float(dense_scores[0]) if len(dense_scores) else 0.0
    if not tokens or retrieval.n == 0:
        return top_dense, 0.0
    weights, max_idf = retrieval.term_weights(tokens)
    total = sum(w or max_idf for w in weights.values())  # a word the corpus never uses weighs most
    known = sum(weights.values()) / total
    match = float(lexical_scores[0]) / total if len(lexical_scores) else 0.0
    return top_dense + CONF_LEXICAL * match + CONF_VOCAB * known, match


def calibrate_abstention(retrieval: Retrieval, tokenizer: Tokenizer, embedder: Embedder) -> dict:
    """The highest confidence that off-topic probe questions reach on this index is the threshold.

    Probes the corpus answers word for word (a general corpus may well say how many planets
    there are) are left out. Measured on the domain evaluation (evals/tuning_log.md): the
    highest probe declines 92.5 % of the held-out off-topic questions with 1.9 % of answerable
    ones declined; the second-highest let 12.5 % of off-topic questions through. Questions that
    are plainly about the corpus are never declined (see ``Searcher.search``).
    """
    scores = []
    for probe in probe_questions():
        tokens = tokenizer.tokenize(probe)
        _, lex = retrieval.lexical_search(tokens, 1, None)
        _, den = retrieval.dense_search(embedder.embed_query(probe), 1, None)
        conf, match = evidence(den, lex, tokens, retrieval)
        if match < LEXICAL_GUARD:  # a probe the corpus answers word for word is not off-topic for it
            scores.append(conf)
    scores.sort()
    return {
        "threshold": round(scores[-1] if scores else 0.0, 5),
        "lexical_guard": LEXICAL_GUARD,
        "probes": len(scores),
        "probe_mean": round(float(np.mean(scores)), 5) if scores else 0.0,
    }


def probe_questions() -> list[str]:
    return data_lines("abstain_probes.txt")


def numbered_count(name: str) -> int | None:
    """The count a numbered method name promises: 十联工作法 → 10, 七个一 → 7, 四个好 → 4."""
    m = _NUMBERED_RE.match(name)
    return cn_to_int(m.group(1)) if m else None


def longest_enumeration(text: str) -> int:
    """Items in the longest 、-separated list of ``text``."""
    return max((m.group(0).count("、") + 1 for m in _ENUMERATION_RE.finditer(text)), default=0)


_BRACKETED_RE = re.compile(r"\[[^\]]*\]|（[^）]*）|\([^)]*\)|[《》“”\"]")
MAX_TITLE_CHARS = 40


def title_name(title: str) -> str:
    """A title as a question would mention it: without bracketed parts and quotes (“潘淑 [DEV_1]”
    → “潘淑”); empty when shorter than two characters or too long to be typed."""
    name = _BRACKETED_RE.sub("", normalize(title)).strip().lower()
    return name if 2 <= len(name) <= MAX_TITLE_CHARS else ""


def mentions_title(query: str, titles: set[str]) -> bool:
    """Whether a (normalised, lower-case) question contains one of ``titles``."""
    n = len(query)
    return any(
        query[i : i + size] in titles for size in range(2, min(n, MAX_TITLE_CHARS) + 1) for i in range(n - size + 1)
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


_SOURCE_CUE_RE = re.compile(r"(?:报告)?(?:里|中|上|说|讲|提|指出|强调|要求|规定|明确|写|对|关于|怎么|有|和|与)")


def mentioned_aliases(query: str, aliases: Iterable[str]) -> set[str]:
    """The documents a question names as its source: an alias followed by a source cue (“二十大
    报告里…”, “党章规定…”, “十九大说…”), not a topic (“学习二十大精神”). A congress alias must not
    be part of a longer numeral (“十大” in “二十大”)."""
    found = set()
    for alias in aliases:
        for m in re.finditer(re.escape(alias), query):
            if alias[0] in _CN_NUM and m.start() and query[m.start() - 1] in _CN_NUM:
                continue
            if _SOURCE_CUE_RE.match(query, m.end()):
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
def _document_forms(phrase: str) -> tuple[str, ...]:
    """The document wording of a phrase that has one (业委会 → 业主委员会): a passage using it
    contains the phrase."""
    return tuple(term for key, terms in _synonyms() if key == phrase for term in terms if term != phrase)


def expansion_terms(query: str) -> list[str]:
    """Document wording for the colloquial phrases of a question (``query_synonyms.txt``)."""
    norm = normalize(query).lower()
    return [term for key, terms in _synonyms() if key in norm for term in terms]


def lexical_text(passage: Passage) -> str:
    """What BM25 indexes for a passage: its section path, then its text (measured: +0.03 MRR)."""
    text = searchable_text(passage.text)
    return " ".join(passage.section_path) + "\n" + text if passage.section_path else text


def format_citation(title: str, path: list[str], page: int | None, paragraph: int) -> str:
    """《标题》三、2023年工作谋划 > （二）突出重点难点… > 一是…，第N页，第N段"""
    text = f"《{title}》" + " > ".join(h if len(h) <= 24 else h[:23] + "…" for h in path)
    where = ([f"第{page}页"] if page else []) + ([f"第{paragraph}段"] if paragraph else [])
    return text + ("，" + "，".join(where) if where else "")


def highlight_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """``[start, end)`` ranges in ``text`` where any term occurs (normalised matching), merged."""
    norm = normalize(text).lower()
    spans: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        if not term:
            continue
        pos = norm.find(term)
        while pos >= 0:
            spans.append((pos, pos + len(term)))
            pos = norm.find(term, pos + len(term))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class Searcher:
    """An opened index version ready to answer queries (load once, query many times)."""

    def __init__(self, version, embedder: Embedder, settings: SearchSettings | None = None):
        """``version``: a local ``IndexVersion`` or a Milvus store's (see ``open_retrieval``)."""
        self.embedder = embedder
        self.settings = settings or SearchSettings()
        check_embedder(version.manifest, embedder, version.home)
        self.retrieval = retrieval = open_retrieval(version)
        self.version = version
        self.docs = retrieval.docs
        self.passage_counts = retrieval.passage_counts  # passages per document
        self._doc_ids = retrieval.doc_ids
        names = retrieval.names
        self.tokenizer = Tokenizer(extra_words=names)
        self.boost_names = sorted(
            {normalize(w).lower() for w in names} | {normalize(w).lower() for w in domain_words() if is_method_like(w)},
            key=len,
            reverse=True,
        )
        self._titles = {title_name(d.get("title", "")) for d in self.docs.values()} - {""}
        self._alias_docs: dict[str, list[int]] = {}
        for i, doc_id in enumerate(self._doc_ids):
            for alias in doc_aliases(self.docs[doc_id].get("title", "")):
                self._alias_docs.setdefault(alias, []).append(i)
        # concurrent questions share one embedding call and one pass over the vectors
        self._queries = QueryBatcher(embedder, retrieval.dense_search_many, retrieval.dense_search)
        calibration = version.manifest.get("abstain") or calibrate_abstention(retrieval, self.tokenizer, embedder)
        self.lexical_guard = calibration.get("lexical_guard", LEXICAL_GUARD)
        if self.settings.abstain_threshold is not None:
            self.threshold = self.settings.abstain_threshold
        else:
            self.threshold = calibration["threshold"] + self.settings.abstain_margin
        faiss.omp_set_num_threads(self.settings.faiss_threads)

    def warm_up(self) -> None:
        """Before a service takes its first questions: the question engine's kernels and the
        dense index's copy for batched scans are made now (measured: the first second of a
        busy start otherwise answered in up to 0.4 s)."""
        warm = getattr(self.embedder, "warm_up", None)
        if warm is not None:
            warm()
        vectors = np.zeros((MANY_FROM, self.embedder.dimension), dtype=np.float32)
        self.retrieval.dense_search_many(vectors, 1, [None] * MANY_FROM)

    # --- filters ---------------------------------------------------------------------------

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        """The documents (a boolean per ``self._doc_ids``) the filters let through; None: all."""
        if filters is None or filters.empty():
            return None
        ok_docs = np.ones(len(self._doc_ids), dtype=bool)
        for i, doc_id in enumerate(self._doc_ids):
            info = self.docs[doc_id]
            if filters.collections and info["collection"] not in filters.collections:
                ok_docs[i] = False
            elif filters.doc_ids and doc_id not in filters.doc_ids:
                ok_docs[i] = False
            elif filters.types and info.get("type") not in filters.types:
                ok_docs[i] = False
            elif filters.years and info.get("year") not in filters.years:
                ok_docs[i] = False
        return ok_docs

    def _named_docs(self, query: str) -> np.ndarray | None:
        """The documents a question names (“二十大报告里…”, “党章规定…”), if any."""
        names = mentioned_aliases(normalize(query), self._alias_docs)
        if not names:
            return None
        ok_docs = np.zeros(len(self._doc_ids), dtype=bool)
        for name in names:
            ok_docs[self._alias_docs[name]] = True
        return ok_docs

    # --- ranking ---------------------------------------------------------------------------

    def _phrases(self, query: str) -> list[str]:
        """Method names and quoted phrases the question mentions (normalised)."""
        norm = normalize(query).lower()
        found = [normalize(m.group(1)).lower() for m in _QUOTED_RE.finditer(query)]
        for name in self.boost_names:
            if name in norm and not any(name in f for f in found):
                found.append(name)
        return found

    def _on_topic(self, query, match, lex_ids, dense_ids, phrases, ranked) -> bool:
        """Whether a question is plainly about the corpus, so it is answered whatever the
        confidence (a question naming a document is too): it contains a document's title
        (“潘淑是哪里人？”); or its best passage by words is one of its two best by meaning and
        shares some of its words — off-topic questions almost never make the two retrievers agree
        (0 of 70 held-out and probe questions; a single shared word such as “文件” in a licence
        note is not agreement); or a candidate contains a method name or quoted phrase it uses."""
        return (
            mentions_title(normalize(query).lower(), self._titles)
            or (match >= AGREEMENT_MATCH and len(lex_ids) > 0 and lex_ids[0] in dense_ids[:AGREEMENT_DEPTH])
            or (bool(phrases) and any(self._boost(row, phrases, set()) for row in ranked[: self.settings.candidates]))
        )

    def _part_ranks(self, fused: dict[int, float]) -> dict[int, int]:
        """Each candidate's 0-based rank of its part of a document (``PART_MATCH``)."""
        part_of: dict[int, tuple[str, str]] = {}
        totals: dict[tuple[str, str], float] = defaultdict(float)
        for row, score in fused.items():
            p = self.retrieval.passage(row)
            part = part_of[row] = (p.doc_id, p.section_path[0] if p.section_path else "")
            totals[part] += score
        order = {part: i for i, part in enumerate(sorted(totals, key=lambda part: (-totals[part], part)))}
        return {row: order[part] for row, part in part_of.items()}

    def _boost(self, row: int, phrases: list[str], years: set[int]) -> float:
        """How many boosts a passage earns: each phrase it contains; the year the question names;
        a complete enumeration of a numbered method (“十联” listing ten items)."""
        p = self.retrieval.passage(row)
        text = normalize(p.text).lower()
        earned = 0.0
        for phrase in phrases:
            if phrase in text or any(form in text for form in _document_forms(phrase)):
                earned += 1
                count = numbered_count(phrase)
                if count and longest_enumeration(p.text) >= count:
                    earned += 1
        if years and (self.docs[p.doc_id].get("year") in years or any(str(y) in p.title for y in years)):
            earned += 1
        return earned

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> SearchResult:
        started = time.perf_counter()
        query = (query or "").strip()
        if not query:
            raise DangjianError("问题不能为空", code="empty_query")
        if len(query) > MAX_QUERY_CHARS:
            raise DangjianError(
                f"问题太长（{len(query)} 字），请控制在 {MAX_QUERY_CHARS} 字以内", code="query_too_long"
            )
        s = self.settings
        allowed = self._allowed(filters)
        named = self._named_docs(query)
        if named is not None:
            narrowed = named if allowed is None else allowed & named
            if narrowed.any():
                allowed = narrowed
        tokens = self.tokenizer.tokenize(query)
        if s.expand:
            extra = [t for term in expansion_terms(query) for t in self.tokenizer.tokenize(term)]
            tokens += [t for t in dict.fromkeys(extra) if t not in tokens]
        lex_ids, lex_scores = self.retrieval.lexical_search(tokens, s.candidates, allowed)
        dense_ids, dense_scores = self._queries.search(query, s.candidates, allowed)

        fused: dict[int, float] = {}
        for rank, row in enumerate(dense_ids.tolist()):
            fused[row] = fused.get(row, 0.0) + s.weight_dense / (s.rrf_k + rank + 1)
        for rank, row in enumerate(lex_ids.tolist()):
            fused[row] = fused.get(row, 0.0) + s.weight_lexical / (s.rrf_k + rank + 1)
        conf, match = evidence(dense_scores, lex_scores, tokens, self.retrieval)
        if s.part_weight and match < PART_MATCH:
            for row, part_rank in self._part_ranks(fused).items():
                fused[row] += s.part_weight / (s.rrf_k + part_rank + 1)
        phrases = self._phrases(query)
        years = {int(y) for y in _YEAR_RE.findall(normalize(query))}
        if (phrases or years) and s.boost_weight:
            for row in fused:
                fused[row] += s.boost_weight * self._boost(row, phrases, years) / (s.rrf_k + 1)
        ranked = sorted(fused, key=lambda r: (-fused[r], r))
        if s.lexical_decisive and len(lex_ids) and match >= DECISIVE_MATCH:
            # Fusion must not lose what BM25 alone finds when BM25 is sure: its best passage
            # matches much of the question and clearly beats its second.
            if len(lex_scores) == 1 or lex_scores[0] >= DECISIVE_RATIO * lex_scores[1]:
                top = int(lex_ids[0])
                ranked = [top] + [row for row in ranked if row != top]

        if s.lexical_decisive and _LIST_RE.search(query) and len(lex_ids) and match >= LIST_MATCH:
            top = int(lex_ids[0])
            if top not in ranked[:LIST_SLOT]:
                ranked.remove(top)
                ranked.insert(LIST_SLOT - 1, top)
        abstained = not ranked or (
            conf < self.threshold
            and match < self.lexical_guard
            and not (named is not None or self._on_topic(query, match, lex_ids, dense_ids, phrases, ranked))
        )
        fact = None
        if not abstained and s.fact_check:
            fact = asked_fact(query, self._person_names)
            if fact and self._fact_support(query, fact, tokens, ranked[:FACT_DEPTH]) >= SUPPORT_RATIO:
                fact = None
        dense_by_row = dict(zip(dense_ids.tolist(), dense_scores.tolist()))
        lex_by_row = dict(zip(lex_ids.tolist(), lex_scores.tolist()))
        hits = []
        if not abstained:
            hits = [
                self._hit(i + 1, row, fused[row], tokens, phrases, dense_by_row, lex_by_row)
                for i, row in enumerate(ranked[:k])
            ]
        return SearchResult(
            query=query,
            hits=[] if fact else hits,
            abstained=abstained or fact is not None,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            signals={
                "confidence": round(conf, 4),
                "lexical_match": round(match, 4),
                "threshold": round(self.threshold, 4),
            },
            missing=fact.label if fact else None,
            related=hits if fact else [],
        )

    def _person_names(self, sentence: str) -> list[str]:
        return [word for word, flag in self.tokenizer.tagged(sentence) if is_person_name(word, flag)]

    def _fact_support(self, query: str, fact: Fact, tokens: list[str], rows: list[int]) -> float:
        idf, max_idf = self.retrieval.term_weights(tokens)
        weights = {t: w or max_idf for t, w in idf.items()}
        passages = []
        for row in rows:
            p = self.retrieval.passage(row)
            passages.append((p.text, f"{self.docs[p.doc_id].get('year')} {normalize(p.title)}"))
        return support(query, fact, passages, weights)

    def _hit(self, rank, row, score, tokens, phrases, dense_by_row, lex_by_row) -> Hit:
        p = self.retrieval.passage(row)
        info = self.docs[p.doc_id]
        terms = [t for t in tokens if len(t) > 1 or not t.isascii()] + phrases
        return Hit(
            rank=rank,
            score=round(score, 6),
            passage_id=p.passage_id,
            doc_id=p.doc_id,
            title=p.title,
            section_path=p.section_path,
            text=p.text,
            start=p.start,
            end=p.end,
            page=p.page,
            page_end=p.page_end,
            paragraph=p.paragraph,
            highlights=highlight_spans(p.text, terms),
            citation=format_citation(p.title, p.section_path, p.page, p.paragraph),
            collection=info["collection"],
            dense_score=round(dense_by_row[row], 4) if row in dense_by_row else None,
            lexical_score=round(lex_by_row[row], 4) if row in lex_by_row else None,
        )


def check_embedder(manifest: dict[str, Any], embedder: Embedder, home) -> None:
    """Refuse an index built by another embedder, naming the command that rebuilds it."""
    built = manifest.get("embedder")
    current = embedder.identity()
    if built is None:
        raise IndexCorruptError(f"索引 {home} 没有向量（旧格式）；请运行 dangjian reindex --index {home} 重建")
    keys = ("name", "dimension", "passage_prefix", "query_prefix")
    if any(built.get(key) != current.get(key) for key in keys):
        raise DangjianError(
            f"索引 {home} 是用嵌入模型 {built.get('name')}（前缀 {built.get('passage_prefix')!r}）建立的，"
            f"当前设置的是 {current.get('name')}（前缀 {current.get('passage_prefix')!r}），两者不能混用；"
            f"请运行 dangjian reindex --index {home} 用当前模型重建向量，或改回原来的模型设置",
            code="embedder_mismatch",
        )
