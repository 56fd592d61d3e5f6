"""Limits on what one file may unpack to: the parts of a zip package (``.docx``, ``.xlsx``,
``.pptx``, ``.zip``) and the pages of a PDF.

``Limits`` travels as a keyword argument (``KnowledgeBase(limits=...)``); the loaders read the one
in force through ``current()``, which ``using(limits)`` sets for the duration of an ingest (a
context variable: each thread and each ingest its own). Library code never reads the environment.

Measured (issue 21): a 1.08 MB ``.docx`` with 900 linked parts of 1 MiB each raised the RSS of the
server by ~0.9 GB, because only parts *over* 1 MiB had their ratio checked and only XML parts were
totalled; a 20,000-page PDF of 1.9 MB took ~25 ms a page.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError

DEFAULT_MAX_PDF_PAGES = 3000  # a year's bound volume of documents is a few hundred pages
DEFAULT_MAX_UNPACKED_MB = 512
DEFAULT_MAX_PARTS = 2000  # a real .docx has tens of parts; a zip of a year's files, hundreds
DEFAULT_MAX_RATIO = 200  # uncompressed / compressed; the sample .docx's most compressed part is 32:1, bombs ~1000:1
RATIO_FROM_BYTES = 64 * 1024  # parts smaller than this are not ratio-checked one by one


@dataclass(frozen=True)
class Limits:
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    max_unpacked_mb: float = DEFAULT_MAX_UNPACKED_MB
    max_parts: int = DEFAULT_MAX_PARTS
    max_ratio: float = DEFAULT_MAX_RATIO

    @property
    def max_unpacked_bytes(self) -> int:
        return int(self.max_unpacked_mb * 1024 * 1024)


_CURRENT: ContextVar[Limits | None] = ContextVar("dangjian_ingest_limits", default=None)


def current() -> Limits:
    """The limits in force for the ingest running in this thread (the defaults otherwise)."""
    return _CURRENT.get() or Limits()


@contextmanager
def using(limits: Limits | None) -> Iterator[None]:
    token = _CURRENT.set(limits or Limits())
    try:
        yield
    finally:
        _CURRENT.reset(token)


def bomb(path: object, reason: str) -> InputFileError:
    return InputFileError(path, f"{reason}，疑似压缩炸弹，已拒绝；请解压后分批导入", code="zip_bomb")


def check_parts(path: object, infos: list[zipfile.ZipInfo], limits: Limits | None = None) -> None:
    """Refuse a zip package whose declared parts exceed the limits: part count, total
    uncompressed size, the ratio of every part over ``RATIO_FROM_BYTES`` and of the whole.
    Declared sizes can lie; readers of the parts bound the bytes really read where they can."""
    limits = limits or current()
    if len(infos) > limits.max_parts:
        raise InputFileError(
            path,
            f"文件里有 {len(infos):,} 个条目，超过上限 {limits.max_parts:,} 个"
            "（设置 DANGJIAN_MAX_ARCHIVE_PARTS）；请拆分后再导入",
            code="too_many_files",
        )
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > limits.max_unpacked_bytes:
        raise bomb(
            path,
            f"解压后共 {total / 1048576:,.0f} MB，超过上限 {limits.max_unpacked_mb:g} MB（设置 DANGJIAN_MAX_UNPACKED_MB）",
        )
    for info in infos:
        if info.file_size > RATIO_FROM_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise bomb(path, f"文件内部的 {info.filename} 压缩比异常（{ratio:,}:1，上限 {limits.max_ratio:g}:1）")
    if total > 1024 * 1024 and total > limits.max_ratio * max(packed, 1):
        raise bomb(path, f"整体压缩比异常（{total // max(packed, 1):,}:1，上限 {limits.max_ratio:g}:1）")


def check_package(path: Path, kind: str) -> list[zipfile.ZipInfo]:
    """Open an OOXML package's directory and check it against the limits; returns its parts."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputFileError(
            path, f"不是有效的 {kind} 文件（文件已损坏、被截断或已加密）", code="corrupt_file"
        ) from None
    check_parts(path, infos)
    return infos


def check_pdf_pages(path: object, pages: int, limits: Limits | None = None) -> None:
    limits = limits or current()
    if pages > limits.max_pdf_pages:
        raise InputFileError(
            path,
            f"PDF 共 {pages:,} 页，超过上限 {limits.max_pdf_pages:,} 页（设置 DANGJIAN_MAX_PDF_PAGES）；请拆分后再导入",
            code="too_many_pages",
        )
