"""The index directory: plain files in versions, switched atomically.

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

import fcntl
import json
import os
import shutil
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DangjianError, IndexCorruptError, IndexNotFoundError
from ..schema import Document, Passage, Section

FORMAT_VERSION = 2
KEEP_VERSIONS = 3  # the current one and two before it, for readers still using them


# --- format versions -------------------------------------------------------------------------
# Every version's manifest carries ``format_version``. Bump FORMAT_VERSION when a reader of the
# old layout would misread the new one, and register in ``dangjian.ops.migrate_format.STEPS`` how
# a version of the old format is read as the new one (``dangjian upgrade-index`` writes it back).
def checked_manifest(home: Path, path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a version this program can read: an older format goes through the
    migration steps, a newer one is refused (never read as if it were ours)."""
    found = manifest.get("format_version")
    if found == FORMAT_VERSION:
        return manifest
    from ..ops.migrate_format import read_older, refuse_newer  # only for a version not of ours

    if isinstance(found, int) and found > FORMAT_VERSION:
        refuse_newer(home, found)
    if isinstance(found, int) and 0 < found < FORMAT_VERSION:
        return read_older(home, path, manifest)
    raise IndexCorruptError(
        f"索引 {home} 的格式版本“{found}”无法识别；请用 dangjian restore 从备份恢复，或删除该目录后用 dangjian ingest 重建"
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk, so a rename never exposes empty files."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


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

    path = folder / "passages.jsonl"
    n = _write_jsonl(path, rows())
    np.save(folder / "passage_offsets.npy", line_offsets(path))
    np.save(folder / "passage_docs.npy", np.frombuffer(docs, dtype=np.int32))
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
        raise IndexCorruptError(f"索引文件 {path} 已损坏（{exc}）；请删除索引目录后用 dangjian ingest 重建") from None


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

    def iter_documents(self) -> Iterator[tuple[Document, list[Section]]]:
        for row in _read_jsonl(self.path / "documents.jsonl"):
            sections = [Section(**s) for s in row.pop("sections", [])]
            yield Document.from_dict(row), sections

    def document(self, info: dict[str, Any]) -> tuple[Document, list[Section]]:
        """One document, read from its place in ``documents.jsonl`` (``info`` from ``doc_index.jsonl``)."""
        if "offset" not in info:  # an index written before records had their place
            return next((d, s) for d, s in self.iter_documents() if d.doc_id == info["doc_id"])
        path = self.path / "documents.jsonl"
        try:
            with open(path, "rb") as fh:
                fh.seek(info["offset"])
                row = json.loads(fh.read(info["length"]))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"索引文件 {path} 已损坏（{exc}）；请删除索引目录后用 dangjian ingest 重建"
            ) from None
        sections = [Section(**s) for s in row.pop("sections", [])]
        return Document.from_dict(row), sections

    def iter_document_info(self) -> Iterator[dict[str, Any]]:
        """Small per-document records (no text): what filters and citations need."""
        yield from _read_jsonl(self.path / "doc_index.jsonl")

    def iter_passages(self) -> Iterator[Passage]:
        for row in _read_jsonl(self.path / "passages.jsonl"):
            yield Passage.from_dict(row)

    def names(self) -> list[str]:
        path = self.path / "dictionary.txt"
        if not path.exists():
            return []
        return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln]


