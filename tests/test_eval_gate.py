"""CI's regression gate: the ``fast`` evaluation slice with the real bundled model must keep the
quality measured when the gate was set (``evals/fast_gate.json``: floors just below the measured
values). A ranking or abstention change that loses quality fails here before it lands."""

from __future__ import annotations

import json

from dangjian.config import Settings
from dangjian.evaluation import harness
from dangjian.evaluation.sets import load_set

from .conftest import REPO


def test_fast_slice_keeps_its_measured_quality(tmp_path, monkeypatch, shared_data):
    monkeypatch.setenv("DANGJIAN_EVAL_DIR", str(tmp_path))
    monkeypatch.setenv("DANGJIAN_SHARED_DATA", str(shared_data))
    evset = load_set("fast", tmp_path)
    result = harness.run(evset, Settings(), pipelines=("ours", "bm25"), progress=lambda _: None)
    ours = result["pipelines"]["ours"]["summary"]
    gate = json.loads((REPO / "evals" / "fast_gate.json").read_text(encoding="utf-8"))
    assert ours["questions"] >= gate["questions"]
    low = {m: (ours[m], floor) for m, floor in gate["at_least"].items() if ours[m] < floor}
    high = {m: (ours[m], ceiling) for m, ceiling in gate["at_most"].items() if ours[m] > ceiling}
    assert not low and not high, f"below floor: {low}; above ceiling: {high}"
    # fusion must not lose what its lexical part finds first
    assert ours["hit@1"] >= result["pipelines"]["bm25"]["summary"]["hit@1"]
