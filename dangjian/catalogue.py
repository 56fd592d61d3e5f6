"""The catalogue of a knowledge base: collections, documents, uploaded originals and method
cards, as the CLI and the service both show them.

Each function reads one snapshot's document records (``docs``: doc_id → the record of
``doc_index.jsonl``, e.g. ``Searcher.docs``), so a request sees one version throughout.
``visible`` limits what a caller sees to some collections (None: all of them).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import DangjianError
from .ingest import SUPPORTED_SUFFIXES
from .ingest.pipeline import IngestReport
from .kb import KnowledgeBase
from .methods import MethodCard, build_cards
from .naming import check_collection_name, collection_id, safe_file_name

COLLECTIONS_FILE = "collections.json"
STAGING = ".staging"  # uploads not yet indexed, one folder per job
ORIGINAL_NAME = ".original-name"  # beside a staged file whose name had to be made safe
Records = dict[str, dict[str, Any]]


@dataclass
class CollectionInfo:
    name: str
    description: str
    documents: int


def _sees(visible: Collection[str] | None, collection: str) -> bool:
    return visible is None or collection in visible


class Catalogue:
    """Collections registry, uploads folder and method-card cache of one ``KnowledgeBase``."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self._cards: dict[tuple, list[MethodCard]] = {}
        self._lock = threading.Lock()  # the registry file: one writer at a time

    # --- collections ----------------------------------------------------------------------

    @property
    def _registry_path(self) -> Path:
        return self.kb.index_dir / COLLECTIONS_FILE

    def registry(self) -> dict[str, str]:
        """Collections created empty (name → description); a document's collection exists anyway."""
        path = self._registry_path
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def _save_registry(self, registry: dict[str, str]) -> None:
        path = self._registry_path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{COLLECTIONS_FILE}.tmp")
        tmp.write_text(json.dumps(registry, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(path)

    def collections(self, docs: Records, visible: Collection[str] | None = None) -> list[CollectionInfo]:
        counts: dict[str, int] = {}
        for info in docs.values():
            counts[info["collection"]] = counts.get(info["collection"], 0) + 1
        registry = self.registry()
        names = sorted(n for n in set(counts) | set(registry) if _sees(visible, n))
        return [CollectionInfo(n, registry.get(n, ""), counts.get(n, 0)) for n in names]

    def check_collections(self, docs: Records, names: Iterable[str], visible: Collection[str] | None = None) -> None:
        """Refuse collections that do not exist (or that the caller may not see)."""
        known = {c.name for c in self.collections(docs, visible)}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise DangjianError(
                f"没有这个知识库：{'、'.join(unknown)}；现有：{'、'.join(sorted(known)) or '（无）'}",
                code="unknown_collection",
            )

    def create_collection(self, docs: Records, name: str, description: str) -> CollectionInfo:
        name = check_collection_name(name)
        with self._lock:
            registry = self.registry()
            if name in registry or any(info["collection"] == name for info in docs.values()):
                raise DangjianError(f"知识库已存在：{name}", code="collection_exists")
            registry[name] = description
            self._save_registry(registry)
        return CollectionInfo(name, description, 0)

    def delete_collection(self, docs: Records, name: str) -> IngestReport:
        """The collection and all its documents (their uploaded originals too)."""
        self.check_collections(docs, [name])
        doc_ids = [d for d, info in docs.items() if info["collection"] == name]
        report = self.delete_documents(docs, doc_ids) if doc_ids else IngestReport(index_dir=str(self.kb.index_dir))
        with self._lock:
            registry = self.registry()
            registry.pop(name, None)
            self._save_registry(registry)
        return report

    # --- documents --------------------------------------------------------------------------

    def documents(
        self,
        docs: Records,
        visible: Collection[str] | None = None,
        *,
        collection: str | None = None,
        type: str | None = None,
        year: int | None = None,
    ) -> list[dict[str, Any]]:
        """Document records by collection, title and id."""
        rows = [
            info
            for info in docs.values()
            if _sees(visible, info["collection"])
            and (collection is None or info["collection"] == collection)
            and (type is None or info.get("type") == type)
            and (year is None or info.get("year") == year)
        ]
        rows.sort(key=lambda info: (info["collection"], info["title"], info["doc_id"]))
        return rows

    def document(self, docs: Records, doc_id: str, visible: Collection[str] | None = None) -> dict[str, Any]:
        info = docs.get(doc_id)
        if info is None or not _sees(visible, info["collection"]):
            raise DangjianError(f"没有这篇文档：{doc_id}", code="document_not_found")
        return info

    def delete_documents(self, docs: Records, doc_ids: list[str]) -> IngestReport:
        """Remove documents from the index and their uploaded originals from the uploads folder."""
        report = self.kb.remove(doc_ids)
        uploads = self.uploads_dir.resolve()
        for doc_id in doc_ids:
            source = Path(docs[doc_id]["source"])
            if source.is_relative_to(uploads):
                source.unlink(missing_ok=True)
        return report

    def reingest_source(self, docs: Records, doc_id: str, visible: Collection[str] | None = None) -> tuple[Path, str]:
        """The original file of a document to ingest again, and its collection."""
        info = self.document(docs, doc_id, visible)
        source = Path(info["source"])
        if not source.is_file():
            raise DangjianError(f"原文件已不在：{source.name}；请重新上传", code="source_missing")
        return source, info["collection"]

    # --- uploads ----------------------------------------------------------------------------

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are kept, beside the index (back it up with the index)."""
        return self.kb.index_dir.with_name(self.kb.index_dir.name + "_uploads")

    def staging_dir(self, job_id: str) -> Path:
        """Where a job's uploads wait until they are indexed (a hidden folder of the uploads)."""
        return self.uploads_dir / STAGING / job_id

    def collection_folder(self, collection: str) -> Path:
        """Where a collection's uploaded originals are kept: a folder named by the collection's
        id (``naming.collection_id``), never by the name a user typed."""
        return self.uploads_dir / collection_id(check_collection_name(collection))

    def _legacy_target(self, collection: str, name: str) -> Path | None:
        """An original stored before uploads were kept by collection id (``<uploads>/<name of
        the collection>/<file>``), so that uploading it again still replaces it."""
        uploads = self.uploads_dir.resolve()
        folder = (self.uploads_dir / collection).resolve()
        target = (folder / name).resolve()
        if folder.parent == uploads and target.parent == folder and target.is_file():
            return target
        return None

    def stage_upload(
        self, files: list[tuple[str, IO[bytes]]], job_id: str, *, max_mb: float
    ) -> tuple[list[Path], list[dict[str, Any]]]:
        """Save uploaded files (name, stream) in the job's staging folder, each in a folder of its
        own under a safe name (``naming.safe_file_name``; two files of one name never meet).
        Returns the saved paths and a row for each file refused (type, size, name); when every
        file is refused, nothing is kept and the first file's error is raised."""
        folder = self.staging_dir(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        saved, refused, errors = [], [], []
        for n, (name, stream) in enumerate(files):
            try:
                slot = folder / f"{n:04d}"
                slot.mkdir()
                path = save_upload(stream, name, slot, max_mb)
                if path.name != name:
                    (slot / ORIGINAL_NAME).write_text(name or "", encoding="utf-8")
                saved.append(path)
            except DangjianError as exc:
                errors.append(exc)
                shown = safe_file_name(name) or "（无文件名）"
                refused.append({"name": shown, "status": "skipped", "reason": exc.message, "doc_id": None})
        if not saved:
            shutil.rmtree(folder, ignore_errors=True)
            raise errors[0]
        return saved, refused

    def ingest_staged(self, staged: list[Path], collection: str, progress=None) -> IngestReport:
        """Ingest staged uploads as the files they become in the collection's folder; a file
        replaces its stored original only once its new version is indexed. Files that were not
        indexed (unchanged, duplicate, skipped, failed) stay in staging, which the job removes.
        Two staged files of the same name: the later one wins."""
        folder = self.collection_folder(collection)
        targets: dict[Path, Path] = {}
        metadata: dict[Path, dict] = {}
        for path in staged:
            target = self._legacy_target(collection, path.name) or (folder / path.name).resolve()
            for earlier in [p for p, t in targets.items() if t == target]:
                del targets[earlier]
            targets[path.resolve()] = target
            original = path.parent / ORIGINAL_NAME
            if original.is_file():
                metadata[path.resolve()] = {"original_name": original.read_text(encoding="utf-8")[:1000]}
        report = self.kb.ingest(
            list(targets), collection=collection, progress=progress, sources=targets, metadata=metadata
        )
        indexed = {
            r.name.partition("#L")[0].partition("!/")[0] for r in report.results if r.status in ("added", "updated")
        }
        folder.mkdir(parents=True, exist_ok=True)
        for path, target in targets.items():
            if str(target) in indexed and path.exists():
                os.replace(path, target)
        return report

    # --- method cards -----------------------------------------------------------------------

    def cards(
        self,
        docs: Records,
        version: str,
        visible: Collection[str] | None = None,
        collections: Collection[str] | None = None,
    ) -> list[MethodCard]:
        """The method cards of the documents the caller sees (in ``collections`` when given),
        built once per index version and scope."""
        wanted = set(collections) if collections else None
        scope = (version, tuple(visible) if visible is not None else None, tuple(sorted(wanted or ())))
        cards = self._cards.get(scope)
        if cards is None:
            if len(self._cards) > 64:
                self._cards.clear()
            cards = self._cards[scope] = build_cards(
                info
                for info in docs.values()
                if _sees(visible, info["collection"]) and (wanted is None or info["collection"] in wanted)
            )
        return cards


def save_upload(stream: IO[bytes], name: str, folder: Path, max_mb: float) -> Path:
    """Copy an uploaded stream into ``folder`` under its safe name, within ``max_mb``."""
    safe = safe_file_name(name)
    if not safe:
        raise DangjianError("上传的文件没有可用的文件名", code="bad_upload")
    if Path(safe).suffix.lower() not in SUPPORTED_SUFFIXES:
        supported = "、".join(sorted(SUPPORTED_SUFFIXES))
        raise DangjianError(f"不支持的文件类型：{safe}；支持 {supported}", code="unsupported_file")
    limit = int(max_mb * 1024 * 1024)
    target = folder / safe
    tmp = folder / f".upload-{uuid.uuid4().hex[:12]}.part"
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise DangjianError(f"文件 {safe} 超过上传上限 {max_mb:g} MB", code="too_large")
                out.write(chunk)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
