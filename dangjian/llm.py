"""Optional answers and drafts written by a large language model, checked against their sources.

Any OpenAI-compatible chat service works (DeepSeek, Qwen, vLLM, Ollama, …), reached through
LangChain's ``ChatOpenAI`` (``pip install 'dangjian[llm]'``). The model sees numbered passages and
must mark each sentence with the passages it rests on ([1], [2]); every sentence is then checked
against the passages it cites — most of its words must appear there and every number it states
must too. Sentences that fail are flagged in the output, never silently kept. When the model
errs or does not answer in time, the caller falls back to the extractive answer and says so.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, replace
from typing import Any

from .errors import DangjianError
from .schema import Answer
from .text import char_bigrams, normalize

log = logging.getLogger("dangjian.llm")

SUPPORT = 0.5  # share of a sentence's character pairs that its cited passages must contain
FLAG = "【未核实】"
_SENTENCE_RE = re.compile(r"[^。！？!?\n]+[。！？!?]?(?:\s*\[\d+\])*")
_MARKER_RE = re.compile(r"\[(\d+)\]")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_NOT_STATED_RE = re.compile(r"^\s*(?:所给|上述)?材料[中里]?(?:没有|未)(?:写明|提到|提及|说明)")

ANSWER_PROMPT = (
    "你是党建知识库的助手。只根据下面编号的材料回答问题，不要写材料里没有的内容。"
    "每句话末尾用 [编号] 标出它依据的材料，如“……。[2]”。回答简洁，不超过 200 字。"
    "材料里没有答案时，只回答“材料中没有写明”。"
)
DRAFT_PROMPT = (
    "你是党建工作材料的撰稿人。把下面编号的素材改写成“{heading}”这一部分的正文，公文语体，连贯成段。"
    "只用素材里的事实，不要编造数字、名称和事例；每句话末尾用 [编号] 标出依据的素材。"
)


@dataclass
class LLMConfig:
    base_url: str
    model: str
    api_key: str = "none"
    timeout_s: float = 30.0


@dataclass
class CheckedSentence:
    text: str  # as the model wrote it, markers included
    markers: list[int]
    supported: bool

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "markers": self.markers, "supported": self.supported}


@dataclass
class Generated:
    text: str  # the model's text with unsupported sentences flagged
    sentences: list[CheckedSentence]

    @property
    def unsupported(self) -> int:
        return sum(not s.supported for s in self.sentences)


def check(text: str, sources: dict[int, str]) -> list[CheckedSentence]:
    """Each sentence of ``text`` with its [n] markers, and whether the passages it cites support it."""
    checked = []
    for m in _SENTENCE_RE.finditer(text):
        sentence = m.group(0).strip()
        if not sentence or not _MARKER_RE.sub("", sentence).strip("。！？!? "):
            continue
        markers = [int(n) for n in _MARKER_RE.findall(sentence)]
        body = _MARKER_RE.sub("", sentence)
        if _NOT_STATED_RE.match(body):  # the model says the passages do not answer: no claim to check
            checked.append(CheckedSentence(sentence, markers, True))
            continue
        cited = normalize("".join(sources.get(n, "") for n in markers))
        pairs = char_bigrams(body)
        covered = len(pairs & char_bigrams(cited)) / len(pairs) if pairs else 0.0
        numbers_ok = all(n in cited for n in _NUMBER_RE.findall(normalize(body)))
        checked.append(CheckedSentence(sentence, markers, bool(markers) and covered >= SUPPORT and numbers_ok))
    return checked


def _flagged(sentences: list[CheckedSentence]) -> str:
    return "".join(s.text if s.supported else s.text + FLAG for s in sentences)


def chat_model(config: LLMConfig):
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise DangjianError(
            "未安装大模型接口：请 pip install 'dangjian[llm]'（或不配置 DANGJIAN_LLM_BASE_URL，只用摘录式答案）",
            code="missing_dependency",
        ) from None
    return ChatOpenAI(
        base_url=config.base_url,
        model=config.model,
        api_key=config.api_key or "none",
        timeout=config.timeout_s,
        max_retries=0,
        temperature=0,
    )


def configured_model(settings):
    """The chat model the settings name (``DANGJIAN_LLM_*``), or ``None`` when none is configured."""
    if not settings.llm_base_url:
        return None
    if not settings.llm_model:
        raise DangjianError(
            "设置了 DANGJIAN_LLM_BASE_URL 但没有设置 DANGJIAN_LLM_MODEL（模型名称）", code="bad_setting"
        )
    return chat_model(
        LLMConfig(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout_s)
    )


def materials(sources: dict[int, tuple[str, str]]) -> str:
    """``{n: (citation, text)}`` as numbered passages for a prompt."""
    return "\n\n".join(f"[{n}] {citation}\n{text}" for n, (citation, text) in sorted(sources.items()))


def generate(model, system: str, user: str, sources: dict[int, str]) -> Generated:
    """Ask the model and check what it wrote. Errors and timeouts propagate (the caller falls back)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    reply = model.invoke([SystemMessage(system), HumanMessage(user)])
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    sentences = check(text.strip(), sources)
    return Generated(_flagged(sentences), sentences)


def generated_answer(extractive: Answer, model, terms: list[str] = ()) -> Answer:
    """A language model's answer over the passages of ``extractive``, each sentence checked
    against the passages it cites; on an error or timeout, ``extractive`` saying why. The model
    also reads the extractive answer (a section's outline, a complete list) as its first material."""
    if extractive.abstained or not extractive.hits:
        return extractive
    started = time.perf_counter()
    hits = {h.rank: h for h in extractive.hits}
    points = re.sub(r"\[\d+\]", "", extractive.answer)
    outline = f"已找到的原文要点：\n{points}\n\n" if extractive.citations else ""
    prompt = (
        outline + materials({n: (h.citation, h.text) for n, h in hits.items()}) + f"\n\n问题：{extractive.question}"
    )
    try:
        out = generate(model, ANSWER_PROMPT, prompt, {n: h.text for n, h in hits.items()})
    except Exception as exc:  # noqa: BLE001 - any failure of the model falls back, saying why
        reason = "超时" if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower() else "出错"
        log.warning("language model failed (%s): %s", type(exc).__name__, exc)
        return replace(extractive, fallback=f"大模型{reason}，未能生成回答；以下是从原文摘录的答案。")
    from .answer_quote import citation_of

    used = sorted({n for s in out.sentences for n in s.markers if n in hits})
    citations = [citation_of(n, hits[n], terms) for n in used]
    took = extractive.took_ms + round((time.perf_counter() - started) * 1000, 2)
    return replace(
        extractive,
        answer=out.text,
        citations=citations,
        generated=True,
        sentences=out.sentences,
        took_ms=took,
        layout="text",
    )
