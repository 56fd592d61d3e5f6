"""Dense index: FAISS inner product over L2-normalised vectors (cosine similarity).

``auto`` picks by size (measured in ``bench/scale_query.py``): exact ``flat`` search below
``AUTO_FP16_FROM`` passages; ``fp16`` (exhaustive search over half-precision vectors: half the
memory and time, recall@10 ≈ 0.999 against exact) up to ``AUTO_HNSW_FROM``; HNSW over
half-precision vectors beyond (about 1 ms instead of 7 ms at 100k passages, recall@10 ≈ 0.998 on
real vectors, but every write rebuilds it: 20 s at 100k). ``hnsw`` and ``ivf`` can also be chosen
explicitly. FAISS ids are row positions in ``passages.jsonl``.

Several questions at once (``search_many``, the questions of concurrent requests) are scored by
one matrix product over the stored vectors instead of one scan each: FAISS reads the whole
matrix for every single question, so 16 questions cost 16 passes over memory. ``flat`` vectors
are multiplied by numpy (BLAS); ``fp16`` ones by PyTorch, in bfloat16, where the question engine
has loaded it (``embedders.TorchE5``), the best ``RESCORE_EXTRA`` beyond k then re-scored
exactly in single precision; otherwise FAISS searches for each question.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import faiss
import numpy as np

from ..errors import DangjianError

KINDS = ("auto", "flat", "fp16", "hnsw", "ivf")
AUTO_FP16_FROM = 50_000
AUTO_HNSW_FROM = 500_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512  # measured on real e5 vectors: 128 → recall@10 0.91, 512 → 0.98
# From this size the nearest passages crowd together (at 1M tiled vectors the first ten lie within
# 0.005 cosine): efSearch 512 → recall@10 0.73, 2048 → 0.90, 4096 → 0.96 at 17 ms (bench/RESULTS.md)
HNSW_LARGE_FROM = 500_000
HNSW_EF_SEARCH_LARGE = 4096
RESCORE_EXTRA = 16
# Fewer questions than this are searched by FAISS, each in its caller's thread: one or two
# questions scan faster there than in a product (measured at 100k: 4 ms a question, product 10 ms)
MANY_FROM = 3


def hnsw_ef_search(n: int, k: int) -> int:
    return max(HNSW_EF_SEARCH_LARGE if n >= HNSW_LARGE_FROM else HNSW_EF_SEARCH, k)


def choose_kind(kind: str, n: int) -> str:
    if kind not in KINDS:
        raise DangjianError(f"未知的向量索引类型“{kind}”，可选：{'、'.join(KINDS)}", code="bad_setting")
    if kind == "auto":
        return "flat" if n < AUTO_FP16_FROM else "fp16" if n < AUTO_HNSW_FROM else "hnsw"
    return kind


def _ivf_lists(n: int) -> int:
    return max(1, min(4096, int(4 * np.sqrt(max(n, 1)))))


class DenseIndex:
    def __init__(self, index: faiss.Index, kind: str, n: int):
        self.index = index
        self.kind = kind
        self.n = n
        self._lock = threading.Lock()
        self._scan_vectors = None  # fp16 kind, once torch scans them: the vectors in bfloat16

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "auto") -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        kind = choose_kind(kind, n)
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif kind == "hnsw":
            index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            if n:
                index.train(vectors)
        elif kind == "fp16":
            index = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        else:
            nlist = _ivf_lists(n)
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
            if n:
                index.train(vectors)
            index.nprobe = max(1, nlist // 8)
        if n:
            index.add(vectors)
        return cls(index, kind, n)

    def save(self, path: Path) -> None:
        """Only compressed or approximate indexes are saved; an exact one is rebuilt from the vectors."""
        if self.kind != "flat":
            faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, kind: str, vectors_path: Path, index_path: Path) -> DenseIndex:
        if kind == "flat":
            vectors = np.load(vectors_path, mmap_mode="r")
            return cls.build(vectors, "flat")
        index = faiss.read_index(str(index_path))
        if kind == "ivf":
            index.nprobe = max(1, index.nlist // 8)
        return cls(index, kind, index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and cosine scores of the ``k`` nearest rows, restricted to ``allowed`` rows."""
        if self.n == 0 or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        k = min(k, self.n)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        params = None
        if allowed is not None:
            bitmap = np.packbits(allowed.astype(bool), bitorder="little")
            selector = faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(bitmap))
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=hnsw_ef_search(self.n, k))
            elif self.kind == "ivf":
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nprobe)
            else:
                params = faiss.SearchParameters(sel=selector)
            scores, ids = self.index.search(q, k, params=params)
            del bitmap, selector
        else:
            if self.kind == "hnsw":
                self.index.hnsw.efSearch = hnsw_ef_search(self.n, k)
            scores, ids = self.index.search(q, k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def search_many(
        self, queries: np.ndarray, k: int, allowed: list[np.ndarray | None]
    ) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """``search`` for each row of ``queries`` (each with its own ``allowed`` rows) in one
        product; None where that is not possible or pays nothing (fewer than ``MANY_FROM``
        questions, HNSW, IVF, fp16 without torch): the callers then ``search`` each for
        themselves, in their own threads."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(len(allowed), -1)
        if len(queries) < MANY_FROM or not self.n or k <= 0:
            return None
        k = min(k, self.n)
        candidates = self._candidates(queries, allowed, min(k + RESCORE_EXTRA, self.n))
        if candidates is None:
            return None
        vectors = self._vectors()
        out = []
        for query, top in zip(queries, candidates, strict=True):
            exact = vectors[top].astype(np.float32) @ query
            order = np.argsort(-exact, kind="stable")[:k]
            out.append((top[order].astype(np.int64), exact[order]))
        return out

    def _vectors(self) -> np.ndarray:
        """The stored vectors, without copying (float32 for ``flat``, float16 for ``fp16``)."""
        d = self.index.d
        if self.kind == "flat":
            return faiss.rev_swig_ptr(self.index.get_xb(), self.n * d).reshape(self.n, d)
        return faiss.rev_swig_ptr(self.index.codes.data(), self.n * d * 2).view(np.float16).reshape(self.n, d)

    def _candidates(self, queries: np.ndarray, allowed: list[np.ndarray | None], m: int) -> list[np.ndarray] | None:
        """The ``m`` best allowed rows for each query by one product over all rows, or None where
        only FAISS can search."""
        if self.kind == "flat":
            out = []
            for row, rows in zip(queries @ self._vectors().T, allowed, strict=True):
                if rows is not None:
                    row = np.where(rows, row, -np.inf)
                top = np.argpartition(-row, m - 1)[:m]
                out.append(top[np.isfinite(row[top])])
            return out
        torch = sys.modules.get("torch")  # only where the question engine already loaded it (~200 MB)
        if self.kind != "fp16" or torch is None:
            return None
        with self._lock:  # a bfloat16 copy, made once: oneDNN multiplies bfloat16 with AMX, while
            # its half-precision product costs as much per question as FAISS's scan (measured at
            # 100k × 384: 16 questions 12 ms in bfloat16, 77 ms in float16)
            if self._scan_vectors is None:
                self._scan_vectors = torch.from_numpy(self._vectors()).bfloat16()
        with torch.inference_mode():
            scores = (torch.from_numpy(queries).bfloat16() @ self._scan_vectors.T).float()
            for i, rows in enumerate(allowed):
                if rows is not None:
                    scores[i].masked_fill_(~torch.from_numpy(rows), -torch.inf)
            values, ids = torch.topk(scores, m, dim=1)  # (measured: 1 ms for 8 rows of 100k, argpartition 7)
        return [row[np.isfinite(v)] for row, v in zip(ids.numpy(), values.numpy(), strict=True)]
