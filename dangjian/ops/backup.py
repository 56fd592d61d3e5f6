"""``dangjian backup`` and ``dangjian restore``: a checked snapshot of an index and what lives beside it.

A backup is a ``.tar.gz`` holding::

    index/CURRENT                  the version the snapshot was taken of
    index/versions/<name>/...      that version (versions never change once written)
    index/<other files>            keys.json, collections.json, conversations/ ... (not .lock, temp files)
    uploads/...                    the uploads folder ``<index>_uploads`` beside the index, if any
    conversations/...              ``<index>_conversations`` beside the index, if any
    SHA256SUMS                     ``sha256  path`` of every file above (``sha256sum -c`` reads it)
    BACKUP.json                    what was backed up, counts, and the SHA-256 of SHA256SUMS

It is taken while the service runs and writes: the version named by CURRENT is immutable, and the
JSON files beside it are replaced by rename, so each file read from one open descriptor is whole.
Should a writer garbage-collect the version during the copy (three writes meanwhile), the snapshot
starts again. The archive is written to a temporary name and renamed when complete.

Restore reads the whole archive (gzip's CRC), unpacks it beside the target, checks every file
against SHA256SUMS, verifies and opens the index (``verify_index``), and only then switches:
under the index's write lock the version becomes the next version of the target and CURRENT
points at it (a running service picks it up with its next request); the files beside the
versions and the uploads are replaced, the ones they replace are moved to
``<index>.before-restore-<time>/``. Anything wrong before the switch leaves the target untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import DangjianError
from ..index.store import IndexStore

BACKUP_FORMAT = 1
SIBLINGS = {"uploads": "_uploads", "conversations": "_conversations"}  # archive folder -> suffix beside the index


def sibling(home: Path, suffix: str) -> Path:
    return home.with_name(home.name + suffix)


def _skipped(rel: Path) -> bool:
    """Files of the index home that are not state: the lock, temporary files, the versions."""
    first = rel.parts[0]
    return first in ("versions", "CURRENT", ".lock") or any(part.startswith(".") for part in rel.parts)


@dataclass
class BackupReport:
    output: str
    version: str
    documents: int
    passages: int
    files: int
    bytes: int
    elapsed_s: float
    included: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Hashing:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.sha.update(data)
        return data


class _VersionGone(Exception):
    pass


def _add_file(tar: tarfile.TarFile, src: Path, arcname: str, sums: dict[str, str]) -> int:
    with open(src, "rb") as fh:
        st = os.fstat(fh.fileno())
        info = tarfile.TarInfo(arcname)
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), 0o644
        reader = _Hashing(fh)
        tar.addfile(info, reader)
    sums[arcname] = reader.sha.hexdigest()
    return st.st_size


def _add_tree(tar: tarfile.TarFile, root: Path, prefix: str, sums: dict[str, str], skip=None, strict=False) -> int:
    """Every file under ``root``; ``strict``: a file vanishing meanwhile means the snapshot is lost."""
    total = 0
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            src = Path(folder) / name
            rel = src.relative_to(root)
            if skip is not None and skip(rel):
                continue
            try:
                total += _add_file(tar, src, f"{prefix}/{rel.as_posix()}", sums)
            except FileNotFoundError:  # an upload or key file replaced meanwhile: not part of this snapshot
                if strict:
                    raise _VersionGone from None
                continue
    return total


def backup(home: str | Path, output: str | Path, *, compresslevel: int = 3, attempts: int = 3) -> BackupReport:
    """Write a checked snapshot of the index in ``home`` (and its uploads) to ``output``."""
    t0 = time.monotonic()
    home, output = Path(home), Path(output)
    store = IndexStore(home)
    for _ in range(attempts):
        version = store.open()  # the current one; raises the usual message when there is none
        try:
            report = _write_archive(home, version, output, compresslevel)
        except _VersionGone:
            continue
        report.elapsed_s = round(time.monotonic() - t0, 2)
        return report
    raise DangjianError(
        f"索引 {home.name} 在备份期间不断被写入，{attempts} 次都没能取得一致的快照；请稍后再试", code="backup_busy"
    )


def _write_archive(home: Path, version, output: Path, compresslevel: int) -> BackupReport:
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{uuid.uuid4().hex[:8]}.part")
    sums: dict[str, str] = {}
    total = 0
    included = [f"index/versions/{version.name}"]
    try:
        # gzip with a fixed header (no name, mtime 0), so restore can check every byte of it too
        with (
            open(tmp, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=compresslevel, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            pointer = (version.name + "\n").encode()
            info = tarfile.TarInfo("index/CURRENT")
            info.size, info.mtime = len(pointer), int(time.time())
            tar.addfile(info, io.BytesIO(pointer))
            sums["index/CURRENT"] = hashlib.sha256(pointer).hexdigest()
            total += _add_tree(tar, version.path, f"index/versions/{version.name}", sums, strict=True)
            if f"index/versions/{version.name}/manifest.json" not in sums:
                raise _VersionGone
            before = len(sums)
            total += _add_tree(tar, home, "index", sums, skip=_skipped)
            included += sorted({k.split("/")[1] for k in list(sums)[before:]})
            for arc, suffix in SIBLINGS.items():
                folder = sibling(home, suffix)
                if folder.is_dir():
                    total += _add_tree(
                        tar, folder, arc, sums, skip=lambda rel: any(p.startswith(".") for p in rel.parts)
                    )
                    included.append(arc)
            listing = "".join(f"{digest}  {name}\n" for name, digest in sums.items()).encode("utf-8")
            info = tarfile.TarInfo("SHA256SUMS")
            info.size, info.mtime = len(listing), int(time.time())
            tar.addfile(info, io.BytesIO(listing))
            counts = version.manifest.get("counts", {})
            meta = {
                "backup_format": BACKUP_FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "index": home.name,
                "version": version.name,
                "format_version": version.manifest.get("format_version"),
                "counts": {"documents": counts.get("documents"), "passages": counts.get("passages")},
                "files": len(sums),
                "bytes": total,
                "sha256sums": hashlib.sha256(listing).hexdigest(),
            }
            data = json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8")
            info = tarfile.TarInfo("BACKUP.json")
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupReport(
        output=str(output),
        version=version.name,
        documents=meta["counts"]["documents"] or 0,
        passages=meta["counts"]["passages"] or 0,
        files=len(sums),
        bytes=output.stat().st_size,
        elapsed_s=0.0,
        included=included,
    )


# --- restore -------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    index_dir: str
    version: str  # the version now current in the target
    from_version: str  # its name in the backup
    documents: int
    passages: int
    files: int
    set_aside: str | None  # where the replaced files beside the versions went
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _damaged(archive: Path, why: str) -> DangjianError:
    return DangjianError(
        f"备份文件 {archive.name} 已损坏或不完整（{why}）；没有做任何改动，请换一份备份", code="backup_damaged"
    )


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # what backup() writes: no name, mtime 0, OS unknown


def check_archive(archive: Path) -> None:
    """The fixed gzip header, then the whole compressed stream read once, so gzip checks its CRC
    and length: any one byte changed anywhere in the file is caught."""
    try:
        with open(archive, "rb") as fh:
            header = fh.read(len(GZIP_HEADER))
        if header != GZIP_HEADER:
            raise _damaged(archive, "文件头不是本程序写入的备份格式")
        with gzip.open(archive, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except FileNotFoundError:
        raise DangjianError(f"找不到备份文件 {archive}", code="backup_not_found") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise _damaged(archive, f"压缩数据校验失败：{exc}") from None


def unpack(archive: Path, staging: Path) -> dict[str, Any]:
    """Unpack ``archive`` into ``staging`` and check every file against SHA256SUMS; BACKUP.json."""
    check_archive(archive)
    allowed = ("index/", "uploads/", "conversations/")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for m in members:
                if not (m.isfile() or m.isdir()):
                    raise _damaged(archive, f"含有不允许的条目 {m.name}")
                parts = Path(m.name).parts
                outside = m.name.startswith("/") or ".." in parts
                if outside or (m.name not in ("SHA256SUMS", "BACKUP.json") and not m.name.startswith(allowed)):
                    raise _damaged(archive, f"含有不属于备份的条目 {m.name}")
            # the "data" filter where this Python has it (3.11.4+); the checks above either way
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(staging, members=members, **safe)
    except DangjianError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise _damaged(archive, f"无法解包：{exc}") from None
    try:
        meta = json.loads((staging / "BACKUP.json").read_text(encoding="utf-8"))
        listing = (staging / "SHA256SUMS").read_bytes()
    except (OSError, ValueError) as exc:
        raise _damaged(archive, f"缺少或读不了 BACKUP.json / SHA256SUMS：{exc}") from None
    if not isinstance(meta, dict) or meta.get("backup_format") != BACKUP_FORMAT:
        raise _damaged(archive, "BACKUP.json 不是本程序的备份说明")
    if hashlib.sha256(listing).hexdigest() != meta.get("sha256sums"):
        raise _damaged(archive, "校验和清单 SHA256SUMS 与 BACKUP.json 不符")
    expected = {}
    for line in listing.decode("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    found = {
        rel: p
        for p in staging.rglob("*")
        if p.is_file() and (rel := p.relative_to(staging).as_posix()) not in ("SHA256SUMS", "BACKUP.json")
    }
    if set(found) != set(expected):
        extra, missing = sorted(set(found) - set(expected)), sorted(set(expected) - set(found))
        raise _damaged(archive, f"文件与校验和清单不符：多出 {extra[:3]}，缺少 {missing[:3]}")
    for name, path in found.items():
        sha = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                sha.update(chunk)
        if sha.hexdigest() != expected[name]:
            raise _damaged(archive, f"{name} 的校验和不符")
    return meta


def restore(archive: str | Path, home: str | Path) -> RestoreReport:
    """Verify ``archive`` completely, then make it the current state of the index in ``home``."""
    from .verify import verify_index

    t0 = time.monotonic()
    archive, home = Path(archive), Path(home)
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = home.with_name(f".{home.name}.restore-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        meta = unpack(archive, staging)
        report = verify_index(staging / "index")
        if not report.ok:
            raise DangjianError(
                f"备份 {archive.name} 中的索引不完整，没有做任何改动：" + "；".join(report.problems[:5]),
                code="backup_damaged",
            )
        name = report.version
        store = IndexStore(home)
        with store.write_lock():
            aside = home.with_name(f"{home.name}.before-restore-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
            moved = _swap_state(home, staging, aside)
            store.versions_dir.mkdir(parents=True, exist_ok=True)
            incoming = store.versions_dir / f".tmp-{uuid.uuid4().hex}"
            os.rename(staging / "index" / "versions" / name, incoming)
            new = store.switch_in(incoming)
        store.open()  # the target opens as it is now
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(
        index_dir=str(home),
        version=new,
        from_version=meta.get("version", name),
        documents=report.documents,
        passages=report.passages,
        files=meta.get("files", 0),
        set_aside=str(aside) if moved else None,
        elapsed_s=round(time.monotonic() - t0, 2),
    )


def _swap_state(home: Path, staging: Path, aside: Path) -> bool:
    """Replace the files beside the versions and the sibling folders with the backup's; what they
    replace goes to ``aside``. True when anything was moved there."""
    moved = False

    def set_aside(path: Path, rel: str) -> None:
        nonlocal moved
        target = aside / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)
        moved = True

    home.mkdir(parents=True, exist_ok=True)
    for entry in sorted(home.iterdir()):
        if not _skipped(Path(entry.name)):
            set_aside(entry, f"index/{entry.name}")
    for entry in sorted((staging / "index").iterdir()):
        if not _skipped(Path(entry.name)):
            os.rename(entry, home / entry.name)
    for arc, suffix in SIBLINGS.items():
        current = sibling(home, suffix)
        if current.exists():
            set_aside(current, arc)
        if (staging / arc).is_dir():
            os.rename(staging / arc, current)
    return moved
