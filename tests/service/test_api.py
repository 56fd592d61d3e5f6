"""The HTTP API over the bundled corpus with the real bundled model, through TestClient, and once
for real over a socket."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dangjian.service import create_app
from dangjian.service.keys import KeyStore

from ..conftest import CORPUS
from .live import live_server


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("service") / "idx"


@pytest.fixture(scope="module")
def client(index_dir, store):
    app = create_app(store.settings(), kb=store.kb(index_dir), corpus=CORPUS)
    with TestClient(app) as c:  # the first start builds the index from the corpus
        yield c


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]


def test_first_start_builds_the_index_and_health_reports_it(client, index_dir):
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok" and health["index_version"].startswith(("v", "g"))
    documents = [p for p in CORPUS.rglob("*") if p.suffix in (".txt", ".md", ".docx", ".pdf")]
    assert health["documents"] == len(documents) and health["passages"] > 50
    assert health["collections"] == {"default": len(documents)}
    assert health["embedder"]["dimension"] == 384
    assert (index_dir / "CURRENT").exists()


def test_ask_answers_with_verbatim_cited_sentences(client):
    body = client.post("/api/v1/ask", json={"question": "十联工作法包括什么", "k": 3}).json()
    assert not body["abstained"] and body["missing"] is None
    assert "[1]" in body["answer"] and body["citations"]
    assert len(body["passages"]) == 3 and body["passages"][0]["citation"].startswith("《")
    assert "组织联建" in " ".join(p["quote"] for p in body["passages"])
    texts = {}
    for c in body["citations"]:
        assert c["quote"] in body["answer"] and c["rank"] >= 1
        if c["doc_id"] not in texts:
            texts[c["doc_id"]] = client.get(f"/api/v1/documents/{c['doc_id']}").json()["text"]
        assert texts[c["doc_id"]][c["start"] : c["end"]] == c["quote"]
    for p in body["passages"]:
        for s, e in p["highlights"]:
            assert 0 <= s < e <= len(p["quote"])


def test_method_cards_with_verbatim_sources_and_a_question_naming_one(client):
    cards = client.get("/api/v1/methods").json()
    names = [c["name"] for c in cards]
    assert {"物业管理十联工作法", "五融四零工作法", "一社一品", "书记沙龙", "初心驿站", "五共理念"} <= set(names)
    ten = client.get("/api/v1/methods/十联").json()
    assert ten["name"] == "物业管理十联工作法" and ten["count"] == 10 and len(ten["documents"]) == 3
    text = client.get(f"/api/v1/documents/{ten['components'][0]['doc_id']}").json()["text"]
    assert [text[c["start"] : c["end"]] for c in ten["components"]] == [c["text"] for c in ten["components"]]
    assert [c["text"] for c in ten["components"]][-1] == "发展联促"
    for source in [ten["definition"], *ten["mentions"]]:
        doc = client.get(f"/api/v1/documents/{source['doc_id']}").json()["text"]
        assert doc[source["start"] : source["end"]] == source["quote"]
    missing = error_of(client.get("/api/v1/methods/不存在的工作法"), 404)
    assert "没有名为" in missing["message"]
    asked = client.post("/api/v1/ask", json={"question": "十联工作法具体怎么做？"}).json()
    assert asked["method"]["name"] == "物业管理十联工作法"
    searched = client.get("/api/v1/search", params={"q": "社区党组织怎样联系物业？"}).json()
    assert searched["method"] is None


def test_quiz_of_twenty_questions_with_verbatim_evidence(client):
    quiz = client.post("/api/v1/quiz", json={"n": 20, "seed": 5}).json()
    assert len(quiz) == 20 and {q["kind"] for q in quiz} >= {"fill_blank", "choose_method", "true_false"}
    texts = {}
    for q in quiz:
        source = q["source"]
        if source["doc_id"] not in texts:
            texts[source["doc_id"]] = client.get(f"/api/v1/documents/{source['doc_id']}").json()["text"]
        assert texts[source["doc_id"]][source["start"] : source["end"]] == source["quote"]
        assert q["evidence"] in source["quote"]
    assert client.post("/api/v1/quiz", json={"n": 20, "seed": 5}).json() == quiz
    nothing = error_of(client.post("/api/v1/quiz", json={"topic": "红烧肉"}), 404)
    assert "出不了题" in nothing["message"]
    error_of(client.post("/api/v1/quiz", json={"n": 101}), 422)


def test_draft_paragraphs_cite_verbatim_passages(client):
    body = client.post("/api/v1/draft", json={"topic": "2023年社区党建工作总结", "per_section": 2}).json()
    assert [s["heading"] for s in body["sections"]][0] == "一、工作完成情况"
    refs = {r["marker"]: r for r in body["references"]}
    for section in body["sections"]:
        assert len(section["paragraphs"]) <= 2
        for p in section["paragraphs"]:
            ref = refs[p["marker"]]
            text = client.get(f"/api/v1/documents/{ref['doc_id']}").json()["text"]
            assert ref["quote"] == text[ref["start"] : ref["end"]]
            assert all(line in ref["quote"] for line in p["text"].split("\n"))
    assert (
        "没有模板"
        in error_of(client.post("/api/v1/draft", json={"topic": "x", "template": "述职报告"}), 400)["message"]
    )


def test_a_topic_quiz_its_sheet_and_normalised_grading(client):
    quiz = client.post("/api/v1/quiz", json={"topic": "十联", "n": 10, "seed": 1}).json()
    assert len(quiz) == 10 and {q["method"] for q in quiz} == {"物业管理十联工作法"}
    sheet = client.post("/api/v1/quiz/sheet", json={"topic": "十联", "n": 10, "seed": 1})
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    assert "filename*=UTF-8''%E8%AF%95%E5%8D%B7.docx" in sheet.headers["content-disposition"]
    graded = client.post(
        "/api/v1/quiz/check",
        json=[{"answer": "文化联育", "given": "「文化聯育」。"}, {"answer": "文化联育", "given": "文化联"}],
    ).json()
    assert graded == [{"correct": True}, {"correct": False}]


def test_a_draft_edited_on_the_page_exports_as_docx_and_markdown(client):
    body = client.post("/api/v1/draft", json={"topic": "2022年社区党建工作总结"}).json()
    first = body["sections"][0]
    assert first["spare"], "spare paragraphs to swap in"
    # Swap the first paragraph for a spare, drop the second section's paragraphs.
    first["paragraphs"][0] = {"text": first["spare"][0]["text"], "reference": first["spare"][0]["reference"]}
    body["sections"][1]["paragraphs"] = []
    draft = {
        "title": body["title"],
        "references": body["references"],
        "sections": [
            {"heading": s["heading"], "note": s["note"], "paragraphs": s["paragraphs"]} for s in body["sections"]
        ],
    }
    md = client.post("/api/v1/draft/export", json={"draft": draft, "format": "md"})
    assert md.status_code == 200 and md.text.startswith("# 2022年社区党建工作总结")
    assert first["spare"][0]["text"].split("\n")[0] in md.text and "[1] 《" in md.text
    docx_file = client.post("/api/v1/draft/export", json={"draft": draft})
    assert docx_file.status_code == 200 and docx_file.content[:2] == b"PK"


def test_search_filters_by_section_role(client):
    body = client.post(
        "/api/v1/ask", json={"question": "物业管理怎么做", "k": 5, "filters": {"roles": ["工作谋划"]}}
    ).json()
    # Plans only: the seed report's “三、2023年工作谋划” and the training plan, never its review
    # or problems, nor the experience report.
    assert body["passages"] and all(
        p["section_path"][:1] == ["三、2023年工作谋划"] or p["title"].endswith("计划") for p in body["passages"]
    )
    assert any(p["section_path"][:1] == ["三、2023年工作谋划"] for p in body["passages"])
    error_of(client.post("/api/v1/ask", json={"question": "物业", "filters": {"roles": ["成绩单"]}}), 422)


def test_a_fact_the_corpus_does_not_state_is_declined_with_related_passages(client):
    body = client.post("/api/v1/ask", json={"question": "物业费每平方米多少钱？"}).json()
    assert body["abstained"] and body["missing"] == "具体数字" and not body["citations"]
    assert "没有写明" in body["answer"] and any("物业费" in p["quote"] for p in body["passages"])


def test_search_ranks_passages_and_declines_off_topic_questions(client):
    body = client.get("/api/v1/search", params={"q": "新来的社工要参加哪些培训？", "k": 5}).json()
    assert not body["abstained"] and 1 <= len(body["hits"]) <= 5
    assert [h["rank"] for h in body["hits"]] == list(range(1, len(body["hits"]) + 1))
    off = client.get("/api/v1/search", params={"q": "红烧肉怎么做"}).json()
    assert off["abstained"] and off["hits"] == []


def test_documents_are_listed_paged_and_filtered(client):
    everything = client.get("/api/v1/documents").json()
    assert everything["total"] >= 3 and len(everything["documents"]) == everything["total"]
    page = client.get("/api/v1/documents", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == everything["total"] and page["documents"] == everything["documents"][1:2]
    assert client.get("/api/v1/documents", params={"type": "不存在的类型"}).json()["total"] == 0
    doc = client.get(f"/api/v1/documents/{everything['documents'][0]['doc_id']}").json()
    assert doc["text"] and doc["sections"] and doc["sections"][0]["end"] <= len(doc["text"])


def test_documents_say_how_many_passages_and_when_they_were_added(client):
    health = client.get("/api/v1/health").json()
    docs = client.get("/api/v1/documents").json()["documents"]
    assert sum(d["passages"] for d in docs) == health["passages"] and all(d["passages"] > 0 for d in docs)
    assert all(re.fullmatch(r"20\d\d-\d\d-\d\d", d["added_on"]) for d in docs)  # the day this session built it
    one = client.get(f"/api/v1/documents/{docs[0]['doc_id']}").json()
    assert one["passages"] == docs[0]["passages"] and one["added_on"] == docs[0]["added_on"]


def test_me_tells_the_page_who_a_key_is(client, index_dir):
    assert client.get("/api/v1/me").json() == {
        "signed_in": False,
        "key_id": None,
        "role": "reader",
        "collections": None,
        "can_write": False,
    }
    key = KeyStore(index_dir).create("reader", collections=["default"])
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["signed_in"] and me["role"] == "reader" and me["collections"] == ["default"] and not me["can_write"]
    assert "密钥无效" in error_of(client.get("/api/v1/me", headers={"X-API-Key": "dj_no_such"}), 401)["message"]


def test_api_docs_pages_use_only_the_services_own_files(client):
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "cdn" not in html and "googleapis" not in html, path
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset
    assert "cdn.redoc.ly" not in client.get("/api-docs/redoc.js").text


@pytest.mark.parametrize(
    ("request_kwargs", "status", "phrase"),
    [
        ({"json": {"question": ""}}, 422, "问题不能为空"),
        ({"json": {"question": "党" * 501}}, 422, "最多 500 字"),
        ({"json": {"question": "十联", "k": 51}}, 422, "不能大于 50"),
        ({"json": {"question": "十联", "k": "五"}}, 422, "类型不对"),
        ({"json": {"k": 3}}, 422, "缺少必填项：问题"),
        ({"json": {"question": "十联", "colour": "red"}}, 422, "不认识的字段"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "不是合法的 JSON"),
        ({"json": {"question": "十联", "collections": ["内部资料"]}}, 400, "没有这个知识库：内部资料"),
    ],
)
def test_bad_ask_requests_get_a_chinese_error(client, request_kwargs, status, phrase):
    error = error_of(client.post("/api/v1/ask", **request_kwargs), status)
    assert phrase in error["message"]


def test_other_errors_share_the_json_shape(client):
    assert "没有这篇文档" in error_of(client.get("/api/v1/documents/nope"), 404)["message"]
    assert "没有这个地址" in error_of(client.get("/api/v1/nothing-here"), 404)["message"]
    assert "不支持 GET" in error_of(client.get("/api/v1/ask"), 405)["message"]
    assert "不能为空" in error_of(client.get("/api/v1/search", params={"q": ""}), 422)["message"]
    assert "没有这个知识库" in error_of(client.get("/api/v1/documents", params={"collection": "x"}), 400)["message"]


def test_every_route_declares_its_response_model(client):
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ok = next(code for code in op["responses"] if code.startswith("2"))  # 202 for a queued job
            if ok == "204":  # no content (a deleted conversation): nothing to declare
                assert "content" not in op["responses"][ok], f"{method.upper()} {path}"
                continue
            content = op["responses"][ok]["content"]
            if path.endswith("/metrics"):  # Prometheus text format
                assert next(iter(content)).startswith("text/plain")
                continue
            if path.endswith(("/quiz/sheet", "/draft/export")):  # file downloads
                assert "application/vnd.openxmlformats-officedocument.wordprocessingml.document" in content
                continue
            model = content["application/json"]["schema"]
            assert "$ref" in model or "$ref" in model.get("items", {}), f"{method.upper()} {path} has no response model"
            assert op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")


def test_one_json_log_line_per_request_and_no_question_in_it(client, index_dir, store, caplog):
    question = "十联工作法包括什么"
    with caplog.at_level(logging.INFO, logger="dangjian.access"):
        response = client.get("/api/v1/search", params={"q": question}, headers={"X-Request-ID": "abc-123"})
        unusable = client.get("/api/v1/documents/nope", headers={"X-Request-ID": "no spaces allowed"})
    assert response.headers["x-request-id"] == "abc-123"
    assert re.fullmatch(r"[0-9a-f]{16}", unusable.headers["x-request-id"])
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dangjian.access"]
    assert [(x["request_id"], x["route"], x["status"]) for x in lines] == [
        ("abc-123", "/api/v1/search", 200),
        (unusable.headers["x-request-id"], "/api/v1/documents/{doc_id}", 404),
    ]
    assert all(x["method"] == "GET" and x["ms"] > 0 and x["time"] for x in lines)
    assert question not in caplog.text and "nope" not in caplog.text
    caplog.clear()
    app = create_app(store.settings(log_questions=True), kb=store.kb(index_dir))
    with TestClient(app) as c, caplog.at_level(logging.INFO, logger="dangjian.access"):
        c.post("/api/v1/ask", json={"question": question})
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dangjian.access"]
    assert line["question"] == question and line["route"] == "/api/v1/ask"


def test_a_body_over_the_limit_is_refused_before_it_is_read(index_dir, store):
    app = create_app(store.settings(max_upload_mb=0.5), kb=store.kb(index_dir))
    with TestClient(app) as c:
        error = error_of(c.post("/api/v1/ask", content=b"x" * (2 * 1024 * 1024)), 413)
        assert "请求太大（2 MB），上限 256 KB" in error["message"]  # a question needs no megabytes
        headers = {"Authorization": f"Bearer {KeyStore(index_dir).create('editor')}"}
        error = error_of(c.post("/api/v1/documents", content=b"x" * (2 * 1024 * 1024), headers=headers), 413)
        assert "请求太大（2 MB），上限 1.5 MB" in error["message"]


def test_dangjian_serve_answers_over_a_real_socket(client, index_dir, store):
    with live_server(index_dir, env=store.env()) as base:
        url = base + "/api/v1/search?q=" + urllib.request.quote("十联工作法包括什么")
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.loads(response.read())
    assert not body["abstained"] and "组织联建" in body["hits"][0]["quote"]


def test_documented_curl_examples_work_as_written(index_dir, client, tmp_path, store):
    """Every `curl` line of the README and of docs/*.md, run by bash against a live `dangjian serve`."""

    from ..conftest import REPO, documentation

    commands = re.findall(r"^curl .*$", documentation(), flags=re.M)
    assert len(commands) >= 5
    env = {**os.environ, "DANGJIAN_KEY": KeyStore(index_dir).create("editor")}
    with live_server(index_dir, env=store.env()) as base:
        for command in commands:
            live = command.replace("http://127.0.0.1:8000", base)
            out = subprocess.run(["bash", "-c", live], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, (command, out.stderr)
            body = json.loads(out.stdout)
            assert "error" not in body, (command, body)