class IndexStore:
    """Reads and writes the versions of one index home directory."""

    def __init__(self, home: str | Path):
        self.home = Path(home)
        self._locked = False
        self._current: tuple[tuple[int, int, int], str | None] | None = None  # (CURRENT's stat, name)

    @property
    def versions_dir(self) -> Path:
        return self.home / "versions"

    def current_name(self) -> str | None:
        """The current version's name; CURRENT is read again only when it was replaced (every
        request asks, and a stat costs far less than reading the file)."""
        path = self.home / "CURRENT"
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._current is not None and self._current[0] == key:
                return self._current[1]
            name = path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None
        self._current = (key, name)
        return name

    def exists(self) -> bool:
        return self.current_name() is not None

    def open(self) -> IndexVersion:
        name = self.current_name()
        if name is None:
            raise IndexNotFoundError(
                f"索引不存在：{self.home}；请先运行 dangjian ingest 文件或文件夹 --index {self.home}"
            )
        path = self.versions_dir / name
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexCorruptError(
                f"索引版本 {path} 无法读取（{exc}）；请删除 {self.home} 后用 dangjian ingest 重建"
            ) from None
        return IndexVersion(path, checked_manifest(self.home, path, manifest))

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Exclusive right to write this index home; a second writer is told to wait.

        Disk errors while writing become a ``DangjianError`` naming the index (the old version
        stays current).
        """
        if self.home.exists() and not self.home.is_dir():
            raise DangjianError(f"索引目录 {self.home} 是一个文件，不是文件夹；请换一个索引目录", code="bad_index_dir")
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            fh = open(self.home / ".lock", "w")
        except OSError as exc:
            raise DangjianError(f"无法创建索引目录 {self.home}（{exc.strerror}）", code="bad_index_dir") from None
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DangjianError(
                    f"另一个导入任务正在写入索引 {self.home}，请等它完成后再试", code="index_busy"
                ) from None
            self._locked = True
            try:
                yield
            except OSError as exc:
                raise DangjianError(
                    f"写入索引 {self.home} 失败（{exc.strerror or exc}）；原有索引未受影响", code="index_write_failed"
                ) from exc
            finally:
                self._locked = False
                fcntl.flock(fh, fcntl.LOCK_UN)

    def write(
        self,
        *,
        documents: Iterable[tuple[Document, list[Section]]],
        passages: Iterable[Passage],
        names: list[str],
        manifest: dict[str, Any],
        artifacts: Callable[[Path], dict[str, Any]] | None = None,
    ) -> IndexVersion:
        """Write a new version and make it current. Only inside ``write_lock``.

        ``artifacts(folder)`` writes further files (vectors, BM25) into the new version's folder
        before it is switched in, and returns what to add to the manifest.
        """
        if not self._locked:
            raise RuntimeError("IndexStore.write() needs the write lock")
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.versions_dir / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            info: list[dict[str, Any]] = []
            with open(tmp / "documents.jsonl", "wb") as fh:  # each record's place, for reading one
                for doc, secs in documents:
                    row = {**doc.to_dict(), "sections": [s.to_dict() for s in secs]}
                    line = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
                    info.append({**document_info(doc), "offset": fh.tell(), "length": len(line)})
                    fh.write(line)
            n_docs = len(info)
            _write_jsonl(tmp / "doc_index.jsonl", info)
            n_passages = _write_passages(tmp, passages, {d["doc_id"]: i for i, d in enumerate(info)})
            (tmp / "dictionary.txt").write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
            if artifacts is not None:
                manifest = {**manifest, **artifacts(tmp)}
            full_manifest = {
                "format_version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **manifest,
                "counts": {**manifest.get("counts", {}), "documents": n_docs, "passages": n_passages},
            }
            with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
                json.dump(full_manifest, fh, ensure_ascii=False, indent=2)
            _fsync_tree(tmp)
            name = f"v{self._last_number() + 1:06d}"
            final = self.versions_dir / name
            os.rename(tmp, final)
            _fsync_dir(self.versions_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        pointer = self.home / f"CURRENT.{uuid.uuid4().hex}.tmp"
        with open(pointer, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, self.home / "CURRENT")
        _fsync_dir(self.home)
        self._collect_garbage(keep=name)
        return IndexVersion(final, full_manifest)

    def _version_dirs(self) -> list[Path]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(p for p in self.versions_dir.iterdir() if p.name.startswith("v") and p.name[1:].isdigit())

    def _last_number(self) -> int:
        dirs = self._version_dirs()
        return int(dirs[-1].name[1:]) if dirs else 0

    def _collect_garbage(self, keep: str) -> None:
        """Remove versions beyond the last few, and folders left by writers that crashed.

        Runs under the write lock, so any temporary folder belongs to a dead writer.
        """
        for path in self.versions_dir.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in self.home.glob("CURRENT.*.tmp"):
            path.unlink(missing_ok=True)
        for path in self._version_dirs()[:-KEEP_VERSIONS]:
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
