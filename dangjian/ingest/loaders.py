"""``path -> Document``: dispatch on the file suffix."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import InputFileError, UnsupportedFileError
from ..schema import Document
from .archive import ARCHIVE_SUFFIXES, iter_archive
from .common import DEFAULT_MAX_FILE_MB, check_file
from .html import load_html
from .images import IMAGE_SUFFIXES, load_image
from .ofd import load_ofd
from .office import load_docx, load_legacy_word
from .pdf import Progress, load_pdf
from .plain import iter_jsonl, load_md, load_txt
from .sheets import SHEET_SUFFIXES, load_sheet

log = logging.getLogger(__name__)

_SINGLE: dict[str, Callable[..., Document]] = {
    ".txt": load_txt,
    ".text": load_txt,
    ".md": load_md,
    ".markdown": load_md,
    ".docx": load_docx,
    ".doc": load_legacy_word,
    ".wps": load_legacy_word,
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
    ".ofd": load_ofd,
    **dict.fromkeys(IMAGE_SUFFIXES, load_image),
    **dict.fromkeys(SHEET_SUFFIXES, load_sheet),
}
# Loaders that recognise scanned pages take ``progress`` and report ("ocr", pages done, pages).
_WITH_PROGRESS = {load_pdf, load_image}
SUPPORTED_SUFFIXES = frozenset(_SINGLE) | {".jsonl"} | frozenset(ARCHIVE_SUFFIXES)


def iter_documents(
    path: str | Path, *, max_file_mb: float = DEFAULT_MAX_FILE_MB, progress: Progress | None = None
) -> Iterator[Document | InputFileError]:
    """The documents in one file; problems come back as ``InputFileError`` values.

    Most formats hold one document; a ``.jsonl`` export holds one per line, and a bad line does
    not stop the others; a ``.zip`` holds one per member (``Document.source`` is
    ``archive.zip!/inner/path.docx``). ``progress(stage, done, total)`` hears ``("ocr", pages
    recognised, pages to recognise)`` while a scan is read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            yield from iter_jsonl(path, max_file_mb=max_file_mb)
            return
        if suffix in ARCHIVE_SUFFIXES:
            yield from iter_archive(path, max_file_mb=max_file_mb, progress=progress)
            return
        loader = _SINGLE.get(suffix)
        if loader is None:
            check_file(path, max_file_mb=max_file_mb)
            supported = "、".join(sorted(SUPPORTED_SUFFIXES))
            raise UnsupportedFileError(
                path, f"不支持的文件类型“{suffix or '（无扩展名）'}”；支持的类型：{supported}", code="unsupported_file"
            )
        if loader in _WITH_PROGRESS:
            yield loader(path, max_file_mb=max_file_mb, progress=progress)
        else:
            yield loader(path, max_file_mb=max_file_mb)
    except InputFileError as exc:
        yield exc
    except MemoryError:
        yield InputFileError(path, "文件过大，内存不足，无法处理；请拆分后再导入", code="out_of_memory")
    except Exception as exc:  # a parser bug or a file broken in a way no loader foresaw
        log.warning("unexpected error reading %s", path, exc_info=True)
        yield InputFileError(path, f"文件无法解析（{type(exc).__name__}），可能已损坏", code="corrupt_file")


def load_document(path: str | Path, *, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> Document:
    """Load a single-document file, raising ``InputFileError`` with a Chinese message on failure.

    For a ``.jsonl`` file this returns its first document.
    """
    for item in iter_documents(path, max_file_mb=max_file_mb):
        if isinstance(item, InputFileError):
            raise item
        return item
    raise InputFileError(path, "文件里没有文档", code="empty_file")
