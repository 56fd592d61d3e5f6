"""Writing a change set to a Milvus store (inside its ``write_lock``): generation G + 1.

Rows of the removed documents go, the new passages and documents are written with ``gen = G + 1``,
document frequencies are updated, and only then the manifest names G + 1: a reader never sees
half a write. The functions are ``MilvusStore``'s writing half and take the store first.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from ..index.build import ChangeSet
from ..index.layout import FORMAT_VERSION, document_info
from ..schema import Passage
from .milvus_bm25 import passage_sparse, quote_list, row_id, token_text
from .milvus_search import MilvusVersion

if TYPE_CHECKING:
    from .milvus import MilvusStore

BATCH = 256
CHUNK_CHARS = 16000  # a VARCHAR holds 65,535 bytes: 16,000 characters of up to 4 bytes
QUERY_BATCH = 1000


def commit(store: MilvusStore, change: ChangeSet) -> MilvusVersion:
    """Write generation G + 1: the removed documents (all when ``change.old`` is None) out,
    the new ones in. Kept passages that mention a name added to or dropped from the
    dictionary are re-tokenised, as in a local index."""
    new_docs, passages, vectors = change.new_docs, change.new_passages, change.vectors
    removed = None if change.old is None else change.removed
    manifest = change.manifest
    old = store.manifest()
    gen = old["generation"] if old else 0
    new_gen = gen + 1
    c = store.client
    if removed is None:  # everything is rewritten (reindex, migrate): maybe another embedder
        for what in ("passages", "documents", "terms"):
            store.call(c.drop_collection, store.name(what))
        old = None
    store._ensure_collections(int(manifest["embedder"]["dimension"]))
    # what a writer that crashed before switching the manifest left behind
    store.call(c.delete, store.name("passages"), filter=f"gen > {gen}")
    store.call(c.delete, store.name("documents"), filter=f"gen > {gen}")

    infos = {info["doc_id"]: info for info in (store.document_infos(gen) if old else [])}
    removed = removed or set()
    df: Counter[str] = Counter()
    total = old.get("tokens_total", 0) if old else 0  # tokens of all passages, for the average length
    gone = sorted(removed & set(infos))
    for i in range(0, len(gone), 100):
        expr = f"doc_id in {quote_list(gone[i : i + 100])}"
        for row in store.query_all("passages", expr, ["tokens"]):
            terms = row["tokens"].split()
            df.subtract(set(terms))
            total -= len(terms)
        store.call(c.delete, store.name("passages"), filter=expr)
        store.call(c.delete, store.name("documents"), filter=expr)

    removed_passages = sum(infos.pop(doc_id).get("passages", 0) for doc_id in gone)
    n_passages = (old["counts"]["passages"] if old else 0) - removed_passages + len(passages)
    texts = [token_text(toks) for toks in change.new_tokens()]
    total += sum(len(text.split()) for text in texts)
    avgdl = max(total / max(n_passages, 1), 1.0)
    total += _retokenize(store, gen, change.changed_names(), change.tokenize, df, avgdl)
    per_doc = Counter(p.doc_id for p in passages)
    doc_fields: dict[str, dict[str, Any]] = {}
    added = max((info.get("added", 0) for info in infos.values()), default=0)
    doc_rows = []
    for doc, sections in new_docs:
        added += 1
        info = {**document_info(doc), "passages": per_doc[doc.doc_id], "added": added}
        infos[doc.doc_id] = info
        doc_fields[doc.doc_id] = info
        body = json.dumps({**doc.to_dict(), "sections": [s.to_dict() for s in sections]}, ensure_ascii=False)
        for kind, text in (("info", json.dumps(info, ensure_ascii=False)), ("body", body)):
            for part, start in enumerate(range(0, max(len(text), 1), CHUNK_CHARS)):
                doc_rows.append(
                    {
                        "key": f"{doc.doc_id}#{kind}{part}",
                        "kind": kind,
                        "data": text[start : start + CHUNK_CHARS],
                        "doc_id": doc.doc_id,
                        "part": part,
                        "gen": new_gen,
                        "v": [0.0, 0.0],
                    }
                )
    rows = []
    for p, vector, text in zip(passages, vectors, texts):
        terms = text.split()
        df.update(set(terms))
        info = doc_fields.get(p.doc_id) or infos[p.doc_id]
        rows.append(
            {
                "row": row_id(p.passage_id),
                "passage_id": p.passage_id,
                "doc_id": p.doc_id,
                "collection": info.get("collection") or "",
                "type": info.get("type") or "",
                "year": info.get("year") or -1,
                "gen": new_gen,
                "data": json.dumps(p.to_dict(), ensure_ascii=False),
                "tokens": text,
                "sparse": passage_sparse(terms, avgdl),
                "dense": np.asarray(vector, dtype=np.float32).tolist(),
            }
        )
        if len(rows) == BATCH:
            store.call(c.upsert, store.name("passages"), rows)
            rows = []
    if rows:
        store.call(c.upsert, store.name("passages"), rows)
    for i in range(0, len(doc_rows), 64):
        store.call(c.upsert, store.name("documents"), doc_rows[i : i + 64])
    _update_terms(store, df)
    for what in ("passages", "documents", "terms"):  # sealed segments are searched by index
        store.call(c.flush, store.name(what))

    full = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "store": "milvus",
        "generation": new_gen,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {"documents": len(infos), "passages": n_passages},
        "tokens_total": total,
    }
    version = MilvusVersion(store, full)
    full["abstain"] = change.calibrate(version.retrieval())
    store._put_meta("manifest", "manifest", full)
    return version


def _retokenize(
    store: MilvusStore,
    gen: int,
    names: Iterable[str],
    tokenize: Callable[[Passage], list[str]],
    df: Counter,
    avgdl: float,
) -> int:
    """Re-tokenise the passages that mention one of ``names``; returns the change in tokens."""
    seen: set[int] = set()
    change = 0
    fields = ["row", "passage_id", "doc_id", "collection", "type", "year", "gen", "data", "tokens", "dense"]
    for name in names:
        pattern = name.replace("\\", "\\\\").replace('"', '\\"').replace("%", "\\%").replace("_", "\\_")
        rows = []
        for row in store.query_all("passages", f'gen <= {gen} and data like "%{pattern}%"', fields):
            if row["row"] in seen:
                continue
            seen.add(row["row"])
            text = token_text(tokenize(Passage.from_dict(json.loads(row["data"]))))
            if text != row["tokens"]:
                before, after = row["tokens"].split(), text.split()
                df.subtract(set(before))
                df.update(set(after))
                change += len(after) - len(before)
                sparse = passage_sparse(after, avgdl)
                rows.append({**row, "tokens": text, "sparse": sparse, "dense": list(row["dense"])})
        for i in range(0, len(rows), BATCH):
            store.call(store.client.upsert, store.name("passages"), rows[i : i + BATCH])
    return change


def _update_terms(store: MilvusStore, delta: Counter) -> None:
    """Add ``delta`` to the stored document frequencies (a term at 0 is dropped)."""
    changed = sorted(t for t, d in delta.items() if d)
    current = store.document_frequencies(changed)
    keep, drop = [], []
    for term in changed:
        df = current.get(term, 0) + delta[term]
        (keep if df > 0 else drop).append({"key": term, "df": df, "v": [0.0, 0.0]})
    for i in range(0, len(keep), QUERY_BATCH):
        store.call(store.client.upsert, store.name("terms"), keep[i : i + QUERY_BATCH])
    for i in range(0, len(drop), QUERY_BATCH):
        store.call(store.client.delete, store.name("terms"), ids=[r["key"] for r in drop[i : i + QUERY_BATCH]])
