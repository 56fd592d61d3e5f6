"""Finding the files to ingest, and what a folder's ``manifest.json`` says about them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError

MANIFEST_NAME = "manifest.json"
MANIFEST_KEYS = ("title", "type", "issuer", "date", "origin", "licence", "sample")


@dataclass
class Skipped:
    """A file (or a line of a bulk file) that was not ingested, and why."""

    path: str
    code: str
    reason: str

    @classmethod
    def from_error(cls, exc: InputFileError, path: str | Path | None = None) -> Skipped:
        return cls(exc.path or str(path), exc.code, exc.message)


@dataclass
class Duplicate:
    source: str
    duplicate_of: str
    doc_id: str


FILE_STATUSES = ("added", "updated", "unchanged", "duplicate", "skipped", "failed")
FAILED_CODES = ("corrupt_file", "out_of_memory", "internal")  # the file broke something; else skipped


@dataclass
class FileResult:
    """What became of one file (or one record of a bulk file): ``status`` is one of
    ``FILE_STATUSES``; ``reason`` says why it was skipped, failed or a duplicate (Chinese)."""

    name: str
    status: str
    reason: str = ""
    doc_id: str | None = None


@dataclass
class IngestReport:
    index_dir: str
    version: str = ""
    files: int = 0
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    sections: int = 0
    passages: int = 0
    total_documents: int = 0
    total_passages: int = 0
    elapsed_s: float = 0.0
    results: list[FileResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class SourceFile:
    path: Path
    manifest_entry: dict[str, Any] | None = None


def _read_manifest(folder: Path, skipped: list[Skipped]) -> dict[Path, dict[str, Any]]:
    """Entries of ``folder/manifest.json``, keyed by the resolved path of the file they describe."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["documents"] if isinstance(data, dict) else data
        return {
            (folder / str(entry["file"])).resolve(): {k: entry[k] for k in MANIFEST_KEYS if k in entry}
            for entry in entries
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        skipped.append(Skipped(str(path), "bad_manifest", f"清单文件 {path} 格式不正确，已忽略（{exc}）"))
        return {}


def collect_files(paths: list[str | Path], *, exclude: Path | None = None) -> tuple[list[SourceFile], list[Skipped]]:
    """Files named directly plus every file under named folders (recursive, sorted).

    Hidden files and folders and ``exclude`` (the index itself) are left out. A ``manifest.json``
    describes the files of its folder and subfolders (metadata); it is not ingested itself.
    """
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    exclude = exclude.resolve() if exclude else None
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            skipped.append(Skipped.from_error(InputFileError(path, "文件或文件夹不存在，请检查路径", code="not_found")))
            continue
        if not path.is_dir():
            resolved = path.resolve()
            entry = None
            for folder in list(resolved.parents)[:3]:
                entry = _read_manifest(folder, []).get(resolved)
                if entry:
                    break
            files.append(SourceFile(path, entry))
            continue
        manifest: dict[Path, dict[str, Any]] = {}

        def walk_error(err: OSError) -> None:
            reason = f"文件夹无法读取（{err.strerror}）"
            skipped.append(Skipped.from_error(InputFileError(err.filename, reason, code="permission_denied")))

        for folder, dirnames, filenames in os.walk(path, onerror=walk_error):
            folder_path = Path(folder)
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".") and (exclude is None or (folder_path / d).resolve() != exclude)
            )
            manifest.update(_read_manifest(folder_path, skipped))
            for name in sorted(filenames):
                if name.startswith(".") or name == MANIFEST_NAME:
                    continue
                file_path = folder_path / name
                files.append(SourceFile(file_path, manifest.get(file_path.resolve())))
    return files, skipped
