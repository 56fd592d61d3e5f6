"""Shared fixtures: paths to the bundled corpus and the shared data, sample-file builders."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SEED = CORPUS / "000_47bfaefce9c6aa4d.txt"
# The ten components of the seed report's “物业管理十联工作法”, in order.
TEN_LIAN = [
    "组织联建",
    "资源联享",
    "服务联动",
    "矛盾联处",
    "安全联防",
    "疫情联控",
    "活动联办",
    "文化联育",
    "环境联优",
    "发展联促",
]
SHARED_DATA = Path(os.environ.get("DANGJIAN_SHARED_DATA", REPO.parent / "shared" / "data"))


def _load_make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "scripts" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def make_samples():
    """The sample generator of scripts/make_samples.py (real .docx, and .pdf via LibreOffice)."""
    return _load_make_samples()


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"shared data not found at {SHARED_DATA} (set DANGJIAN_SHARED_DATA)"
    return SHARED_DATA


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """An index of the bundled corpus with the real model, built once per session. Never write
    to it: tests that change an index take their own copy (``copy_index``)."""
    from dangjian.kb import KnowledgeBase

    home = tmp_path_factory.mktemp("corpus-index") / "idx"
    KnowledgeBase(home).ingest([CORPUS])
    return home


def copy_index(source: Path, parent: Path) -> Path:
    """A private copy of the index at ``source``, as ``parent/idx``."""
    return Path(shutil.copytree(source, parent / "idx"))


def method_records(doc, methods) -> dict:
    """A document's index record as the method cards read it (``doc_index.jsonl`` fields)."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "year": None,
        "collection": "default",
        "methods": [m.to_dict() for m in methods],
    }


def corpus_method_cards():
    """(method cards of the bundled corpus, its documents' texts by id), without an index."""
    from dangjian.ingest import iter_documents, split_sections
    from dangjian.ingest.methods import find_methods
    from dangjian.methods import build_cards

    records, texts = [], {}
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix in (".txt", ".docx", ".pdf"):
            for doc in iter_documents(path):
                texts[doc.doc_id] = doc.text
                records.append(method_records(doc, find_methods(doc, split_sections(doc))))
    return build_cards(records), texts
