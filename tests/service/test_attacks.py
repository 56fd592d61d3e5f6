"""Issue 21, tried as an attacker would: each numbered finding pinned by a test that failed before
the fix. A small index with the fake embedder (plumbing, not retrieval quality) and two
collections, 甲库 and 乙库; keys limited to one of them."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dangjian.errors import DangjianError
from dangjian.service import create_app
from dangjian.service.keys import KeyStore

from ..conftest import REPO
from ..fakes import fake_kb
from .test_writes import auth, finished

A, B = "甲库", "乙库"
TEXT_A = "甲库制度\n\n一、会议安排\n社区党委每月召开一次党员大会，听取党员意见，研究社区治理重点任务。\n"
TITLE_B = "乙库议事厅夜话实施细则"
TEXT_B = (
    f"{TITLE_B}\n\n一、总则\n居民议事厅每周三晚上开放，由网格员主持，议题提前三天在小区公开栏公示。\n\n"
    "二、程序\n议事结果在七日内反馈给提出议题的居民，并在公开栏张贴处理情况。\n"
)
SECRET = "内部资料：楼道长每月走访独居老人两次，记录需求并在三日内转交社区服务站办理。\n" * 3
LONG_DOC = "\n\n".join(
    f"{i}、第{i}条规定：社区网格员第{i}项职责是走访居民、收集诉求、按时反馈结果。" for i in range(1, 80)
)


def settings(**kwargs):
    from dangjian.config import Settings

    return Settings(**kwargs)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("attacks")
    src = root / "src"
    src.mkdir()
    (src / "a.txt").write_text(TEXT_A, encoding="utf-8")
    (src / "b.txt").write_text(TEXT_B, encoding="utf-8")
    (src / "long.txt").write_text(LONG_DOC, encoding="utf-8")
    kb = fake_kb(root / "idx")
    kb.ingest([src / "a.txt"], collection=A)
    kb.ingest([src / "b.txt", src / "long.txt"], collection=B)
    return root / "idx"


@pytest.fixture(scope="module")
def keys(home) -> dict[str, str]:
    store = KeyStore(home)
    return {
        "editor": store.create("editor"),
        "admin": store.create("admin"),
        "reader": store.create("reader"),
        "editor_a": store.create("editor", [A]),
        "editor_b": store.create("editor", [B]),
        "reader_a": store.create("reader", [A]),
    }


def make_app(home, **kwargs):
    kwargs.setdefault("max_upload_mb", 1)
    return create_app(settings(index_dir=home, **kwargs), kb=fake_kb(home))


@pytest.fixture(scope="module")
def client(home, keys):
    with TestClient(make_app(home)) as c:
        yield c


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    return response.json()["error"]


def upload(client, key, files, collection=A):
    return client.post(
        "/api/v1/documents", files=[("files", f) for f in files], data={"collection": collection}, headers=auth(key)
    )


# --- 1. size limits hold while the body streams, before auth -----------------------------------


def call_asgi(app, method: str, path: str, headers: dict[str, str], chunks: int, chunk: bytes = b"x" * (1 << 20)):
    """Call the app directly with a body of ``chunks`` × ``chunk`` sent without a
    Content-Length (chunked): (status, body, how many chunks the app pulled)."""
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        if pulled >= chunks:
            return {"type": "http.disconnect"}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def test_a_chunked_json_body_is_refused_while_it_streams(home, keys):
    """Finding 1: 400 MB of chunked JSON was read whole; now the first MiB past the limit ends it."""
    app = make_app(home)
    with TestClient(app):
        status, body, pulled = call_asgi(
            app, "POST", "/api/v1/ask", {"content-type": "application/json", "transfer-encoding": "chunked"}, 400
        )
    assert status == 413 and body["error"]["code"] == "too_large" and "上限 256 KB" in body["error"]["message"]
    assert pulled <= 2


def test_a_request_without_the_key_it_needs_is_refused_before_its_body_is_read(home, keys):
    """Finding 1: with require_key and no key, 300 MB were read before the 401."""
    app = make_app(home, require_key=True)
    with TestClient(app):
        status, body, pulled = call_asgi(app, "POST", "/api/v1/ask", {"content-type": "application/json"}, 300)
        assert (status, pulled) == (401, 0) and "需要 API 密钥" in body["error"]["message"]
        multipart = {"content-type": "multipart/form-data; boundary=x"}
        status, body, pulled = call_asgi(app, "POST", "/api/v1/documents", multipart, 300)
        assert (status, pulled) == (401, 0)
        reader = {**multipart, "authorization": f"Bearer {keys['reader']}"}
        status, body, pulled = call_asgi(app, "POST", "/api/v1/documents", reader, 300)
        assert (status, pulled) == (403, 0) and body["error"]["code"] == "forbidden"
        bad = {**multipart, "authorization": "Bearer dj_nope_nope"}
        assert call_asgi(app, "POST", "/api/v1/documents", bad, 300)[::2] == (401, 0)


def test_a_chunked_multipart_upload_stops_at_the_upload_limit(home, keys):
    """Finding 1: a 600 MB multipart body landed ~460 MB in the temporary folder first."""
    app = make_app(home, max_upload_mb=2)
    headers = {"content-type": "multipart/form-data; boundary=xyz", "authorization": f"Bearer {keys['editor']}"}
    head = b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\n'
    with TestClient(app):
        status, body, pulled = call_asgi(app, "POST", "/api/v1/documents", headers, 600, head + b"x" * (1 << 20))
    assert status == 413 and body["error"]["code"] == "too_large"
    assert pulled <= 4  # 2 MB of file and a megabyte of fields, then the next chunk is refused


RSS_SERVER = """
import sys, uvicorn
from dangjian.config import Settings
from dangjian.service import create_app
from tests.fakes import fake_kb
home, port = sys.argv[1], int(sys.argv[2])
uvicorn.run(create_app(Settings(index_dir=home), kb=fake_kb(home)), host="127.0.0.1", port=port, log_level="warning")
"""


def _rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
def test_a_chunked_body_over_a_real_socket_leaves_the_server_memory_bounded(home):
    """Finding 1, measured: 150 MB of chunked JSON sent to a real server raises its peak RSS by
    less than 100 MB (before the fix, by more than the body)."""
    import http.client
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", RSS_SERVER, str(home), str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/api/v1/health")
                assert conn.getresponse().status == 200
                conn.close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        before = _rss_kb(proc.pid, "VmRSS")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.putrequest("POST", "/api/v1/ask")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"x" * (1 << 20)
        status = None
        try:
            conn.send(b'e\r\n{"question": "\r\n')
            for _ in range(150):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
            status = conn.getresponse().status
        except OSError:
            pass  # the server answered 413 and closed while the rest was still being sent
        grown_mb = (_rss_kb(proc.pid, "VmHWM") - before) / 1024
        print(f"server peak RSS grew {grown_mb:.1f} MB after 150 MB of chunked JSON (status {status})")
        assert grown_mb < 100, f"server RSS grew {grown_mb:.0f} MB"
        assert status in (413, None)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- 2. one request cannot freeze the server; errors do not echo the body ------------------------


def test_a_json_body_with_very_many_keys_is_refused_before_validation(home):
    """Finding 2: 2 million unknown keys stalled /health for 26 s."""
    with TestClient(make_app(home, max_json_kb=8192)) as c:
        body = json.dumps({"question": "党建", **{f"k{i}": 0 for i in range(400_000)}})
        started = time.perf_counter()
        error = error_of(c.post("/api/v1/ask", content=body, headers={"content-type": "application/json"}), 413)
        assert time.perf_counter() - started < 5
        assert error["code"] == "too_complex" and "字段太多" in error["message"]
        deep = "[" * 5000 + "]" * 5000
        error = error_of(c.post("/api/v1/ask", content=deep, headers={"content-type": "application/json"}), 413)
        assert error["code"] == "too_complex" and "嵌套太深" in error["message"]
        nested = {
            "question": "党建",
            "filters": {"doc_ids": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
        }
        assert error_of(c.post("/api/v1/ask", json=nested), 413)["code"] == "too_complex"
        assert c.post("/api/v1/ask", json={"question": "党员大会多久召开一次"}).status_code == 200


def test_a_validation_error_never_echoes_the_body(client):
    """Finding 2: a text/plain body to /ask got a 422 echoing it (9 MB in → 45 MB out)."""
    body = "党" * 60_000
    response = client.post("/api/v1/ask", content=body.encode(), headers={"content-type": "text/plain"})
    error = error_of(response, 422)
    assert len(response.content) < 1000 and "党" * 50 not in error["message"]
    response = client.post("/api/v1/ask", json={"question": "问题", "k": "党" * 10_000})
    assert response.status_code == 422 and len(response.content) < 1000
    response = client.post("/api/v1/ask", json={"question": "问题", "党" * 10_000: 1})
    assert response.status_code == 422 and len(response.content) < 1000


# --- 3. archive parts bounded -------------------------------------------------------------------


def many_parts_docx(path: Path, parts: int) -> Path:
    """A .docx whose document links ``parts`` media parts of 1 MiB each (deflated to ~1 KB)."""
    from ..conftest import CORPUS

    sample = CORPUS / "samples" / "示例_十联工作法经验材料.docx"
    rels_name = "word/_rels/document.xml.rels"
    with zipfile.ZipFile(sample) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == rels_name:
                extra = "".join(
                    f'<Relationship Id="rIdBomb{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    f'relationships/image" Target="media/bomb{i}.png"/>'
                    for i in range(parts)
                )
                data = data.replace(b"</Relationships>", extra.encode() + b"</Relationships>")
            if item.filename == "[Content_Types].xml" and b'Extension="png"' not in data:
                data = data.replace(b"<Default ", b'<Default Extension="png" ContentType="image/png"/><Default ', 1)
            dst.writestr(item, data)
        block = b"\0" * (1 << 20)
        for i in range(parts):
            dst.writestr(f"word/media/bomb{i}.png", block)
    return path


def test_a_docx_of_many_linked_megabyte_parts_is_refused_with_bounded_memory(tmp_path):
    """Finding 3: a 1.08 MB .docx with 900 linked 1 MiB parts raised RSS by ~0.9 GB (only parts
    over 1 MiB had their ratio checked, and only XML parts were totalled)."""
    from ..ingest.test_bad_input import run_isolated

    bomb = many_parts_docx(tmp_path / "parts.docx", 300)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    result = run_isolated(
        "from dangjian.evaluation import peak_rss_mb\n"
        "from dangjian.ingest import iter_documents\n"
        "import dangjian.ingest.office, docx\n"
        "base = peak_rss_mb()\n"
        "items = list(iter_documents(sys.argv[1]))\n"
        "result = {'codes': [getattr(i, 'code', 'document') for i in items], 'base': base}\n",
        str(bomb),
    )
    print(f"peak RSS grew {result['rss_mb'] - result['base']:.1f} MB while reading a 300-part .docx")
    assert result["codes"] == ["zip_bomb"]
    assert result["rss_mb"] - result["base"] < 100, result


def test_archive_limits_are_settings(tmp_path):
    from dangjian.ingest.limits import Limits

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(30):
            zf.writestr(f"f{i}.txt", f"一、内容\n第{i}份正文。")
    report = fake_kb(tmp_path / "idx", limits=Limits(max_parts=20)).ingest([many])
    assert [s.code for s in report.skipped] == ["too_many_files"]
    assert "DANGJIAN_MAX_ARCHIVE_PARTS" in report.skipped[0].reason
    assert settings(max_archive_parts=7).max_archive_parts == 7
    ofd = tmp_path / "公文.ofd"  # an OFD is a zip package too
    with zipfile.ZipFile(ofd, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"Doc_0/Res/big{i}.bin", b"\0" * (1 << 20))
    report = fake_kb(tmp_path / "idx2").ingest([ofd])
    assert [s.code for s in report.skipped] == ["zip_bomb"] and "压缩比" in report.skipped[0].reason


# --- 4. collection names and storage paths -------------------------------------------------------


BAD_COLLECTIONS = [
    "..",
    ".",
    "a/b",
    "a\\b",
    "内部\x07资料",
    "内部\u202e资料",
    "内部资料\u200b",
    "x\x00y",
    ".staging",
    "长" * 65,
]


@pytest.mark.parametrize("name", BAD_COLLECTIONS)
def test_collection_names_are_validated_at_every_entry_point(client, keys, home, name, tmp_path):
    """Finding 4: ``collection=..`` wrote into the index's parent folder; control characters,
    U+202E and a zero-width look-alike were accepted."""
    before = sorted(p.name for p in home.parent.iterdir())
    response = upload(client, keys["editor"], [("README.md", b"# overwritten\n\nx", "text/markdown")], collection=name)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("bad_collection", "invalid_request")
    assert sorted(p.name for p in home.parent.iterdir()) == before
    response = client.post("/api/v1/collections", json={"name": name}, headers=auth(keys["editor"]))
    assert response.status_code in (400, 422)
    with pytest.raises(DangjianError):
        KeyStore(tmp_path).create("reader", [name])
    src = tmp_path / "x.txt"
    src.write_text(TEXT_A, encoding="utf-8")
    with pytest.raises(DangjianError):
        fake_kb(tmp_path / "idx").ingest([src], collection=name)


def test_the_cli_refuses_a_bad_collection_name(tmp_path):
    src = tmp_path / "x.txt"
    src.write_text(TEXT_A, encoding="utf-8")
    dangjian = str(Path(sys.executable).parent / "dangjian")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in (
        ["ingest", str(src), "--index", str(tmp_path / "idx"), "--collection", ".."],
        ["keys", "create", "--role", "reader", "--collection", "内部资料\u200b", "--index", str(tmp_path / "idx")],
    ):
        proc = subprocess.run([dangjian, *args], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode != 0 and "知识库名" in proc.stderr + proc.stdout and "Traceback" not in proc.stderr


def test_uploads_are_stored_by_collection_id_under_a_safe_name(client, keys, home):
    name = "../../" + "长" * 120 + ".txt"
    job = finished(client, keys["editor"], upload(client, keys["editor"], [(name, SECRET.encode(), "text/plain")]))
    assert job["state"] == "done", job
    uploads = home.with_name(home.name + "_uploads")
    stored = [p for p in uploads.rglob("*.txt") if ".staging" not in p.parts]
    assert stored and all(p.parent.parent == uploads and p.parent.name.startswith("c") for p in stored)
    assert not (uploads / A).exists()
    assert all(len(p.name.encode()) <= 200 for p in stored)
    doc_id = job["files"][0]["doc_id"]
    detail = client.get(f"/api/v1/documents/{doc_id}", headers=auth(keys["reader"])).json()
    assert detail["metadata"]["original_name"].endswith("长" * 120 + ".txt")
    assert "original_name" not in client.get(f"/api/v1/documents/{doc_id}").json()["metadata"]  # anonymous
    [mine] = [p for p in stored if p.name.startswith("长")]
    removed = client.delete(f"/api/v1/documents/{doc_id}", headers=auth(keys["editor"]))
    assert removed.status_code == 200 and not mine.exists()


def test_an_original_stored_the_old_way_is_still_replaced_and_deleted(tmp_path):
    """Uploads kept before (``<uploads>/<collection>/<file>``) still update in place."""
    from dangjian.catalogue import Catalogue

    kb = fake_kb(tmp_path / "idx")
    cat = Catalogue(kb)
    legacy = cat.uploads_dir / A / "旧.txt"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(TEXT_A, encoding="utf-8")
    kb.ingest([legacy], collection=A)
    staged, _ = cat.stage_upload([("旧.txt", io.BytesIO((TEXT_A + "补充一句。").encode()))], "job1", max_mb=1)
    report = cat.ingest_staged(staged, A)
    assert report.replaced and not report.added
    assert legacy.read_text(encoding="utf-8").endswith("补充一句。")
    docs = {d: info for d, info in kb.searcher().docs.items()}
    cat.delete_documents(docs, list(docs))
    assert not legacy.exists()


# --- 5. collection-limited keys do not leak ----------------------------------------------------


def test_duplicates_are_per_collection_and_reports_name_only_the_callers(client, keys, home):
    """Finding 5: a duplicate report of an upload into A named B's source path and doc id, and
    the copy did not appear in A."""
    job = finished(
        client, keys["editor_a"], upload(client, keys["editor_a"], [("复制.txt", TEXT_B.encode(), "text/plain")])
    )
    assert job["state"] == "done" and job["files"][0]["status"] == "added", job
    text = json.dumps(job, ensure_ascii=False)
    b_ids = {
        d["doc_id"]
        for d in client.get("/api/v1/documents", headers=auth(keys["reader"])).json()["documents"]
        if d["collection"] == B
    }
    assert not any(doc_id in text for doc_id in b_ids) and "b.txt" not in text and B not in text
    listed = client.get("/api/v1/documents", headers=auth(keys["reader_a"])).json()["documents"]
    copy = job["files"][0]["doc_id"]
    assert copy in [d["doc_id"] for d in listed]
    assert client.get("/api/v1/documents", params={"collection": B}, headers=auth(keys["reader"])).json()["total"] == 2
    # the same text uploaded again into A is a duplicate, named by A's file only
    again = finished(
        client, keys["editor_a"], upload(client, keys["editor_a"], [("复制2.txt", TEXT_B.encode(), "text/plain")])
    )
    assert again["files"][0]["status"] == "duplicate" and "复制.txt" in again["files"][0]["reason"]
    assert again["report"]["duplicates"] == [{"source": "复制2.txt", "duplicate_of": "复制.txt", "doc_id": copy}]
    client.delete(f"/api/v1/documents/{copy}", headers=auth(keys["editor_a"]))


def test_write_responses_count_only_the_keys_collections(client, keys):
    """Finding 5: write responses carried index-wide counts."""
    job = finished(
        client, keys["editor_a"], upload(client, keys["editor_a"], [("计数.txt", SECRET.encode(), "text/plain")])
    )
    visible = client.get("/api/v1/health", headers=auth(keys["editor_a"])).json()
    everything = client.get("/api/v1/health", headers=auth(keys["reader"])).json()
    assert job["report"]["total_documents"] == visible["documents"] < everything["documents"]
    assert job["report"]["total_passages"] == visible["passages"] < everything["passages"]
    removed = client.delete(f"/api/v1/documents/{job['files'][0]['doc_id']}", headers=auth(keys["editor_a"])).json()
    assert removed["total_documents"] == visible["documents"] - 1


def test_whether_a_question_is_declined_tells_nothing_of_other_collections_titles(home, keys):
    """Finding 5: a question containing a title of B was never declined, even for a key limited
    to A (the check ran over all documents)."""
    app = create_app(settings(index_dir=home), kb=fake_kb(home, search_settings=strict()))
    with TestClient(app) as c:

        def declined(question: str, key: str) -> bool:
            return c.post("/api/v1/ask", json={"question": question}, headers=auth(keys[key])).json()["abstained"]

        ghost = "乙库议事厅晨会实施办法"
        assert not declined(TITLE_B, "reader")  # for a key that sees B, its title is on topic
        assert declined(TITLE_B, "reader_a") == declined(ghost, "reader_a")


def strict():
    from dangjian.index.settings import SearchSettings

    return SearchSettings(abstain_threshold=2.0)


def test_a_cite_key_is_rate_limited_per_minute(home):
    store = KeyStore(home)
    cite = store.create("cite")
    with TestClient(make_app(home, cite_requests_per_minute=3)) as c:
        statuses = [c.get("/api/v1/search", params={"q": "网格员"}, headers=auth(cite)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = c.get("/api/v1/health", headers=auth(cite))
        assert int(limited.headers["retry-after"]) >= 1 and "每分钟最多 3 次" in limited.json()["error"]["message"]
        assert c.get("/api/v1/health", headers=auth(store.create("reader"))).status_code == 200


def test_a_cite_key_cannot_reconstruct_a_document(home):
    """Finding 5: a cite key got 95 % of a document back through 20 /ask calls with k=50 and a
    doc filter. Now the distinct text of one document it receives in a day is capped."""
    cap = 600
    cite = KeyStore(home).create("cite")
    with TestClient(make_app(home, cite_chars_per_doc_day=cap, cite_requests_per_minute=0)) as c:
        long_id = next(
            d["doc_id"]
            for d in c.get("/api/v1/documents", headers=auth(cite)).json()["documents"]
            if d["source"].endswith("long.txt")
        )
        spans: list[tuple[int, int]] = []
        refused = 0
        for i in range(1, 41):
            body = {"question": f"第{i}条规定 网格员职责", "k": 50, "filters": {"doc_ids": [long_id]}}
            response = c.post("/api/v1/ask", json=body, headers=auth(cite))
            if response.status_code == 429:
                refused += 1
                assert int(response.headers["retry-after"]) >= 1 and "上限" in response.json()["error"]["message"]
                continue
            assert response.status_code == 200
            spans += [(p["start"], p["end"]) for p in response.json()["passages"]]
        covered = set()
        for start, end in spans:
            covered.update(range(start, end))
        assert refused and len(covered) <= cap < len(LONG_DOC) / 4


# --- 6. no 500s --------------------------------------------------------------------------------


def test_odd_file_names_and_the_same_file_twice_at_once_never_give_a_500(client, keys):
    """Finding 6: a file name over ~250 bytes, NUL in a file name or collection, the same file
    uploaded twice at once gave 500s."""
    key = keys["editor"]
    long = "党建" * 100 + ".txt"  # 603 bytes
    for name in (long, "报\x00告.txt", "\x00.txt"):
        response = upload(client, key, [(name, SECRET.encode(), "text/plain")])
        assert response.status_code in (202, 400), response.text
        if response.status_code == 202:
            assert finished(client, key, response)["state"] in ("done", "failed")
    assert upload(client, key, [("a.txt", b"x", "text/plain")], collection="内\x00部").status_code == 400
    twice = [("同名.txt", (SECRET + "两份。").encode(), "text/plain")] * 2
    assert finished(client, key, upload(client, key, twice))["state"] == "done"
    responses: list = []
    data = (SECRET + "同时上传。").encode()

    def send():
        responses.append(upload(client, key, [("同时.txt", data, "text/plain")]))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in responses] == [202] * 4
    jobs = [finished(client, key, r) for r in responses]
    assert [j["state"] for j in jobs] == ["done"] * 4
    assert sorted(j["files"][0]["status"] for j in jobs) == ["added", "unchanged", "unchanged", "unchanged"]


@pytest.fixture
def broken_keys_home(tmp_path, home):
    import shutil

    copy = Path(shutil.copytree(home, tmp_path / "idx"))
    (copy / "keys.json").write_text('[{"key_id": "x", "role": ', encoding="utf-8")
    return copy


def test_a_broken_keys_file_is_a_startup_error_and_a_503(broken_keys_home, caplog):
    """Finding 6: a malformed keys.json made every keyed request 500."""
    with caplog.at_level(logging.ERROR, logger="dangjian.service"):
        with TestClient(make_app(broken_keys_home)) as c:
            assert any("keys file" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
            error = error_of(c.get("/api/v1/health", headers=auth("dj_abc_def")), 503)
            assert error["code"] == "keys_unavailable" and "keys.json" in error["message"]
            assert error_of(c.post("/api/v1/documents", headers=auth("dj_abc_def")), 503)["code"] == "keys_unavailable"
            assert c.get("/api/v1/health").status_code == 200  # open reads go on


# --- 7. no server paths in responses ---------------------------------------------------------


def test_no_response_shows_a_server_path(client, keys, home):
    """Finding 7: index_dir, source, skip reasons and index_busy messages showed absolute paths,
    and source was visible to anonymous readers."""
    secret = str(home.parent)
    key = keys["editor"]
    texts = []
    job = finished(client, key, upload(client, key, [("路径.txt", SECRET.encode() + "路径。".encode(), "text/plain")]))
    texts.append(json.dumps(job, ensure_ascii=False))
    skipped = finished(client, key, upload(client, key, [("空白.txt", b"   ", "text/plain")]))
    texts.append(json.dumps(skipped, ensure_ascii=False))
    assert skipped["files"][0]["reason"]
    doc_id = job["files"][0]["doc_id"]
    for path in ("/api/v1/documents", f"/api/v1/documents/{doc_id}", "/api/v1/jobs"):
        texts.append(client.get(path, headers=auth(key)).text)
    texts.append(client.delete(f"/api/v1/documents/{doc_id}", headers=auth(key)).text)
    for text in texts:
        assert secret not in text and "/tmp" not in text, text[:300]
    assert job["report"]["index_dir"] == home.name
    anonymous = client.get("/api/v1/documents").json()["documents"]
    assert anonymous and all(d["source"] is None for d in anonymous)
    keyed = client.get("/api/v1/documents", headers=auth(keys["reader"])).json()["documents"]
    assert {d["source"] for d in keyed} >= {"a.txt", "b.txt"}


def test_library_messages_lose_their_server_paths(tmp_path):
    from dangjian.service.errors import dangjian_error_response

    busy = DangjianError(f"另一个导入任务正在写入索引 {tmp_path}/idx，请等它完成后再试", code="index_busy")
    message = json.loads(dangjian_error_response(busy).body)["error"]["message"]
    assert str(tmp_path) not in message and "另一个导入任务" in message
    other = DangjianError(f"无法导入文件 {tmp_path}/上传/报告.docx：文件已损坏", code="corrupt_file")
    message = json.loads(dangjian_error_response(other).body)["error"]["message"]
    assert message == "无法导入文件 报告.docx：文件已损坏"


# --- 8. PDF page count -------------------------------------------------------------------------


def test_a_pdf_over_the_page_limit_is_refused_quickly(tmp_path):
    """Finding 8: a 20,000-page PDF took ~25 ms a page with no limit."""
    from pypdf import PdfWriter

    from dangjian.ingest import iter_documents

    writer = PdfWriter()
    for _ in range(5000):
        writer.add_blank_page(width=200, height=200)
    path = tmp_path / "厚.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    started = time.perf_counter()
    [item] = list(iter_documents(path))
    assert time.perf_counter() - started < 10
    assert item.code == "too_many_pages" and "5,000 页" in item.message and "DANGJIAN_MAX_PDF_PAGES" in item.message
    from dangjian.ingest.limits import Limits, using

    with using(Limits(max_pdf_pages=10)):
        small = tmp_path / "薄.pdf"
        writer = PdfWriter()
        for _ in range(11):
            writer.add_blank_page(width=200, height=200)
        with open(small, "wb") as fh:
            writer.write(fh)
        assert [i.code for i in iter_documents(small)] == ["too_many_pages"]
