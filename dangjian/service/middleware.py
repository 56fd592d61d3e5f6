"""Per-request bookkeeping as one plain ASGI middleware: a request id, the body limits and the
key check that comes before a body is read (``bodies.py``), Prometheus counters, and one JSON log
line per request.

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

from ..errors import DangjianError
from . import bodies
from .errors import dangjian_error_response, error_response
from .keys import check_writer, identify

access_log = logging.getLogger("dangjian.access")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestMiddleware:
    def __init__(
        self,
        app,
        *,
        max_upload_mb: float,
        max_json_kb: float = 256,
        requests: Counter,
        latency: Histogram,
        log_questions: bool,
    ):
        self.app = app
        self.max_upload_mb = max_upload_mb
        self.max_json_kb = max_json_kb
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
        responded = [False]

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                responded[0] = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            refused = await self._refused(scope, headers)
            if refused is not None:
                await refused(scope, receive, send_with_id)
                return
            receive = bodies.counting(
                receive, bodies.body_limit(scope, max_upload_mb=self.max_upload_mb, max_json_kb=self.max_json_kb)
            )
            if scope["method"] in _WITH_BODY and bodies.is_json(headers):
                try:
                    body, gone = await bodies.read_body(receive)
                    if not gone:
                        bodies.check_json(body)
                except bodies.BodyTooLarge as exc:
                    await error_response(413, "too_large", exc.detail)(scope, receive, send_with_id)
                    return
                except bodies.BodyTooComplex as exc:
                    await error_response(413, "too_complex", exc.message)(scope, receive, send_with_id)
                    return
                receive = bodies.replay(body, receive)
            try:
                await self.app(scope, receive, send_with_id)
            except bodies.BodyTooLarge as exc:  # read by something that did not turn it into a response
                if not responded[0]:
                    await error_response(413, "too_large", exc.detail)(scope, receive, send_with_id)
                else:
                    raise
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

    async def _refused(self, scope, headers: dict[bytes, bytes]):
        """A response for a request refused before its body is read: a declared size over the
        limit, or a key that is missing, invalid or not allowed where one will be needed."""
        limit = bodies.body_limit(scope, max_upload_mb=self.max_upload_mb, max_json_kb=self.max_json_kb)
        size = headers.get(b"content-length", b"")
        if size.isdigit() and int(size) > limit:
            return error_response(413, "too_large", bodies.too_large_message(int(size), limit))
        if not scope["path"].startswith("/api/") or scope["method"] not in _WITH_BODY:
            return None  # nothing to read first: the route's own dependency decides
        state = scope["app"].state
        upload = (scope["method"], scope["path"].rstrip("/")) == bodies.UPLOAD_ROUTE
        try:
            who = identify(
                state,
                headers.get(b"authorization", b"").decode("latin-1"),
                headers.get(b"x-api-key", b"").decode("latin-1"),
            )
            if upload:
                check_writer(who)
        except DangjianError as exc:
            return dangjian_error_response(exc)
        return None


_WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")
