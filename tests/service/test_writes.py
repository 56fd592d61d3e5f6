"""Uploads, deletes and re-ingest over HTTP, API keys and what each key may see."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid

import pytest
from fastapi.testclient import TestClient

from dangjian.naming import collection_id
from dangjian.service import create_app
from dangjian.service.keys import KeyStore

from ..conftest import store_copy
from .live import live_server

SECRET = "内部资料：居民议事厅每周三晚上开放，由网格员主持，议题提前三天在小区公开栏公示。"
QUESTION = "居民议事厅什么时间开放，由谁主持？"


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_index, store):
    return store_copy(store, corpus_index, tmp_path_factory.mktemp("writes"))


@pytest.fixture(scope="module")
def keys(home):
    store = KeyStore(home)
    return {
        "editor": store.create("editor", name="编辑"),
        "reader": store.create("reader"),
        "default_only": store.create("reader", ["default"]),
        "cite": store.create("cite"),
        "admin": store.create("admin"),
    }


@pytest.fixture(scope="module")
def client(home, keys, store):
    app = create_app(store.settings(max_upload_mb=0.01), kb=store.kb(home))
    with TestClient(app) as c:
        yield c


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def upload(client, key, name="议事厅.txt", data=SECRET.encode("gbk"), collection="内部资料"):
    return client.post(
        "/api/v1/documents",
        files={"files": (name, data, "text/plain")},
        data={"collection": collection},
        headers=auth(key) if key else {},
    )


def finished(client, key, response) -> dict:
    """The job a write answered with (202, queued at once), polled until it ends."""
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert job["state"] == "queued" and job["id"]
    deadline = time.monotonic() + 300
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = client.get(f"/api/v1/jobs/{job['id']}", headers=auth(key)).json()
    return job


def uploaded(client, key, **kwargs) -> dict:
    """The ingest report of an upload that ended ``done``."""
    job = finished(client, key, upload(client, key, **kwargs))
    assert job["state"] == "done", job
    return job["report"]


def test_writes_need_an_editor_key(client, keys):
    assert upload(client, None).status_code == 401
    assert upload(client, "dj_nope_nope").status_code == 401
    response = upload(client, keys["reader"])
    assert response.status_code == 403 and "reader" in response.json()["error"]["message"]


def test_editor_uploads_and_limited_keys_never_see_other_collections(client, keys):
    report = uploaded(client, keys["editor"])
    assert len(report["added"]) == 1 and report["total_documents"] >= 4
    doc_id = report["added"][0]

    hits = client.get("/api/v1/search", params={"q": QUESTION}, headers=auth(keys["reader"])).json()["hits"]
    assert hits and hits[0]["doc_id"] == doc_id and hits[0]["collection"] == "内部资料"

    limited = auth(keys["default_only"])
    seen = client.get("/api/v1/search", params={"q": QUESTION, "k": 50}, headers=limited).json()
    assert all(h["collection"] == "default" for h in seen["hits"] + seen["related"])
    asked = client.post("/api/v1/ask", json={"question": QUESTION, "k": 50}, headers=limited).json()
    assert all(p["collection"] == "default" for p in asked["passages"])
    listed = client.get("/api/v1/documents", headers=limited).json()
    assert doc_id not in [d["doc_id"] for d in listed["documents"]]
    health = client.get("/api/v1/health", headers=limited).json()
    assert set(health["collections"]) == {"default"} and health["documents"] == listed["total"]
    assert client.get(f"/api/v1/documents/{doc_id}", headers=limited).status_code == 404
    refused = client.post("/api/v1/ask", json={"question": QUESTION, "collections": ["内部资料"]}, headers=limited)
    assert refused.status_code == 400 and "内部资料" not in refused.json()["error"]["message"].split("现有")[1]

    # A cite-only key gets quotes but not the whole document.
    cite = auth(keys["cite"])
    assert client.post("/api/v1/ask", json={"question": QUESTION}, headers=cite).json()["passages"]
    assert client.get(f"/api/v1/documents/{doc_id}", headers=cite).status_code == 403
    # Reads are open by default.
    assert client.get(f"/api/v1/documents/{doc_id}").json()["text"].startswith("内部资料")


def test_reingest_and_delete(client, keys):
    doc_id = uploaded(client, keys["editor"], name="议事厅2.txt", data=(SECRET + "第二份。").encode())["added"][0]
    again = finished(
        client, keys["editor"], client.post(f"/api/v1/documents/{doc_id}/reingest", headers=auth(keys["editor"]))
    )
    assert again["state"] == "done" and again["kind"] == "reingest"
    assert again["files"] == [{"name": "议事厅2.txt", "status": "unchanged", "reason": "", "doc_id": doc_id}]
    assert again["report"]["unchanged"] and not again["report"]["added"]
    removed = client.delete(f"/api/v1/documents/{doc_id}", headers=auth(keys["editor"])).json()
    assert removed["removed"] == [doc_id]
    assert client.get(f"/api/v1/documents/{doc_id}").status_code == 404
    hits = client.get("/api/v1/search", params={"q": QUESTION, "k": 50}).json()["hits"]
    assert doc_id not in [h["doc_id"] for h in hits]


@pytest.mark.parametrize(
    ("name", "data", "status", "phrase"),
    [
        ("病毒.exe", b"MZ\x90\x00", 400, "不支持的文件类型"),
        ("大文件.txt", "党建".encode() * 10_000, 413, "超过上传上限"),
    ],
)
def test_bad_uploads_are_refused_in_chinese(client, keys, name, data, status, phrase):
    """A batch whose every file is refused on arrival is refused whole; nothing is queued."""
    before = client.get("/api/v1/health").json()["documents"]
    response = upload(client, keys["editor"], name=name, data=data)
    assert response.status_code == status and phrase in response.json()["error"]["message"]
    assert client.get("/api/v1/health").json()["documents"] == before


def test_an_upload_with_nothing_to_index_ends_failed_in_chinese(client, keys, home):
    before = client.get("/api/v1/health").json()["documents"]
    job = finished(client, keys["editor"], upload(client, keys["editor"], name="空.txt", data=b""))
    assert job["state"] == "failed" and "没有导入任何文件" in job["error"]
    assert job["files"] == [
        {"name": "空.txt", "status": "skipped", "reason": job["files"][0]["reason"], "doc_id": None}
    ]
    assert "空" in job["files"][0]["reason"]
    assert client.get("/api/v1/health").json()["documents"] == before
    assert not (home.with_name(home.name + "_uploads") / collection_id("内部资料") / "空.txt").exists()


def test_a_setting_makes_reads_key_only(home, keys, store):
    app = create_app(store.settings(require_key=True), kb=store.kb(home))
    with TestClient(app) as c:
        assert c.get("/api/v1/search", params={"q": QUESTION}).status_code == 401
        assert c.get("/api/v1/search", params={"q": QUESTION}, headers=auth(keys["reader"])).status_code == 200


def test_keys_are_stored_hashed_and_revocable(home, keys):
    text = (home / "keys.json").read_text(encoding="utf-8")
    assert keys["editor"] not in text and keys["editor"].split("_", 2)[2] not in text
    store = KeyStore(home)
    key = store.create("reader")
    assert store.principal(key).role == "reader"
    store.revoke(key.split("_")[1])
    assert store.principal(key) is None


def test_collections_are_created_listed_and_deleted_with_their_documents(client, keys):
    editor, admin = auth(keys["editor"]), auth(keys["admin"])
    created = client.post("/api/v1/collections", json={"name": "案例库", "description": "各社区案例"}, headers=editor)
    assert created.json() == {"name": "案例库", "description": "各社区案例", "documents": 0}
    assert client.post("/api/v1/collections", json={"name": "案例库"}, headers=editor).status_code == 409
    assert client.post("/api/v1/collections", json={"name": "a/b"}, headers=editor).status_code == 422
    names = {c["name"]: c["documents"] for c in client.get("/api/v1/collections").json()}
    assert names["案例库"] == 0 and names["default"] >= 3
    assert [c["name"] for c in client.get("/api/v1/collections", headers=auth(keys["default_only"])).json()] == [
        "default"
    ]
    doc_id = uploaded(
        client, keys["editor"], name="案例.txt", data=(SECRET + "案例库副本。").encode(), collection="案例库"
    )["added"][0]
    assert client.delete("/api/v1/collections/案例库", headers=editor).status_code == 403
    removed = client.delete("/api/v1/collections/案例库", headers=admin).json()
    assert removed["removed"] == [doc_id]
    assert "案例库" not in {c["name"] for c in client.get("/api/v1/collections").json()}
    hits = client.get("/api/v1/search", params={"q": QUESTION, "k": 50}).json()["hits"]
    assert doc_id not in [h["doc_id"] for h in hits]


def test_metrics_count_requests_and_index_size(client, keys):
    client.get("/api/v1/search", params={"q": QUESTION})
    text = client.get("/api/v1/metrics").text
    assert 'dangjian_requests_total{method="GET",route="/api/v1/search",status="200"}' in text
    assert "dangjian_request_seconds_bucket" in text
    health = client.get("/api/v1/health").json()
    assert f"dangjian_index_documents {float(health['documents'])}" in text
    limited = client.get("/api/v1/metrics", headers=auth(keys["default_only"]))
    assert limited.status_code == 403  # index-wide counts would tell of other collections


def test_queries_served_during_uploads_and_deletes_always_see_a_complete_index(home, keys, tmp_path, store):
    """Searches from several threads while an editor uploads and deletes over a real socket:
    no errors, every answer is a complete version, and a deleted document never comes back."""
    with live_server(home, env=store.env()) as base:
        _load_during_writes(base + "/api/v1", keys)


def _load_during_writes(base: str, keys: dict) -> None:
    def call(path, data=None, headers=None, method=None):
        request = urllib.request.Request(base + path, data=data, headers=headers or {}, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    errors, seen, stop = [], [], threading.Event()
    query = "/search?k=50&q=" + urllib.request.quote(QUESTION)

    def reader():
        while not stop.is_set():
            try:
                started = time.monotonic()
                body = call(query)
                seen.append((started, {h["doc_id"] for h in body["hits"]}))
                assert all(h["quote"] and h["citation"] for h in body["hits"])
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    editor = {"Authorization": f"Bearer {keys['editor']}"}
    deleted = []
    for i in range(3):
        boundary = uuid.uuid4().hex
        text = (SECRET + f"并发测试第{i}份。").encode()
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="collection"\r\n\r\n并发\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="c{i}.txt"\r\n'
                f"Content-Type: text/plain\r\n\r\n"
            ).encode()
            + text
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {**editor, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        job = call("/documents", data=body, headers=headers)["job"]
        while job["state"] in ("queued", "running"):
            time.sleep(0.1)
            job = call(f"/jobs/{job['id']}", headers=editor)
        doc_id = job["report"]["added"][0]
        call(f"/documents/{doc_id}", headers=editor, method="DELETE")
        deleted.append(doc_id)
    after = time.monotonic()  # the last delete has returned
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    later = [ids for started, ids in seen if started > after]
    assert later  # queries went on after the last delete
    assert not any(set(deleted) & ids for ids in later)  # a query started after a delete never sees it
    final = call(query)
    assert not set(deleted) & {h["doc_id"] for h in final["hits"]}


HIDDEN, GHOST = "内部资料", "不存在的库"


def test_a_limited_key_learns_neither_content_nor_existence_of_other_collections(client, keys, home):
    """For each route, asking about a hidden collection or document answers exactly as asking
    about one that does not exist; listings never mention it."""
    hidden_text = SECRET + "权限测试：推行“议事厅夜话”工作机制。"
    hidden_doc = uploaded(client, keys["editor"], name="权限.txt", data=hidden_text.encode())
    hidden_doc = (hidden_doc["added"] or [d["doc_id"] for d in hidden_doc["duplicates"]])[0]
    ghost_doc = "0" * len(hidden_doc)
    store = KeyStore(home)
    limited = {role: auth(store.create(role, ["default"])) for role in ("reader", "editor", "admin")}

    def same(method, make_path, role="reader", **kwargs):
        def answer(name, doc):
            args = {k: (v(name, doc) if callable(v) else v) for k, v in kwargs.items()}
            r = client.request(method, make_path(name, doc), headers=limited[role], **args)
            return r.status_code, r.text.replace(name, "NAME").replace(doc, "DOC")

        assert answer(HIDDEN, hidden_doc) == answer(GHOST, ghost_doc), make_path(HIDDEN, hidden_doc)

    same("GET", lambda n, d: f"/api/v1/documents?collection={n}")
    same("GET", lambda n, d: f"/api/v1/documents/{d}")
    same("GET", lambda n, d: f"/api/v1/search?q=议事厅&collection={n}")
    same("POST", lambda n, d: "/api/v1/ask", json=lambda n, d: {"question": "议事厅", "collections": [n]})
    same("DELETE", lambda n, d: f"/api/v1/documents/{d}", role="editor")
    same("POST", lambda n, d: f"/api/v1/documents/{d}/reingest", role="editor")
    same("POST", lambda n, d: "/api/v1/collections", role="editor", json=lambda n, d: {"name": n})
    same("DELETE", lambda n, d: f"/api/v1/collections/{n}", role="admin")
    same(
        "POST",
        lambda n, d: "/api/v1/documents",
        role="editor",
        files={"files": ("x.txt", "党建".encode(), "text/plain")},
        data=lambda n, d: {"collection": n},
    )
    hidden_card, ghost_card = (
        client.get(f"/api/v1/methods/{n}", headers=limited["reader"]) for n in ("议事厅夜话", "不存在的夜话")
    )
    assert hidden_card.status_code == ghost_card.status_code == 404
    assert hidden_card.json()["error"]["code"] == ghost_card.json()["error"]["code"]
    assert client.get("/api/v1/methods/议事厅夜话", headers=auth(keys["reader"])).status_code == 200
    for path in (
        "/api/v1/health",
        "/api/v1/collections",
        "/api/v1/methods",
        "/api/v1/documents?limit=500",
        f"/api/v1/search?q={QUESTION}&k=50",
    ):
        text = client.get(path, headers=limited["reader"]).text
        assert HIDDEN not in text and hidden_doc not in text and "议事厅夜话" not in text, path
    asked = client.post("/api/v1/ask", json={"question": QUESTION, "k": 50}, headers=limited["reader"]).text
    assert HIDDEN not in asked and hidden_doc not in asked
