"""Request bodies bounded while they stream in, before authentication and parsing finish.

Measured (issue 21): with limits read only from ``Content-Length``, a 400 MB JSON body sent with
chunked transfer encoding was accepted (server RSS 1.0 → 2.3 GB); with ``require_key`` and no
key, 300 MB were read before the 401; a 25 MB JSON object with 2 million unknown keys stalled
``/health`` for 26 s. Here every body is counted as it is received and refused at its limit
(``413``): the upload route gets ``max_upload_mb`` plus a megabyte of form fields, every other
route ``max_json_kb``. A JSON body is read whole (it is small by then) and checked for its key
count and nesting depth before the route validates it. Requests that will need a key are
checked for one before their body is read at all.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

MAX_JSON_KEYS = 5000  # object keys in one body, all levels together
MAX_JSON_DEPTH = 32
UPLOAD_ROUTE = ("POST", "/api/v1/documents")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes its limit (the route's body parsing re-raises
    an ``HTTPException`` as it is; the service's handler answers 413)."""

    def __init__(self, limit: int):
        super().__init__(413, detail=f"请求体太大，上限 {_size(limit)}")


class BodyTooComplex(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _size(n: float) -> str:
    return f"{n / 1048576:g} MB" if n >= 1048576 else f"{n / 1024:g} KB"


def body_limit(scope: dict, *, max_upload_mb: float, max_json_kb: float) -> int:
    if (scope["method"], scope["path"].rstrip("/")) == UPLOAD_ROUTE:
        return int((max_upload_mb + 1) * 1024 * 1024)  # a megabyte of form fields around the files
    return int(max_json_kb * 1024)


def too_large_message(size: int, limit: int) -> str:
    return f"请求太大（{_size(size)}），上限 {_size(limit)}"


def counting(receive, limit: int):
    """``receive`` that raises ``BodyTooLarge`` once more than ``limit`` body bytes came in."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped


def is_json(headers: dict[bytes, bytes]) -> bool:
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return kind == b"application/json" or kind.endswith(b"+json")


async def read_body(receive) -> tuple[bytes, bool]:
    """The whole body through ``receive`` (already bounded), and whether the client left."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def replay(body: bytes, receive):
    """``receive`` that gives ``body`` once, then whatever the client sends next (a disconnect)."""
    sent = False

    async def wrapped():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


def check_json(body: bytes, *, max_keys: int = MAX_JSON_KEYS, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse a JSON body with too many object keys or too deep a nesting (``BodyTooComplex``).
    A body that is not JSON at all is left to the route (it answers 422)."""
    keys = 0

    def count(pairs: list[tuple[str, Any]]) -> dict:
        nonlocal keys
        keys += len(pairs)
        if keys > max_keys:
            raise BodyTooComplex(f"请求体的字段太多（超过 {max_keys:,} 个）")
        return dict(pairs)

    try:
        value = json.loads(body, object_pairs_hook=count)
    except BodyTooComplex:
        raise
    except RecursionError:
        raise BodyTooComplex(f"请求体嵌套太深（最多 {max_depth} 层）") from None
    except ValueError:
        return
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise BodyTooComplex(f"请求体嵌套太深（最多 {max_depth} 层）")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
