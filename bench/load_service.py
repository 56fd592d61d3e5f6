#!/usr/bin/env python3
"""Load on the HTTP service: concurrent clients on /api/v1/search and /api/v1/ask over a large index,
on loopback, bounded in time; then the same search load with an upload and a delete in the middle.

The index is the ≥ 100k-passage one of ``bench/scale_query.py`` (real text from ../shared/data;
vectors of 6,000 really embedded passages tiled to every passage, because embedding 100k passages
takes hours on this machine); build it first with that script. Questions are real (the dev set and
CMRC), cycled. The server is `dangjian serve` in its own process; its peak RSS is read from
/proc. Clients are threads with keep-alive connections in this process.

    python bench/scale_query.py                   # builds /tmp/dangjian-scale/index once
    python bench/load_service.py [--index /tmp/dangjian-scale/index] [--clients 16] [--seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

from dangjian.evaluation import load_questions
from dangjian.service.keys import KeyStore

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise


def load(port: int, route: str, questions: list[str], clients: int, seconds: float, on_result=None, until=None) -> dict:
    """``clients`` threads send requests back to back for ``seconds`` (and, with ``until``, an
    event, until 5 s after it is set); latencies and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    set_at: list[float] = []

    def going() -> bool:
        now = time.monotonic()
        if now < stop or (until is not None and not until.is_set()):
            return True
        if until is not None and not set_at:
            set_at.append(now)
        return until is not None and now < set_at[0] + 5

    def worker(n: int) -> None:
        client = Client(port)
        i = n
        while going():
            q = questions[i % len(questions)]
            i += clients
            if route == "search":
                path, body, headers = f"/api/v1/search?k=5&q={urllib.parse.quote(q)}", None, {}
                method = "GET"
            else:
                path, method = "/api/v1/ask", "POST"
                body = json.dumps({"question": q, "k": 5}, ensure_ascii=False).encode()
                headers = {"Content-Type": "application/json"}
            started = time.perf_counter()
            try:
                status, data = client.request(method, path, body, headers)
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(repr(exc))
                continue
            took = time.perf_counter() - started
            with lock:
                if status != 200:
                    errors.append(f"HTTP {status}: {data[:200]!r}")
                else:
                    latencies.append(took)
            if on_result and status == 200:
                on_result(started, json.loads(data))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else 0.0

    return {
        "route": route,
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:3],
        "req_per_s": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else 0.0,
    }


def multipart(collection: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="collection"\r\n\r\n{collection}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/dangjian-scale/index"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if not (args.index / "CURRENT").exists():
        sys.exit(f"no index at {args.index}: build it first with python bench/scale_query.py")

    questions = [q["question"] for q in load_questions(REPO / "evals" / "dev_questions.jsonl")]
    data = REPO.parent / "shared" / "data" / "eval" / "cmrc2018" / "cmrc2018_dev.json"
    for article in json.loads(data.read_text(encoding="utf-8"))["data"]:
        questions += [qa["question"] for p in article["paragraphs"] for qa in p["qas"]]
    questions = questions[:2000]

    key = KeyStore(args.index).create("editor", name="bench/load_service.py")
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "dangjian"), "serve", "--index", str(args.index), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    results: dict = {"index": str(args.index), "questions": len(questions)}
    try:
        started = time.monotonic()
        while True:
            try:
                status, body = Client(port).request("GET", "/api/v1/health")
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() - started > 300:
                sys.exit("dangjian serve did not start")
            time.sleep(0.5)
        results["startup_s"] = round(time.monotonic() - started, 1)
        results["health"] = json.loads(body)
        results["search"] = load(port, "search", questions, args.clients, args.seconds)
        results["ask"] = load(port, "ask", questions, args.clients, args.seconds)

        # A write during the load: upload a new document, then delete it; a search started after the
        # delete has returned must never show it.
        marker = "压力测试专用段落：居民议事厅每周三晚上开放，由网格员主持。"
        probe = "居民议事厅每周三晚上开放，由网格员主持"
        seen: list[tuple[float, set[str]]] = []
        lock = threading.Lock()

        def record(started: float, body: dict) -> None:
            with lock:
                seen.append((started, {h["doc_id"] for h in body["hits"]}))

        write: dict = {}
        done = threading.Event()

        def writer() -> None:
            time.sleep(args.seconds / 3)
            client = Client(port)
            headers = {"Authorization": f"Bearer {key}"}
            body, ctype = multipart("bench", f"load-{uuid.uuid4().hex[:8]}.txt", marker.encode())
            t0 = time.perf_counter()
            status, data = client.request("POST", "/api/v1/documents", body, {**headers, "Content-Type": ctype})
            if status == 202:  # an upload is a background job: wait for it to be indexed
                job = json.loads(data)["job"]
                while job["state"] in ("queued", "running"):
                    time.sleep(0.2)
                    _, data = client.request("GET", f"/api/v1/jobs/{job['id']}", None, headers)
                    job = json.loads(data)
                status, doc_id = (200 if job["state"] == "done" else 500), job["files"][0]["doc_id"]
            else:  # a build from before upload jobs answered with the report
                doc_id = json.loads(data)["added"][0]
            write["upload_status"], write["upload_s"] = status, round(time.perf_counter() - t0, 1)
            t0 = time.perf_counter()
            status, _ = client.request("DELETE", f"/api/v1/documents/{doc_id}", None, headers)
            write["delete_status"], write["delete_s"] = status, round(time.perf_counter() - t0, 1)
            write["doc_id"], write["deleted_at"] = doc_id, time.perf_counter()

        def write_then_signal() -> None:
            try:
                writer()
            finally:
                done.set()

        thread = threading.Thread(target=write_then_signal)
        thread.start()
        mixed_questions = [x for q in questions[:500] for x in (probe, q)]  # half the searches would find it
        mixed = load(port, "search", mixed_questions, args.clients, args.seconds, on_result=record, until=done)
        thread.join()
        deleted_at = write.pop("deleted_at", None)
        after = [ids for started, ids in seen if deleted_at is not None and started > deleted_at]
        results["search_with_write"] = {
            **mixed,
            **write,
            "searches_after_delete": len(after),
            "stale_results_after_delete": sum(write["doc_id"] in ids for ids in after),
            "probe_found_before_delete": sum(
                write.get("doc_id") in ids for started, ids in seen if deleted_at is None or started < deleted_at
            ),
        }
        results["server_peak_rss_mb"] = round(peak_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=60)
        KeyStore(args.index).revoke(key.split("_")[1])
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
