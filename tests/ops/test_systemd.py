"""``dangjian service install``: the unit's content for the user and system variants (systemd is never started)."""

from __future__ import annotations

import shlex

import pytest

from dangjian.errors import DangjianError
from dangjian.ops.systemd import plan_unit

from .helpers import cli


def _directives(text):
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("["):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_user_unit(tmp_path):
    plan = plan_unit(
        system=False,
        host="0.0.0.0",
        port=8123,
        index=tmp_path / "数据",
        env_file=tmp_path / "dangjian.env",
        output=tmp_path / "dangjian.service",
        working_dir=tmp_path,
    )
    d = _directives(plan.text)
    argv = shlex.split(d["ExecStart"][0])
    assert argv[0].startswith("/") and argv[argv.index("serve") :] == [
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8123",
        "--index",
        str(tmp_path / "数据"),
    ]
    assert d["EnvironmentFile"] == [f"-{tmp_path / 'dangjian.env'}"]
    assert f"DANGJIAN_INDEX_DIR={tmp_path / '数据'}" in d["Environment"]
    assert d["StandardOutput"] == ["journal"] and d["StandardError"] == ["journal"]
    assert d["Restart"] == ["on-failure"] and d["WantedBy"] == ["default.target"]
    assert "User" not in d
    assert any("systemctl --user enable --now dangjian" in c for c in plan.commands)
    assert any(c.startswith("loginctl enable-linger") for c in plan.commands)
    assert plan.commands[-1] == "curl -fsS http://127.0.0.1:8123/api/v1/health"


def test_system_unit_runs_as_a_named_user_at_boot(tmp_path):
    plan = plan_unit(system=True, user="dangjian", index=tmp_path / "idx", output=tmp_path / "u.service")
    d = _directives(plan.text)
    assert d["User"] == ["dangjian"] and d["WantedBy"] == ["multi-user.target"]
    assert "After" in d and "network-online.target" in d["After"][0]
    assert "sudo systemctl enable --now dangjian" in plan.commands
    assert "journalctl -u dangjian -f" in plan.commands


def test_system_unit_refuses_root(tmp_path):
    with pytest.raises(DangjianError, match="root"):
        plan_unit(system=True, user="root", index=tmp_path / "idx")


def test_cli_writes_the_unit_and_prints_the_commands(tmp_path):
    unit = tmp_path / "dangjian.service"
    out = cli("service", "install", "--user", "--port", "8200", "--index", str(tmp_path / "idx"), "--output", str(unit))
    assert out.returncode == 0, out.stderr
    assert "systemctl --user daemon-reload" in out.stdout and "/api/v1/health" in out.stdout
    d = _directives(unit.read_text(encoding="utf-8"))
    assert "--port 8200" in d["ExecStart"][0]
