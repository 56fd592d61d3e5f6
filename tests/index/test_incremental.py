"""Incremental updates: unchanged files cost no embedding, removed documents leave no trace, a
killed writer never breaks the current version."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import numpy as np

from ..conftest import CORPUS, SEED
from ..fakes import HashEmbedder, fake_kb


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.passages_embedded = 0

    def embed_passages(self, texts):
        self.passages_embedded += len(texts)
        return super().embed_passages(texts)


def test_unchanged_reingest_embeds_nothing_and_new_files_embed_only_themselves(tmp_path):
    from dangjian.kb import KnowledgeBase

    embedder = CountingEmbedder()
    kb = KnowledgeBase(tmp_path / "idx", embedder=embedder)
    first = kb.ingest([SEED])
    assert embedder.passages_embedded == first.passages == 27
    again = kb.ingest([SEED])
    assert embedder.passages_embedded == 27 and again.version == first.version
    added = kb.ingest([CORPUS])  # the seed again plus two new samples
    assert embedder.passages_embedded == 27 + added.passages
    assert len(added.unchanged) == 1 and len(added.added) == 2


def _index_rows(version):
    lexical = version.path / "lexical"
    return {
        "passages": sum(1 for _ in version.iter_passages()),
        "vectors": np.load(version.path / "vectors.npy").shape[0],
        "tokens": len(np.load(lexical / "token_offsets.npy")) - 1,
        "bm25": int((lexical / "count.txt").read_text()),
    }


def test_remove_leaves_no_trace_anywhere(tmp_path):
    kb = fake_kb(tmp_path / "idx")
    report = kb.ingest([CORPUS])
    docx_id = next(d["doc_id"] for d in kb.open().iter_document_info() if d["source"].endswith(".docx"))
    unique = "物业服务“红黑榜”"  # only in the .docx sample
    assert any(unique in h.text for h in kb.search(unique, k=10).hits)

    removed = kb.remove([docx_id])
    assert removed.removed == [docx_id]
    version = kb.open()
    rows = _index_rows(version)
    assert len(set(rows.values())) == 1 and rows["passages"] == report.total_passages - 13
    assert docx_id not in (version.path / "documents.jsonl").read_text(encoding="utf-8")
    assert docx_id not in (version.path / "doc_index.jsonl").read_text(encoding="utf-8")
    assert docx_id not in (version.path / "passages.jsonl").read_text(encoding="utf-8")
    vocab = json.loads((version.path / "lexical" / "token_vocab.json").read_text(encoding="utf-8"))
    assert "红黑榜" not in vocab  # the lexical index no longer knows its words
    assert not any(unique in h.text or h.doc_id == docx_id for h in kb.search(unique, k=50).hits)
    # Every remaining vector is the vector of its passage: rows stayed aligned.
    fresh = HashEmbedder().embed_passages([p.text for p in version.iter_passages()])
    assert np.allclose(np.load(version.path / "vectors.npy"), fresh)


def test_remove_unknown_document_is_a_clear_error(tmp_path):
    from dangjian.errors import DangjianError

    kb = fake_kb(tmp_path / "idx")
    kb.ingest([SEED])
    try:
        kb.remove(["nope"])
    except DangjianError as exc:
        assert exc.code == "doc_not_found" and "nope" in exc.message
    else:
        raise AssertionError("no error")


class SlowEmbedder(HashEmbedder):
    def embed_passages(self, texts):
        time.sleep(0.2)
        return super().embed_passages(texts)


def _slow_ingest(home, path, started):
    from dangjian.kb import KnowledgeBase

    kb = KnowledgeBase(home, embedder=SlowEmbedder())
    kb.ingest([path], progress=lambda stage, done, total: stage == "embed" and started.set())


def test_sigkill_during_embedding_keeps_the_previous_version_answering(tmp_path):
    home = tmp_path / "idx"
    kb = fake_kb(home)
    kb.ingest([SEED])
    before = kb.open().name
    big = tmp_path / "big.txt"
    big.write_text(
        "汇编\n" + "\n".join(f"第{i}段，党建引领社区治理的做法和成效。" for i in range(3000)), encoding="utf-8"
    )
    ctx = multiprocessing.get_context("fork")
    started = ctx.Event()
    proc = ctx.Process(target=_slow_ingest, args=(home, big, started))
    proc.start()
    assert started.wait(60), "the writer never started embedding"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    reader = fake_kb(home)
    assert reader.open().name == before
    result = reader.search("十联工作法包括什么", k=3)
    assert not result.abstained and "组织联建" in result.hits[0].text
    # The lock died with the writer: the next ingest works.
    assert fake_kb(home).ingest([CORPUS / "samples"]).added
