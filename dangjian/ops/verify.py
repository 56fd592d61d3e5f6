"""``dangjian verify``: check that an index directory is whole, and say in Chinese what is damaged.

Checks the current version against its manifest: document and passage counts, each document
record where ``doc_index.jsonl`` says it is, every passage's offsets
(``doc.text[p.start:p.end] == p.text``), the line and document tables beside ``passages.jsonl``,
the vectors (shape, finite, L2-normalised), the BM25 files and the faiss file, and finally that
the version opens for search. Also the JSON files kept beside the versions (keys, collections).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DangjianError
from ..index.layout import (
    DENSE,
    DOC_INDEX,
    DOCUMENTS,
    LEXICAL,
    PASSAGE_DOCS,
    PASSAGE_OFFSETS,
    PASSAGES,
    VECTORS,
    line_offsets,
)
from ..index.store import IndexStore

MAX_LISTED = 20  # problems of one kind listed one by one; the rest are counted
NORM_TOLERANCE = 1e-3  # |‖v‖ - 1| allowed (float32 vectors normalised by the embedders)
LEXICAL_FILES = (
    "count.txt",
    "params.index.json",
    "vocab.index.json",
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "token_ids.npy",
    "token_offsets.npy",
    "token_vocab.json",
)
HOME_JSON = ("keys.json", "collections.json")


@dataclass
class VerifyReport:
    index_dir: str
    version: str | None = None
    format_version: int | None = None
    documents: int = 0
    passages: int = 0
    checks: list[str] = field(default_factory=list)  # what was checked and found whole
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


class _Problems:
    """Problems of one kind: the first few in full, then a count."""

    def __init__(self, report: VerifyReport, what: str):
        self.report, self.what, self.n = report, what, 0

    def add(self, message: str) -> None:
        self.n += 1
        if self.n <= MAX_LISTED:
            self.report.problems.append(message)

    def close(self) -> None:
        if self.n > MAX_LISTED:
            self.report.problems.append(f"……另有 {self.n - MAX_LISTED} 处{self.what}问题未列出")


def verify_index(home: str | Path) -> VerifyReport:
    """Check the current version of the index in ``home``; never raises for damage, reports it."""
    home = Path(home)
    report = VerifyReport(index_dir=str(home))
    store = IndexStore(home)
    if not home.is_dir():
        report.problems.append(f"索引目录 {home} 不存在")
        return report
    if not store.exists():
        report.problems.append("缺少 CURRENT（当前版本指针）或它是空的：这不是一个完整的索引目录")
        return report
    report.version = store.current_name()
    try:
        version = store.open()
    except DangjianError as exc:
        report.problems.append(exc.message)
        return report
    report.format_version = version.manifest.get("format_version")
    rel = f"versions/{version.name}"
    path = version.path
    counts = version.manifest.get("counts", {})
    docs = _check_documents(path, rel, counts, report)
    n = _check_passages(path, rel, counts, docs, report)
    _check_vectors(path, rel, version.manifest, n, report)
    _check_lexical(path, rel, n, report)
    for name in HOME_JSON:
        if (home / name).exists():
            try:
                json.loads((home / name).read_text(encoding="utf-8"))
                report.checks.append(f"{name} 可以读取")
            except (OSError, ValueError) as exc:
                report.problems.append(f"{name} 已损坏（{exc}）")
    if report.ok:
        from ..index.retrieval import LocalRetrieval

        try:
            LocalRetrieval(version)
            report.checks.append("索引可以打开检索")
        except DangjianError as exc:
            report.problems.append(exc.message)
    return report


def _check_documents(path: Path, rel: str, counts: dict, report: VerifyReport) -> dict[str, str] | None:
    """The documents' texts by id, or None when ``documents.jsonl`` cannot be read."""
    texts: dict[str, str] = {}
    places: dict[str, tuple[int, int]] = {}
    try:
        number = 0
        with open(path / DOCUMENTS, "rb") as fh:
            pos = 0
            for number, line in enumerate(fh, start=1):  # noqa: B007
                if line.strip():
                    row = json.loads(line)
                    texts[row["doc_id"]] = row["text"]
                    places[row["doc_id"]] = (pos, len(line))
                pos += len(line)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        where = f"第 {number} 行" if number else ""
        report.problems.append(f"{rel}/documents.jsonl 无法读取{where}（{type(exc).__name__}: {exc}）")
        return None
    report.documents = len(texts)
    if counts.get("documents") != len(texts):
        report.problems.append(
            f"文档数不符：manifest 记为 {counts.get('documents')} 篇，documents.jsonl 中有 {len(texts)} 篇"
        )
    bad = _Problems(report, "文档记录")
    try:
        rows = [
            json.loads(line) for line in (path / DOC_INDEX).read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    except (OSError, ValueError) as exc:
        report.problems.append(f"{rel}/doc_index.jsonl 无法读取（{exc}）")
        return texts
    if len(rows) != len(texts):
        bad.add(f"doc_index.jsonl 有 {len(rows)} 条，documents.jsonl 有 {len(texts)} 篇")
    for row in rows:
        doc_id = row.get("doc_id")
        if doc_id not in texts:
            bad.add(f"doc_index.jsonl 中的文档 {doc_id} 在 documents.jsonl 中不存在")
        elif "offset" in row and (row["offset"], row["length"]) != places[doc_id]:
            bad.add(f"文档 {doc_id} 在 documents.jsonl 中的位置与 doc_index.jsonl 记录的不符")
    bad.close()
    if not bad.n:
        report.checks.append(f"文档 {len(texts)} 篇，记录与位置一致")
    return texts


def _check_passages(path: Path, rel: str, counts: dict, texts: dict[str, str] | None, report: VerifyReport) -> int:
    bad = _Problems(report, "段落")
    doc_order = {}
    try:
        for i, line in enumerate((path / DOC_INDEX).read_text(encoding="utf-8").splitlines()):
            if line.strip():
                doc_order[json.loads(line)["doc_id"]] = i
    except (OSError, ValueError, KeyError):
        pass  # already reported
    owners: list[int] = []
    n = 0
    try:
        with open(path / PASSAGES, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):  # noqa: B007
                p = json.loads(line)
                owners.append(doc_order.get(p["doc_id"], -1))
                if texts is None:
                    continue
                text = texts.get(p["doc_id"])
                if text is None:
                    bad.add(f"第 {n} 段（{p['passage_id']}）所属的文档 {p['doc_id']} 不存在")
                elif text[p["start"] : p["end"]] != p["text"]:
                    bad.add(f"第 {n} 段（{p['passage_id']}）的原文位置 {p['start']}–{p['end']} 与文档原文不一致")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"{rel}/passages.jsonl 第 {n + 1} 行无法读取（{type(exc).__name__}: {exc}）")
        return counts.get("passages", n)
    bad.close()
    report.passages = n
    if counts.get("passages") != n:
        report.problems.append(f"段落数不符：manifest 记为 {counts.get('passages')} 段，passages.jsonl 中有 {n} 段")
    elif not bad.n:
        report.checks.append(f"段落 {n} 段，每段与原文位置一致")
    try:
        offsets = np.load(path / PASSAGE_OFFSETS) if (path / PASSAGE_OFFSETS).exists() else None
        if offsets is not None and not np.array_equal(offsets, line_offsets(path / PASSAGES)):
            report.problems.append(f"{rel}/passage_offsets.npy 与 passages.jsonl 的行位置不一致")
        owner_file = path / PASSAGE_DOCS
        if owner_file.exists() and not np.array_equal(np.load(owner_file), np.asarray(owners, dtype=np.int32)):
            report.problems.append(f"{rel}/passage_docs.npy 与段落所属的文档不一致")
    except (OSError, ValueError) as exc:
        report.problems.append(f"{rel} 中的段落位置表无法读取（{exc}）")
    return n


