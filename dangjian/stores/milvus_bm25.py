"""How passages and questions look in Milvus: token text, hashed term ids, the two halves of
BM25 (the passage's term-frequency part, the question's idf part) and row ids.

BM25's parameters are the local index's (``index.lexical``), so both stores score alike.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

from ..index.lexical import K1 as BM25_K1
from ..index.lexical import B as BM25_B

SPARSE_IDS = 2**32 - 1
_SPACE_RE = re.compile(r"\s+")


def clean_token(token: str) -> str:
    return _SPACE_RE.sub("_", token.strip())


def token_text(tokens: Iterable[str]) -> str:
    return " ".join(t for t in map(clean_token, tokens) if t)


def term_id(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "big") % SPARSE_IDS


def tf_part(tf: int, dl: int, avgdl: float) -> float:
    return tf / (tf + BM25_K1 * (1.0 - BM25_B + BM25_B * dl / avgdl))


def passage_sparse(terms: list[str], avgdl: float) -> dict[int, float]:
    """The term-frequency half of BM25 for each of a passage's terms (ids hashed from the term)."""
    weights: dict[int, float] = {}
    for term, tf in Counter(terms).items():
        tid = term_id(term)
        weights[tid] = weights.get(tid, 0.0) + tf_part(tf, len(terms), avgdl)
    return weights or {term_id(""): 1e-6}  # a passage without words still needs a vector


def row_id(passage_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(passage_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def idf(n: int, df: int) -> float:
    return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))


def quote_list(values: Iterable[str]) -> str:
    return "[" + ",".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def generation_name(gen: int) -> str:
    return f"g{gen:06d}"
