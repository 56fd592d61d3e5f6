"""Index format versions: read an index written by an older dangjian, refuse one from a newer.

``index.store.FORMAT_VERSION`` is the format this program writes. ``STEPS[n]`` says how a version
of format ``n`` is read as format ``n + 1``: ``step(folder, manifest, write=False)`` returns the
manifest as the newer format has it and must not touch the files (opening never writes);
``write=True`` runs on a copy of the version (``upgrade_index``) and may rewrite files there.

Format 2 is the first format any release wrote, so there are no steps yet; the mechanism is
tested with a made-up format 3 (``tests/ops/test_format.py``), and ``tests/ops/fixtures/index_v2``
keeps an index written by the release before this module, which every later release must open.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DangjianError, IndexCorruptError
from ..index import store as store_module
from ..index.layout import read_manifest, write_manifest

Step = Callable[..., dict[str, Any]]
STEPS: dict[int, Step] = {}


def _program() -> str:
    try:
        from importlib.metadata import version

        return f"dangjian {version('dangjian')}"
    except Exception:  # running from a source tree that was never installed
        return "dangjian"


def refuse_newer(home: Path, found: int) -> None:
    """An index of a newer format than ours: never read it as if it were ours."""
    raise DangjianError(
        f"索引 {Path(home).name} 的格式版本是 {found}，由更新版本的 dangjian 写入；本程序（{_program()}）"
        f"只能读取格式版本 {store_module.FORMAT_VERSION} 及以前的索引。请先升级 dangjian（用新版离线安装包"
        f"运行 bash install.sh，或 pip install -U dangjian）再打开；不要用旧版本重建或写入这个索引",
        code="index_too_new",
    )


def _chain(found: int) -> list[Step]:
    steps = []
    for n in range(found, store_module.FORMAT_VERSION):
        step = STEPS.get(n)
        if step is None:
            raise IndexCorruptError(
                f"索引的格式版本是 {found}，本程序（{_program()}）不能读取这么旧的格式；"
                f"请用原来的文件重新导入（dangjian ingest），或先用写入它的那个版本导出"
            )
        steps.append(step)
    return steps


def read_older(home: Path, path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest of an older-format version, read as the current format (nothing is written)."""
    found = manifest["format_version"]
    for step in _chain(found):
        manifest = step(path, dict(manifest), write=False)
    return {**manifest, "format_version": store_module.FORMAT_VERSION, "read_from_format": found}


@dataclass
class UpgradeReport:
    index_dir: str
    from_format: int
    to_format: int
    version: str  # the version now current
    upgraded: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def upgrade_index(home: str | Path) -> UpgradeReport:
    """Rewrite the current version of an older-format index in the current format, as a new
    version switched in atomically (the old version stays until garbage-collected)."""

    store = store_module.IndexStore(home)
    with store.write_lock():
        name = store.current_name()
        if name is None:
            store.open()  # raises the usual "no index" message
        path = store.versions_dir / name
        try:
            raw = read_manifest(path)
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexCorruptError(f"索引版本 {name} 的 manifest.json 无法读取（{exc}）") from None
        found = raw.get("format_version")
        target = store_module.FORMAT_VERSION
        if found == target:
            return UpgradeReport(str(home), found, target, name, upgraded=False)
        store.open()  # refuses a newer or unknown format with its message
        tmp = store.versions_dir / f".tmp-{uuid.uuid4().hex}"
        shutil.copytree(path, tmp)
        try:
            manifest = raw
            for step in _chain(found):
                manifest = step(tmp, dict(manifest), write=True)
            manifest = {**manifest, "format_version": target, "upgraded_from_format": found}
            write_manifest(tmp, manifest)
            new = store.switch_in(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return UpgradeReport(str(home), found, target, new, upgraded=True)


__all__ = ["STEPS", "UpgradeReport", "read_older", "refuse_newer", "upgrade_index"]
