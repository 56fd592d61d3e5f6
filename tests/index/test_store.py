"""The index directory: versions written beside the old one and switched atomically."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

from dangjian.errors import DangjianError, IndexCorruptError, IndexNotFoundError
from dangjian.index import FORMAT_VERSION, IndexStore

from ..conftest import CORPUS, SEED
from ..fakes import fake_kb


def test_missing_index_names_the_command(tmp_path):
    with pytest.raises(IndexNotFoundError) as err:
        IndexStore(tmp_path / "none").open()
    assert "dangjian ingest" in err.value.message


def test_files_and_manifest(tmp_path):
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([SEED])
    version = kb.open()
    assert sorted(p.name for p in version.path.iterdir()) == [
        "dictionary.txt",
        "doc_index.jsonl",
        "documents.jsonl",
        "lexical",
        "manifest.json",
        "passage_docs.npy",
        "passage_offsets.npy",
        "passages.jsonl",
        "vectors.npy",
    ]

    assert np.load(version.path / "vectors.npy").shape == (27, 64)
    offsets = np.load(version.path / "passage_offsets.npy")
    raw = (version.path / "passages.jsonl").read_bytes()
    assert len(offsets) == 28 and offsets[-1] == len(raw)
    assert all(
        json.loads(raw[a:b])["passage_id"].endswith(f"{i:05d}") for i, (a, b) in enumerate(zip(offsets, offsets[1:]))
    )
    assert np.load(version.path / "passage_docs.npy").tolist() == [0] * 27
    manifest = json.loads((version.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["counts"] == {"documents": 1, "passages": 27}
    assert manifest["embedder"]["name"] == "test/hash-embedder" and manifest["dense"] == {"kind": "flat"}
    assert len(manifest["dictionary_hash"]) == 16
    rows = [json.loads(line) for line in (version.path / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
    assert set(rows[0]) >= {"passage_id", "doc_id", "title", "section_path", "text", "start", "end", "page"}
    text = SEED.read_text(encoding="utf-8")
    assert all(text[r["start"] : r["end"]] == r["text"] for r in rows)
    assert "五融四零工作法" in (version.path / "dictionary.txt").read_text(encoding="utf-8").split()


def test_reader_keeps_the_version_it_opened(tmp_path):
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([SEED])
    reader = kb.open()
    kb.ingest([CORPUS / "samples"])
    assert kb.open().name != reader.name
    assert sum(1 for _ in reader.iter_documents()) == 1  # still the old version's content
    assert sum(1 for _ in kb.open().iter_documents()) == 3


def test_one_document_is_read_from_its_place_without_reading_the_others(tmp_path):
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([CORPUS])
    version = kb.open()
    everything = {doc.doc_id: (doc, sections) for doc, sections in version.iter_documents()}
    infos = list(version.iter_document_info())
    assert len(infos) == len(everything) >= 3
    for info in reversed(infos):
        doc, sections = version.document(info)
        assert doc.doc_id == info["doc_id"]
        assert (doc.text, sections) == (everything[doc.doc_id][0].text, everything[doc.doc_id][1])


def test_old_versions_are_collected(tmp_path):
    kb = fake_kb(tmp_path / "idx")
    for n in range(5):
        path = tmp_path / f"doc{n}.txt"
        path.write_text(f"文档{n}\n一、内容\n第{n}篇的正文。\n", encoding="utf-8")
        kb.ingest([path])
    names = sorted(p.name for p in (tmp_path / "idx" / "versions").iterdir())
    assert names == ["v000003", "v000004", "v000005"]
    assert kb.open().name == "v000005"


def test_a_newer_format_version_is_refused(tmp_path):
    """Never read as ours, and never rebuilt over: the message says to upgrade the program."""
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([SEED])
    manifest_path = kb.open().path / "manifest.json"
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["format_version"] = 999
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DangjianError) as err:
        kb.open()
    assert err.value.code == "index_too_new" and "升级" in err.value.message


def test_passages_of_a_missing_document_are_refused(tmp_path):
    """An index whose passages point past its document records (a hand-built or damaged one) is
    reported as damaged when opened for search, not as an IndexError at the first filter."""
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([SEED])
    path = kb.open().path
    np.save(path / "passage_docs.npy", np.load(path / "passage_docs.npy") + 1)
    with pytest.raises(IndexCorruptError) as err:
        kb.searcher()
    assert "重建" in err.value.message


def test_concurrent_writer_is_told_to_wait(tmp_path):
    store = IndexStore(tmp_path / "idx")
    with store.write_lock():
        with pytest.raises(DangjianError) as err:
            with IndexStore(tmp_path / "idx").write_lock():
                pass
    assert err.value.code == "index_busy"


def _slow_ingest(home, path):
    from dangjian.index import layout as store

    original = store._write_jsonl

    def slow(p, rows):
        n = original(p, rows)
        time.sleep(30)  # killed here, mid-write
        return n

    store._write_jsonl = slow
    fake_kb(home).ingest([path])


def test_sigkill_mid_write_leaves_previous_version_current(tmp_path):
    home = tmp_path / "idx"
    fake_kb(home).ingest([SEED])
    before = fake_kb(home).open()
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_slow_ingest, args=(home, CORPUS / "samples"))
    proc.start()
    deadline = time.time() + 30
    while time.time() < deadline and not list((home / "versions").glob(".tmp-*/documents.jsonl")):
        time.sleep(0.05)
    assert list((home / "versions").glob(".tmp-*")), "the writer never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    after = fake_kb(home).open()
    assert after.name == before.name
    assert [d.doc_id for d, _ in after.iter_documents()] == [d.doc_id for d, _ in before.iter_documents()]
    # The next writer cleans up and succeeds.
    report = fake_kb(home).ingest([CORPUS / "samples"])
    assert len(report.added) == 2
    assert not list((home / "versions").glob(".tmp-*"))


def test_bm25_read_from_its_files_gives_the_same_results(tmp_path, monkeypatch):
    """Large indexes memory-map the BM25 files instead of loading them: same hits, same scores."""
    from dangjian.index import retrieval

    kb = fake_kb(tmp_path / "idx")
    kb.ingest([CORPUS])
    loaded = kb.searcher().retrieval
    monkeypatch.setattr(retrieval, "LEXICAL_MMAP_FROM", 1)
    mapped = retrieval.LocalRetrieval(kb.open())
    assert isinstance(mapped.lexical.retriever.scores["data"], np.memmap)
    assert not isinstance(loaded.lexical.retriever.scores["data"], np.memmap)
    tokens = kb.searcher().tokenizer.tokenize("物业管理十联工作法包括哪些内容")
    for allowed in (None, np.array([i % 2 == 0 for i in range(len(loaded.doc_ids))])):
        a, b = loaded.lexical_search(tokens, 10, allowed), mapped.lexical_search(tokens, 10, allowed)
        assert len(a[0]) and a[0].tolist() == b[0].tolist() and np.allclose(a[1], b[1])
    assert mapped.passage(3) == loaded.passage(3)


def test_an_index_written_before_the_offset_files_still_opens(tmp_path):
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([CORPUS])
    expected = [h.passage_id for h in kb.search("十联工作法包括什么").hits]
    version = kb.open()
    (version.path / "passage_offsets.npy").unlink()
    (version.path / "passage_docs.npy").unlink()
    again = fake_kb(tmp_path / "idx")
    assert [h.passage_id for h in again.search("十联工作法包括什么").hits] == expected
    assert again.searcher().passage_counts == kb.searcher().passage_counts


def test_a_reader_sees_another_writers_switch_though_it_keeps_the_name(tmp_path):
    """``current_name`` reads CURRENT again only when the file was replaced."""
    home = tmp_path / "idx"
    fake_kb(home).ingest([SEED])
    reader = IndexStore(home)
    first = reader.current_name()
    assert first and reader.current_name() == first
    fake_kb(home).ingest([CORPUS / "samples"])  # another writer, as another process would
    assert reader.current_name() not in (None, first)
    assert reader.current_name() == IndexStore(home).current_name()
