"""Per-request bookkeeping as one plain ASGI middleware: a request id, the body size limit,
Prometheus counters, and one JSON log line per request.

Plain ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs every
request through extra tasks and memory streams on the event loop, which under load is the one
thread every request passes through.

The log line (logger ``dangjian.access``, INFO) has the request id, method, route, status and
latency; the question itself only with the ``log_questions`` setting (privacy: who asked what
stays out of the logs by default). The route is the path template (``/api/v1/documents/{doc_id}``),
so document ids and search words never appear in it either.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram
from starlette.responses import JSONResponse

access_log = logging.getLogger("dangjian.access")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestMiddleware:
    def __init__(self, app, *, max_upload_mb: float, requests: Counter, latency: Histogram, log_questions: bool):
        self.app = app
        self.max_upload_mb = max_upload_mb
        self.max_body_bytes = (max_upload_mb + 1) * 1024 * 1024  # a megabyte of form fields around the file
        self.requests = requests
        self.latency = latency
        self.log_questions = log_questions

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex[:16]
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            size = headers.get(b"content-length", b"")
            if size.isdigit() and int(size) > self.max_body_bytes:
                too_large = f"请求太大（{int(size) / 1048576:.1f} MB），上限 {self.max_upload_mb:g} MB"
                await error_response(413, "too_large", too_large)(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            took = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(route, scope["method"], str(status)).inc()
            self.latency.labels(route).observe(took)
            if access_log.isEnabledFor(logging.INFO):
                line = {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "ms": round(took * 1000, 1),
                }
                question = scope.get("state", {}).get("question")
                if self.log_questions and question:
                    line["question"] = question
                access_log.info(json.dumps(line, ensure_ascii=False))


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The one error shape of every 4xx/5xx: ``{"error": {"code", "message"}}``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
