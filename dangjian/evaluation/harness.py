"""Build (or reuse) a set's index and run its questions through each pipeline.

Indexes live in the evaluation work folder (``DANGJIAN_EVAL_DIR``, default
``~/.cache/dangjian/eval``), one per set and *build fingerprint* — the settings that shape an
index plus a hash of the code that builds it — so a change to chunking or ranking code gets a
fresh index, while passage vectors come from a shared cache (``vectors.sqlite``) and only new
text is embedded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..kb import KnowledgeBase
from .cache import CachedEmbedder
from .pipelines import OursPipeline, PeerPipeline
from .runner import by_kind, evaluate, summarize
from .sets import REPO, EvalSet

PIPELINES = ("ours", "bm25", "dense", "peer")
PACKAGE = Path(__file__).resolve().parents[1]


def work_dir() -> Path:
    return Path(os.environ.get("DANGJIAN_EVAL_DIR") or Path.home() / ".cache" / "dangjian" / "eval")


def code_hash() -> str:
    """Hash of the code and data that decide what an index holds (not the evaluation or CLI)."""
    h = hashlib.sha1()
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE).as_posix()
        if path.is_file() and path.suffix in (".py", ".txt") and not rel.startswith(("evaluation/", "service/")):
            h.update(rel.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def fingerprint(kb: KnowledgeBase) -> str:
    spec = {
        "code": code_hash(),
        "chunk": [kb.target_chars, kb.max_chars],
        "context": kb.embed_context,
        "dense": kb.dense_index,
        "embedder": kb.embedder.identity(),
    }
    return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def build_index(evset: EvalSet, settings, work: Path, progress: Callable[[str], None] = print) -> KnowledgeBase:
    """The set's knowledge base, ingested incrementally; other builds of the set are removed."""
    probe = KnowledgeBase.from_settings(settings, index_dir=work / "probe")
    embedder = CachedEmbedder(probe.embedder, work / "vectors.sqlite")
    key = fingerprint(probe)
    home = work / evset.name
    for old in home.glob("index-*"):
        if old.name != f"index-{key}":
            shutil.rmtree(old, ignore_errors=True)
    if settings.store_uri:  # each set and build in its own collections of the Milvus store
        prefix = re.sub(r"\W", "_", f"{settings.store_prefix}_eval_{evset.name}_{key}")
        settings = settings.model_copy(update={"store_prefix": prefix})
    kb = KnowledgeBase.from_settings(settings, index_dir=home / f"index-{key}")
    kb._embedder = embedder
    started = time.perf_counter()
    report = kb.ingest(evset.corpus, collection=evset.name)
    if report.skipped:
        progress(f"  注意：{len(report.skipped)} 个文件未能导入")
    progress(
        f"  索引：{report.total_documents} 篇文档，{report.total_passages} 个段落"
        f"（{time.perf_counter() - started:.1f} 秒）"
    )
    return kb


def run(
    evset: EvalSet,
    settings,
    *,
    pipelines: tuple[str, ...] = PIPELINES,
    kb: KnowledgeBase | None = None,
    k: int = 10,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Results of every pipeline on the set: summary, per-kind hit@5 and per-question rows."""
    work = work_dir()
    if kb is None:
        kb = build_index(evset, settings, work, progress)
    out: dict[str, Any] = {
        "set": evset.name,
        "title": evset.title,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": _commit(),
        "corpus": _corpus_counts(kb),
        "pipelines": {},
    }
    for name in pipelines:
        if name == "peer" and not evset.peer:
            continue
        started = time.perf_counter()
        if name == "peer":
            from ..ingest.pipeline import collect_files

            files = [f.path for f in collect_files(evset.corpus)[0]]
            embedder = kb.embedder
            if not isinstance(embedder, CachedEmbedder):
                embedder = CachedEmbedder(embedder, work / "vectors.sqlite")
            pipe = PeerPipeline(files, embedder)
        else:
            pipe = OursPipeline(kb, name=name, only=None if name == "ours" else name)
        results = evaluate(pipe, evset.questions, k=k, slice_ok=evset.slice_ok)
        out["pipelines"][name] = {
            "summary": summarize(results),
            "by_kind": by_kind(results),
            "results": [r.to_dict() for r in results],
        }
        progress(f"  {name}：完成 {len(results)} 个问题（{time.perf_counter() - started:.1f} 秒）")
    return out


def _corpus_counts(kb: KnowledgeBase) -> dict[str, int]:
    manifest = kb.open().manifest
    return dict(manifest.get("counts", {}))


def _commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "dangjian"], cwd=REPO, capture_output=True, text=True
        ).stdout
        return sha + ("+" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_answers(settings, *, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """The answer set (``evals/answer_questions.jsonl``) over the domain corpus: our answers and
    the peer's first three chunks (see ``answers.py``)."""
    from ..ingest.pipeline import collect_files
    from .answers import evaluate_answers, load_answer_questions
    from .sets import evals_dir, load_set

    work = work_dir()
    evset = load_set("domain", work)
    kb = build_index(evset, settings, work, progress)
    files = [f.path for f in collect_files(evset.corpus)[0]]
    peer = PeerPipeline(files, CachedEmbedder(kb.embedder.inner, work / "vectors.sqlite"))
    questions = load_answer_questions(evals_dir())
    started = time.perf_counter()
    out = evaluate_answers(kb, questions, peer)
    progress(f"  完成 {len(questions)} 个问题（{time.perf_counter() - started:.1f} 秒）")
    return {
        "set": "answers",
        "kind": "answers",
        "title": "回答评测：答案文字是否说出所问的内容（附带语料 + 党章、党代会报告、政府工作报告）",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": _commit(),
        "pipelines": out,
    }


def run_conversations(settings, *, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """The conversation set (``evals/conversations.jsonl``) over the domain corpus: follow-ups
    in their conversation, written out in full, and alone (see ``conversations.py``)."""
    from .conversations import evaluate_conversations, load_conversations
    from .sets import evals_dir, load_set

    work = work_dir()
    kb = build_index(load_set("domain", work), settings, work, progress)
    conversations = load_conversations(evals_dir())
    started = time.perf_counter()
    out = evaluate_conversations(kb, conversations)
    progress(f"  完成 {len(conversations)} 个对话（{time.perf_counter() - started:.1f} 秒）")
    return {
        "set": "conversations",
        "kind": "conversations",
        "title": "追问评测：对话中的追问是否答得和写全的问题一样好（语料同 answers）",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": _commit(),
        "pipelines": out,
    }
