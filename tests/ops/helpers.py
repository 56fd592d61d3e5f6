"""Shared helpers for the intranet-operations tests: the release fixture and the CLI as users run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..conftest import REPO

FIXTURE = Path(__file__).parent / "fixtures" / "index_v2"  # written by the release before dangjian.ops
EXPECTED = Path(__file__).parent / "fixtures" / "expected_answers.json"


def fixture_copy(tmp_path: Path, name: str = "idx") -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURE, target)
    return target


def cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``dangjian ARGS`` from this checkout (not whatever ``dangjian`` is first on PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "dangjian.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
