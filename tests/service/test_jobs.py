"""Uploads as background jobs: 202 at once, per-file results, queued writes, who sees a job, a
restart in the middle of a job, and no files left behind by jobs that indexed nothing."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
import uuid

import pytest
from fastapi.testclient import TestClient

from dangjian.naming import collection_id
from dangjian.service import create_app
from dangjian.service.keys import KeyStore

from ..conftest import Store, store_copy
from .live import start_server
from .test_writes import auth, finished

GOOD = "社区党委推行“楼栋议事会”：每月第一个周六由楼栋长召集居民协商公共事务，结果在楼道公示。"


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_index, store):
    return store_copy(store, corpus_index, tmp_path_factory.mktemp("jobs"))


@pytest.fixture(scope="module")
def keys(home):
    store = KeyStore(home)
    return {"editor": store.create("editor"), "limited": store.create("editor", ["default"])}


@pytest.fixture(scope="module")
def client(home, keys, store):
    with TestClient(create_app(store.settings(), kb=store.kb(home))) as c:
        yield c


def post(client, key, files, collection="任务"):
    return client.post(
        "/api/v1/documents",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        data={"collection": collection},
        headers=auth(key),
    )


def uploads(home):
    return home.with_name(home.name + "_uploads")


def test_a_bad_file_in_a_batch_is_reported_and_the_good_ones_indexed(client, keys, home):
    files = [("楼栋.txt", GOOD.encode()), ("表格.numbers", b"NUMBERS"), ("空白.txt", b"")]
    response = post(client, keys["editor"], files)
    assert response.status_code == 202
    queued = response.json()["job"]
    assert queued["state"] == "queued" and queued["kind"] == "upload" and queued["collection"] == "任务"
    job = finished(client, keys["editor"], response)
    assert job["state"] == "done" and job["error"] is None
    rows = {row["name"]: row for row in job["files"]}
    assert rows["楼栋.txt"]["status"] == "added" and rows["楼栋.txt"]["doc_id"]
    assert rows["表格.numbers"]["status"] == "skipped" and "不支持的文件类型" in rows["表格.numbers"]["reason"]
    assert rows["空白.txt"]["status"] == "skipped" and "空" in rows["空白.txt"]["reason"]
    assert job["stage"] == "write" and job["done"] == job["total"] == 1 and job["eta_s"] == 0
    listed = client.get("/api/v1/documents", params={"collection": "任务"}).json()["documents"]
    assert [d["doc_id"] for d in listed] == [rows["楼栋.txt"]["doc_id"]]
    found = client.get("/api/v1/search", params={"q": "楼栋议事会由谁召集", "k": 50}).json()
    assert rows["楼栋.txt"]["doc_id"] in {h["doc_id"] for h in found["hits"] + found["related"]}
    # the indexed file is kept; nothing else stays, staged or not
    assert sorted(p.name for p in (uploads(home) / collection_id("任务")).iterdir()) == ["楼栋.txt"]
    assert not any((uploads(home) / ".staging").iterdir())
    # the same file again: unchanged, nothing embedded, the stored original untouched
    again = finished(client, keys["editor"], post(client, keys["editor"], [("楼栋.txt", GOOD.encode())]))
    assert [row["status"] for row in again["files"]] == ["unchanged"]


def test_an_edited_upload_replaces_its_original_only_once_indexed(client, keys, home):
    first = finished(
        client, keys["editor"], post(client, keys["editor"], [("替换.txt", f"替换测试\n{GOOD}第一版。".encode())])
    )
    assert first["files"][0]["status"] == "added", first
    edited = f"替换测试\n{GOOD}第二版。".encode()
    job = finished(client, keys["editor"], post(client, keys["editor"], [("替换.txt", edited)]))
    assert [row["status"] for row in job["files"]] == ["updated"]
    assert job["files"][0]["doc_id"] != first["files"][0]["doc_id"]
    assert (uploads(home) / collection_id("任务") / "替换.txt").read_bytes() == edited


def test_two_uploads_at_once_are_queued_and_both_end_done(client, keys, home, store):
    """The second write waits for the first (here: for another writer holding the lock too)."""
    kb = store.kb(home)
    lock_held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with kb.store.write_lock():
            lock_held.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert lock_held.wait(60)
    responses = []
    threads = [
        threading.Thread(
            target=lambda i=i: responses.append(
                post(client, keys["editor"], [(f"并发{i}.txt", f"{GOOD}并发第{i}份。".encode())])
            )
        )
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(1.0)
    release.set()
    holder.join()
    jobs = [finished(client, keys["editor"], r) for r in responses]
    assert [j["state"] for j in jobs] == ["done", "done"], jobs
    assert all(j["files"][0]["status"] == "added" for j in jobs)
    listed = client.get("/api/v1/jobs", headers=auth(keys["editor"])).json()["jobs"]
    assert {j["id"] for j in jobs} <= {j["id"] for j in listed}


def test_jobs_are_seen_only_with_a_key_and_only_in_its_collections(client, keys):
    job = finished(client, keys["editor"], post(client, keys["editor"], [("可见.txt", f"{GOOD}可见性。".encode())]))
    assert client.get(f"/api/v1/jobs/{job['id']}").status_code == 401
    assert client.get("/api/v1/jobs").status_code == 401
    limited = auth(keys["limited"])
    hidden = client.get(f"/api/v1/jobs/{job['id']}", headers=limited)
    ghost = client.get(f"/api/v1/jobs/{'0' * len(job['id'])}", headers=limited)
    assert hidden.status_code == ghost.status_code == 404
    assert hidden.json()["error"]["code"] == ghost.json()["error"]["code"] == "job_not_found"
    assert all(j["collection"] == "default" for j in client.get("/api/v1/jobs", headers=limited).json()["jobs"])


def test_a_job_that_fails_leaves_no_files_and_the_index_as_it_was(client, keys, home, monkeypatch):
    before = client.get("/api/v1/health").json()
    kb = client.app.state.kb

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(kb, "ingest", broken)
    job = finished(client, keys["editor"], post(client, keys["editor"], [("失败.txt", f"{GOOD}失败。".encode())]))
    assert job["state"] == "failed" and "内部错误" in job["error"]
    assert not (uploads(home) / collection_id("任务") / "失败.txt").exists()
    assert not any((uploads(home) / ".staging").iterdir())
    after = client.get("/api/v1/health").json()
    assert (after["documents"], after["passages"]) == (before["documents"], before["passages"])


def test_a_restart_during_a_job_fails_it_and_leaves_the_index_intact(tmp_path, corpus_index):
    """`dangjian serve` is killed while a large upload is being embedded; started again, it
    reports the job failed, serves the old version, and keeps no file of the upload. (The local
    store: a process kill stops the write path the same way for both stores.)"""
    store = Store("local")
    home = store_copy(store, corpus_index, tmp_path)
    key = KeyStore(home).create("editor")
    headers = {"Authorization": f"Bearer {key}"}
    big = "\n\n".join(
        f"第{i}条 社区党组织每月开展第{i}次主题党日活动，围绕议题{i}组织学习讨论。" * 6 for i in range(400)
    )
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="大.txt"\r\n\r\n'.encode()
        + big.encode()
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def call(base, path, data=None, extra=None):
        request = urllib.request.Request(base + "/api/v1" + path, data=data, headers={**headers, **(extra or {})})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    proc, base = start_server(home, env=store.env())
    try:
        health = call(base, "/health")
        job = call(base, "/documents", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})["job"]
        deadline = time.monotonic() + 120
        while (job := call(base, f"/jobs/{job['id']}"))["stage"] != "embed" or job["done"] == job["total"]:
            assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    proc, base = start_server(home, env=store.env())
    try:
        after = call(base, f"/jobs/{job['id']}")
        assert after["state"] == "failed" and "重启" in after["error"]
        again = call(base, "/health")
        assert (again["documents"], again["passages"]) == (health["documents"], health["passages"])
    finally:
        proc.terminate()
        proc.wait(30)
    staged = home.with_name(home.name + "_uploads")
    assert not [p for p in staged.rglob("*") if p.is_file()]
