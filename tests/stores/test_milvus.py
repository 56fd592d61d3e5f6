"""The Milvus store: generations, removal, crashed writers, the writers' lock, migration, errors.

Plumbing tests use the fake embedder; ranking over Milvus is tested by the parametrised
retrieval and service tests (tests/index/test_retrieval.py, tests/service/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dangjian.errors import DangjianError
from dangjian.index.settings import SearchSettings
from dangjian.kb import KnowledgeBase
from dangjian.stores.milvus import MilvusStore
from dangjian.stores.milvus_bm25 import row_id

from ..conftest import CORPUS, SEED, Store, free_port, start_milvus
from ..fakes import HashEmbedder

DANGJIAN = str(Path(sys.executable).parent / "dangjian")


@pytest.fixture
def milvus(milvus_uri) -> Store:
    return Store("milvus", milvus_uri).fresh()


def fake_milvus_kb(home, store: Store) -> KnowledgeBase:
    return store.kb(home, embedder=HashEmbedder(), search_settings=SearchSettings(abstain_threshold=-1.0))


def rows(kb: KnowledgeBase, what: str, expr: str = "") -> list[dict]:
    return kb.store.client.query(kb.store.name(what), filter=expr or "", output_fields=["*"], limit=16384)


def test_generations_unchanged_reingest_and_a_lite_db_file(tmp_path):
    kb = fake_milvus_kb(tmp_path / "state", Store("milvus", str(tmp_path / "kb.db")))
    first = kb.ingest([SEED])
    assert first.version == "g000001" and first.total_passages == 27
    again = kb.ingest([SEED])
    assert again.version == first.version and again.unchanged and not again.added
    added = kb.ingest([CORPUS])
    assert added.version == "g000002" and len(added.added) == 2
    assert added.total_passages == len(rows(kb, "passages")) == sum(1 for _ in kb.open().iter_passages())
    doc, sections = next(kb.open().iter_documents())
    assert doc.text == SEED.read_text(encoding="utf-8") and sections  # the whole text, rebuilt from its chunks


def test_remove_leaves_no_trace_in_any_collection(tmp_path, milvus):
    kb = fake_milvus_kb(tmp_path / "state", milvus)
    report = kb.ingest([CORPUS])
    docx_id = next(d["doc_id"] for d in kb.open().iter_document_info() if d["source"].endswith(".docx"))
    unique = "物业服务“红黑榜”"  # only in the .docx sample
    assert any(unique in h.text for h in kb.search(unique, k=10).hits)
    assert kb.store.document_frequencies(["红黑榜"])["红黑榜"] >= 1

    removed = kb.remove([docx_id])
    assert removed.removed == [docx_id] and removed.total_passages == report.total_passages - 13
    assert not rows(kb, "passages", f'doc_id == "{docx_id}"') and not rows(kb, "documents", f'doc_id == "{docx_id}"')
    assert kb.store.document_frequencies(["红黑榜"]) == {}  # idf no longer counts its words
    assert len(rows(kb, "passages")) == removed.total_passages
    assert not any(unique in h.text or h.doc_id == docx_id for h in kb.search(unique, k=50).hits)
    with pytest.raises(DangjianError, match="索引中没有这些文档"):
        kb.remove(["0000000000000000"])


def test_what_a_crashed_writer_left_is_never_read_and_is_cleared_by_the_next_write(tmp_path, milvus):
    kb = fake_milvus_kb(tmp_path / "state", milvus)
    kb.ingest([SEED])
    store: MilvusStore = kb.store
    generation = store.manifest()["generation"]
    orphan = {
        "row": row_id("orphan-00000"),
        "passage_id": "orphan-00000",
        "doc_id": "orphan",
        "collection": "default",
        "type": "",
        "year": -1,
        "gen": generation + 1,  # written, but the manifest was never switched
        "data": json.dumps(
            {
                "passage_id": "orphan-00000",
                "doc_id": "orphan",
                "title": "孤儿",
                "section_path": [],
                "text": "未完成写入的段落：五融四零工作法",
                "start": 0,
                "end": 16,
            },
            ensure_ascii=False,
        ),
        "tokens": "五融四零工作法 未完成 写入",
        "sparse": {1: 1.0},
        "dense": HashEmbedder().embed_query("未完成写入的段落：五融四零工作法").tolist(),
    }
    store.client.insert(store.name("passages"), [orphan])
    searcher = kb.searcher()
    assert all(h.doc_id != "orphan" for h in searcher.search("未完成写入的段落 五融四零工作法", k=50).hits)
    kb.ingest([CORPUS])
    assert not rows(kb, "passages", 'doc_id == "orphan"')


def test_writers_on_separate_connections_take_turns(tmp_path, milvus):
    """Two writers on one store: the second waits for the first's lease, then goes."""
    held: list[tuple[str, float, float]] = []

    def writer(name: str) -> None:
        store = MilvusStore(milvus.uri, prefix=milvus.prefix, state_dir=tmp_path)
        with store.write_lock():
            start = time.monotonic()
            time.sleep(1.5)
            held.append((name, start, time.monotonic()))

    threads = [threading.Thread(target=writer, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(held) == 2
    (_, s1, e1), (_, s2, e2) = sorted(held, key=lambda h: h[1])
    assert e1 <= s2, "the two writers held the lock at the same time"
    store = MilvusStore(milvus.uri, prefix=milvus.prefix, state_dir=tmp_path)
    assert not store.client.query(store.name("meta"), filter='kind == "lock"', output_fields=["key"])


def test_migrate_copies_vectors_and_checks_counts_and_searches(corpus_index, milvus, tmp_path):
    run = subprocess.run(
        [DANGJIAN, "migrate", "--to", milvus.uri, "--index", str(corpus_index), "--prefix", milvus.prefix, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    local = KnowledgeBase(corpus_index)
    counts = local.open().manifest["counts"]
    assert report["ok"] and (report["target_documents"], report["target_passages"]) == (
        counts["documents"],
        counts["passages"],
    )
    assert report["sample"] == 20 and report["same_first"] >= 18 and report["found_both"] >= 18
    remote = milvus.kb(tmp_path / "state")
    question = "十联工作法包括什么"
    assert [h.passage_id for h in remote.search(question).hits] == [h.passage_id for h in local.search(question).hits]


@pytest.mark.parametrize(
    ("uri", "phrase"),
    [("ftp://example.org/kb", "无法识别的存储地址"), ("http://127.0.0.1:1", "无法连接 Milvus")],
)
def test_a_bad_or_unreachable_store_is_a_chinese_error(tmp_path, uri, phrase):
    with pytest.raises(DangjianError, match=phrase):
        KnowledgeBase(tmp_path, store_uri=uri).search("十联工作法包括什么")
    run = subprocess.run(
        [DANGJIAN, "search", "十联工作法包括什么", "--index", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DANGJIAN_STORE_URI": uri},
    )
    assert run.returncode != 0 and phrase in run.stderr + run.stdout and "Traceback" not in run.stderr


def test_a_restarted_server_is_reconnected_to(tmp_path):
    """The service keeps its connection; after the Milvus server restarts, the next call opens a
    new one and answers (nothing lost: the data is the server's)."""
    port, data = free_port(), tmp_path / "milvus"
    proc = start_milvus(data, port)
    try:
        kb = fake_milvus_kb(tmp_path / "state", Store("milvus", f"http://127.0.0.1:{port}"))
        kb.ingest([SEED])
        before = [h.passage_id for h in kb.search("五融四零工作法").hits]
        proc.terminate()
        proc.wait(timeout=30)
        proc = start_milvus(data, port)
        assert [h.passage_id for h in kb.search("五融四零工作法").hits] == before
        assert kb.ingest([CORPUS]).total_documents == 3
    finally:
        proc.terminate()
        proc.wait(timeout=30)
