"""``dangjian chat``: questions read line by line from standard input, follow-ups understood."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

DANGJIAN = str(Path(sys.executable).parent / "dangjian")


def chat(index: Path, lines: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DANGJIAN, "chat", "--index", str(index)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # this checkout's code
    )


def test_chat_reads_questions_from_stdin_and_resolves_follow_ups(corpus_index):
    out = chat(
        corpus_index,
        ["物业管理十联工作法包括哪些内容？", "第三项具体怎么做？", "它取得了哪些成效？", "退出", "不再回答"],
    )
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.split("问：")[1:]
    assert [b.splitlines()[0] for b in blocks] == [
        "物业管理十联工作法包括哪些内容？",
        "第三项具体怎么做？",
        "它取得了哪些成效？",
    ]  # nothing after 退出
    assert "已理解为" not in blocks[0]
    assert "已理解为：服务联动具体怎么做？" in blocks[1]
    assert "已理解为：物业管理十联工作法取得了哪些成效？" in blocks[2]
    assert "居民满意度明显提升" in blocks[2] and "出处：" in blocks[2]


def test_chat_ends_at_the_end_of_input(corpus_index):
    out = chat(corpus_index, ["2023年有什么工作打算？", "第二项具体怎么干？"])
    assert out.returncode == 0, out.stderr
    assert "已理解为：突出重点难点" in out.stdout
