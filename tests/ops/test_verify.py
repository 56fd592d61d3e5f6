"""``dangjian verify``: a whole index passes; each kind of damage is found and named in Chinese."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dangjian.ops.verify import verify_index

from .helpers import cli, fixture_copy, has_chinese


def _version(index):
    return index / "versions" / (index / "CURRENT").read_text().strip()


def test_whole_index_passes(tmp_path):
    index = fixture_copy(tmp_path)
    report = verify_index(index)
    assert report.ok, report.problems
    assert report.documents == 1 and report.passages > 10
    assert any("原文位置一致" in c for c in report.checks) and any("归一化" in c for c in report.checks)
    out = cli("verify", "--index", str(index))
    assert out.returncode == 0, out.stderr
    assert "完好" in out.stdout


def _swap_char_in_passage(v):
    path = v / "passages.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    row = json.loads(lines[3])
    i = next(i for i, ch in enumerate(row["text"]) if "\u4e00" <= ch <= "\u9fff" and ch != "党")
    row["text"] = row["text"][:i] + "党" + row["text"][i + 1 :]  # same UTF-8 length: only the text is wrong
    lines[3] = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def _vectors(v, change):
    vectors = np.load(v / "vectors.npy")
    np.save(v / "vectors.npy", change(vectors))


def _nan(vectors):
    vectors[2, 5] = np.nan
    return vectors


def _not_normalised(vectors):
    vectors[1] *= 2
    return vectors


def _manifest_count(v):
    m = json.loads((v / "manifest.json").read_text(encoding="utf-8"))
    m["counts"]["passages"] += 1
    (v / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def _truncate_documents(v):
    data = (v / "documents.jsonl").read_bytes()
    (v / "documents.jsonl").write_bytes(data[: len(data) // 2])


DAMAGE = {
    "passage text differs from the document at its offsets": (_swap_char_in_passage, "原文位置"),
    "a vector with NaN": (lambda v: _vectors(v, _nan), "非有限值"),
    "a vector not normalised": (lambda v: _vectors(v, _not_normalised), "单位长度"),
    "a vector row missing": (lambda v: _vectors(v, lambda x: x[:-1]), "向量形状"),
    "a BM25 file missing": (lambda v: (v / "lexical" / "token_ids.npy").unlink(), "关键词索引缺少文件"),
    "BM25 data damaged": (
        lambda v: (v / "lexical" / "indptr.csc.index.npy").write_bytes(b"\x93NUMPY garbage"),
        "关键词索引",
    ),
    "manifest count wrong": (_manifest_count, "段落数不符"),
    "documents.jsonl truncated": (_truncate_documents, "documents.jsonl"),
    "CURRENT points nowhere": (lambda v: (v.parent.parent / "CURRENT").write_text("v999999\n"), "v999999"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damage_is_reported_in_chinese_with_nonzero_exit(tmp_path, damage):
    index = fixture_copy(tmp_path)
    change, expected = DAMAGE[damage]
    change(_version(index))
    report = verify_index(index)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems
    assert all(has_chinese(p) for p in report.problems)
    out = cli("verify", "--index", str(index))
    assert out.returncode == 1
    assert "损坏" in out.stdout or "错误" in out.stderr
