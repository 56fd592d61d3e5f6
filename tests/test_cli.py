"""The ``dangjian`` command, run for real as users run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS, REPO, SEED

DANGJIAN = str(Path(sys.executable).parent / "dangjian")


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DANGJIAN, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},  # this checkout's code
    )


def test_help_is_chinese_everywhere():
    for args in ([], ["ingest"], ["inspect"]):
        out = run(*args, "-h")
        assert out.returncode == 0
        assert "导入" in out.stdout or "查看" in out.stdout


def test_ingest_corpus_prints_summary(tmp_path):
    out = run("ingest", str(CORPUS), "--index", str(tmp_path / "idx"))
    assert out.returncode == 0, out.stderr
    assert "导入完成" in out.stdout
    assert "新增文档 3 篇" in out.stdout and "段落" in out.stdout
    again = run("ingest", str(CORPUS), "--index", str(tmp_path / "idx"))
    assert "未变化 3 篇" in again.stdout


def test_ingest_json_and_default_index_from_settings(tmp_path):
    out = run("ingest", str(SEED), "--json", cwd=tmp_path, env={"DANGJIAN_INDEX_DIR": str(tmp_path / "custom")})
    report = json.loads(out.stdout)
    assert report["index_dir"] == str(tmp_path / "custom")
    assert len(report["added"]) == 1 and report["passages"] == 27
    assert (tmp_path / "custom" / "CURRENT").exists()


def test_ingest_lists_skipped_files_with_reasons(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("通知\n一、事项\n请按时参加。\n", encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"")
    (folder / "x.xyz").write_text("?", encoding="utf-8")
    out = run("ingest", str(folder), "--index", str(tmp_path / "idx"))
    assert out.returncode == 0
    assert "跳过 2 项" in out.stdout and "每个文件的结果：" in out.stdout
    rows = {
        line.split()[1].rsplit("/", 1)[-1]: line
        for line in out.stdout.splitlines()
        if line.startswith("  ") and "/in/" in line
    }
    assert rows["good.txt"].split()[0] == "新增"
    assert rows["bad.txt"].split()[0] == "跳过" and "bad.txt：文件是空的" in rows["bad.txt"]
    assert rows["x.xyz"].split()[0] == "跳过" and "x.xyz：不支持的文件类型" in rows["x.xyz"]


def test_errors_are_one_chinese_line_without_traceback(tmp_path):
    out = run("inspect", str(tmp_path / "missing.docx"))
    assert out.returncode == 1
    assert out.stderr.startswith("错误：无法导入文件") and "不存在" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    nothing = run("ingest", str(tmp_path / "missing.docx"), "--index", str(tmp_path / "idx"))
    assert nothing.returncode == 1 and "Traceback" not in nothing.stderr + nothing.stdout
    bad_env = run("inspect", str(SEED), env={"DANGJIAN_CHUNK_MAX_CHARS": "lots"})
    assert bad_env.returncode == 1 and "DANGJIAN_CHUNK_MAX_CHARS" in bad_env.stderr
    assert "Traceback" not in bad_env.stderr
    sizes = run("inspect", str(SEED), env={"DANGJIAN_CHUNK_MAX_CHARS": "100"})
    assert sizes.returncode == 1 and "段落目标长度 300 不能大于最大长度 100" in sizes.stderr
    a_file = tmp_path / "plain-file"
    a_file.write_text("x", encoding="utf-8")
    for index in (a_file, a_file / "sub"):
        out = run("ingest", str(SEED), "--index", str(index))
        assert out.returncode == 1 and out.stderr.startswith("错误：") and "Traceback" not in out.stderr


def test_inspect_shows_tree_and_passages():
    out = run("inspect", str(SEED))
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0].startswith("《2022年基层党建工作完成情况及2023年工作谋划》 txt")
    # Each section shows its role and the year it speaks of.
    assert "      （二）突出重点难点，行动再加力，着力打好“攻坚战” 【工作谋划·2023年】" in lines
    assert "    一、2022年工作完成情况 【完成情况·2022年】" in lines and "    二、存在问题 【存在问题·2022年】" in lines
    assert any(
        "三、2023年工作谋划 > （二）突出重点难点，行动再加力，着力打好“攻坚战” > 一是全力推进优质物业服务进小区提升工程"
        in ln
        for ln in lines
    )


def test_inspect_json_round_trips_offsets():
    data = json.loads(run("inspect", str(CORPUS / "samples" / "示例_党员教育培训计划.pdf"), "--json").stdout)
    text = data["document"]["text"]
    assert data["passages"] and all(text[p["start"] : p["end"]] == p["text"] for p in data["passages"])
    assert all(p["page"] >= 1 for p in data["passages"])


def test_start_script_runs_main_job_from_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/start.sh" in readme and "bash scripts/test.sh" in readme
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    index = tmp_path_factory.mktemp("cli") / "idx"
    out = run("ingest", str(CORPUS), "--index", str(index))
    assert out.returncode == 0, out.stderr
    return index


def test_search_prints_cited_passages(cli_index):
    out = run("search", "十联工作法包括什么", "--index", str(cli_index), "-k", "2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("[1] 《")
    assert "组织联建" in out.stdout and "[2] 《" in out.stdout
    nothing = run("search", "红烧肉怎么做", "--index", str(cli_index))
    assert "未在知识库中找到" in nothing.stdout
    unstated = run("search", "物业费每平方米多少钱？", "--index", str(cli_index), "-k", "1")
    assert unstated.stdout.startswith("知识库中有相关内容，但没有写明问题所问的具体数字")
    assert "[1] 《" in unstated.stdout and "物业费" in unstated.stdout


def test_methods_lists_cards_and_shows_one_by_alias(cli_index):
    out = run("methods", "--index", str(cli_index))
    assert out.returncode == 0, out.stderr
    assert "【物业管理十联工作法】（又称 十联工作法、十联） 工作法" in out.stdout
    assert "名称为7项，文中只列出4项" in out.stdout
    one = run("methods", "十联", "--index", str(cli_index))
    assert "组成：组织联建、资源联享" in one.stdout and "原文：" in one.stdout and "出处：《" in one.stdout
    cards = json.loads(run("methods", "--json", "--index", str(cli_index)).stdout)
    assert {"五融四零工作法", "五共理念", "书记沙龙"} <= {c["name"] for c in cards}
    asked = run("ask", "十联工作法具体怎么做？", "--index", str(cli_index))
    assert asked.stdout.startswith("【物业管理十联工作法】工作法：组织联建、资源联享")
    missing = run("methods", "不存在的工作法", "--index", str(cli_index))
    assert missing.returncode != 0 and "没有名为“不存在的工作法”的工作法" in missing.stderr


def test_quiz_prints_questions_then_answers_with_sources(cli_index):
    out = run("quiz", "--topic", "十联", "--n", "6", "--seed", "3", "--index", str(cli_index))
    assert out.returncode == 0, out.stderr
    questions, answers = out.stdout.split("\n答案：\n")
    assert questions.startswith("1. ") and "\n6. " in questions and "空格处是什么？" in questions
    assert answers.count("依据：“") == 6 and "《" in answers
    as_json = json.loads(run("quiz", "--n", "6", "--seed", "3", "--json", "--index", str(cli_index)).stdout)
    assert len(as_json) == 6 and all(q["evidence"] in q["source"]["quote"] for q in as_json)
    bad = run("quiz", "--n", "0", "--index", str(cli_index))
    assert bad.returncode != 0 and "题目数量应在 1 到 100 之间" in bad.stderr


def test_draft_writes_a_docx_or_markdown_from_a_template_or_outline(cli_index, tmp_path):
    out = run(
        "draft", "--topic", "2023年社区党建工作总结", "--output", str(tmp_path / "a.docx"), "--index", str(cli_index)
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"已生成 {tmp_path / 'a.docx'}：4 个部分") and (tmp_path / "a.docx").stat().st_size > 0
    outline = tmp_path / "提纲.txt"
    outline.write_text("十联工作法的主要做法\n存在的问题\n", encoding="utf-8")
    md = tmp_path / "b.md"
    out = run("draft", "--topic", "物业管理", "--outline", str(outline), "--output", str(md), "--index", str(cli_index))
    assert out.returncode == 0 and "## 十联工作法的主要做法" in md.read_text(encoding="utf-8")
    bad = run("draft", "--topic", "x", "--template", "述职报告", "--output", str(md), "--index", str(cli_index))
    assert bad.returncode != 0 and "没有模板“述职报告”" in bad.stderr


def test_serve_refuses_a_half_configured_model_in_one_line(cli_index):
    out = run("serve", "--index", str(cli_index), env={"DANGJIAN_LLM_BASE_URL": "http://127.0.0.1:9/v1"})
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "没有设置 DANGJIAN_LLM_MODEL" in out.stderr


def test_search_queries_file_gives_one_json_object_per_line_in_order(cli_index, tmp_path):
    questions = ["十联工作法包括什么", "红烧肉怎么做", "", "新来的社工要参加哪些培训？"]
    path = tmp_path / "q.txt"
    path.write_text("\n".join(questions) + "\n", encoding="utf-8")
    out = run("search", "--queries-file", str(path), "--json", "-k", "3", "--index", str(cli_index))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["query"] for r in rows] == questions
    assert [r["abstained"] for r in rows] == [False, True, True, False]
    assert "error" in rows[2] and "不能为空" in rows[2]["error"]
    hit = rows[0]["hits"][0]
    for field in (
        "rank",
        "score",
        "passage_id",
        "doc_id",
        "title",
        "section_path",
        "text",
        "start",
        "end",
        "page",
        "highlights",
        "citation",
    ):
        assert field in hit
    assert len(rows[0]["hits"]) == 3


def test_ask_prints_answer_and_sources(cli_index):
    out = run("ask", "十联工作法包括什么", "--index", str(cli_index))
    assert out.returncode == 0, out.stderr
    assert "[1]" in out.stdout and "出处：" in out.stdout
    data = json.loads(run("ask", "十联工作法包括什么", "--json", "--index", str(cli_index)).stdout)
    assert data["abstained"] is False and data["citations"][0]["quote"] in data["answer"]


def test_documents_remove_and_search_again(tmp_path):
    index = tmp_path / "idx"
    run("ingest", str(CORPUS / "samples"), "--index", str(index))
    listing = json.loads(run("documents", "--json", "--index", str(index)).stdout)
    assert len(listing) == 2
    docx = next(d for d in listing if d["source"].endswith(".docx"))
    out = run("remove", docx["doc_id"], "--index", str(index))
    assert out.returncode == 0 and "已删除文档 1 篇" in out.stdout
    assert len(json.loads(run("documents", "--json", "--index", str(index)).stdout)) == 1
    hits = json.loads(run("search", "物业服务红黑榜", "--json", "--index", str(index), "-k", "10").stdout)["hits"]
    assert all(h["doc_id"] != docx["doc_id"] for h in hits)
    missing = run("remove", "nope", "--index", str(index))
    assert missing.returncode == 1 and "索引中没有这些文档：nope" in missing.stderr
    assert run("search", "党建", "--index", str(tmp_path / "none")).stderr.startswith("错误：索引不存在")


def test_keys_create_list_revoke(tmp_path):
    index = tmp_path / "idx"
    created = run(
        "keys", "create", "--role", "reader", "--collection", "内部资料", "--name", "测试", "--index", str(index)
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("dj_") and "Authorization" in created.stderr
    listed = json.loads(run("keys", "list", "--json", "--index", str(index)).stdout)
    assert [(k["role"], k["collections"], k["name"]) for k in listed] == [("reader", ["内部资料"], "测试")]
    assert key not in (index / "keys.json").read_text(encoding="utf-8")
    revoked = run("keys", "revoke", listed[0]["key_id"], "--index", str(index))
    assert revoked.returncode == 0 and json.loads(run("keys", "list", "--json", "--index", str(index)).stdout) == []
    unknown = run("keys", "revoke", "nope", "--index", str(index))
    assert unknown.returncode != 0 and "没有编号为 nope 的密钥" in unknown.stderr


def test_search_by_section_role_and_a_printable_quiz_sheet(cli_index, tmp_path):
    out = run("search", "物业管理", "--role", "存在问题", "--index", str(cli_index), "--json")
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert hits and all(h["section_path"][0] == "二、存在问题" for h in hits)
    bad = run("search", "物业管理", "--role", "成绩单", "--index", str(cli_index))
    assert bad.returncode != 0 and "没有章节作用“成绩单”" in bad.stderr
    sheet = tmp_path / "试卷.docx"
    made = run("quiz", "--topic", "十联", "--n", "5", "--output", str(sheet), "--index", str(cli_index))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"已生成试卷 {sheet}：5 题") and sheet.read_bytes()[:2] == b"PK"
