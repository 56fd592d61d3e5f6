"""Hybrid search over one index version: BM25 + dense, fused by weighted reciprocal rank.

``Searcher`` orchestrates: the question is analysed once (``query.analyse``), candidates come
from the store's ``Retrieval``, ranks are fused and adjusted here, confidence and abstention come
from ``calibration``, and hits are cited by ``dangjian.citations``. Exact mentions of method
names or quoted phrases boost the passages that contain them; when nothing is relevant the
search abstains instead of returning the least-bad passage.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import faiss
import numpy as np

from ..citations import format_citation, highlight_spans
from ..errors import DangjianError
from ..ingest.names import is_method_like
from ..ingest.roles import has_role
from ..schema import Document, Filters, Hit, Passage, Query, SearchResult, Section
from ..text import Tokenizer, domain_words, may_contain, normalize
from .calibration import AGREEMENT_DEPTH, AGREEMENT_MATCH, LEXICAL_GUARD, calibrate_abstention, evidence
from .dense import MANY_FROM
from .embedders import Embedder, QueryBatcher, check_embedder
from .facts import SUPPORT_RATIO, Fact, asked_fact, is_person_name, support
from .query import (
    LIST_RE,
    MAX_QUERY_CHARS,
    analyse,
    doc_aliases,
    document_forms,
    longest_enumeration,
    mentioned_aliases,
    mentions_title,
    numbered_count,
    title_name,
)
from .retrieval import open_retrieval
from .settings import SearchSettings

FACT_DEPTH = 5  # passages searched for the fact a question asks for
POOL = 30  # ranked passages kept for the answer builder (the section a list question asks for)
DOCUMENTS_CACHED = 1024  # whole documents kept read (the answer builder reads the pool's documents)
NAMES_CACHED = 8192  # sentences whose person names are kept
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


@dataclass
class _Candidates:
    """What the two retrievers returned for one question, and the evidence drawn from it."""

    lex_ids: np.ndarray
    lex_scores: np.ndarray
    dense_ids: np.ndarray
    dense_scores: np.ndarray
    confidence: float
    match: float


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
        self.document = lru_cache(maxsize=DOCUMENTS_CACHED)(self._document)
        # the names in a sentence, by jieba's tagger (slow): the same passages answer many questions
        self.person_names = lru_cache(maxsize=NAMES_CACHED)(self._person_names)

    def _document(self, doc_id: str) -> tuple[Document, list[Section]]:
        """One document's text, blocks and sections (``self.document``: the last few cached)."""
        return self.version.document(self.docs[doc_id])

    def passage(self, row: int) -> Passage:
        return self.retrieval.passage(row)

    def warm_up(self) -> None:
        """Before a service takes its first questions: the question engine's kernels and the
        dense index's copy for batched scans are made now (measured: the first second of a
        busy start otherwise answered in up to 0.4 s)."""
        warm = getattr(self.embedder, "warm_up", None)
        if warm is not None:
            warm()
        vectors = np.zeros((MANY_FROM, self.embedder.dimension), dtype=np.float32)
        self.retrieval.dense_search_many(vectors, 1, [None] * MANY_FROM)

    def analyse(self, question: str) -> Query:
        """The question analysed with this version's dictionary (once per question)."""
        question = (question or "").strip()
        if not question:
            raise DangjianError("问题不能为空", code="empty_query")
        if len(question) > MAX_QUERY_CHARS:
            raise DangjianError(
                f"问题太长（{len(question)} 字），请控制在 {MAX_QUERY_CHARS} 字以内", code="query_too_long"
            )
        return analyse(question, self.tokenizer, self.boost_names, expand=self.settings.expand)

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

    def _named_docs(self, query: Query, allowed: np.ndarray | None = None) -> np.ndarray | None:
        """The documents a question names (“二十大报告里…”, “党章规定…”), if any, among those
        ``allowed`` (a document the caller may not see names nothing)."""
        names = mentioned_aliases(query.norm, self._alias_docs)
        if not names:
            return None
        ok_docs = np.zeros(len(self._doc_ids), dtype=bool)
        for name in names:
            ok_docs[self._alias_docs[name]] = True
        if allowed is not None:
            ok_docs &= allowed
        return ok_docs if ok_docs.any() else None

    def _titles_of(self, allowed: np.ndarray | None) -> set[str]:
        """The title names of the documents ``allowed`` (all of them: ``self._titles``)."""
        if allowed is None:
            return self._titles
        return {title_name(self.docs[self._doc_ids[i]].get("title", "")) for i in np.flatnonzero(allowed)} - {""}

    # --- ranking ---------------------------------------------------------------------------

    def _on_topic(self, query: Query, found: _Candidates, ranked: list[int], allowed: np.ndarray | None = None) -> bool:
        """Whether a question is plainly about the corpus, so it is answered whatever the
        confidence (a question naming a document is too): it contains a document's title
        (“潘淑是哪里人？”); or its best passage by words is one of its two best by meaning and
        shares some of its words — off-topic questions almost never make the two retrievers agree
        (0 of 70 held-out and probe questions; a single shared word such as “文件” in a licence
        note is not agreement); or a candidate contains a method name or quoted phrase it uses.
        Titles count only among the documents ``allowed`` (a key limited to some collections
        learns nothing of the others' titles from whether its question is declined)."""
        return (
            mentions_title(query.norm, self._titles_of(allowed))
            or (
                found.match >= AGREEMENT_MATCH
                and len(found.lex_ids) > 0
                and found.lex_ids[0] in found.dense_ids[:AGREEMENT_DEPTH]
            )
            or (
                bool(query.phrases)
                and any(self._boost(row, query.phrases, set()) for row in ranked[: self.settings.candidates])
            )
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
        text = None  # normalised only when a phrase may be in it
        earned = 0.0
        for phrase in phrases:
            forms = (phrase, *document_forms(phrase))
            if not any(may_contain(p.text, form) for form in forms):
                continue
            text = normalize(p.text).lower() if text is None else text
            if any(form in text for form in forms):
                earned += 1
                count = numbered_count(phrase)
                if count and longest_enumeration(p.text) >= count:
                    earned += 1
        if years and (self.docs[p.doc_id].get("year") in years or any(str(y) in p.title for y in years)):
            earned += 1
        return earned

    def _candidates(self, query: Query, allowed: np.ndarray | None) -> _Candidates:
        s = self.settings
        lex_ids, lex_scores = self.retrieval.lexical_search(query.lexical, s.candidates, allowed)
        dense_ids, dense_scores = self._queries.search(query.text, s.candidates, allowed)
        conf, match = evidence(dense_scores, lex_scores, query.lexical, self.retrieval)
        return _Candidates(lex_ids, lex_scores, dense_ids, dense_scores, conf, match)

    def _fuse(self, query: Query, found: _Candidates) -> dict[int, float]:
        """Weighted reciprocal-rank fusion, the part-of-document vote and the phrase/year boosts."""
        s = self.settings
        fused: dict[int, float] = {}
        for rank, row in enumerate(found.dense_ids.tolist()):
            fused[row] = fused.get(row, 0.0) + s.weight_dense / (s.rrf_k + rank + 1)
        for rank, row in enumerate(found.lex_ids.tolist()):
            fused[row] = fused.get(row, 0.0) + s.weight_lexical / (s.rrf_k + rank + 1)
        if s.part_weight and found.match < PART_MATCH:
            for row, part_rank in self._part_ranks(fused).items():
                fused[row] += s.part_weight / (s.rrf_k + part_rank + 1)
        if (query.phrases or query.years) and s.boost_weight:
            for row in fused:
                fused[row] += s.boost_weight * self._boost(row, query.phrases, query.years) / (s.rrf_k + 1)
        return fused

    def _rank(self, query: Query, found: _Candidates, fused: dict[int, float]) -> list[int]:
        """Rows by fused score, then BM25's sure winner first and a list question's in reach."""
        ranked = sorted(fused, key=lambda r: (-fused[r], r))
        if not self.settings.lexical_decisive or not len(found.lex_ids):
            return ranked
        lex_ids, lex_scores = found.lex_ids, found.lex_scores
        if found.match >= DECISIVE_MATCH and (len(lex_scores) == 1 or lex_scores[0] >= DECISIVE_RATIO * lex_scores[1]):
            # Fusion must not lose what BM25 alone finds when BM25 is sure: its best passage
            # matches much of the question and clearly beats its second.
            top = int(lex_ids[0])
            ranked = [top] + [row for row in ranked if row != top]
        if LIST_RE.search(query.text) and found.match >= LIST_MATCH:
            top = int(lex_ids[0])
            if top not in ranked[:LIST_SLOT]:
                ranked.remove(top)
                ranked.insert(LIST_SLOT - 1, top)
        return ranked

    def search(self, question: str | Query, k: int = 5, filters: Filters | None = None) -> SearchResult:
        """The ``k`` best passages for a question (a string, or one ``analyse`` already read)."""
        started = time.perf_counter()
        query = question if isinstance(question, Query) else self.analyse(question)
        allowed = self._allowed(filters)
        named = self._named_docs(query, allowed)
        scope = allowed
        if named is not None:
            allowed = named
        found = self._candidates(query, allowed)
        fused = self._fuse(query, found)
        ranked = self._rank(query, found, fused)
        if filters is not None and filters.roles:  # section roles are per passage: kept after ranking
            ranked = [row for row in ranked if has_role(self.retrieval.passage(row), filters.roles)]
        abstained = not ranked or (
            found.confidence < self.threshold
            and found.match < self.lexical_guard
            and not (named is not None or self._on_topic(query, found, ranked, scope))
        )
        fact = None
        if not abstained and self.settings.fact_check:
            fact = asked_fact(query.text, self.person_names)
            if fact and self._fact_support(query, fact, ranked[:FACT_DEPTH]) >= SUPPORT_RATIO:
                fact = None
        hits = [] if abstained else self._hits(query, found, fused, ranked[:k])
        return SearchResult(
            pool=[] if abstained else ranked[: max(k, POOL)],
            query=query.text,
            hits=[] if fact else hits,
            abstained=abstained or fact is not None,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            missing=fact.label if fact else None,
            related=hits if fact else [],
            analysed=query,
        )

    def _person_names(self, sentence: str) -> tuple[str, ...]:
        return tuple(word for word, flag in self.tokenizer.tagged(sentence) if is_person_name(word, flag))

    def _fact_support(self, query: Query, fact: Fact, rows: list[int]) -> float:
        idf, max_idf = self.retrieval.term_weights(query.lexical)
        weights = {t: w or max_idf for t, w in idf.items()}
        passages = []
        for row in rows:
            p = self.retrieval.passage(row)
            passages.append((p.text, f"{self.docs[p.doc_id].get('year')} {normalize(p.title)}"))
        return support(query.text, fact, passages, weights)

    def _hits(self, query: Query, found: _Candidates, fused: dict[int, float], rows: list[int]) -> list[Hit]:
        dense_by_row = dict(zip(found.dense_ids.tolist(), found.dense_scores.tolist()))
        lex_by_row = dict(zip(found.lex_ids.tolist(), found.lex_scores.tolist()))
        return [
            self.hit(
                self.retrieval.passage(row),
                rank,
                fused[row],
                query.terms,
                dense=round(dense_by_row[row], 4) if row in dense_by_row else None,
                lexical=round(lex_by_row[row], 4) if row in lex_by_row else None,
            )
            for rank, row in enumerate(rows, start=1)
        ]

    def hit(
        self, p: Passage, rank: int, score: float, terms: list[str], *, dense: float | None = None, lexical=None
    ) -> Hit:
        """A passage as a ranked, cited hit with ``terms`` highlighted."""
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
            citation=format_citation(
                p.title, p.section_path, p.page, p.paragraph, recognised=p.ocr_confidence is not None
            ),
            collection=self.docs[p.doc_id]["collection"],
            dense_score=dense,
            lexical_score=lexical,
        )
