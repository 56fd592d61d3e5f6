"""The evaluation harness: gold resolution, metrics, the peer baseline, the vector cache, the
report and the ``dangjian eval`` command (plumbing, with the fake embedder)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from dangjian.cli import main
from dangjian.evaluation.cache import CachedEmbedder
from dangjian.evaluation.pipelines import OursPipeline, PeerPipeline, Retrieved, Unit
from dangjian.evaluation.report import render, save
from dangjian.evaluation.runner import GoldResolver, QuestionResult, by_kind, evaluate, summarize

from .conftest import SEED
from .fakes import HashEmbedder, fake_kb

SEED_TITLE = "2022年基层党建工作完成情况及2023年工作谋划"
TEN_ITEMS = ["组织联建", "资源联享", "服务联动", "问题联治", "活动联办"]


def _result(**kw) -> QuestionResult:
    base = dict(id="q", question="?", kind="k", answerable=True, rank=None, gold_ranks=[], gold_count=1)
    base.update(abstained=False, took_ms=1.0)
    base.update(kw)
    return QuestionResult(**base)


def test_gold_resolution_ignores_width_space_case_and_script():
    units = [
        Unit("a", "中國共產黨章程", "第一條　年滿十八歲的中國工人"),
        Unit("b", "中國共產黨章程", "第二条 党员必须全心全意"),
        Unit("c", "另一篇", "年满十八岁"),
    ]
    resolver = GoldResolver(units)
    assert [u.id for u in resolver.resolve([{"doc": "中国共产党章程", "phrase": "年满 十八岁"}])] == ["a"]
    assert {u.id for u in resolver.resolve([{"doc": "章程"}])} == {"a", "b"}
    assert resolver.resolve([{"doc": "章程", "phrase": "不存在的短语"}]) == []


def test_summary_metrics():
    results = [
        _result(rank=1, gold_ranks=[1, 2], gold_count=2, completeness=1.0, verbatim=[True, True]),
        _result(rank=3, gold_ranks=[3], completeness=0.5, verbatim=[True, False]),
        _result(rank=None, abstained=True),
        _result(answerable=False, abstained=True),
        _result(answerable=False, abstained=False, took_ms=9.0),
    ]
    s = summarize(results)
    assert s["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["hit@3"] == s["hit@5"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["mrr@10"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert s["ndcg@10"] == pytest.approx((1 + 0.5) / 3, abs=1e-4)  # nDCG of rank 3 alone is 1/log2(4)
    assert s["completeness"] == 0.75
    assert s["verbatim"] == 0.75
    assert s["answerable_declined"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["declined"] == 0.5
    assert s["abstain_precision"] == 0.5  # one of the two declined questions should have been answered
    assert s["p95_ms"] == 9.0
    kinds = by_kind([*results, _result(kind="off_topic", answerable=False, abstained=True)])
    assert kinds["k"] == {"questions": 5, "hit@5": pytest.approx(2 / 3, abs=1e-4), "declined": 0.5}
    assert kinds["off_topic"] == {"questions": 1, "declined": 1.0}


class _Scripted:
    """A pipeline answering from a script: question -> returned unit ids."""

    def __init__(self, units, answers):
        self._units, self.answers = units, answers

    def units(self):
        return self._units

    def search(self, question, k):
        ids = self.answers[question][:k]
        texts = [next(u.text for u in self._units if u.id == i) for i in ids]
        return Retrieved(ids, texts, not ids, 1.0, [f"《{i}》" for i in ids])


def test_evaluate_ranks_completeness_and_slices():
    units = [
        Unit("a", "报告", "一、组织联建、资源联享"),
        Unit("b", "报告", "服务联动、问题联治"),
        Unit("c", "其他", "无关"),
    ]
    pipe = _Scripted(units, {"十联？": ["c", "b", "a"], "菜？": []})
    questions = [
        {"id": "1", "question": "十联？", "gold": [{"doc": "报告", "phrase": "组织联建"}], "items": TEN_ITEMS[:4]},
        {"id": "2", "question": "菜？"},
        {"id": "3", "question": "十联？", "gold": [{"doc": "不在语料", "phrase": "x"}]},
    ]
    with pytest.raises(ValueError, match="3: no unit matches"):
        evaluate(pipe, questions)
    first, second = evaluate(pipe, questions, slice_ok=True)
    assert (first.rank, first.gold_ranks, first.completeness) == (3, [3], 1.0)
    assert first.top == ["《c》", "《b》", "《a》"] and first.gold == ["《报告》"]
    assert not second.answerable and second.abstained


def test_ours_pipeline_quotes_are_verbatim_and_baselines_never_abstain(tmp_path):
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([SEED])
    ours = OursPipeline(kb)
    got = ours.search("十联工作法包括什么", 5)
    assert got.ids and got.verbatim and all(got.verbatim)
    for only in ("bm25", "dense"):
        baseline = OursPipeline(kb, name=only, only=only)
        assert baseline.searcher.settings.abstain_threshold < -1e6
        assert not baseline.search("红烧肉怎么做", 5).abstained


def test_peer_pipeline_chunks_like_chatchat_and_finds_ten_links(tmp_path):
    cache = CachedEmbedder(HashEmbedder(), tmp_path / "v.sqlite")
    peer = PeerPipeline([SEED], cache)
    units = peer.units()
    assert all(len(u.text) <= 750 for u in units) and len(units) >= 8
    text = SEED.read_text(encoding="utf-8")
    # 150-character overlap: consecutive chunks share text
    assert any(units[i].text[-40:] in units[i + 1].text for i in range(len(units) - 1))
    assert all(u.text in text for u in units) and units[0].title == SEED_TITLE
    got = peer.search("物业管理十联工作法 组织联建 资源联享", 3)
    assert len(got.ids) == 3 and any("组织联建" in t for t in got.texts)
    assert not got.abstained and got.verbatim is None


class _Counting(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.embedded = 0

    def embed_passages(self, texts):
        self.embedded += len(texts)
        return super().embed_passages(texts)


def test_vector_cache_embeds_each_text_once(tmp_path):
    inner = _Counting()
    cache = CachedEmbedder(inner, tmp_path / "v.sqlite")
    first = cache.embed_passages(["甲乙丙", "丁戊己"])
    again = CachedEmbedder(inner, tmp_path / "v.sqlite").embed_passages(["丁戊己", "甲乙丙", "庚辛壬"])
    assert inner.embedded == 3
    np.testing.assert_allclose(again[:2], first[::-1])
    assert cache.identity() == inner.identity() and cache.embed_passages([]).shape == (0, 64)


def test_report_renders_saved_sets(tmp_path):
    evals = tmp_path / "evals"
    rows = [
        _result(id="hit", rank=1, gold_ranks=[1]).to_dict(),
        _result(id="miss", question="哪十联？", rank=7, gold_ranks=[7], top=["《甲》一、"], gold=["《乙》"]).to_dict(),
        _result(id="ood", answerable=False, abstained=False).to_dict(),
    ]
    summary = summarize([QuestionResult(**r) for r in rows])
    result = {
        "set": "toy",
        "title": "玩具集",
        "date": "2026-11-26",
        "commit": "abc1234",
        "corpus": {"documents": 1, "passages": 3},
        "pipelines": {"ours": {"summary": summary, "by_kind": {}, "results": rows}},
    }
    path = save(result, evals / "results")
    assert [m["id"] for m in json.loads(path.read_text(encoding="utf-8"))["misses"]] == ["miss", "ood"]
    (evals / "tuning_log.md").write_text("## What helped\n\n- nothing yet\n", encoding="utf-8")
    report = render(evals, ("toy",))
    assert "## toy — 玩具集" in report and "abc1234" in report
    assert "| miss | k | 哪十联？ | 7 |" in report and "（应拒答）" in report
    assert report.rstrip().endswith("- nothing yet")


def test_eval_command_on_a_question_file(tmp_path, monkeypatch):
    kb = fake_kb(tmp_path / "idx")
    kb.ingest([SEED])
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {"id": "a", "question": "十联工作法", "gold": [{"doc": "2022年", "phrase": "组织联建"}]}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("dangjian.kb.KnowledgeBase.from_settings", classmethod(lambda cls, s, d=None: fake_kb(d)))
    monkeypatch.setenv("DANGJIAN_EVAL_DIR", str(tmp_path / "work"))
    runner = CliRunner()
    out = runner.invoke(
        main, ["eval", str(questions), "--index", str(tmp_path / "idx"), "--pipelines", "ours,bm25", "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data[0]["pipelines"]) == {"ours", "bm25"}
    assert data[0]["pipelines"]["ours"]["summary"]["hit@10"] == 1.0
    bad = runner.invoke(main, ["eval", "nosuchset"])
    assert bad.exit_code == 1 and "没有名为“nosuchset”的评测集" in bad.output
    bad = runner.invoke(main, ["eval", str(questions)])
    assert bad.exit_code == 1 and "--index" in bad.output
    bad = runner.invoke(main, ["eval", "domain", "--pipelines", "ours,magic"])
    assert bad.exit_code == 1 and "未知的检索流程：magic" in bad.output


def test_the_conversation_set_is_honest_and_its_report_renders(tmp_path):
    """Every conversation has 2–4 turns, a follow-up's full form differs from it, and every
    required item occurs verbatim in the corpus (compared as the scorer compares)."""
    import json

    from dangjian.evaluation import report
    from dangjian.evaluation.conversations import load_conversations
    from dangjian.evaluation.runner import squash

    from .conftest import CORPUS, REPO, SHARED_DATA

    conversations = load_conversations(REPO / "evals")
    assert len(conversations) >= 40
    texts = [p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")]
    texts += [p.read_text(encoding="utf-8") for p in (REPO / "scripts" / "sample_texts").glob("*.txt")]
    texts += [p.read_text(encoding="utf-8") for p in (SHARED_DATA / "party_gov").rglob("*.md")]
    for path in (SHARED_DATA / "party_gov").rglob("*.jsonl"):
        texts += [json.loads(line)["content"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    corpus = squash("\n".join(texts))
    for conv in conversations:
        assert 2 <= len(conv["turns"]) <= 4, conv["id"]
        assert "full" not in conv["turns"][0]
        for turn in conv["turns"]:
            assert turn["required"] and turn.get("full") != turn["question"]
            assert all(squash(item) in corpus for item in turn["required"]), (conv["id"], turn["question"])

    saved = json.loads((REPO / "evals" / "results" / "conversations.json").read_text(encoding="utf-8"))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "conversations.json").write_text(json.dumps(saved), encoding="utf-8")
    text = report.render(tmp_path, ("conversations",))
    assert "(a) in the conversation" in text and "(c) asked alone" in text
