"""``.zip`` archives: every member is ingested like a file of its own and named by its path inside
the archive (``报告.zip!/2023/总结.docx``); nested archives are opened up to ``MAX_DEPTH``.

Limits (``limits.py``), checked on the declared sizes before anything is written and again on the
bytes really read (a header can lie): member count, total uncompressed size, one member's size and
the compression ratios. A file over them is refused as a whole (a bomb), with a Chinese message.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..errors import InputFileError
from ..schema import Document
from .common import check_file
from .limits import bomb, check_parts, current

MAX_DEPTH = 3  # an archive inside an archive inside an archive
ARCHIVE_SUFFIXES = (".zip",)


def _name(info: zipfile.ZipInfo) -> str:
    """The member's path; names written by Chinese Windows tools without the UTF-8 flag are GBK."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _members(path: Path, zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    infos = zf.infolist()
    check_parts(path, infos)
    members = []
    for info in infos:
        if info.is_dir():
            continue
        name = _name(info)
        parts = PurePosixPath(name).parts
        if any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue  # hidden files and macOS resource forks, as in folders
        members.append((info, name))
    return members


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int, source: str) -> int:
    """Copy one member to ``target``, never more than ``limit`` bytes; returns the bytes written."""
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise bomb(source, "解压出的内容超过了声明的大小或上限")
            dst.write(chunk)
    return written


def iter_archive(
    path: Path, *, max_file_mb: float, progress=None, depth: int = 0
) -> Iterator[Document | InputFileError]:
    """Documents (and problems) of every member; ``Document.source`` is ``archive!/member``."""
    from .loaders import SUPPORTED_SUFFIXES, iter_documents

    check_file(path, max_file_mb=max_file_mb)
    label = str(path)
    if depth >= MAX_DEPTH:
        raise bomb(label, f"压缩包嵌套超过 {MAX_DEPTH} 层")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputFileError(path, "不是有效的 .zip 压缩包（文件已损坏或被截断）", code="corrupt_file") from None
    with zf, tempfile.TemporaryDirectory(prefix="dangjian-zip-") as tmp:
        members = _members(path, zf)
        budget = current().max_unpacked_bytes
        file_limit = int(max_file_mb * 1024 * 1024)
        for n, (info, name) in enumerate(members):
            source = f"{label}!/{name}"
            suffix = PurePosixPath(name).suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                supported = "、".join(sorted(SUPPORTED_SUFFIXES))
                yield InputFileError(
                    source,
                    f"不支持的文件类型“{suffix or '（无扩展名）'}”；支持的类型：{supported}",
                    code="unsupported_file",
                )
                continue
            if info.flag_bits & 0x1:
                yield InputFileError(source, "压缩包里的文件有密码保护，请解压后再导入", code="encrypted_file")
                continue
            target = Path(tmp) / f"{n:05d}{suffix}"  # never the member's own path (no “../” escapes)
            try:
                budget -= _extract(zf, info, target, min(budget, file_limit + 1), source)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                yield InputFileError(source, f"无法从压缩包中解出（{type(exc).__name__}）", code="corrupt_file")
                continue
            if suffix in ARCHIVE_SUFFIXES:
                items = _nested(target, source, max_file_mb, progress, depth + 1)
            else:
                items = iter_documents(target, max_file_mb=max_file_mb, progress=progress)
            for item in items:
                yield _renamed(item, target, source)
            target.unlink(missing_ok=True)


def _nested(target: Path, source: str, max_file_mb: float, progress, depth: int) -> Iterator[Document | InputFileError]:
    try:
        yield from iter_archive(target, max_file_mb=max_file_mb, progress=progress, depth=depth)
    except InputFileError as exc:
        yield exc


def _renamed(item: Document | InputFileError, target: Path, source: str) -> Document | InputFileError:
    """Put the path inside the archive where the temporary file's path is."""
    tmp_name = str(target)
    if isinstance(item, InputFileError):
        path = (item.path or tmp_name).replace(tmp_name, source)
        return InputFileError(path, item.reason, code=item.code)
    item.source = item.source.replace(tmp_name, source)
    if item.title == target.stem:
        item.title = PurePosixPath(source.rsplit("!/", 1)[-1]).stem
    return item
