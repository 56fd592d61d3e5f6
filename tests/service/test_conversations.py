"""Conversations through the API: follow-ups understood after the turns before them, and each
conversation visible only to the key that created it (anonymous ones only by their id)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dangjian.config import Settings
from dangjian.kb import KnowledgeBase
from dangjian.service import create_app
from dangjian.service.keys import KeyStore

from ..conftest import copy_index


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_index):
    return copy_index(corpus_index, tmp_path_factory.mktemp("conversations"))


@pytest.fixture(scope="module")
def keys(home) -> dict[str, dict[str, str]]:
    store = KeyStore(home)
    return {name: {"Authorization": f"Bearer {store.create('reader')}"} for name in ("a", "b")}


@pytest.fixture(scope="module")
def client(home, keys):
    with TestClient(create_app(Settings(index_dir=home), kb=KnowledgeBase(home))) as c:
        yield c


def ask(client, question, conversation_id=None, headers=None) -> dict:
    body = {"question": question}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    response = client.post("/api/v1/ask", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_follow_up_is_understood_after_the_answer_before_it(client, keys):
    first = ask(client, "物业管理十联工作法包括哪些内容？", headers=keys["a"])
    assert first["conversation_id"] and first["resolved"] is None
    second = ask(client, "第三项具体怎么做？", first["conversation_id"], keys["a"])
    assert second["conversation_id"] == first["conversation_id"]
    assert second["question"] == "第三项具体怎么做？"
    assert second["resolved"] == "服务联动具体怎么做？"
    third = ask(client, "它取得了哪些成效？", first["conversation_id"], keys["a"])
    assert third["resolved"] == "物业管理十联工作法取得了哪些成效？"
    assert "居民满意度明显提升" in third["answer"]
    standalone = ask(client, "党员享有哪些权利？", first["conversation_id"], keys["a"])
    assert standalone["resolved"] is None

    turns = client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=keys["a"]).json()["turns"]
    assert [t["question"] for t in turns] == [
        "物业管理十联工作法包括哪些内容？",
        "第三项具体怎么做？",
        "它取得了哪些成效？",
        "党员享有哪些权利？",
    ]
    assert turns[1]["resolved"] == "服务联动具体怎么做？"
    assert turns[2]["citations"] and {"quote", "doc_id", "section_path", "start", "end"} <= set(
        turns[2]["citations"][0]
    )


def test_conversations_are_invisible_to_another_key(client, keys):
    mine = ask(client, "物业管理十联工作法包括哪些内容？", headers=keys["a"])["conversation_id"]
    url = f"/api/v1/conversations/{mine}"
    for headers in (keys["b"], {}):
        response = client.get(url, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "conversation_not_found"
        assert client.delete(url, headers=headers).status_code == 404
    # another key asking with my id gets a new conversation, without my context
    theirs = ask(client, "第三项具体怎么做？", mine, keys["b"])
    assert theirs["conversation_id"] != mine and theirs["resolved"] is None
    unknown = client.get("/api/v1/conversations/" + "x" * 24, headers=keys["b"])
    assert unknown.status_code == 404 and unknown.json() == client.get(url, headers=keys["b"]).json()
    listed = {c["id"] for c in client.get("/api/v1/conversations", headers=keys["b"]).json()["conversations"]}
    assert mine not in listed and theirs["conversation_id"] in listed
    assert mine in {c["id"] for c in client.get("/api/v1/conversations", headers=keys["a"]).json()["conversations"]}
    assert client.get(url, headers=keys["a"]).status_code == 200
    assert client.delete(url, headers=keys["a"]).status_code == 204
    assert client.get(url, headers=keys["a"]).status_code == 404


def test_anonymous_conversations_by_id_only(client, keys):
    first = ask(client, "2023年有什么工作打算？")
    cid = first["conversation_id"]
    second = ask(client, "第二项具体怎么干？", cid)
    assert second["conversation_id"] == cid and "突出重点难点" in second["resolved"]
    assert client.get(f"/api/v1/conversations/{cid}").status_code == 200
    assert client.get(f"/api/v1/conversations/{cid}", headers=keys["a"]).status_code == 404
    assert client.get("/api/v1/conversations").json() == {"conversations": []}


@pytest.mark.parametrize("bad", ["../../keys", "..%2F..%2Fkeys.json", "a" * 101])
def test_a_bad_conversation_id_starts_a_new_conversation_or_is_refused(client, bad):
    response = client.post("/api/v1/ask", json={"question": "十联工作法包括什么？", "conversation_id": bad})
    if len(bad) > 100:
        assert response.status_code == 422
    else:
        assert response.status_code == 200 and response.json()["conversation_id"] != bad
    assert client.get(f"/api/v1/conversations/{bad}").status_code == 404
