"""Limits on what a cite-role key receives: requests per minute, and distinct text of one
document per day.

The cite role promises that a key never gets a whole document (``GET /documents/{id}`` is
refused), but measured (issue 21): 20 ``/ask`` calls with ``k=50`` and a doc filter gave back 95 %
of a document. So each cite key is counted: at most ``cite_requests_per_minute`` requests in any
minute, and at most ``cite_chars_per_doc_day`` distinct characters of one document (the union of
the spans it was shown) per UTC day. A response that would pass the day's cap is not sent (429,
``Retry-After`` until the next day); text already delivered may be asked for again.

State is in memory, per process: a restart, or several worker processes, give each its own
counts (the limit then applies per process).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ..errors import DangjianError
from .keys import Principal

Span = tuple[str, int, int]  # doc_id, start, end


class RateLimited(DangjianError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float):
        super().__init__(message, code="rate_limited")
        self.retry_after = max(1, int(retry_after + 0.999))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(spans: list[tuple[int, int]]) -> int:
    return sum(end - start for start, end in spans)


class CiteQuotas:
    def __init__(self, *, per_minute: int, chars_per_doc_day: int, clock=time.monotonic, today=None):
        self.per_minute = per_minute
        self.chars_per_doc_day = chars_per_doc_day
        self._clock = clock
        self._today = today or (lambda: datetime.now(UTC).date())
        self._lock = threading.Lock()
        self._requests: dict[str, deque[float]] = {}
        self._day = None
        self._seen: dict[tuple[str, str], list[tuple[int, int]]] = {}  # (key id, doc id) -> spans

    def count_request(self, who: Principal) -> None:
        """Count one request of a cite key; ``RateLimited`` past the per-minute limit."""
        if not self.per_minute or who.key_id is None:
            return
        now = self._clock()
        with self._lock:
            times = self._requests.setdefault(who.key_id, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= self.per_minute:
                raise RateLimited(
                    f"请求太频繁：这个引文密钥每分钟最多 {self.per_minute} 次请求，请稍后再试"
                    "（设置 DANGJIAN_CITE_REQUESTS_PER_MINUTE）",
                    times[0] + 60 - now,
                )
            times.append(now)
            if len(self._requests) > 10_000:  # keys that stopped asking
                for key in [k for k, t in self._requests.items() if not t or t[-1] <= now - 60]:
                    del self._requests[key]

    def deliver(self, who: Principal, spans: Iterable[Span]) -> None:
        """Record the text a response gives a cite key; ``RateLimited`` (nothing recorded) when
        it would take the key past the day's cap for some document."""
        if who.role != "cite" or not self.chars_per_doc_day or who.key_id is None:
            return
        by_doc: dict[str, list[tuple[int, int]]] = {}
        for doc_id, start, end in spans:
            if end > start:
                by_doc.setdefault(doc_id, []).append((start, end))
        with self._lock:
            today = self._today()
            if today != self._day:
                self._day, self._seen = today, {}
            updated = {}
            for doc_id, new in by_doc.items():
                merged = _merge(self._seen.get((who.key_id, doc_id), []) + new)
                if _length(merged) > self.chars_per_doc_day:
                    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
                    raise RateLimited(
                        f"这个引文密钥今天从同一篇文档（{doc_id}）得到的原文已达上限 {self.chars_per_doc_day:,} 字，"
                        "请明天再试或缩小问题范围（设置 DANGJIAN_CITE_CHARS_PER_DOC_DAY）",
                        (tomorrow - datetime.now(UTC)).total_seconds(),
                    )
                updated[who.key_id, doc_id] = merged
            self._seen.update(updated)
