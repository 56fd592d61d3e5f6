"""``dangjian migrate``: copy a local index into Milvus (vectors and tokens as they are) and check it."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import DangjianError
from ..index.build import ChangeSet
from ..index.calibration import calibrate_abstention
from ..index.embedders import check_embedder
from ..index.layout import LEXICAL, VECTORS, IndexVersion
from ..index.lexical import TokenTable
from ..index.search import Searcher
from ..text import Tokenizer
from .milvus import MilvusStore

COPIED_MANIFEST = ("dangjian_version", "dictionary_hash", "chunking", "embed_context", "embedder")
QUERY_CHARS = 40  # a sampled passage's opening words are the question that should find it


@dataclass
class MigrationReport:
    source: str
    target: str
    documents: int = 0
    passages: int = 0
    target_documents: int = 0
    target_passages: int = 0
    sample: int = 0
    same_first: int = 0  # sampled questions whose first passage is the same in both stores
    found_both: int = 0  # sampled passages in the first five of both stores
    overlap_at_5: float = 0.0  # mean Jaccard overlap of the first five passages' texts
    elapsed_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def migrate(version: IndexVersion, target: MilvusStore, embedder, *, sample: int = 20) -> MigrationReport:
    """Copy ``version`` (a local index) into ``target``, replacing what it held, then compare counts
    and the first five passages of ``sample`` searches in both."""
    started = time.perf_counter()
    check_embedder(version.manifest, embedder, version.home)
    report = MigrationReport(source=str(version.home), target=target.uri)
    docs = list(version.iter_documents())
    passages = list(version.iter_passages())
    vectors = np.load(version.file(VECTORS), mmap_mode="r")
    table = TokenTable()
    table.extend_from(version.file(LEXICAL), list(range(len(passages))), {})
    if len(vectors) != len(passages) or len(table) != len(passages):
        raise DangjianError(
            f"索引 {version.home} 的向量或词项条数与段落不一致；请先运行 dangjian reindex", code="index_corrupt"
        )
    report.documents, report.passages = len(docs), len(passages)
    tokenizer = Tokenizer(extra_words=version.names())
    with target.write_lock():
        written = target.commit(
            ChangeSet(
                old=None,
                new_docs=docs,
                new_passages=passages,
                vectors=vectors,
                tokens=[table.tokens(row) for row in range(len(passages))],
                removed=set(),
                names=version.names(),
                tokenizer=tokenizer,
                manifest={key: version.manifest[key] for key in COPIED_MANIFEST if key in version.manifest},
                calibrate=lambda retrieval: calibrate_abstention(retrieval, tokenizer, embedder),
            )
        )
    report.target_documents = written.manifest["counts"]["documents"]
    report.target_passages = written.manifest["counts"]["passages"]
    if (report.target_documents, report.target_passages) != (report.documents, report.passages):
        report.problems.append(
            f"条数不一致：本地 {report.documents} 篇 / {report.passages} 段，"
            f"Milvus {report.target_documents} 篇 / {report.target_passages} 段"
        )
    _compare(Searcher(version, embedder), Searcher(written, embedder), passages, sample, report)
    report.elapsed_s = round(time.perf_counter() - started, 2)
    return report


def _compare(local: Searcher, remote: Searcher, passages, sample: int, report: MigrationReport) -> None:
    """Passages compare by text: a corpus holding the same text twice may rank either copy first
    (ties are broken by row, and rows are numbered differently in the two stores)."""
    picks = sorted(set(np.linspace(0, len(passages) - 1, num=min(sample, len(passages)), dtype=int).tolist()))
    overlaps = []
    for row in picks if passages else []:
        p = passages[row]
        question = p.text[:QUERY_CHARS]
        a = [h.text for h in local.search(question, k=5).hits]
        b = [h.text for h in remote.search(question, k=5).hits]
        report.sample += 1
        report.same_first += bool(a and b and a[0] == b[0])
        report.found_both += p.text in a and p.text in b
        overlaps.append(len(set(a) & set(b)) / max(len(set(a) | set(b)), 1))
    report.overlap_at_5 = round(float(np.mean(overlaps)), 3) if overlaps else 1.0
    if report.sample and report.same_first < 0.9 * report.sample:
        report.problems.append(
            f"抽样检索结果差异较大：{report.sample} 个抽样问题中只有 {report.same_first} 个首条结果相同"
        )