def _check_vectors(path: Path, rel: str, manifest: dict, n: int, report: VerifyReport) -> None:
    dim = manifest.get("embedder", {}).get("dimension")
    try:
        vectors = np.load(path / VECTORS, mmap_mode="r")
    except (OSError, ValueError) as exc:
        report.problems.append(f"{rel}/vectors.npy 无法读取（{exc}）")
        return
    if vectors.ndim != 2 or vectors.shape[0] != n or (dim and vectors.shape[1] != dim):
        report.problems.append(f"向量形状是 {tuple(vectors.shape)}，应为 ({n}, {dim})（每段一行、{dim} 维）")
        return
    if vectors.dtype != np.float32:
        report.problems.append(f"向量类型是 {vectors.dtype}，应为 float32")
        return
    not_finite = not_unit = 0
    for start in range(0, n, 65536):
        block = np.asarray(vectors[start : start + 65536], dtype=np.float32)
        finite = np.isfinite(block).all(axis=1)
        not_finite += int((~finite).sum())
        norms = np.linalg.norm(np.where(finite[:, None], block, 0), axis=1)
        not_unit += int((finite & (np.abs(norms - 1) > NORM_TOLERANCE)).sum())
    if not_finite:
        report.problems.append(f"有 {not_finite} 个段落向量含有非有限值（NaN 或无穷大）")
    if not_unit:
        report.problems.append(f"有 {not_unit} 个段落向量不是单位长度（未归一化或已损坏）")
    if not (not_finite or not_unit):
        report.checks.append(f"向量 {n}×{vectors.shape[1]}，均为有限值且已归一化")
    kind = manifest.get("dense", {}).get("kind", "flat")
    if kind != "flat":
        try:
            import faiss

            index = faiss.read_index(str(path / DENSE))
            if index.ntotal != n:
                report.problems.append(f"dense.faiss 有 {index.ntotal} 条向量，应为 {n}")
            else:
                report.checks.append(f"向量索引 dense.faiss（{kind}）条数一致")
        except Exception as exc:  # faiss raises RuntimeError for a damaged file
            report.problems.append(f"{rel}/dense.faiss 无法读取（{exc}）")


def _check_lexical(path: Path, rel: str, n: int, report: VerifyReport) -> None:
    folder = path / LEXICAL
    missing = [name for name in LEXICAL_FILES if not (folder / name).exists()]
    if missing:
        report.problems.append(f"关键词索引缺少文件：{'、'.join(f'{rel}/lexical/{m}' for m in missing)}")
        return
    try:
        from ..index.lexical import LexicalIndex

        lexical = LexicalIndex.load(folder)
        offsets = np.load(folder / "token_offsets.npy")
        ids = np.load(folder / "token_ids.npy", mmap_mode="r")
        vocab = json.loads((folder / "token_vocab.json").read_text(encoding="utf-8"))
    except Exception as exc:  # bm25s and numpy raise many kinds for damaged files
        report.problems.append(f"关键词索引（{rel}/lexical）无法读取（{type(exc).__name__}: {exc}）")
        return
    if lexical.n != n:
        report.problems.append(f"关键词索引有 {lexical.n} 段，应为 {n}")
    elif len(offsets) != n + 1 or (n and int(offsets[-1]) != len(ids)):
        report.problems.append("关键词索引的词表（token_offsets.npy / token_ids.npy）与段落数不一致")
    elif len(ids) and int(np.max(ids)) >= len(vocab):
        report.problems.append("关键词索引的词编号超出词表（token_vocab.json）")
    else:
        report.checks.append(f"关键词索引（BM25）{n} 段，词表 {len(vocab)} 个词")
