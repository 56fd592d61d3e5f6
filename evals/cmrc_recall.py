#!/usr/bin/env python3
"""CMRC 2018 (dev + trial) recall through the command line, as a script would use it.

Every paragraph becomes one document of a JSONL export; every question goes through
``dangjian search --queries-file FILE --json -k 10``; a question counts as found at rank r when
the r-th hit comes from its paragraph.

    python evals/cmrc_recall.py [--data ../shared/data] [--workdir /tmp/cmrc] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dangjian-cmrc"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)

    records, questions = [], []
    for name in ("cmrc2018_dev.json", "cmrc2018_trial.json"):
        data = json.loads((args.data / "eval" / "cmrc2018" / name).read_text(encoding="utf-8"))
        for article in data["data"]:
            for para in article["paragraphs"]:
                records.append({"title": article["title"], "content": para["context"], "pid": para["id"]})
                questions.extend((qa["question"].replace("\n", " "), para["id"]) for qa in para["qas"])
    if args.limit:
        questions = questions[: args.limit]
    export = work / "corpus" / "cmrc.jsonl"
    export.parent.mkdir(exist_ok=True)
    export.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    (work / "questions.txt").write_text("".join(q + "\n" for q, _ in questions), encoding="utf-8")

    dangjian = str(Path(sys.executable).parent / "dangjian")
    index = work / "index"
    started = time.perf_counter()
    subprocess.run([dangjian, "ingest", str(export), "--index", str(index), "--json"], check=True, capture_output=True)
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    out = subprocess.run(
        [
            dangjian,
            "search",
            "--queries-file",
            str(work / "questions.txt"),
            "--json",
            "-k",
            "10",
            "--index",
            str(index),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    search_s = time.perf_counter() - started

    # document -> paragraph id, through the line number of the JSONL export
    line_pid = {i + 1: r["pid"] for i, r in enumerate(records)}
    doc_pid = {}
    for line in (index / "versions").glob("*/doc_index.jsonl"):
        for row in map(json.loads, line.read_text(encoding="utf-8").splitlines()):
            doc_pid[row["doc_id"]] = line_pid[int(row["source"].rsplit("#L", 1)[1])]
    ranks, abstained, latency = [], 0, []
    for (question, pid), row in zip(questions, map(json.loads, out.splitlines()), strict=True):
        assert row["query"] == question
        abstained += row["abstained"]
        latency.append(row.get("took_ms", 0))
        pids = []
        for hit in row["hits"]:
            if doc_pid[hit["doc_id"]] not in pids:
                pids.append(doc_pid[hit["doc_id"]])
        ranks.append(pids.index(pid) + 1 if pid in pids else None)
    n = len(ranks)
    result = {
        "questions": n,
        "paragraphs": len(records),
        **{f"recall@{k}": round(sum(1 for r in ranks if r and r <= k) / n, 4) for k in (1, 5, 10)},
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
        "abstained": round(abstained / n, 4),
        "ingest_s": round(ingest_s, 1),
        "search_s": round(search_s, 1),
        "p50_ms": sorted(latency)[n // 2],
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
