"""``dangjian backup`` / ``restore``: a checked snapshot that restores to the same answers; a damaged
archive is refused in Chinese and nothing in the target is replaced."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest

from dangjian.errors import DangjianError
from dangjian.kb import KnowledgeBase
from dangjian.ops.backup import backup, restore
from dangjian.ops.verify import verify_index
from dangjian.service.keys import KeyStore

from .helpers import cli, fixture_copy, has_chinese

QUESTIONS = ["物业管理十联工作法具体怎么做？", "新来的社工要参加哪些培训？", "2023年党建工作有什么谋划？"]


def _answers(index):
    kb = KnowledgeBase(index)
    return [[(h.passage_id, round(h.score, 6), h.text) for h in kb.search(q, k=5).hits] for q in QUESTIONS]


@pytest.fixture()
def home(tmp_path):
    """An index with everything that lives beside it: keys, collections, uploads, conversations."""
    index = fixture_copy(tmp_path / "src")
    KeyStore(index).create("editor", None, "组织办")
    (index / "collections.json").write_text(json.dumps({"内部资料": "说明"}, ensure_ascii=False), encoding="utf-8")
    uploads = index.with_name(index.name + "_uploads") / "内部资料"
    uploads.mkdir(parents=True)
    (uploads / "通知.txt").write_text("一、总体要求\n全体党员参加学习。\n", encoding="utf-8")
    (uploads / ".通知.txt.part").write_text("half", encoding="utf-8")  # an upload in progress: not state
    (index / "conversations").mkdir()
    (index / "conversations" / "c1.json").write_text("{}", encoding="utf-8")
    return index


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_backup_restores_everything_and_answers_identically(home, tmp_path):
    archive = tmp_path / "备份.tar.gz"
    report = backup(home, archive)
    assert report.documents == 1 and report.passages > 10 and report.files > 15
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert {"SHA256SUMS", "BACKUP.json", "index/CURRENT", "index/keys.json", "index/collections.json"} <= set(names)
    assert "uploads/内部资料/通知.txt" in names and "index/conversations/c1.json" in names
    assert not any(n.endswith(".part") or n.endswith(".lock") for n in names)

    target = tmp_path / "restored" / "idx"
    result = restore(archive, target)
    assert result.documents == 1 and result.set_aside is None
    assert verify_index(target).ok
    assert (target / "keys.json").read_bytes() == (home / "keys.json").read_bytes()
    assert (target / "collections.json").read_bytes() == (home / "collections.json").read_bytes()
    assert _tree(target.with_name("idx_uploads")) == {
        "内部资料/通知.txt": "一、总体要求\n全体党员参加学习。\n".encode()
    }
    assert (target / "conversations" / "c1.json").exists()
    source_version = home / "versions" / (home / "CURRENT").read_text().strip()
    restored_version = target / "versions" / (target / "CURRENT").read_text().strip()
    assert _tree(restored_version) == _tree(source_version)
    assert _answers(target) == _answers(home)


def test_restore_over_an_index_switches_versions_and_keeps_the_old_aside(home, tmp_path):
    archive = tmp_path / "b.tar.gz"
    backup(home, archive)
    KeyStore(home).create("reader", None, "之后加的")  # changed after the backup
    before = (home / "CURRENT").read_text()
    result = restore(archive, home)
    assert (home / "CURRENT").read_text() != before  # a new version, switched atomically
    assert (home / "versions" / before.strip()).is_dir()  # the previous one is still there
    assert [r.name for r in KeyStore(home).records()] == ["组织办"]
    aside = tmp_path / "src" / result.set_aside.rsplit("/", 1)[-1]
    assert {r["name"] for r in json.loads((aside / "index" / "keys.json").read_text(encoding="utf-8"))} == {
        "组织办",
        "之后加的",
    }


def _flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x01
    return bytes(out)


def _retar(archive, change):
    """The archive rebuilt with one member changed by ``change(name, data)``: valid gzip and tar."""
    out = io.BytesIO()
    with (
        tarfile.open(archive) as src,
        gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=3, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w") as dst,
    ):
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            data = change(m.name, data)
            if data is not None:
                m.size = len(data)
                dst.addfile(m, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize("where", ["header flags", "header time", "header os", "start", "middle", "crc", "length"])
def test_one_flipped_byte_is_refused_and_nothing_replaced(home, tmp_path, where):
    archive = tmp_path / "b.tar.gz"
    backup(home, archive)
    data = archive.read_bytes()
    at = {
        "header flags": 3,
        "header time": 5,
        "header os": 9,
        "start": 20,
        "middle": len(data) // 2,
        "crc": len(data) - 6,
        "length": len(data) - 1,
    }[where]
    bad = tmp_path / "坏.tar.gz"
    bad.write_bytes(_flip(data, at))
    target = fixture_copy(tmp_path, "target")
    (target / "keys.json").write_text("[]", encoding="utf-8")
    before = _tree(target)
    with pytest.raises(DangjianError) as err:
        restore(bad, target)
    assert err.value.code == "backup_damaged" and "没有做任何改动" in err.value.message
    assert _tree(target) == before
    assert not list(tmp_path.glob(".target.restore-*"))  # the staging folder is gone
    out = cli("restore", str(bad), "--index", str(target))
    assert out.returncode != 0 and "已损坏" in out.stderr and has_chinese(out.stderr)
    assert "Traceback" not in out.stderr
    assert _tree(target) == before


def _change_passages(name, data):
    if name.endswith("/passages.jsonl"):
        return data.replace("党".encode(), "政".encode(), 1)
    return data


def _drop_vectors(name, data):
    return None if name.endswith("/vectors.npy") else data


@pytest.mark.parametrize("change", [_change_passages, _drop_vectors], ids=["content changed", "file missing"])
def test_an_archive_that_disagrees_with_its_checksums_is_refused(home, tmp_path, change):
    archive = tmp_path / "b.tar.gz"
    backup(home, archive)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(_retar(archive, change))
    gzip.decompress(bad.read_bytes())  # the compression itself is sound
    target = tmp_path / "new"
    with pytest.raises(DangjianError, match="校验和|不符"):
        restore(bad, target)
    assert not (target / "CURRENT").exists()


def test_an_archive_with_paths_outside_is_refused(home, tmp_path):
    archive = tmp_path / "b.tar.gz"
    backup(home, archive)
    out = io.BytesIO(_retar(archive, lambda n, d: d))
    evil = io.BytesIO()
    with (
        tarfile.open(fileobj=out) as src,
        gzip.GzipFile(filename="", mode="wb", fileobj=evil, mtime=0, compresslevel=3) as gz,
        tarfile.open(fileobj=gz, mode="w") as dst,
    ):
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m))
        info = tarfile.TarInfo("../escape.txt")
        info.size = 2
        dst.addfile(info, io.BytesIO(b"hi"))
    bad = tmp_path / "evil.tar.gz"
    bad.write_bytes(evil.getvalue())
    with pytest.raises(DangjianError, match="不属于备份"):
        restore(bad, tmp_path / "t")
    assert not (tmp_path / "escape.txt").exists()


def test_cli_backup_and_restore(home, tmp_path):
    archive = tmp_path / "备份.tar.gz"
    out = cli("backup", "--index", str(home), "--output", str(archive))
    assert out.returncode == 0, out.stderr
    assert "已备份" in out.stdout and archive.exists()
    out = cli("restore", str(archive), "--index", str(tmp_path / "r"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["documents"] == 1


def test_backup_of_a_missing_index_says_so(tmp_path):
    out = cli("backup", "--index", str(tmp_path / "none"), "--output", str(tmp_path / "b.tar.gz"))
    assert out.returncode == 1 and "索引不存在" in out.stderr
    assert not (tmp_path / "b.tar.gz").exists()
