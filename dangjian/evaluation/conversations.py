"""Conversation evaluation: are follow-up questions answered as well as the same questions
written out in full?

Each line of ``evals/conversations.jsonl`` is a conversation of two to four turns; each turn has
a ``question``, the ``required`` items (verbatim key phrases of the corpus) and, for a follow-up
that leans on the turns before it, ``full``: the same question written out. A later turn without
``full`` stands alone (a change of topic). Every turn is scored like the answer set
(``answers.score``: the items the answer text contains):

- follow-up turns: item recall and complete answers (a) asked in the conversation (resolved by
  ``followup.resolve`` against the answers given before), (b) the ``full`` question asked alone,
  (c) the follow-up asked alone without its conversation (the baseline);
- standalone later turns: recall in the conversation and alone, and how many were left as asked;
- first turns: recall.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from ..conversation import stored_turn
from ..followup import ask_followup
from .answers import score
from .runner import load_questions

CONVERSATIONS = "conversations.jsonl"


def _summary(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    if not rows:
        return {"turns": 0}
    return {
        "turns": len(rows),
        "item_recall": round(statistics.fmean(r[key]["recall"] for r in rows), 4),
        "complete": round(sum(r[key]["complete"] for r in rows) / len(rows), 4),
    }


def evaluate_conversations(kb, conversations: list[dict[str, Any]]) -> dict[str, Any]:
    """Every turn of every conversation asked in context, and each later turn also alone (and
    in full when it has ``full``); the summaries and one row per turn."""
    searcher = kb.searcher()
    rows: list[dict[str, Any]] = []

    def scored(qid: str, question: str, required: list[str], text: str) -> dict[str, Any]:
        r = score({"id": qid, "question": question, "required": required}, text)
        return {"recall": r.recall, "complete": r.complete, "missing": r.missing}

    for conv in conversations:
        turns: list[dict[str, Any]] = []
        for i, turn in enumerate(conv["turns"]):
            qid = f"{conv['id']}.{i + 1}"
            answer, found = ask_followup(kb, turn["question"], turns, searcher=searcher)
            resolved = found.text if found.resolved and found.text != turn["question"] else None
            role = "first" if i == 0 else ("followup" if turn.get("full") else "standalone")
            row: dict[str, Any] = {
                "id": qid,
                "role": role,
                "question": turn["question"],
                "resolved": resolved,
                "full": turn.get("full"),
                "context": scored(qid, turn["question"], turn["required"], answer.answer),
            }
            if i:
                alone = kb.ask(turn["question"], searcher=searcher)
                row["alone"] = scored(qid, turn["question"], turn["required"], alone.answer)
                row["same_as_alone"] = alone.answer == answer.answer
            if turn.get("full"):
                full = kb.ask(turn["full"], searcher=searcher)
                row["in_full"] = scored(qid, turn["full"], turn["required"], full.answer)
            rows.append(row)
            citations = [c.to_dict() for c in answer.citations]
            turns.append(
                stored_turn(turn["question"], resolved, answer.answer, answer.layout, citations, answer.abstained)
            )
    follow = [r for r in rows if r["role"] == "followup"]
    standalone = [r for r in rows if r["role"] == "standalone"]
    summary = {
        "conversations": len(conversations),
        "turns": len(rows),
        "followup_context": _summary(follow, "context"),
        "followup_full": _summary(follow, "in_full"),
        "followup_alone": _summary(follow, "alone"),
        "followup_resolved": sum(1 for r in follow if r["resolved"]),
        "standalone_context": _summary(standalone, "context"),
        "standalone_alone": _summary(standalone, "alone"),
        "standalone_left_alone": sum(1 for r in standalone if not r["resolved"]),
        "first": _summary([r for r in rows if r["role"] == "first"], "context"),
    }
    return {"ours": {"summary": summary, "results": rows}}


def load_conversations(evals: Path) -> list[dict[str, Any]]:
    return load_questions(evals / CONVERSATIONS)


def shortfalls(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Follow-ups answered worse in the conversation than in full, and standalone turns changed."""
    out = []
    for r in rows:
        if r["role"] == "followup" and r["context"]["recall"] < r["in_full"]["recall"]:
            out.append(r)
        elif r["role"] == "standalone" and r["context"]["recall"] < r["alone"]["recall"]:
            out.append(r)
    return out
