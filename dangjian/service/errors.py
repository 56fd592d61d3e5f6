"""One JSON error shape for every failure: ``{"error": {"code", "message"}}`` with a Chinese
message and the right status. Installed once by ``create_app``."""

from __future__ import annotations

import logging
import re
from pathlib import PurePath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import DangjianError, IndexCorruptError, IndexNotFoundError
from . import schemas

log = logging.getLogger("dangjian.service")

# The error responses every route declares (the OpenAPI schema is complete and fuzzed).
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorResponse} for code in (400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503)
}
_STATUS = {
    "document_not_found": 404,
    "method_not_found": 404,
    "no_quiz": 404,
    "job_not_found": 404,
    "conversation_not_found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "too_large": 413,
    "collection_exists": 409,
    "rate_limited": 429,
    "keys_unavailable": 503,
}
INDEX_BUSY = "另一个导入任务正在写入索引，请等它完成后再试"
# An absolute path (POSIX or Windows) in a message: shown as its last component.
_PATH_RE = re.compile(r"(?<![\w:/.])(?:/|[A-Za-z]:\\)[^\s，。；：、（）“”\"'<>|]+")


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape of every 4xx/5xx: ``{"error": {"code", "message"}}``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def public_text(text: str) -> str:
    """``text`` with every absolute server path replaced by its last component (file names
    stay, folders of the server do not)."""
    return _PATH_RE.sub(lambda m: PurePath(m.group(0).rstrip("/\\")).name or "（路径）", text)


def status_of(exc: DangjianError) -> int:
    if isinstance(exc, IndexNotFoundError | IndexCorruptError):
        return 503
    return _STATUS.get(exc.code, 400)


def dangjian_error_response(exc: DangjianError) -> JSONResponse:
    """A library error as the service shows it: its status, no server path in the message."""
    message = INDEX_BUSY if exc.code == "index_busy" else public_text(exc.message)
    retry = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(int(retry))} if retry is not None else None
    return error_response(status_of(exc), exc.code, message, headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DangjianError)
    async def dangjian_error(request: Request, exc: DangjianError) -> JSONResponse:
        return dangjian_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "not_found", f"没有这个地址：{request.url.path}")
        if exc.status_code == 413:
            return error_response(413, "too_large", str(exc.detail))
        if exc.status_code == 405:
            return error_response(405, "method_not_allowed", f"{request.url.path} 不支持 {request.method} 请求")
        return error_response(exc.status_code, "http_error", f"请求无法处理（HTTP {exc.status_code}）")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "服务器内部错误，已记录日志；请稍后重试或联系管理员")


_FIELD_NAMES = {"question": "问题", "q": "问题", "k": "返回段数 k", "collections": "知识库", "collection": "知识库"}


def validation_message(errors: list[dict[str, Any]]) -> str:
    """The first validation error in Chinese: which field, what is wrong, what is allowed."""
    if not errors:
        return "请求格式不正确"
    err = errors[0]
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
    name = ".".join(loc)
    if len(name) > 60:  # a field name is user input too
        name = name[:60] + "…"
    field = _FIELD_NAMES.get(loc[-1], name) if loc else "请求体"
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "json_invalid":
        return "请求体不是合法的 JSON"
    if kind == "missing":
        return f"缺少必填项：{field}"
    if kind == "extra_forbidden":
        return f"不认识的字段：{name}"
    if kind in ("string_too_short", "too_short") and ctx.get("min_length", 1) == 1:
        return f"{field}不能为空"
    if kind == "string_too_long":
        return f"{field}太长，最多 {ctx.get('max_length')} 字"
    if kind == "too_long":
        return f"{field}太多，最多 {ctx.get('max_length')} 项"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        word = {"greater_than_equal": "不能小于", "less_than_equal": "不能大于", "greater_than": "必须大于"}.get(
            kind, "必须小于"
        )
        return f"{field}{word} {bound}"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "model_attributes_type":
        return f"{field}的类型不对（{excerpt(err.get('input'))}）"
    return f"{field}不正确"


def excerpt(value: Any, limit: int = 40) -> str:
    """A bounded excerpt of what was sent (a validation error never echoes a whole body)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text):,} 字符）"
