"""The LangChain retriever in a real LCEL chain, and the example of docs/api.md run as written."""

from __future__ import annotations

import re
import subprocess
import sys

from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from dangjian.integrations.langchain import DangjianRetriever, embeddings, format_docs
from dangjian.kb import KnowledgeBase

from .conftest import REPO, copy_index


def test_retriever_documents_carry_verbatim_passages_and_citations(corpus_index):
    kb = KnowledgeBase(corpus_index)
    docs = DangjianRetriever(kb=kb, k=4).invoke("十联工作法包括什么")
    assert len(docs) == 4
    texts = {d.doc_id: d.text for d, _ in kb.documents()}
    for d in docs:
        meta = d.metadata
        assert texts[meta["doc_id"]][meta["start"] : meta["end"]] == d.page_content
        assert meta["citation"].startswith("《") and isinstance(meta["section_path"], list)
    assert any("组织联建" in d.page_content for d in docs)
    assert DangjianRetriever(kb=kb).invoke("红烧肉怎么做") == []  # declined: nothing to ground an answer on
    vector = embeddings(kb).embed_query("基层党建")
    assert len(vector) == 384


def test_retriever_feeds_a_chain(corpus_index):
    seen: list[str] = []

    def model(prompt_value) -> str:  # stands in for a chat model: records what it was given
        seen.append(prompt_value.to_string())
        return "回答 [1]"

    retriever = DangjianRetriever(kb=KnowledgeBase(corpus_index), k=3)
    prompt = ChatPromptTemplate.from_template("材料：\n{context}\n问题：{question}")
    chain = {"context": retriever | format_docs, "question": RunnablePassthrough()} | prompt | RunnableLambda(model)
    assert chain.invoke("十联工作法包括什么") == "回答 [1]"
    assert "[1] 《" in seen[0] and "[3] 《" in seen[0] and "问题：十联工作法包括什么" in seen[0]


def test_docs_langchain_example_runs_as_written(corpus_index, tmp_path):
    page = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    section = page.split("## 在 LangChain 中使用", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    copy_index(corpus_index, tmp_path)
    (tmp_path / "idx").rename(tmp_path / "dangjian_data")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "（模型根据材料写出的回答）"
    assert len(lines) == 4 and all(line.startswith("《") for line in lines[1:])
