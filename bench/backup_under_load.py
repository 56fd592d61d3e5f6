#!/usr/bin/env python3
"""Backup while the service is under load: 16 clients search back to back for ``--seconds``; an
upload lands meanwhile (a new version and the uploads folder), and ``dangjian backup`` runs as its
own process (as a cron job would) every few seconds. Then the last backup is restored into a new
folder and the restored copy must answer every question exactly as the original (passage ids,
scores, texts, extractive answers); a copy of it with one byte flipped must be refused by
``dangjian restore`` with a Chinese message, leaving the target as it was.

    python bench/backup_under_load.py [--index dangjian_data] [--clients 16] [--seconds 40]

Uses bench/load_service.py's clients. The index is copied first; the original is not touched.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_service import REPO, Client, free_port, load, multipart  # noqa: E402

from dangjian.evaluation import load_questions  # noqa: E402
from dangjian.kb import KnowledgeBase  # noqa: E402
from dangjian.service.keys import KeyStore  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def dangjian(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dangjian.cli", *args], cwd=REPO, env=ENV, capture_output=True, text=True
    )


def answers(index: Path, questions: list[str]) -> list:
    kb = KnowledgeBase(index)
    out = []
    for q in questions:
        r = kb.search(q, k=5)
        out.append((r.abstained, [(h.passage_id, h.score, h.text) for h in r.hits], kb.ask(q, k=5).answer))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=REPO / "dangjian_data")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--every", type=float, default=8, help="seconds between backups")
    args = parser.parse_args()
    if not (args.index / "CURRENT").exists():
        sys.exit(f"no index at {args.index}: run `dangjian ingest corpus --index {args.index}` first")
    work = Path(tempfile.mkdtemp(prefix="dangjian-backup-bench-"))
    home = work / "idx"
    shutil.copytree(args.index, home, ignore=shutil.ignore_patterns(".lock"))
    key = KeyStore(home).create("editor", name="bench/backup_under_load.py")
    questions = [q["question"] for q in load_questions(REPO / "evals" / "dev_questions.jsonl")]
    questions += [q["question"] for q in load_questions(REPO / "evals" / "domain_questions.jsonl")][:200]

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dangjian.cli", "serve", "--index", str(home), "--port", str(port)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    results: dict = {"index": args.index.name, "clients": args.clients, "questions": len(questions)}
    try:
        t0 = time.monotonic()
        while True:
            try:
                if Client(port).request("GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() - t0 > 300:
                sys.exit("dangjian serve did not start")
            time.sleep(0.3)
        box: dict = {}
        runner = threading.Thread(
            target=lambda: box.update(load(port, "search", questions, args.clients, args.seconds))
        )
        runner.start()
        time.sleep(2)
        body, ctype = multipart(
            "内部资料", "压测通知.txt", "一、总体要求\n居民议事厅每周三晚上开放，由网格员主持。\n".encode()
        )
        status, data = Client(port).request(
            "POST", "/api/v1/documents", body, {"Content-Type": ctype, "Authorization": f"Bearer {key}"}
        )
        results["upload_status"] = status
        backups = []
        n = 0
        while runner.is_alive():
            n += 1
            archive = work / f"backup-{n}.tar.gz"
            started = time.monotonic()
            done = dangjian("backup", "--index", str(home), "--output", str(archive), "--json")
            took = time.monotonic() - started
            if done.returncode != 0:
                backups.append({"error": done.stderr.strip()})
            else:
                info = json.loads(done.stdout)
                backups.append(
                    {"s": round(took, 2), "version": info["version"], "files": info["files"], "bytes": info["bytes"]}
                )
            runner.join(timeout=args.every)
        runner.join()
        results["load"] = box
        results["backups"] = backups
    finally:
        server.terminate()
        server.wait(30)

    last = work / f"backup-{n}.tar.gz"
    restored = work / "restored"
    done = dangjian("restore", str(last), "--index", str(restored))
    results["restore_rc"] = done.returncode
    results["restore"] = done.stdout.strip().splitlines()[:1]
    original, copy = answers(home, questions), answers(restored, questions)
    results["answers_compared"] = len(questions)
    results["answers_identical"] = sum(a == b for a, b in zip(original, copy))
    results["uploads_restored"] = sorted(p.name for p in (work / "restored_uploads").rglob("*") if p.is_file())

    bad = work / "flipped.tar.gz"
    data = bytearray(last.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    before = sorted(str(p) for p in restored.rglob("*"))
    done = dangjian("restore", str(bad), "--index", str(restored))
    results["flipped_restore_rc"] = done.returncode
    results["flipped_message"] = done.stderr.strip()
    results["flipped_target_unchanged"] = sorted(str(p) for p in restored.rglob("*")) == before
    print(json.dumps(results, ensure_ascii=False, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
