"""Answers and drafts written by a language model through the real LangChain client, against an
OpenAI-compatible server on a loopback port: sentences are checked, failures fall back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dangjian.config import Settings
from dangjian.draft import make_draft
from dangjian.kb import KnowledgeBase
from dangjian.llm import FLAG, LLMConfig, chat_model, check
from dangjian.service import create_app

from .fake_llm import UNSUPPORTED, fake_llm_server


@pytest.fixture(scope="module")
def llm():
    with fake_llm_server() as server:
        yield server


def model(base_url: str, name: str = "grounded", timeout: float = 10):
    return chat_model(LLMConfig(base_url, name, "test-key", timeout))


def test_sentence_check():
    sources = {1: "社区党委每月第一周召开三方联席会议，研究解决停车难等问题。"}
    ok, made_up, wrong_number, uncited = check(
        "社区党委每月召开三方联席会议。[1]党委每年获奖三次。[1]每月第3周召开三方联席会议。[1]研究解决停车难问题。",
        sources,
    )
    assert ok.supported and ok.markers == [1]
    assert not made_up.supported and not wrong_number.supported and not uncited.supported
    (declined,) = check("材料中没有写明。", sources)
    assert declined.supported  # saying the passages do not answer makes no claim


def test_a_generated_answer_flags_what_its_passages_do_not_support(corpus_index, llm):
    base_url, requests = llm
    kb = KnowledgeBase(corpus_index)
    answer = kb.ask("十联工作法包括什么", k=3, model=model(base_url))
    assert answer.generated and not answer.fallback
    first, second = answer.sentences
    assert first.supported and not second.supported and second.text == UNSUPPORTED
    assert answer.answer.endswith(UNSUPPORTED + FLAG) and answer.answer.count(FLAG) == 1
    (citation,) = answer.citations
    texts = {d.doc_id: d.text for d, _ in kb.documents()}
    assert texts[citation.doc_id][citation.start : citation.end] == citation.quote
    assert "[1] 《" in requests[-1]["messages"][1]["content"]  # the model saw numbered, cited passages


@pytest.mark.parametrize("name, reason", [("slow", "超时"), ("broken", "出错")])
def test_a_slow_or_failing_model_falls_back_to_the_extractive_answer(corpus_index, llm, name, reason):
    kb = KnowledgeBase(corpus_index)
    answer = kb.ask("十联工作法包括什么", k=3, model=model(llm[0], name, timeout=1))
    assert not answer.generated and answer.fallback.startswith(f"大模型{reason}")
    assert answer.answer == kb.ask("十联工作法包括什么", k=3).answer


def test_the_service_and_drafts_use_the_configured_model(corpus_index, llm):
    base_url, _ = llm
    settings = Settings(llm_base_url=base_url, llm_model="grounded", llm_timeout_s=10)
    with TestClient(create_app(settings, kb=KnowledgeBase(corpus_index))) as client:
        body = client.post("/api/v1/ask", json={"question": "十联工作法包括什么", "k": 3}).json()
        assert body["generated"] and [s["supported"] for s in body["sentences"]] == [True, False]
        assert body["citations"][0]["quote"] in {p["quote"] for p in body["passages"]}
        draft = client.post("/api/v1/draft", json={"topic": "2023年社区党建工作总结", "per_section": 2}).json()
        rewritten = [s for s in draft["sections"] if s["prose"]]
        assert rewritten and all(s["prose"].endswith(UNSUPPORTED + FLAG) for s in rewritten)
    broken = make_draft(KnowledgeBase(corpus_index), "2023年社区党建工作总结", model=model(base_url, "broken"))
    assert all(s.note and s.prose is None for s in broken.sections if s.paragraphs)
    assert "大模型改写失败" in broken.to_markdown()
