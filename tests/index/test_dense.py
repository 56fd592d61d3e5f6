"""The dense index: several questions scored at once give exactly what one search each gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch  # noqa: F401 - loaded, as the torch question engine loads it: fp16 vectors are scanned by it

from dangjian.index.dense import MANY_FROM, DenseIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["flat", "fp16"])
def test_search_many_equals_one_search_per_question(kind):
    rng = np.random.default_rng(7)
    vectors = unit(rng.standard_normal((4000, 64)))
    queries = unit(vectors[:6] + 0.1 * rng.standard_normal((6, 64)))
    allowed = [
        None,
        rng.random(4000) < 0.2,
        None,
        np.zeros(4000, dtype=bool),  # nothing allowed: nothing found
        rng.random(4000) < 0.002,  # fewer allowed rows than k
        np.arange(4000) >= 3990,
    ]
    index = DenseIndex.build(vectors, kind)
    many = index.search_many(queries, 30, allowed)
    assert len(many) == len(queries)
    for query, rows, (ids, scores) in zip(queries, allowed, many, strict=True):
        one_ids, one_scores = index.search(query, 30, rows)
        assert ids.tolist() == one_ids.tolist()
        assert np.allclose(scores, one_scores, atol=1e-5)
        if rows is not None:
            assert all(rows[i] for i in ids)
    assert len(many[3][0]) == 0 and 0 < len(many[4][0]) < 30
    assert many[0][0][0] == 0  # the perturbed copy of row 0 finds row 0 first


def test_search_many_declines_where_one_search_each_is_as_good():
    """Fewer than MANY_FROM questions, an empty index, or an index without a matrix to multiply
    (HNSW, IVF): None, and each caller searches for itself."""
    vectors = unit(np.random.default_rng(1).standard_normal((2000, 16)))
    few = vectors[3 : 3 + MANY_FROM - 1]
    assert DenseIndex.build(vectors, "flat").search_many(few, 5, [None] * len(few)) is None
    empty = DenseIndex.build(np.empty((0, 16), dtype=np.float32), "flat")
    assert empty.search_many(vectors[:2], 5, [None, None]) is None
    for kind in ("hnsw", "ivf"):
        assert DenseIndex.build(vectors, kind).search_many(vectors[:2], 5, [None, None]) is None
