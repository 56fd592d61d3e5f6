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

import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import DangjianError, IndexNotFoundError
from ..index.build import ChangeSet
from ..schema import Document, Section
from .milvus_bm25 import generation_name
from .milvus_search import MilvusVersion

log = logging.getLogger("dangjian.milvus")

VARCHAR_MAX = 65535
QUERY_BATCH = 1000
LEASE_S = 60.0  # a writer that stops renewing its lease for this long is presumed dead
SETTLE_S = 0.5  # larger than the clock skew between writers' machines
LOCK_WAIT_S = 600.0
CREATE_SETTLE_TRIES = 20  # times SETTLE_S: how long a collection another writer creates may take to appear
_PREFIX_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")


# "released": a restarted milvus-lite server has unloaded its collections
_DROPPED = ("UNAVAILABLE", "GOAWAY", "Fail connecting", "connection", "Connection", "released")


def _dropped(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in _DROPPED)


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
            # milvus-lite answers “File exists” while the other writer's creation is still under
            # way, before has_collection says so: give it a moment (seen in CI)
            for _ in range(CREATE_SETTLE_TRIES):
                if self.client.has_collection(name):
                    break
                time.sleep(SETTLE_S)
            else:
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

    def query_all(self, what: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
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
        for row in self.query_all("documents", expr, ["doc_id", "part", "data"]):
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

    def commit(self, change: ChangeSet) -> MilvusVersion:
        """Write ``change`` as generation G + 1 (see ``milvus_write``)."""
        from .milvus_write import commit

        return commit(self, change)

    def iter_passage_rows(self, gen: int, fields: list[str]) -> Iterator[dict[str, Any]]:
        return self.query_all("passages", f"gen <= {gen}", fields)
