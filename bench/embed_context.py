#!/usr/bin/env python3
"""Does embedding a short section-path/title prefix with each passage help? Measure it.

Builds the same corpus three times with ``embed_context`` = none / path / title_path and runs the
development questions (``evals/dev_questions.jsonl``) over each. Corpus: the bundled ``corpus/``,
the Party Constitution, the 20th Congress report and the 2024–2025 government work reports
(every document a dev question points to, plus distractors).

    python bench/embed_context.py [--data ../shared/data] [--workdir /tmp/dangjian-context]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from dangjian.evaluation import evaluate, load_questions, summarize
from dangjian.evaluation.pipelines import OursPipeline
from dangjian.index.texts import EMBED_CONTEXTS
from dangjian.kb import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dangjian-context"))
    args = parser.parse_args()
    src = args.workdir / "src"
    shutil.rmtree(args.workdir, ignore_errors=True)
    src.mkdir(parents=True)
    gov = args.data / "party_gov" / "chinese_political_corpora"
    keep = []
    for line in (gov / "government_work_reports.jsonl").read_text(encoding="utf-8").splitlines():
        if json.loads(line)["year"] in ("2024", "2025"):
            keep.append(line)
    for line in (gov / "cpc_congress_reports.jsonl").read_text(encoding="utf-8").splitlines():
        if json.loads(line).get("congress") == 20:
            keep.append(line)
    (src / "reports.jsonl").write_text("\n".join(keep) + "\n", encoding="utf-8")
    sources = [REPO / "corpus", src, args.data / "party_gov" / "cpc_constitution_2017"]
    questions = load_questions(REPO / "evals" / "dev_questions.jsonl")
    results = {}
    for context in EMBED_CONTEXTS:
        kb = KnowledgeBase(args.workdir / f"index-{context}", embed_context=context)
        kb.ingest(sources)
        runs = evaluate(OursPipeline(kb), questions)
        results[context] = {**summarize(runs), "ranks": [r.rank for r in runs]}
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
