"""Two `dangjian serve` replicas over one Milvus store (a milvus-lite server on loopback):
concurrent uploads and queries through both, no errors, no lost or duplicated document, and a
write through one visible to the other's next query."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid

from dangjian.service.keys import KeyStore

from ..conftest import Store, store_copy
from ..service.live import live_server

QUESTION = "十联工作法包括什么"
FILES = 6


def text_of(i: int) -> str:
    return f"第{i}号社区推行“楼栋议事第{i}法”：每月第{i}个周六召开楼栋议事会，由楼栋长主持，居民代表参加。"


def call(base: str, path: str, data=None, headers=None, method=None):
    request = urllib.request.Request(base + "/api/v1" + path, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def upload(base: str, key: str, name: str, text: str) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="collection"\r\n\r\n副本\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"Content-Type: text/plain\r\n\r\n"
        ).encode()
        + text.encode()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    job = call(base, "/documents", data=body, headers=headers)["job"]  # queued: wait for its report
    while job["state"] in ("queued", "running"):
        time.sleep(0.2)
        job = call(base, f"/jobs/{job['id']}", headers={"Authorization": f"Bearer {key}"})
    assert job["state"] == "done", job
    return job["report"]


def search(base: str, question: str) -> dict:
    return call(base, "/search?k=5&q=" + urllib.request.quote(question))


def test_two_replicas_share_one_store(tmp_path_factory, corpus_index, milvus_uri):
    store = Store("milvus", milvus_uri).fresh()
    home = store_copy(store, corpus_index, tmp_path_factory.mktemp("replicas"))
    key = KeyStore(home).create("editor")
    errors: list[str] = []
    reports: list[dict] = []
    stop = threading.Event()
    with live_server(home, env=store.env()) as a, live_server(home, env=store.env()) as b:
        before = call(a, "/health")["documents"]

        def reader(base: str) -> None:
            while not stop.is_set():
                try:
                    body = search(base, QUESTION)
                    assert body["hits"] and "组织联建" in body["hits"][0]["quote"]
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    errors.append(f"{base} search: {exc!r}")

        def writer(base: str, numbers: list[int]) -> None:
            # each replica uploads its own files, and both upload the same file at the same time
            for i in [*numbers, 99]:
                try:
                    reports.append(upload(base, key, f"议事{i}.txt", text_of(i)))
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{base} upload {i}: {exc!r}")

        threads = [threading.Thread(target=reader, args=(base,)) for base in (a, b)]
        threads += [
            threading.Thread(target=writer, args=(a, list(range(0, FILES, 2)))),
            threading.Thread(target=writer, args=(b, list(range(1, FILES, 2)))),
        ]
        for t in threads[2:] + threads[:2]:
            t.start()
        for t in threads[2:]:
            t.join(timeout=600)
        stop.set()
        for t in threads[:2]:
            t.join(timeout=60)
        assert not errors, errors[:5]

        added = [d for r in reports for d in r["added"]]
        assert len(added) == FILES + 1 == len(set(added))  # the shared file is stored once
        for base in (a, b):
            assert call(base, "/health")["documents"] == before + FILES + 1
            listed = call(base, "/documents?limit=100&collection=" + urllib.request.quote("副本"))
            ids = [d["doc_id"] for d in listed["documents"]]
            assert sorted(ids) == sorted(added) and len(ids) == len(set(ids))
        for i in [*range(FILES), 99]:  # every document found through both replicas
            for base in (a, b):
                assert f"楼栋议事第{i}法" in search(base, f"楼栋议事第{i}法是什么")["hits"][0]["quote"]

        # a write through one replica is visible to the other's next query
        new = upload(a, key, "新增.txt", "新增资料：推行“阳台议事法”，在居民阳台上召开议事会。")["added"][0]
        assert search(b, "阳台议事法")["hits"][0]["doc_id"] == new
        call(b, f"/documents/{new}", headers={"Authorization": f"Bearer {key}"}, method="DELETE")
        assert all(h["doc_id"] != new for h in search(a, "阳台议事法")["hits"])
