"""How passages and questions look in Milvus: token text, hashed term ids, the two halves of
BM25 (the passage's term-frequency part, the question's idf part) and row ids.

BM25's formulas and parameters are the local index's (``index.lexical``), so both stores score alike.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable

from ..index.lexical import tf_part

SPARSE_IDS = 2**32 - 1
_SPACE_RE = re.compile(r"\s+")


def clean_token(token: str) -> str:
    return _SPACE_RE.sub("_", token.strip())


def token_text(tokens: Iterable[str]) -> str:
    return " ".join(t for t in map(clean_token, tokens) if t)


def term_id(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "big") % SPARSE_IDS


def passage_sparse(terms: list[str], avgdl: float) -> dict[int, float]:
    """The term-frequency half of BM25 for each of a passage's terms (ids hashed from the term)."""
    weights: dict[int, float] = {}
    for term, tf in Counter(terms).items():
        tid = term_id(term)
        weights[tid] = weights.get(tid, 0.0) + tf_part(tf, len(terms), avgdl)
    return weights or {term_id(""): 1e-6}  # a passage without words still needs a vector


def row_id(passage_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(passage_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def quote_list(values: Iterable[str]) -> str:
    return "[" + ",".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def generation_name(gen: int) -> str:
    return f"g{gen:06d}"
