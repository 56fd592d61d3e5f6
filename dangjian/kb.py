"""KnowledgeBase: the facade that ties ingest and the index directory together."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from . import __version__
from .errors import DangjianError, InputFileError
from .index.store import IndexStore, IndexVersion
from .ingest import DEFAULT_MAX_CHARS, DEFAULT_TARGET_CHARS, chunk_sections, iter_documents, split_sections
from .ingest.common import DEFAULT_MAX_FILE_MB
from .ingest.names import find_names, merge_names
from .ingest.pipeline import Duplicate, IngestReport, Skipped, collect_files
from .schema import Document, Passage, Section
from .text import dictionary_hash

# progress(done, total, current_path)
Progress = Callable[[int, int, str], None]


class KnowledgeBase:
    """One index home directory and the settings used to fill it."""

    def __init__(
        self,
        index_dir: str | Path,
        *,
        target_chars: int = DEFAULT_TARGET_CHARS,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
    ):
        if not 20 <= target_chars <= max_chars:
            raise DangjianError(
                f"段落长度设置不正确：目标长度 {target_chars} 应在 20 到最大长度 {max_chars} 之间", code="bad_setting"
            )
        self.store = IndexStore(index_dir)
        self.target_chars = target_chars
        self.max_chars = max_chars
        self.max_file_mb = max_file_mb

    @property
    def index_dir(self) -> Path:
        return self.store.home

    def open(self) -> IndexVersion:
        return self.store.open()

    def documents(self) -> Iterator[tuple[Document, list[Section]]]:
        return self.open().iter_documents()

    def passages(self) -> Iterator[Passage]:
        return self.open().iter_passages()

    def ingest(self, paths: Iterable[str | Path], *, progress: Progress | None = None) -> IngestReport:
        """Add files and folders to the index; a new version is written only when something changed.

        Content already in the index (any file name) is reported as a duplicate and not stored
        twice; a file ingested again from the same path with new content replaces its old version.
        """
        started = time.perf_counter()
        report = IngestReport(index_dir=str(self.index_dir))
        with self.store.write_lock():
            old = self.store.open() if self.store.exists() else None
            by_hash: dict[str, str] = {}
            by_source: dict[str, str] = {}
            names: dict[str, list[str]] = {}
            if old is not None:
                for doc, _ in old.iter_documents():
                    by_hash[doc.content_hash] = doc.source
                    by_source[doc.source] = doc.doc_id
                    names[doc.doc_id] = doc.metadata.get("names", [])
            files, report.skipped = collect_files(list(paths), exclude=self.index_dir)
            report.files = len(files)
            new_docs: list[tuple[Document, list[Section]]] = []
            new_passages: list[Passage] = []
            removed: set[str] = set()
            for done, source_file in enumerate(files):
                if progress:
                    progress(done, len(files), str(source_file.path))
                for item in iter_documents(source_file.path, max_file_mb=self.max_file_mb):
                    if isinstance(item, InputFileError):
                        report.skipped.append(Skipped.from_error(item, source_file.path))
                        continue
                    doc = self._prepare(item, source_file.manifest_entry)
                    if doc.content_hash in by_hash:
                        if by_hash[doc.content_hash] == doc.source:
                            report.unchanged.append(doc.doc_id)
                        else:
                            report.duplicates.append(Duplicate(doc.source, by_hash[doc.content_hash], doc.doc_id))
                            if doc.source in by_source:  # edited into a copy of another document
                                removed.add(by_source.pop(doc.source))
                        continue
                    sections = split_sections(doc)
                    passages = chunk_sections(doc, sections, target_chars=self.target_chars, max_chars=self.max_chars)
                    if not passages:
                        error = InputFileError(doc.source, "只有标题，没有正文", code="empty_file")
                        report.skipped.append(Skipped.from_error(error))
                        continue
                    if doc.source in by_source:
                        removed.add(by_source[doc.source])
                        report.replaced.append(doc.doc_id)
                    else:
                        report.added.append(doc.doc_id)
                    by_hash[doc.content_hash] = doc.source
                    by_source[doc.source] = doc.doc_id
                    names[doc.doc_id] = doc.metadata["names"]
                    new_docs.append((doc, sections))
                    new_passages.extend(passages)
                    report.sections += len(sections)
                    report.passages += len(passages)
            if progress:
                progress(len(files), len(files), "")
            if new_docs or removed:
                for doc_id in removed:
                    names.pop(doc_id, None)
                version = self._write(old, new_docs, new_passages, removed, merge_names(*names.values()))
            else:
                version = old
        if version is not None:
            report.version = version.name
            report.total_documents = version.manifest["counts"]["documents"]
            report.total_passages = version.manifest["counts"]["passages"]
        report.elapsed_s = round(time.perf_counter() - started, 3)
        return report

    def _prepare(self, doc: Document, entry: dict | None) -> Document:
        path, sep, line = doc.source.partition("#L")  # a .jsonl record is "file#L12"
        doc.source = str(Path(path).resolve()) + sep + line
        if entry:
            entry = dict(entry)
            if entry.get("title"):
                doc.title = str(entry.pop("title"))
            doc.metadata.update(entry)
        doc.metadata["names"] = find_names(doc.text)
        return doc

    def _write(
        self,
        old: IndexVersion | None,
        new_docs: list[tuple[Document, list[Section]]],
        new_passages: list[Passage],
        removed: set[str],
        names: list[str],
    ) -> IndexVersion:
        def documents() -> Iterator[tuple[Document, list[Section]]]:
            if old is not None:
                yield from ((d, s) for d, s in old.iter_documents() if d.doc_id not in removed)
            yield from new_docs

        def passages() -> Iterator[Passage]:
            if old is not None:
                yield from (p for p in old.iter_passages() if p.doc_id not in removed)
            yield from new_passages

        manifest = {
            "dangjian_version": __version__,
            "dictionary_hash": dictionary_hash(names),
            "chunking": {"target_chars": self.target_chars, "max_chars": self.max_chars},
        }
        return self.store.write(documents=documents(), passages=passages(), names=names, manifest=manifest)
