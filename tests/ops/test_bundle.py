"""The offline bundle: built here, installed into a fresh venv with the network cut, answers a question.

Networking is cut three ways: pip runs with ``--no-index`` (install.sh), an unreachable index URL
(``PIP_INDEX_URL=http://127.0.0.1:9/``) and no pip configuration or find-links from this machine;
where unprivileged network namespaces work, the install and the question also run in one with no
network at all (``unshare -rn``). The bundle is built with ``pip wheel``, which reuses the wheels
pip already has in its cache (the test suite's own install put them there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from dangjian.kb import KnowledgeBase
from dangjian.ops.bundle import build_bundle

from .helpers import fixture_copy

QUESTION = "物业管理十联工作法具体怎么做？"


def _target_python() -> str:
    """The machine's own python3 when it is our X.Y (it may be an older patch release, as on an
    intranet machine), else the interpreter this venv was made from."""
    ours = f"{sys.version_info[0]}.{sys.version_info[1]}"
    system = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if system:
        got = subprocess.run(
            [system, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if got.stdout.strip() == ours:
            return system
    return str(Path(sys.base_prefix) / "bin" / f"python{ours}")


def _no_network_prefix() -> list[str]:
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn"]
    return []


@pytest.mark.slow
def test_offline_bundle_installs_without_network_and_answers(tmp_path):
    index = fixture_copy(tmp_path)
    bundle = tmp_path / "dangjian-offline.tar.gz"
    report = build_bundle(bundle, index=index)
    assert report.torch and report.with_index and report.bytes > 100e6
    assert any(w.startswith("torch-2.13.0") for w in report.wheel_names)
    assert any(w.startswith("dangjian-") for w in report.wheel_names)

    with tarfile.open(bundle) as tar:
        tar.extractall(tmp_path / "usb", filter="data")
    root = tmp_path / "usb" / "dangjian-offline"
    meta = json.loads((root / "BUNDLE.json").read_text(encoding="utf-8"))
    assert set(meta["wheels"]) == {p.name for p in (root / "wheelhouse").glob("*.whl")}

    target = tmp_path / "内网机器"
    cut = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        "PIP_INDEX_URL": "http://127.0.0.1:9/",
        "PIP_CONFIG_FILE": os.devnull,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHON": _target_python(),
    }
    t0 = time.monotonic()
    done = subprocess.run(
        [*_no_network_prefix(), "bash", str(root / "install.sh"), str(target)],
        capture_output=True,
        text=True,
        env=cut,
        timeout=900,
    )
    install_s = time.monotonic() - t0
    assert done.returncode == 0, done.stdout + done.stderr
    assert "安装完成" in done.stdout
    print(f"bundle {report.bytes / 1e6:.0f} MB built in {report.elapsed_s:.0f} s; offline install {install_s:.0f} s")

    python = target / ".venv" / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import dangjian, torch; print(dangjian.__file__); print(torch.__version__)"],
        capture_output=True,
        text=True,
        env=cut,
        cwd=target,
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.splitlines()[0].startswith(str(target / ".venv"))
    assert where.stdout.splitlines()[1].startswith("2.13.0")

    asked = subprocess.run(
        [
            *_no_network_prefix(),
            str(target / ".venv" / "bin" / "dangjian"),
            "ask",
            QUESTION,
            "--index",
            str(target / "dangjian_data"),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=cut,
        cwd=target,
        timeout=300,
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["citations"] and not answer["abstained"]
    here = KnowledgeBase(index).ask(QUESTION, k=5)
    assert answer["answer"] == here.answer  # the installed copy answers as this checkout does
