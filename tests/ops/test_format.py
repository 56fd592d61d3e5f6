"""Index format versions: the release fixture opens and reads as written; a newer format is refused
in Chinese naming the upgrade; an older one goes through the migration steps (tested with a made-up
format 3, since format 2 is the first that any release wrote)."""

from __future__ import annotations

import json

import pytest

from dangjian.errors import DangjianError, IndexCorruptError
from dangjian.index import store as store_module
from dangjian.index.store import FORMAT_VERSION, IndexStore
from dangjian.kb import KnowledgeBase
from dangjian.ops import migrate_format
from dangjian.ops.migrate_format import upgrade_index

from .helpers import EXPECTED, FIXTURE, cli, fixture_copy, has_chinese


def _set_format(index, value):
    path = index / "versions" / (index / "CURRENT").read_text().strip() / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = value
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_release_fixture_is_format_2_and_opens_and_reads_as_written(tmp_path):
    assert json.loads(next(FIXTURE.glob("versions/*/manifest.json")).read_text())["format_version"] == 2
    kb = KnowledgeBase(fixture_copy(tmp_path))
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["answers"]
    for item in expected:
        result = kb.search(item["question"], k=5)
        assert result.abstained == item["abstained"]
        if not item["hits"]:
            continue
        got = {h.passage_id: h.text for h in result.hits}
        # the passages are read exactly as the release wrote them ...
        for hit in item["hits"]:
            if hit["passage_id"] in got:
                assert got[hit["passage_id"]] == hit["text"]
        # ... and the question still finds what the release found
        assert result.hits[0].passage_id == item["hits"][0]["passage_id"]
        assert len(set(got) & {h["passage_id"] for h in item["hits"]}) >= 3


def test_a_newer_format_is_refused_naming_the_upgrade(tmp_path):
    index = fixture_copy(tmp_path)
    _set_format(index, FORMAT_VERSION + 1)
    with pytest.raises(DangjianError) as err:
        IndexStore(index).open()
    assert err.value.code == "index_too_new"
    assert "升级" in err.value.message and str(FORMAT_VERSION + 1) in err.value.message
    assert str(tmp_path) not in err.value.message  # no server path in what the service may show
    versions = sorted(p.name for p in (index / "versions").iterdir())
    with pytest.raises(DangjianError, match="升级"):  # nor written to
        KnowledgeBase(index).remove(["nothing"])
    assert sorted(p.name for p in (index / "versions").iterdir()) == versions
    out = cli("search", "十联工作法", "--index", str(index))
    assert out.returncode == 1 and "升级" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("value", [None, "2", 0])
def test_an_unknown_format_is_reported_not_guessed(tmp_path, value):
    index = fixture_copy(tmp_path)
    _set_format(index, value)
    with pytest.raises(IndexCorruptError) as err:
        IndexStore(index).open()
    assert has_chinese(err.value.message)


@pytest.fixture()
def format_3(monkeypatch):
    """This program as if it wrote format 3, with a step that reads format 2 as 3."""
    calls = []

    def step(folder, manifest, *, write):
        calls.append((folder, write))
        if write:
            (folder / "added_in_3.txt").write_text("3", encoding="utf-8")
        return {**manifest, "added_in_3": True}

    monkeypatch.setattr(store_module, "FORMAT_VERSION", 3)
    monkeypatch.setitem(migrate_format.STEPS, 2, step)
    return calls


def test_an_older_format_is_read_through_the_steps_without_writing(tmp_path, format_3):
    index = fixture_copy(tmp_path)
    before = sorted(p.relative_to(index).as_posix() for p in index.rglob("*"))
    version = IndexStore(index).open()
    assert version.manifest["format_version"] == 3 and version.manifest["read_from_format"] == 2
    assert version.manifest["added_in_3"] and format_3 == [(version.path, False)]
    assert sorted(p.relative_to(index).as_posix() for p in index.rglob("*")) == before
    assert KnowledgeBase(index).search("十联工作法包括什么", k=3).hits


def test_upgrade_index_writes_the_new_format_as_a_new_version(tmp_path, format_3):
    index = fixture_copy(tmp_path)
    old = (index / "CURRENT").read_text().strip()
    report = upgrade_index(index)
    assert report.upgraded and (report.from_format, report.to_format) == (2, 3)
    current = index / "versions" / report.version
    assert report.version != old and (index / "versions" / old).is_dir()
    manifest = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == 3 and manifest["upgraded_from_format"] == 2
    assert (current / "added_in_3.txt").exists() and not (index / "versions" / old / "added_in_3.txt").exists()
    format_3.clear()
    assert IndexStore(index).open().manifest["format_version"] == 3 and format_3 == []  # no step any more
    assert not upgrade_index(index).upgraded


def test_a_format_too_old_for_any_step_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "FORMAT_VERSION", 3)  # no step registered for 2 -> 3
    with pytest.raises(IndexCorruptError, match="太旧|这么旧"):
        IndexStore(fixture_copy(tmp_path)).open()


def test_upgrade_index_on_a_current_index_changes_nothing(tmp_path):
    index = fixture_copy(tmp_path)
    out = cli("upgrade-index", "--index", str(index))
    assert out.returncode == 0 and "无需升级" in out.stdout
    assert sorted(p.name for p in (index / "versions").iterdir()) == ["v000001"]
