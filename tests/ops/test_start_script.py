"""``scripts/start.sh`` installs only when the package or its dependencies changed, torch first."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

from ..conftest import REPO

FAKE_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "$LOG"
if [ "$1 $2 $3" = "-m pip install" ] && [ "${@: -1}" = "." ]; then
  printf '#!/usr/bin/env bash\\necho "dangjian $*" >> "$LOG"\\n' > "$(dirname "$0")/dangjian"
  chmod +x "$(dirname "$0")/dangjian"
fi
"""


def _checkout(tmp_path):
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "dangjian", root / "dangjian", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "start.sh", root / "scripts" / "start.sh")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    python = root / ".venv" / "bin" / "python"  # stands in for the venv: records what it is asked
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON, encoding="utf-8")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return root


def _start(root, log):
    log.write_text("")
    subprocess.run(
        ["bash", "scripts/start.sh", "--port", "8123"],
        cwd=root,
        check=True,
        timeout=60,
        env={**os.environ, "LOG": str(log)},
        capture_output=True,
    )
    return log.read_text().splitlines()


def test_installs_once_then_serves_straight_away_until_something_changes(tmp_path):
    root, log = _checkout(tmp_path), tmp_path / "log"
    first = _start(root, log)
    assert first == [
        "python -m pip install --quiet torch==2.13.0",
        "python -m pip install --quiet .",
        "dangjian serve --port 8123",
    ]
    assert _start(root, log) == ["dangjian serve --port 8123"]  # nothing changed: no pip at all
    with open(root / "dangjian" / "cli" / "ops.py", "a", encoding="utf-8") as fh:
        fh.write("\n# changed\n")
    assert _start(root, log) == first  # a source change: install again
    assert _start(root, log) == ["dangjian serve --port 8123"]
    with open(root / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert _start(root, log) == first  # a dependency change too
