"""The local store: an index home directory of versions (``layout``), written under a lock and
switched in atomically. A crash at any point leaves the previous version intact and current.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DangjianError, IndexCorruptError, IndexNotFoundError
from ..schema import Document, Passage, Section
from ..text import normalize
from .build import ChangeSet
from .dense import DenseIndex
from .layout import (
    CURRENT,
    DENSE,
    FORMAT_VERSION,
    KEEP_VERSIONS,
    LEXICAL,
    LOCK,
    VECTORS,
    VERSIONS,
    IndexVersion,
    fsync_dir,
    fsync_tree,
    read_manifest,
    write_manifest,
    write_records,
)
from .lexical import LexicalIndex, TokenTable
from .retrieval import LocalIndexes


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


def _read_rows(path: Path, rows: list[int], out: np.ndarray) -> None:
    """``out[i] = saved[rows[i]]`` for an array saved by ``np.save`` and ascending ``rows``, read
    in chunks: a memory map would keep every page it touched resident until the write ends
    (147 MB at 100k passages, beside the searcher's own copy)."""
    with open(path, "rb") as fh:
        major, _ = np.lib.format.read_magic(fh)
        header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, _, dtype = header(fh)
        base, width = fh.tell(), shape[1]
        for start in range(0, len(rows), 16384):
            chunk = np.asarray(rows[start : start + 16384])
            fh.seek(base + int(chunk[0]) * width * dtype.itemsize)
            span = np.fromfile(fh, dtype=dtype, count=(int(chunk[-1]) - int(chunk[0]) + 1) * width)
            out[start : start + len(chunk)] = span.reshape(-1, width)[chunk - chunk[0]]


class IndexStore:
    """Reads and writes the versions of one index home directory."""

    def __init__(self, home: str | Path, *, dense_index: str = "auto"):
        """``dense_index``: the FAISS index kind new versions get (``dense.choose_kind``)."""
        self.home = Path(home)
        self.dense_index = dense_index
        self._locked = False
        self._current: tuple[tuple[int, int, int], str | None] | None = None  # (CURRENT's stat, name)

    @property
    def versions_dir(self) -> Path:
        return self.home / VERSIONS

    def current_name(self) -> str | None:
        """The current version's name; CURRENT is read again only when it was replaced (every
        request asks, and a stat costs far less than reading the file)."""
        path = self.home / CURRENT
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._current is not None and self._current[0] == key:
                return self._current[1]
            name = path.read_text(encoding="utf-8").strip() or None
        except (FileNotFoundError, NotADirectoryError):  # no index yet; a bad home is refused by the lock
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
            manifest = read_manifest(path)
        except (OSError, ValueError) as exc:  # ValueError: malformed JSON
            raise IndexCorruptError(
                f"索引版本 {path} 无法读取（{exc}）；请删除 {self.home} 后用 dangjian ingest 重建"
            ) from None
        return IndexVersion(path, checked_manifest(self.home, path, manifest))

    @contextmanager
    def write_lock(self, wait_s: float = 0) -> Iterator[None]:
        """Exclusive right to write this index home; a second writer waits up to ``wait_s``
        seconds (0: it is told at once that another writer is busy).

        Disk errors while writing become a ``DangjianError`` naming the index (the old version
        stays current).
        """
        if self.home.exists() and not self.home.is_dir():
            raise DangjianError(f"索引目录 {self.home} 是一个文件，不是文件夹；请换一个索引目录", code="bad_index_dir")
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            fh = open(self.home / LOCK, "w")
        except OSError as exc:
            raise DangjianError(f"无法创建索引目录 {self.home}（{exc.strerror}）", code="bad_index_dir") from None
        with fh:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise DangjianError(
                            f"另一个导入任务正在写入索引 {self.home}，请等它完成后再试", code="index_busy"
                        ) from None
                    time.sleep(0.2)
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

    def commit(self, change: ChangeSet) -> IndexVersion:
        """Build and switch in a version: the old content minus ``change.removed`` plus the new
        documents. Only inside ``write_lock``.

        Kept passages keep their vectors and tokens; only new passages were embedded, and only
        kept passages that mention a name added to or dropped from the dictionary are re-tokenised.
        """
        old, removed = change.old, change.removed

        def kept() -> Iterator[tuple[int, Passage]]:
            """The old passages a write keeps, with their rows: read again where needed rather
            than held (at 100k passages the objects take ~110 MB while queries are served)."""
            if old is not None:
                yield from ((row, p) for row, p in enumerate(old.iter_passages()) if p.doc_id not in removed)

        kept_rows = [row for row, _ in kept()]
        tokens = TokenTable()
        added = change.vectors
        if old is None:
            vectors = added
        else:
            # filled in place: a gathered copy and a concatenation would hold the vectors twice more
            vectors = np.empty((len(kept_rows) + len(added), added.shape[1]), dtype=np.float32)
            _read_rows(old.file(VECTORS), kept_rows, vectors)
            vectors[len(kept_rows) :] = added
            changed = change.changed_names()
            retokenize = {}
            if changed:
                for row, p in kept():
                    text = normalize(p.text).lower()
                    if any(n in text for n in changed):
                        retokenize[row] = change.tokenize(p)
            tokens.extend_from(old.file(LEXICAL), kept_rows, retokenize)
        for toks in change.new_tokens():
            tokens.add(toks)
        count = len(kept_rows) + len(change.new_passages)
        if len(vectors) != count or len(tokens) != count:
            raise DangjianError("内部错误：向量、词项与段落条数不一致，索引未修改", code="internal")

        def documents() -> Iterator[tuple[Document, list[Section]]]:
            if old is not None:
                yield from ((d, s) for d, s in old.iter_documents() if d.doc_id not in removed)
            yield from change.new_docs

        def artifacts(folder: Path) -> dict[str, Any]:
            # each input is dropped once built into its index, so that the vectors, the token
            # table and the BM25 build are not all held at once while queries are served
            nonlocal vectors, tokens
            np.save(folder / VECTORS, vectors)
            dense = DenseIndex.build(vectors, self.dense_index)
            dense.save(folder / DENSE)
            vectors = None
            (folder / LEXICAL).mkdir()
            tokens.save(folder / LEXICAL)
            lexical = LexicalIndex.build(tokens)
            tokens = None
            lexical.save(folder / LEXICAL)
            return {"dense": {"kind": dense.kind}, "abstain": change.calibrate(LocalIndexes(dense, lexical))}

        return self._write_version(
            documents(), itertools.chain((p for _, p in kept()), change.new_passages), change, artifacts
        )

    def _write_version(
        self,
        documents: Iterable[tuple[Document, list[Section]]],
        passages: Iterable[Passage],
        change: ChangeSet,
        artifacts: Callable[[Path], dict[str, Any]],
    ) -> IndexVersion:
        """Write a new version in a temporary folder, rename it in, then replace ``CURRENT``.
        ``artifacts(folder)`` writes the vectors and BM25 files and returns what to add to the manifest."""
        if not self._locked:
            raise RuntimeError("IndexStore.commit() needs the write lock")
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.versions_dir / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            n_docs, n_passages = write_records(tmp, documents, passages, change.names)
            manifest = {**change.manifest, **artifacts(tmp)}
            full_manifest = {
                "format_version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **manifest,
                "counts": {**manifest.get("counts", {}), "documents": n_docs, "passages": n_passages},
            }
            write_manifest(tmp, full_manifest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return IndexVersion(self.versions_dir / self.switch_in(tmp), full_manifest)

    def switch_in(self, folder: Path) -> str:
        """Make ``folder`` (a complete version inside ``versions_dir``) current: flushed, renamed
        to the next version name, then ``CURRENT`` replaced. Only under ``write_lock``; returns
        the version's name. (Writes, restores and format upgrades all switch here.)"""
        try:
            fsync_tree(folder)
            name = f"v{self._last_number() + 1:06d}"
            os.rename(folder, self.versions_dir / name)
            fsync_dir(self.versions_dir)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        pointer = self.home / f"{CURRENT}.{uuid.uuid4().hex}.tmp"
        with open(pointer, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, self.home / CURRENT)
        fsync_dir(self.home)
        self._collect_garbage(keep=name)
        return name

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
        for path in self.home.glob(f"{CURRENT}.*.tmp"):
            path.unlink(missing_ok=True)
        for path in self._version_dirs()[:-KEEP_VERSIONS]:
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
