"""KnowledgeBase.ingest: duplicates, unchanged files, replaced files, manifest metadata (both stores)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import CORPUS, SEED
from .fakes import fake_kb


def test_bundled_corpus_ingests_with_manifest_metadata(tmp_path, store):
    kb = fake_kb(tmp_path / "idx", **store.fresh().kb_kwargs())
    report = kb.ingest([CORPUS])
    assert len(report.added) == 3 and not report.skipped and not report.duplicates
    docs = {d.title: d for d, _ in kb.documents()}
    seed = docs["2022年基层党建工作完成情况及2023年工作谋划"]
    assert seed.metadata["type"] == "工作总结" and seed.metadata["licence"]
    samples = [d for d in docs.values() if d.metadata.get("sample") == "示例"]
    assert sorted(d.file_type for d in samples) == ["docx", "pdf"]


def test_same_content_under_another_name_is_a_duplicate(tmp_path, seed_text, store):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED, folder / "a.txt")
    (folder / "b_gbk.txt").write_bytes(seed_text.encode("gbk"))
    (folder / "c_spaced.txt").write_text(seed_text.replace("\n", "\n\n"), encoding="utf-8")
    kb = fake_kb(tmp_path / "idx", **store.fresh().kb_kwargs())
    report = kb.ingest([folder])
    assert len(report.added) == 1
    assert sorted(d.source.rsplit("/", 1)[-1] for d in report.duplicates) == ["b_gbk.txt", "c_spaced.txt"]
    assert all(d.duplicate_of.endswith("a.txt") for d in report.duplicates)
    assert report.total_documents == 1


def test_duplicates_are_per_collection(tmp_path, seed_text, store):
    """The same text may live in two collections (issue 21): each copy its own doc_id, its own
    passages; within one collection it is still a duplicate, named by that collection's file."""
    kb = fake_kb(tmp_path / "idx", **store.fresh().kb_kwargs())
    first = kb.ingest([SEED], collection="甲")
    copy = tmp_path / "copy.txt"
    copy.write_text(seed_text, encoding="utf-8")
    second = kb.ingest([copy], collection="乙")
    assert len(second.added) == 1 and not second.duplicates and second.added != first.added
    again = tmp_path / "again.txt"
    again.write_text(seed_text, encoding="utf-8")
    third = kb.ingest([again], collection="乙")
    assert [(Path(d.duplicate_of).name, d.doc_id) for d in third.duplicates] == [("copy.txt", second.added[0])]
    assert kb.ingest([copy], collection="乙").unchanged == second.added  # the derived id is stable
    by_collection = {info["collection"]: doc_id for doc_id, info in kb.searcher().docs.items()}
    assert by_collection == {"甲": first.added[0], "乙": second.added[0]}
    assert {p.doc_id for p in kb.passages()} == set(by_collection.values())


def test_unchanged_reingest_writes_nothing(tmp_path, store):
    kb = fake_kb(tmp_path / "idx", **store.fresh().kb_kwargs())
    first = kb.ingest([SEED])
    second = kb.ingest([SEED])
    assert second.version == first.version
    assert len(second.unchanged) == 1 and not second.added and not second.duplicates


def test_changed_file_replaces_its_old_version(tmp_path, seed_text, store):
    path = tmp_path / "report.txt"
    path.write_text(seed_text, encoding="utf-8")
    kb = fake_kb(tmp_path / "idx", **store.fresh().kb_kwargs())
    kb.ingest([path])
    path.write_text(seed_text.replace("五融四零工作法", "五融五零工作法"), encoding="utf-8")
    report = kb.ingest([path])
    assert len(report.replaced) == 1 and report.total_documents == 1
    texts = "".join(p.text for p in kb.passages())
    assert "五融五零工作法" in texts and "五融四零工作法" not in texts
    assert "五融四零工作法" not in kb.open().names()


def test_file_edited_into_a_copy_of_another_drops_its_old_content(tmp_path, seed_text, store):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(seed_text, encoding="utf-8")
    b.write_text("另一篇\n一、内容\n原来的正文。\n", encoding="utf-8")
    kb = fake_kb(tmp_path / "idx", **store.fresh().kb_kwargs())
    kb.ingest([a, b])
    b.write_text(seed_text, encoding="utf-8")
    report = kb.ingest([b])
    assert len(report.duplicates) == 1 and report.total_documents == 1
    assert "原来的正文" not in "".join(p.text for p in kb.passages())


def test_a_write_that_another_write_overtook_is_planned_again_without_embedding_twice(tmp_path):
    """Parsing and embedding happen outside the write lock: when another writer switches a
    version in meanwhile, this one plans again against it and keeps both writes."""
    from dangjian.kb import KnowledgeBase

    home = tmp_path / "idx"
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("第一份材料\n社区党委每月召开楼栋议事会，居民代表参加。", encoding="utf-8")
    second.write_text("第二份材料\n街道党工委每季度开展一次党员志愿服务评比。", encoding="utf-8")
    kb, other = KnowledgeBase(home), KnowledgeBase(home)
    other.ingest([CORPUS / SEED.name])
    overtaken, embedded = [], []

    def progress(stage, done, total):
        if stage == "embed" and not overtaken:
            overtaken.append(other.ingest([second]).version)  # another writer switches in now
        if stage == "embed":
            embedded.append((done, total))

    report = kb.ingest([first], progress=progress)
    assert overtaken == ["v000002"] and report.version == "v000003"
    assert [r.status for r in report.results] == ["added"]
    sources = {Path(i["source"]).name for i in kb.open().iter_document_info()}
    assert {"a.txt", "b.txt", SEED.name} <= sources
    # planned twice, embedded once: the second plan found every vector in the write's cache
    assert embedded[-1][0] == embedded[-1][1] and len([e for e in embedded if e[0] == 0]) == 1
