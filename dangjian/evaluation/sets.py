"""Named evaluation sets: which questions, over which corpus.

Question files live in the repository's ``evals/``; external data (the official texts, CMRC 2018,
DRCD, the laws) is read where it lies (``DANGJIAN_SHARED_DATA``, default ``../shared/data`` next
to the repository) and never copied into the repository. Corpora that need converting (the
SQuAD-style reading-comprehension sets) are written to the evaluation work folder.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DangjianError
from .runner import load_questions

REPO = Path(__file__).resolve().parents[2]
LAW_DISTRACTORS = 10_000
_ARTICLE_RE = re.compile(r"^第[一二三四五六七八九十百千零〇两]+条", re.M)


@dataclass
class EvalSet:
    name: str
    title: str  # Chinese, for reports
    corpus: list[Path]
    questions: list[dict[str, Any]]
    slice_ok: bool = False  # a slice of a larger set: questions whose gold is not in the corpus are skipped
    peer: bool = True  # whether the peer baseline runs on it


def evals_dir() -> Path:
    env = os.environ.get("DANGJIAN_EVALS_DIR")
    if env:
        return Path(env)
    here = Path.cwd() / "evals"
    return here if (here / "domain_questions.jsonl").exists() else REPO / "evals"


def shared_data() -> Path:
    return Path(os.environ.get("DANGJIAN_SHARED_DATA") or REPO.parent / "shared" / "data")


def _need(path: Path) -> Path:
    if not path.exists():
        raise DangjianError(
            f"找不到评测数据：{path}（可用环境变量 DANGJIAN_SHARED_DATA 指定数据目录）", code="not_found"
        )
    return path


def _corpus_root() -> Path:
    here = Path.cwd() / "corpus"
    return here if here.is_dir() else REPO / "corpus"


def _declinable() -> list[dict[str, Any]]:
    ev = evals_dir()
    return load_questions(ev / "ood_questions.jsonl") + load_questions(ev / "unanswerable_questions.jsonl")


def _domain(work: Path) -> EvalSet:
    return EvalSet(
        "domain",
        "党建领域问题集（附带语料 + 党章、历次党代会报告、历年政府工作报告）",
        [_corpus_root(), _need(shared_data() / "party_gov")],
        load_questions(evals_dir() / "domain_questions.jsonl") + _declinable(),
    )


def _dev(work: Path) -> EvalSet:
    return EvalSet(
        "dev",
        "开发问题集（调参用；语料同 domain）",
        [_corpus_root(), _need(shared_data() / "party_gov")],
        load_questions(evals_dir() / "dev_questions.jsonl") + _declinable(),
    )


def _fast(work: Path) -> EvalSet:
    """CI's regression slice: the bundled corpus, the Party Constitution, the 20th Congress
    report and the 2024–2025 government work reports; the domain questions about them."""
    gov = _need(shared_data() / "party_gov" / "chinese_political_corpora")
    keep = []
    for line in (gov / "government_work_reports.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip() and json.loads(line).get("year") in ("2024", "2025", 2024, 2025):
            keep.append(line)
    for line in (gov / "cpc_congress_reports.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip() and json.loads(line).get("congress") == 20:
            keep.append(line)
    export = work / "fast" / "reports.jsonl"
    _write_if_changed(export, "\n".join(keep) + "\n")
    return EvalSet(
        "fast",
        "回归切片（附带语料 + 党章 + 二十大报告 + 2024、2025 年政府工作报告；CI 运行）",
        [_corpus_root(), _need(shared_data() / "party_gov" / "cpc_constitution_2017"), export],
        load_questions(evals_dir() / "domain_questions.jsonl") + _declinable(),
        slice_ok=True,
        peer=False,
    )


def _squad(files: list[Path], export: Path, prefix: str) -> list[dict[str, Any]]:
    """A SQuAD-style set as a JSONL export (one document per paragraph, its id in the title) and
    questions whose gold is that paragraph."""
    records, questions = [], []
    for path in files:
        for article in json.loads(_need(path).read_text(encoding="utf-8"))["data"]:
            for para in article["paragraphs"]:
                records.append({"title": f"{article['title']} [{para['id']}]", "content": para["context"]})
                for qa in para["qas"]:
                    question = " ".join(qa["question"].split())
                    if question:
                        questions.append(
                            {"id": f"{prefix}-{qa['id']}", "question": question, "gold": [{"doc": f"[{para['id']}]"}]}
                        )
    _write_if_changed(export, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return questions


def _cmrc(work: Path) -> EvalSet:
    base = shared_data() / "eval" / "cmrc2018"
    export = work / "cmrc" / "cmrc2018.jsonl"
    questions = _squad([base / "cmrc2018_dev.json", base / "cmrc2018_trial.json"], export, "cmrc")
    return EvalSet("cmrc", "CMRC 2018 dev + trial（问题 → 所在段落）", [export], questions)


def law_distractors(count: int = LAW_DISTRACTORS) -> list[Path]:
    """Law files, in a fixed order, until they hold ``count`` articles (条)."""
    files, articles = [], 0
    for path in sorted(_need(shared_data() / "scale" / "lawrefbook_laws").rglob("*.md")):
        if path.name.startswith("_"):
            continue
        files.append(path)
        articles += len(_ARTICLE_RE.findall(path.read_text(encoding="utf-8")))
        if articles >= count:
            break
    return files


def _cmrc_laws(work: Path) -> EvalSet:
    cmrc = _cmrc(work)
    return EvalSet(
        "cmrc-laws",
        f"CMRC 2018 dev + trial，另加 {LAW_DISTRACTORS:,} 条法律条文作干扰",
        cmrc.corpus + law_distractors(),
        cmrc.questions,
    )


def _drcd(work: Path) -> EvalSet:
    export = work / "drcd" / "drcd_dev.jsonl"
    questions = _squad([shared_data() / "eval" / "drcd" / "DRCD_dev.json"], export, "drcd")
    return EvalSet("drcd", "DRCD dev（繁体中文，检验繁简统一匹配）", [export], questions)


def _write_if_changed(path: Path, text: str) -> None:
    """Keep an unchanged export untouched, so re-ingesting it costs nothing."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


SETS: dict[str, Callable[[Path], EvalSet]] = {
    "domain": _domain,
    "dev": _dev,
    "fast": _fast,
    "cmrc": _cmrc,
    "cmrc-laws": _cmrc_laws,
    "drcd": _drcd,
}
REPORT_SETS = ("domain", "answers", "conversations", "roles", "cmrc", "cmrc-laws", "drcd")
ANSWER_SET = "answers"  # the answer evaluation (``answers.py``), over the domain corpus
CONVERSATION_SET = "conversations"  # follow-up questions (``conversations.py``), over the domain corpus
ROLE_SET = "roles"  # section roles against hand labels (``roles.py``); no index needed


def load_set(name: str, work: Path) -> EvalSet:
    if name not in SETS:
        raise DangjianError(
            f"没有名为“{name}”的评测集；可选：{'、'.join(SETS)}，或一个问题文件的路径", code="bad_argument"
        )
    return SETS[name](work)
