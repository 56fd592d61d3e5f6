"""Errors safe to show to users: every message is Chinese and names the problem and the fix.

Each edge (CLI, service) translates a ``DangjianError`` once; library code raises these and
nothing else for bad input.
"""

from __future__ import annotations


class DangjianError(Exception):
    """Base class. ``code`` is a stable machine-readable identifier, ``message`` is for people."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InputFileError(DangjianError, ValueError):
    """A file that cannot be read as a document (missing, empty, corrupt, encrypted, too large...)."""

    code = "bad_file"

    def __init__(self, path: object, reason: str, *, code: str | None = None):
        super().__init__(f"无法导入文件 {path}：{reason}", code=code, path=str(path))
        self.reason = reason


class UnsupportedFileError(InputFileError):
    code = "unsupported_file"


class IndexNotFoundError(DangjianError, FileNotFoundError):
    code = "index_not_found"


class IndexCorruptError(DangjianError, ValueError):
    code = "index_corrupt"
