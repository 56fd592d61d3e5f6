"""A small OpenAI-compatible chat server on a loopback port for the tests: fixed completions
chosen by the requested model name, so the real LangChain client can be exercised offline.

- ``grounded``: answers from the first passage of the prompt, then adds one sentence no passage
  supports (it must be flagged);
- ``slow``: answers after 3 s (longer than the tests' timeout);
- ``broken``: HTTP 500.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UNSUPPORTED = "该做法已在全国所有城市推广，覆盖居民超过5000万人。[1]"


def grounded_reply(prompt: str) -> str:
    """The first sentence of passage [1], cited, plus a sentence no passage supports."""
    first = re.search(r"\[1\] [^\n]*\n([^\n。]+。)", prompt)
    return f"{first.group(1) if first else '材料中没有写明。'}[1]{UNSUPPORTED}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        model = body["model"]
        if model == "broken":
            self.send_response(500)
            self.end_headers()
            return
        if model == "slow":
            time.sleep(3)
        prompt = "\n".join(m["content"] for m in body["messages"])
        reply = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": grounded_reply(prompt)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(reply, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def fake_llm_server() -> Iterator[tuple[str, list]]:
    """(base URL ending in /v1, the list of request bodies received)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server.requests
    finally:
        server.shutdown()
        server.server_close()
