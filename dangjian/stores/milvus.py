"""The knowledge base on Milvus: milvus-lite (a ``.db`` path) or a Milvus server or cluster.

Four collections, named ``<prefix>_<what>``:

- ``passages``: one row per passage. ``row`` (INT64, a hash of the passage id, so writing the
  same document twice writes the same rows), ``doc_id``, ``collection``, ``type``, ``year``,
  ``gen`` (the generation that wrote it), ``data`` (the passage as JSON: text, offsets, section
  path, page), ``tokens`` (the project's jieba tokens, space-separated: the words the local
  index sees), ``sparse`` (each token's BM25 term-frequency weight under a hashed term id) and
  ``dense`` (the embedder's vector).
- ``documents``: each document's record (``kind`` "info") and its full text, structure and
  sections (``kind`` "body"), in chunks that fit a VARCHAR.
- ``terms``: passages per token (document frequency), for the idf weights ranking needs.
- ``meta``: the manifest (generation, embedder, counts, abstention calibration) and writers'
  lock leases.

Readers see generation G: passages and documents with ``gen <= G``. A writer takes the lock,
removes what a crashed writer left (``gen > G``), writes its rows with ``gen = G + 1`` and only
then replaces the manifest, so a reader never sees half a write. Ranking is the project's own
(``Searcher``): Milvus returns BM25 and dense candidates with their scores.

BM25 is scored with corpus-wide statistics: the query's sparse vector carries each term's idf
from ``terms`` and the passage's carries the term-frequency part, so an inner-product search
ranks by BM25 (Milvus's own BM25 function keeps statistics per segment in milvus-lite: a
freshly added document would score as if it were the whole corpus). The candidates are then
scored exactly as the local index scores them (bm25s, Lucene variant), with the current
average passage length.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DangjianError, IndexNotFoundError
from ..index.store import FORMAT_VERSION, document_info
from ..ingest.names import merge_names
from ..schema import Document, Passage, Section

log = logging.getLogger("dangjian.milvus")

BM25_K1 = 1.2  # as the local index (index/lexical.py)
BM25_B = 0.75
SPARSE_IDS = 2**32 - 1
VARCHAR_MAX = 65535
CHUNK_CHARS = 16000  # a VARCHAR holds 65,535 bytes: 16,000 characters of up to 4 bytes
BATCH = 256
QUERY_BATCH = 1000
LEASE_S = 60.0  # a writer that stops renewing its lease for this long is presumed dead
SETTLE_S = 0.5  # larger than the clock skew between writers' machines
LOCK_WAIT_S = 600.0
_SPACE_RE = re.compile(r"\s+")
_PREFIX_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")


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


# "released": a restarted milvus-lite server has unloaded its collections
_DROPPED = ("UNAVAILABLE", "GOAWAY", "Fail connecting", "connection", "Connection", "released")


def _dropped(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in _DROPPED)


def quote_list(values: Iterable[str]) -> str:
    return "[" + ",".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


class MilvusStore:
    """The knowledge base's collections in one Milvus database."""

    def __init__(self, uri: str, *, token: str = "", prefix: str = "dangjian", state_dir: str | Path = "dangjian_data"):
        if not _PREFIX_RE.fullmatch(prefix):
            raise DangjianError(
                f"Milvus 集合名前缀“{prefix}”不合法：只能用英文字母、数字和下划线，且不以数字开头", code="bad_setting"
            )
        self.uri = uri
        self.token = token
        self.prefix = prefix
        self.home = Path(state_dir)  # API keys, collection list and uploads stay on local disk
        self._client = None
        self._client_lock = threading.Lock()
        self._has_meta = False

    def __repr__(self) -> str:
        return f"MilvusStore({self.uri!r}, prefix={self.prefix!r})"

    # --- connection and collections -----------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    def _connect(self):
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise DangjianError(
                "使用 Milvus 存储需要安装 pymilvus：pip install 'dangjian[milvus]'", code="missing_dependency"
            ) from None
        if self.uri.endswith(".db"):
            Path(self.uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # failures become our Chinese errors
        try:
            client = MilvusClient(uri=self.uri, token=self.token, timeout=30)
            for what in ("meta", "terms", "documents", "passages"):  # a reopened database starts released
                if client.has_collection(self.name(what)):
                    client.load_collection(self.name(what))
        except Exception as exc:  # pymilvus raises MilvusException and grpc errors alike
            raise DangjianError(
                f"无法连接 Milvus：{self.uri}（{exc}）；请检查地址、端口和令牌（DANGJIAN_STORE_TOKEN）",
                code="store_unavailable",
            ) from None
        return client

    def name(self, what: str) -> str:
        return f"{self.prefix}_{what}"

    def call(self, fn: Callable, *args, **kwargs):
        """A Milvus call whose failure becomes a Chinese error naming the store. A call that fails
        because the connection was dropped (a server restart, or a server closing idle
        connections) is made once more on a new connection, which loads the collections again:
        every call here is idempotent."""
        try:
            return fn(*args, **kwargs)
        except DangjianError:
            raise
        except Exception as exc:
            if _dropped(exc) and getattr(fn, "__self__", None) is self._client:
                log.info("connection to %s dropped (%s); reconnecting", self.uri, exc)
                with self._client_lock:
                    self._client = None
                try:
                    return getattr(self.client, fn.__name__)(*args, **kwargs)
                except DangjianError:
                    raise
                except Exception as again:
                    exc = again
            raise DangjianError(
                f"Milvus 操作失败：{self.uri}（{exc}）；已有数据不受影响，请稍后重试", code="store_unavailable"
            ) from None

    def _ensure_collections(self, dim: int | None = None) -> None:
        """Create the collections that are missing (``passages`` only when ``dim`` is given)."""
        from pymilvus import DataType

        c = self.client
        for what in ("meta", "terms", "documents"):
            if c.has_collection(self.name(what)):
                continue
            schema = c.create_schema(auto_id=False)
            schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=512)
            if what == "terms":
                schema.add_field("df", DataType.INT64)
            else:
                schema.add_field("kind", DataType.VARCHAR, max_length=32)
                schema.add_field("data", DataType.VARCHAR, max_length=VARCHAR_MAX)
            if what == "documents":
                schema.add_field("doc_id", DataType.VARCHAR, max_length=256)
                schema.add_field("part", DataType.INT64)
                schema.add_field("gen", DataType.INT64)
            schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
            index = c.prepare_index_params()
            index.add_index("v", index_type="FLAT", metric_type="L2")
            self._create(self.name(what), schema, index)
        if dim is None or c.has_collection(self.name("passages")):
            return
        schema = c.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("passage_id", DataType.VARCHAR, max_length=512)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=256)
        schema.add_field("collection", DataType.VARCHAR, max_length=512)
        schema.add_field("type", DataType.VARCHAR, max_length=256)
        schema.add_field("year", DataType.INT64)
        schema.add_field("gen", DataType.INT64)
        schema.add_field("data", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("tokens", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        index = c.prepare_index_params()
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        index.add_index("dense", index_type="FLAT", metric_type="IP")
        self._create(self.name("passages"), schema, index)

    def _create(self, name: str, schema, index) -> None:
        """Create a collection; another writer creating it at the same moment is no failure."""
        try:
            self.client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        except Exception:
            if not self.client.has_collection(name):
                raise
            self.client.load_collection(name)

    # --- the manifest -------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any] | None:
        """The current manifest (read on every request: it says which generation is current)."""
        if not self._has_meta:
            if not self.call(self.client.has_collection, self.name("meta")):
                return None
            self._has_meta = True  # never dropped, so not asked again
        rows = self.call(self.client.get, self.name("meta"), ids=["manifest"], output_fields=["data"])
        return json.loads(rows[0]["data"]) if rows else None

    def exists(self) -> bool:
        return self.manifest() is not None

    def current_name(self) -> str | None:
        m = self.manifest()
        return generation_name(m["generation"]) if m else None

    def open(self) -> MilvusVersion:
        m = self.manifest()
        if m is None:
            raise IndexNotFoundError(
                f"Milvus 存储 {self.uri}（前缀 {self.prefix}）中还没有知识库；请先运行 dangjian ingest 或 dangjian migrate"
            )
        return MilvusVersion(self, m)

    def _put_meta(self, key: str, kind: str, data: dict[str, Any]) -> None:
        row = {"key": key, "kind": kind, "data": json.dumps(data, ensure_ascii=False), "v": [0.0, 0.0]}
        self.call(self.client.upsert, self.name("meta"), [row])

    # --- the writers' lock ----------------------------------------------------------------------

    @contextmanager
    def write_lock(self, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
        """One writer at a time across every process and machine sharing this store.

        A writer adds a lease (its arrival time), waits until any lease added before it would be
        visible, and goes when its lease is the oldest live one; it renews the lease while it
        writes, and a lease not renewed for ``LEASE_S`` is ignored (its writer died).
        """
        self._ensure_collections()
        key = f"lock#{uuid.uuid4().hex}"
        lease = {"arrived": time.time(), "owner": f"{socket.gethostname()}:{os.getpid()}"}
        renew = threading.Event()

        def put() -> None:
            self._put_meta(key, "lock", {**lease, "renewed": time.time()})

        put()
        try:
            deadline = time.monotonic() + wait_s
            while True:
                time.sleep(SETTLE_S)
                put()
                if self._first_lease() == key:
                    break
                if time.monotonic() > deadline:
                    raise DangjianError(
                        f"另一个导入任务正在写入 Milvus 存储 {self.uri}，已等待 {wait_s:.0f} 秒；请稍后再试",
                        code="index_busy",
                    )

            def heartbeat() -> None:
                while not renew.wait(LEASE_S / 4):
                    try:
                        put()
                    except DangjianError:
                        log.warning("could not renew the write lease on %s", self.uri)

            threading.Thread(target=heartbeat, name="dangjian-milvus-lease", daemon=True).start()
            yield
        finally:
            renew.set()
            try:
                self.call(self.client.delete, self.name("meta"), ids=[key])
            except DangjianError:
                log.warning("could not remove the write lease %s on %s (it expires by itself)", key, self.uri)

    def _first_lease(self) -> str | None:
        rows = self.call(self.client.query, self.name("meta"), filter='kind == "lock"', output_fields=["key", "data"])
        now = time.time()
        live = []
        for row in rows:
            lease = json.loads(row["data"])
            if now - lease["renewed"] < LEASE_S:
                live.append((lease["arrived"], row["key"]))
            else:
                self.call(self.client.delete, self.name("meta"), ids=[row["key"]])
        return min(live)[1] if live else None

    # --- reading ---------------------------------------------------------------------------------

    def _query_all(self, what: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        it = self.call(
            self.client.query_iterator, self.name(what), batch_size=QUERY_BATCH, filter=expr, output_fields=fields
        )
        try:
            while True:
                batch = self.call(it.next)
                if not batch:
                    return
                yield from batch
        finally:
            it.close()

    def _chunks(self, expr: str) -> dict[str, str]:
        """doc_id -> the concatenated ``data`` of the ``documents`` rows matching ``expr``."""
        parts: dict[str, list[tuple[int, str]]] = {}
        for row in self._query_all("documents", expr, ["doc_id", "part", "data"]):
            parts.setdefault(row["doc_id"], []).append((row["part"], row["data"]))
        return {d: "".join(text for _, text in sorted(chunks)) for d, chunks in parts.items()}

    def document_infos(self, gen: int) -> list[dict[str, Any]]:
        infos = [json.loads(text) for text in self._chunks(f'kind == "info" and gen <= {gen}').values()]
        return sorted(infos, key=lambda info: (info.get("added", 0), info["doc_id"]))

    def document_body(self, doc_id: str, gen: int) -> tuple[Document, list[Section]]:
        text = self._chunks(f'kind == "body" and doc_id == {json.dumps(doc_id)} and gen <= {gen}').get(doc_id)
        if text is None:
            raise IndexNotFoundError(f"Milvus 存储中找不到文档 {doc_id}")
        row = json.loads(text)
        sections = [Section(**s) for s in row.pop("sections", [])]
        return Document.from_dict(row), sections

    def document_frequencies(self, tokens: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(tokens), QUERY_BATCH):
            part = tokens[i : i + QUERY_BATCH]
            rows = self.call(self.client.get, self.name("terms"), ids=part, output_fields=["df"])
            out.update({row["key"]: int(row["df"]) for row in rows})
        return out

    # --- writing (inside ``write_lock``) -------------------------------------------------------

    def commit(
        self,
        *,
        new_docs: list[tuple[Document, list[Section]]],
        passages: list[Passage],
        vectors: np.ndarray,
        tokens: list[list[str]],
        removed: set[str] | None,
        manifest: dict[str, Any],
        tokenize: Callable[[Passage], list[str]] | None = None,
        changed_names: Iterable[str] = (),
        calibrate: Callable[[MilvusVersion], dict[str, Any]] | None = None,
    ) -> MilvusVersion:
        """Write generation G + 1: ``removed`` documents (None: all) out, ``new_docs`` in.

        ``tokens`` holds each new passage's BM25 tokens; kept passages that mention one of
        ``changed_names`` (added to or dropped from the dictionary) are re-tokenised by
        ``tokenize``, as in a local index.
        """
        old = self.manifest()
        gen = old["generation"] if old else 0
        new_gen = gen + 1
        c = self.client
        if removed is None:  # everything is rewritten (reindex, migrate): maybe another embedder
            for what in ("passages", "documents", "terms"):
                self.call(c.drop_collection, self.name(what))
            old = None
        self._ensure_collections(int(manifest["embedder"]["dimension"]))
        # what a writer that crashed before switching the manifest left behind
        self.call(c.delete, self.name("passages"), filter=f"gen > {gen}")
        self.call(c.delete, self.name("documents"), filter=f"gen > {gen}")

        infos = {info["doc_id"]: info for info in (self.document_infos(gen) if old else [])}
        removed = removed or set()
        df: Counter[str] = Counter()
        total = old.get("tokens_total", 0) if old else 0  # tokens of all passages, for the average length
        gone = sorted(removed & set(infos))
        for i in range(0, len(gone), 100):
            expr = f"doc_id in {quote_list(gone[i : i + 100])}"
            for row in self._query_all("passages", expr, ["tokens"]):
                terms = row["tokens"].split()
                df.subtract(set(terms))
                total -= len(terms)
            self.call(c.delete, self.name("passages"), filter=expr)
            self.call(c.delete, self.name("documents"), filter=expr)

        removed_passages = sum(infos.pop(doc_id).get("passages", 0) for doc_id in gone)
        n_passages = (old["counts"]["passages"] if old else 0) - removed_passages + len(passages)
        texts = [token_text(toks) for toks in tokens]
        total += sum(len(text.split()) for text in texts)
        avgdl = max(total / max(n_passages, 1), 1.0)
        if tokenize is not None:
            total += self._retokenize(gen, changed_names, tokenize, df, avgdl)
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
                self.call(c.upsert, self.name("passages"), rows)
                rows = []
        if rows:
            self.call(c.upsert, self.name("passages"), rows)
        for i in range(0, len(doc_rows), 64):
            self.call(c.upsert, self.name("documents"), doc_rows[i : i + 64])
        self._update_terms(df)
        for what in ("passages", "documents", "terms"):  # sealed segments are searched by index
            self.call(c.flush, self.name(what))

        full = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "store": "milvus",
            "generation": new_gen,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": {"documents": len(infos), "passages": n_passages},
            "tokens_total": total,
        }
        version = MilvusVersion(self, full)
        if calibrate is not None:
            full["abstain"] = calibrate(version)
        self._put_meta("manifest", "manifest", full)
        return version

    def _retokenize(
        self, gen: int, names: Iterable[str], tokenize: Callable[[Passage], list[str]], df: Counter, avgdl: float
    ) -> int:
        """Re-tokenise the passages that mention one of ``names``; returns the change in tokens."""
        seen: set[int] = set()
        change = 0
        fields = ["row", "passage_id", "doc_id", "collection", "type", "year", "gen", "data", "tokens", "dense"]
        for name in names:
            pattern = name.replace("\\", "\\\\").replace('"', '\\"').replace("%", "\\%").replace("_", "\\_")
            rows = []
            for row in self._query_all("passages", f'gen <= {gen} and data like "%{pattern}%"', fields):
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
                self.call(self.client.upsert, self.name("passages"), rows[i : i + BATCH])
        return change

    def _update_terms(self, delta: Counter) -> None:
        """Add ``delta`` to the stored document frequencies (a term at 0 is dropped)."""
        changed = sorted(t for t, d in delta.items() if d)
        current = self.document_frequencies(changed)
        keep, drop = [], []
        for term in changed:
            df = current.get(term, 0) + delta[term]
            (keep if df > 0 else drop).append({"key": term, "df": df, "v": [0.0, 0.0]})
        for i in range(0, len(keep), QUERY_BATCH):
            self.call(self.client.upsert, self.name("terms"), keep[i : i + QUERY_BATCH])
        for i in range(0, len(drop), QUERY_BATCH):
            self.call(self.client.delete, self.name("terms"), ids=[r["key"] for r in drop[i : i + QUERY_BATCH]])

    def iter_passage_rows(self, gen: int, fields: list[str]) -> Iterator[dict[str, Any]]:
        return self._query_all("passages", f"gen <= {gen}", fields)


def generation_name(gen: int) -> str:
    return f"g{gen:06d}"


class MilvusVersion:
    """One generation of a Milvus store, as a reader sees it (the local ``IndexVersion``'s API)."""

    def __init__(self, store: MilvusStore, manifest: dict[str, Any]):
        self.store = store
        self.manifest = manifest
        self.generation: int = manifest["generation"]
        self.name = generation_name(self.generation)
        self.home = f"{store.uri}（前缀 {store.prefix}）"

    @cached_property
    def _infos(self) -> list[dict[str, Any]]:
        return self.store.document_infos(self.generation)

    def iter_document_info(self) -> Iterator[dict[str, Any]]:
        return iter(self._infos)

    def document(self, info: dict[str, Any]) -> tuple[Document, list[Section]]:
        return self.store.document_body(info["doc_id"], self.generation)

    def iter_documents(self) -> Iterator[tuple[Document, list[Section]]]:
        for info in self._infos:
            yield self.document(info)

    def iter_passages(self) -> Iterator[Passage]:
        for row in self.store.iter_passage_rows(self.generation, ["data"]):
            yield Passage.from_dict(json.loads(row["data"]))

    def names(self) -> list[str]:
        return merge_names(*(info.get("names", []) for info in self._infos))

    def retrieval(self):
        from .milvus_search import MilvusRetrieval

        return MilvusRetrieval(self)
