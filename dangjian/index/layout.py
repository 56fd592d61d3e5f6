"""The on-disk layout of a local index: one home, plain files in versions. This module alone
spells the files' names; ``store.IndexStore`` writes versions and switches them in.

Layout::

    HOME/
      CURRENT                  name of the version readers open (replaced atomically)
      versions/<name>/
        manifest.json          format version, counts, dictionary hash, chunking, embedder, dense kind
        documents.jsonl        one document per line: metadata, text, blocks, pages, sections
        doc_index.jsonl        one small record per document (title, collection, type, year, hash)
        passages.jsonl         one passage per line (see ``Passage``); row i is FAISS/BM25 id i
        passage_offsets.npy    where each line starts (and the end), so a reader reads one passage
        passage_docs.npy       each passage's document, as its line number in doc_index.jsonl
        dictionary.txt         names found in the corpus, added to the tokenizer
        vectors.npy            float32 (passages, dim), L2-normalised
        lexical/               the bm25s index files, and each passage's token ids (token_*.npy,
                               token_vocab.json), reused for passages a new version keeps
        dense.faiss            the half-precision or approximate index, when one is used
      .lock                    held by a writer

A writer builds a new version in a temporary folder, renames it into ``versions/`` and only then
replaces ``CURRENT``; a crash at any point leaves the previous version intact and current. A reader
that opened a version keeps reading it even if a writer switches ``CURRENT`` meanwhile.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..schema import Document, Passage, Section

FORMAT_VERSION = 2
KEEP_VERSIONS = 3  # the current one and two before it, for readers still using them

CURRENT = "CURRENT"
VERSIONS = "versions"
LOCK = ".lock"
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
DOC_INDEX = "doc_index.jsonl"
PASSAGES = "passages.jsonl"
PASSAGE_OFFSETS = "passage_offsets.npy"
PASSAGE_DOCS = "passage_docs.npy"
DICTIONARY = "dictionary.txt"
VECTORS = "vectors.npy"
LEXICAL = "lexical"
DENSE = "dense.faiss"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk, so a rename never exposes empty files."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
            n += 1
    return n


def _write_passages(folder: Path, passages: Iterable[Passage], doc_index: dict[str, int]) -> int:
    """``passages.jsonl``, with each line's place and each passage's document beside it."""
    docs = array("i")

    def rows() -> Iterator[dict[str, Any]]:
        for p in passages:
            docs.append(doc_index[p.doc_id])
            yield p.to_dict()

    path = folder / PASSAGES
    n = _write_jsonl(path, rows())
    np.save(folder / PASSAGE_OFFSETS, line_offsets(path))
    np.save(folder / PASSAGE_DOCS, np.frombuffer(docs, dtype=np.int32))
    return n


def line_offsets(path: Path) -> np.ndarray:
    """Where each line of a JSONL file starts, and the file's end (JSON lines hold no raw newline)."""
    found, pos = [np.zeros(1, dtype=np.int64)], 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            found.append(np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10).astype(np.int64) + pos + 1)
            pos += len(chunk)
    return np.concatenate(found)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(
            f"索引文件 {path.name} 已损坏（{exc}）；请删除索引目录后用 dangjian ingest 重建"
        ) from None


def document_info(doc: Document) -> dict[str, Any]:
    """The small record of a document kept in ``doc_index.jsonl``."""
    meta = doc.metadata
    year = meta.get("year")
    if not isinstance(year, int):
        date = str(meta.get("date") or "")
        year = int(date[:4]) if date[:4].isdigit() else None
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "collection": doc.collection,
        "source": doc.source,
        "file_type": doc.file_type,
        "type": meta.get("type"),
        "year": year,
        "content_hash": doc.content_hash,
        "names": meta.get("names", []),
        "methods": meta.get("methods", []),
        "chars": len(doc.text),
        "added_on": meta.get("added_on"),
    }


@dataclass
class IndexVersion:
    """One immutable version of an index, as a reader sees it."""

    path: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def home(self) -> Path:
        return self.path.parent.parent

    def file(self, name: str) -> Path:
        """One of the version's files, by its layout name (``VECTORS``, ``LEXICAL``, ...)."""
        return self.path / name

    def iter_documents(self) -> Iterator[tuple[Document, list[Section]]]:
        for row in _read_jsonl(self.path / DOCUMENTS):
            sections = [Section(**s) for s in row.pop("sections", [])]
            yield Document.from_dict(row), sections

    def document(self, info: dict[str, Any]) -> tuple[Document, list[Section]]:
        """One document, read from its place in ``documents.jsonl`` (``info`` from ``doc_index.jsonl``)."""
        if "offset" not in info:  # an index written before records had their place
            return next((d, s) for d, s in self.iter_documents() if d.doc_id == info["doc_id"])
        path = self.path / DOCUMENTS
        try:
            with open(path, "rb") as fh:
                fh.seek(info["offset"])
                row = json.loads(fh.read(info["length"]))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"索引文件 {DOCUMENTS} 已损坏（{exc}）；请删除索引目录后用 dangjian ingest 重建"
            ) from None
        sections = [Section(**s) for s in row.pop("sections", [])]
        return Document.from_dict(row), sections

    def iter_document_info(self) -> Iterator[dict[str, Any]]:
        """Small per-document records (no text): what filters and citations need."""
        yield from _read_jsonl(self.path / DOC_INDEX)

    def iter_passages(self) -> Iterator[Passage]:
        for row in _read_jsonl(self.path / PASSAGES):
            yield Passage.from_dict(row)

    def names(self) -> list[str]:
        path = self.path / DICTIONARY
        if not path.exists():
            return []
        return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln]


def write_records(
    folder: Path, documents: Iterable[tuple[Document, list[Section]]], passages: Iterable[Passage], names: list[str]
) -> tuple[int, int]:
    """A version's documents, passages and dictionary in ``folder``; returns their counts."""
    info: list[dict[str, Any]] = []
    with open(folder / DOCUMENTS, "wb") as fh:  # each record's place, for reading one
        for doc, secs in documents:
            row = {**doc.to_dict(), "sections": [s.to_dict() for s in secs]}
            line = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
            info.append({**document_info(doc), "offset": fh.tell(), "length": len(line)})
            fh.write(line)
    _write_jsonl(folder / DOC_INDEX, info)
    n_passages = _write_passages(folder, passages, {d["doc_id"]: i for i, d in enumerate(info)})
    (folder / DICTIONARY).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return len(info), n_passages


def read_manifest(path: Path) -> dict[str, Any]:
    return json.loads((path / MANIFEST).read_text(encoding="utf-8"))


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    with open(folder / MANIFEST, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
