"""The section-role set (``evals/section_roles.jsonl``): each hand-labelled section's role and
year against ``ingest.roles`` — accuracy overall, by role and by source, and the misses.

A row names its document (``source``: a file of the bundled corpus, or one under the shared data
such as ``party_gov/…/government_work_reports.jsonl`` with its ``title``) and the section by its
``path`` of headings; ``role`` is the label (``""``: no role), ``also`` other roles a reader
would accept for a section that is both (“（一）党建品牌成效明显…” under 完成情况 is 成效 too),
``year`` the year it speaks of (``null``: not labelled, e.g. “过去五年”).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import DangjianError
from ..ingest import iter_documents
from ..ingest.describe import describe

ROLE_SET = "roles"
TITLE = "章节作用：每个章节的作用（完成情况、存在问题、工作谋划……）和所讲年份，对照人工标注"


def load_rows(evals: Path) -> list[dict[str, Any]]:
    path = evals / "section_roles.jsonl"
    if not path.exists():
        raise DangjianError(f"找不到章节作用标注：{path}", code="not_found")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _file(source: str, repo: Path, shared: Path) -> Path:
    path = shared / source if source.startswith("party_gov/") else repo / source
    if not path.exists():
        raise DangjianError(
            f"找不到评测数据：{path}（可用环境变量 DANGJIAN_SHARED_DATA 指定数据目录）", code="not_found"
        )
    return path


def evaluate_roles(rows: list[dict[str, Any]], repo: Path, shared: Path) -> dict[str, Any]:
    """Accuracy of ``ingest.roles`` on ``rows`` (see the module docstring)."""
    sections: dict[tuple[str, str], dict[tuple[str, ...], Any]] = {}
    for source in sorted({r["source"] for r in rows}):
        titles = {r["title"] for r in rows if r["source"] == source}
        for doc in iter_documents(_file(source, repo, shared)):
            if isinstance(doc, Exception) or doc.title not in titles:
                continue
            sections[(source, doc.title)] = {tuple(s.path): s for s in describe(doc)[1:]}
    results = []
    for r in rows:
        found = sections.get((r["source"], r["title"]), {}).get(tuple(r["path"]))
        if found is None:
            raise DangjianError(f"标注 {r['id']} 的章节在文档中找不到：{' > '.join(r['path'])}", code="bad_eval")
        accepted = {r["role"], *r.get("also", [])}
        results.append(
            {
                "id": r["id"],
                "source": r["source"],
                "path": " > ".join(r["path"]),
                "role": r["role"],
                "predicted": found.role,
                "correct": found.role in accepted,
                "year": r.get("year"),
                "predicted_year": found.role_year,
            }
        )
    by_role: dict[str, list[bool]] = defaultdict(list)
    by_source: dict[str, list[bool]] = defaultdict(list)
    for x in results:
        by_role[x["role"] or "（无）"].append(x["correct"])
        by_source["bundled corpus" if x["source"].startswith("corpus/") else x["source"].split("/")[-1]].append(
            x["correct"]
        )
    dated = [x for x in results if x["year"] is not None]
    return {
        "sections": len(results),
        "accuracy": round(sum(x["correct"] for x in results) / len(results), 3),
        "year_accuracy": round(sum(x["predicted_year"] == x["year"] for x in dated) / len(dated), 3) if dated else None,
        "dated": len(dated),
        "by_role": {k: {"sections": len(v), "accuracy": round(sum(v) / len(v), 3)} for k, v in sorted(by_role.items())},
        "by_source": {k: {"sections": len(v), "accuracy": round(sum(v) / len(v), 3)} for k, v in by_source.items()},
        "confusion": dict(
            Counter(f"{x['role'] or '（无）'} → {x['predicted'] or '（无）'}" for x in results if not x["correct"])
        ),
        "misses": [
            x for x in results if not x["correct"] or (x["year"] is not None and x["predicted_year"] != x["year"])
        ],
    }


def run_roles(evals: Path, repo: Path, shared: Path, commit: str) -> dict[str, Any]:
    return {
        "set": ROLE_SET,
        "kind": "roles",
        "title": TITLE,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": commit,
        "roles": evaluate_roles(load_rows(evals), repo, shared),
    }


def report_section(result: dict[str, Any]) -> list[str]:
    """``evals/REPORT.md``'s section for the role set."""
    r = result["roles"]
    lines = [
        f"## {result['set']} — {result['title']}",
        "",
        f"Run {result['date']} at commit `{result['commit']}`; {r['sections']} hand-labelled sections "
        "(`evals/section_roles.jsonl`: the bundled corpus, four government work reports and three Party "
        "congress reports from `party_gov`). A section counts as right when its role is the label or one "
        "of the label's accepted alternatives.",
        "",
        f"**Role accuracy {100 * r['accuracy']:.1f} %**; year accuracy {100 * (r['year_accuracy'] or 0):.1f} % "
        f"over the {r['dated']} sections with a labelled year.",
        "",
        "| role (label) | sections | accuracy |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {v['sections']} | {100 * v['accuracy']:.1f} % |" for k, v in r["by_role"].items()]
    lines += ["", "| source | sections | accuracy |", "|---|---|---|"]
    lines += [f"| {k} | {v['sections']} | {100 * v['accuracy']:.1f} % |" for k, v in r["by_source"].items()]
    if r["misses"]:
        lines += [
            "",
            f"Misses ({len(r['misses'])}, role or year):",
            "",
            "| id | section | label | ours | year | ours |",
        ]
        lines.append("|---|---|---|---|---|---|")
        for x in r["misses"][:40]:
            cells = [
                x["id"],
                x["path"][:60],
                x["role"] or "（无）",
                x["predicted"] or "（无）",
                str(x["year"] or "–"),
                str(x["predicted_year"] or "–"),
            ]
            lines.append("| " + " | ".join(c.replace("|", "｜") for c in cells) + " |")
    return lines + [""]
