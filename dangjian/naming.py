"""Names that come from users and end up in folders, keys and responses: collection names and
uploaded file names. One validator for collection names, used at every entry point (the API,
the CLI's ``ingest --collection``, ``keys create --collection``); storage paths are derived from
ids (``collection_id``), never from user text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import PurePosixPath

from .errors import DangjianError

MAX_COLLECTION_CHARS = 64
MAX_FILE_NAME_BYTES = 200  # ext4 and most file systems allow 255 bytes per name; room for ".part"
# Besides letters and digits (any script), only these: no path separators, no shell or Windows
# specials, no quotes.
COLLECTION_PUNCTUATION = frozenset(" -_.·()（）[]【】《》〈〉、，,&+#@")
_FILE_UNSAFE_RE = re.compile(r'[<>:"|?*\\/]')


def _bad_char(ch: str) -> bool:
    """Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned
    characters, and line or paragraph separators."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def check_collection_name(name: object) -> str:
    """The collection name, NFKC-normalised, or a ``DangjianError`` (code ``bad_collection``)
    saying what is wrong with it."""
    if not isinstance(name, str):
        raise DangjianError("知识库名必须是文字", code="bad_collection")
    norm = unicodedata.normalize("NFKC", name).strip()
    shown = norm.encode("unicode_escape").decode("ascii") if any(_bad_char(c) for c in norm) else norm
    if not norm:
        raise DangjianError("知识库名不能为空", code="bad_collection")
    if len(norm) > MAX_COLLECTION_CHARS:
        raise DangjianError(f"知识库名太长（{len(norm)} 字），最多 {MAX_COLLECTION_CHARS} 字", code="bad_collection")
    if norm.startswith(".") or set(norm) <= {"."}:
        raise DangjianError(f"知识库名不能以“.”开头：{shown[:80]}", code="bad_collection")
    bad = sorted({c for c in norm if not (c.isalnum() or c in COLLECTION_PUNCTUATION) or _bad_char(c)})
    if bad:
        listed = "、".join(
            c.encode("unicode_escape").decode("ascii") if not c.isprintable() or _bad_char(c) else c for c in bad
        )
        raise DangjianError(
            f"知识库名含有不允许的字符：{listed[:80]}；只能用文字、数字和 {''.join(sorted(COLLECTION_PUNCTUATION - {' '}))}",
            code="bad_collection",
        )
    return norm


def collection_id(name: str) -> str:
    """The folder name of a collection's uploads: derived from its name, never the name itself."""
    return "c" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def safe_file_name(name: str | None, *, max_bytes: int = MAX_FILE_NAME_BYTES) -> str:
    """An uploaded file's name made safe to store: its last path component, without control or
    format characters, Windows specials or a leading dot, at most ``max_bytes`` bytes in UTF-8
    (the stem is shortened, the suffix kept). Empty when nothing usable is left."""
    raw = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in raw if not _bad_char(c))
    clean = _FILE_UNSAFE_RE.sub("_", clean).strip().lstrip(".").strip()
    if not clean:
        return ""
    path = PurePosixPath(clean)
    suffix = path.suffix if len(path.suffix.encode("utf-8")) <= 16 else ""
    stem = clean[: len(clean) - len(suffix)] if suffix else clean
    budget = max_bytes - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > budget:
        stem = stem[:-1]
    return (stem.rstrip() or "file") + suffix


def collection_doc_id(collection: str, content_hash: str) -> str:
    """The ``doc_id`` of a text that another collection already holds (ids stay unique; the
    first copy keeps the plain content-hash id, so existing indexes keep theirs)."""
    return hashlib.sha256(f"{collection}\n{content_hash}".encode()).hexdigest()[:16]
