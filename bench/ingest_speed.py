#!/usr/bin/env python3
"""Ingest speed and passage statistics over the shared corpora.

For each corpus: parse + structure + chunk + tokenise every file (no index writing), then report
input MB/s, peak RSS, passage count, passage length distribution and section depth.

    python bench/ingest_speed.py [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from dangjian.errors import InputFileError
from dangjian.evaluation import peak_rss_mb
from dangjian.ingest import chunk_sections, iter_documents, split_sections
from dangjian.ingest.pipeline import collect_files
from dangjian.text import Tokenizer

REPO = Path(__file__).resolve().parent.parent


def run(name: str, root: Path, tokenizer: Tokenizer) -> dict:
    files, _ = collect_files([root])
    size = sum(f.path.stat().st_size for f in files)
    lengths: list[int] = []
    depths: Counter[int] = Counter()
    docs = errors = tokens = 0
    started = time.perf_counter()
    for source in files:
        for doc in iter_documents(source.path):
            if isinstance(doc, InputFileError):
                errors += 1
                continue
            docs += 1
            sections = split_sections(doc)
            for p in chunk_sections(doc, sections):
                lengths.append(len(p.text))
                depths[len(p.section_path)] += 1
                tokens += len(tokenizer.tokenize(p.text))
    elapsed = time.perf_counter() - started
    lengths.sort()
    q = statistics.quantiles(lengths, n=20)
    return {
        "corpus": name,
        "files": len(files),
        "documents": docs,
        "errors": errors,
        "mb": round(size / 1048576, 2),
        "seconds": round(elapsed, 2),
        "mb_per_s": round(size / 1048576 / elapsed, 2),
        "passages": len(lengths),
        "tokens": tokens,
        "length": {
            "min": lengths[0],
            "p5": round(q[0]),
            "median": round(statistics.median(lengths)),
            "p95": round(q[-1]),
            "max": lengths[-1],
        },
        "depth": dict(sorted(depths.items())),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tokenizer = Tokenizer()
    results = [
        run("party_gov", args.data / "party_gov", tokenizer),
        run("lawrefbook_laws", args.data / "scale" / "lawrefbook_laws", tokenizer),
    ]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}, {sys.platform}")
    print(
        "| corpus | files | docs | errors | MB | s | MB/s | passages | length min/p5/median/p95/max | depth: passages | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        length = "/".join(str(r["length"][k]) for k in ("min", "p5", "median", "p95", "max"))
        depth = ", ".join(f"{d}: {n}" for d, n in r["depth"].items())
        print(
            f"| {r['corpus']} | {r['files']} | {r['documents']} | {r['errors']} | {r['mb']} | {r['seconds']} | "
            f"{r['mb_per_s']} | {r['passages']} | {length} | {depth} | {r['peak_rss_mb']} |"
        )


if __name__ == "__main__":
    main()
