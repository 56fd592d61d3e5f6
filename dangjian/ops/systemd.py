"""``dangjian service install``: a systemd unit that starts ``dangjian serve`` with the machine.

Two variants: a system unit (``/etc/systemd/system/dangjian.service``, runs as a named user,
started at boot) and a user unit (``~/.config/systemd/user/dangjian.service``, started at boot
once ``loginctl enable-linger`` is set for that user). Output goes to the journal
(``journalctl -u dangjian``). Settings that are not command-line options (``DANGJIAN_*``) come
from an environment file. Nothing here talks to systemd: the unit is written, the commands printed.
"""

from __future__ import annotations

import getpass
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import DangjianError

UNIT_NAME = "dangjian"


@dataclass
class UnitPlan:
    path: Path
    text: str
    commands: list[str]  # what to run afterwards, in order


def _quote(arg: str) -> str:
    """systemd's command-line quoting is close enough to the shell's for paths and options."""
    return shlex.quote(arg)


def serve_command(host: str, port: int, index: Path, corpus: Path | None = None, executable: Path | None = None) -> str:
    """The ExecStart line: this environment's ``dangjian`` (absolute), so the unit uses the same install."""
    if executable is None:
        script = Path(sys.executable).parent / "dangjian"
        executable = script if script.exists() else None
    argv = [str(executable)] if executable else [sys.executable, "-m", "dangjian.cli"]
    argv += ["serve", "--host", host, "--port", str(port), "--index", str(index)]
    if corpus is not None:
        argv += ["--corpus", str(corpus)]
    return " ".join(_quote(a) for a in argv)


def render_unit(
    *,
    system: bool,
    host: str,
    port: int,
    index: Path,
    env_file: Path | None,
    working_dir: Path,
    user: str | None = None,
    corpus: Path | None = None,
    executable: Path | None = None,
) -> str:
    index, working_dir = index.absolute(), working_dir.absolute()
    lines = [
        "[Unit]",
        "Description=dangjian 党建知识库问答服务",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
    ]
    if system:
        lines += [f"User={user}", f"Group={user}"]
    lines += [f"WorkingDirectory={working_dir}"]
    if env_file is not None:
        lines += [f"EnvironmentFile=-{env_file.absolute()}"]
    lines += [
        f"Environment=DANGJIAN_INDEX_DIR={index}",
        "Environment=PYTHONUNBUFFERED=1",
        f"ExecStart={serve_command(host, port, index, corpus.absolute() if corpus else None, executable)}",
        "Restart=on-failure",
        "RestartSec=5",
        "TimeoutStopSec=30",
        "StandardOutput=journal",
        "StandardError=journal",
        f"SyslogIdentifier={UNIT_NAME}",
    ]
    if system:
        lines += ["NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=full"]
    lines += ["", "[Install]", f"WantedBy={'multi-user.target' if system else 'default.target'}", ""]
    return "\n".join(lines)


def plan_unit(
    *,
    system: bool,
    host: str = "127.0.0.1",
    port: int = 8000,
    index: Path = Path("dangjian_data"),
    env_file: Path | None = None,
    user: str | None = None,
    output: Path | None = None,
    corpus: Path | None = None,
    working_dir: Path | None = None,
    executable: Path | None = None,
) -> UnitPlan:
    if system:
        user = user or getpass.getuser()
        if user == "root":
            raise DangjianError(
                "系统服务不应以 root 身份运行；请用 --user-name 指定一个普通用户（如 dangjian）",
                code="bad_service_user",
            )
        path = output or Path("/etc/systemd/system") / f"{UNIT_NAME}.service"
        ctl, journal = "sudo systemctl", f"journalctl -u {UNIT_NAME} -f"
    else:
        path = output or Path.home() / ".config" / "systemd" / "user" / f"{UNIT_NAME}.service"
        ctl, journal = "systemctl --user", f"journalctl --user -u {UNIT_NAME} -f"
    text = render_unit(
        system=system,
        host=host,
        port=port,
        index=index,
        env_file=env_file,
        working_dir=working_dir or Path.cwd(),
        user=user,
        corpus=corpus,
        executable=executable,
    )
    commands = [f"{ctl} daemon-reload", f"{ctl} enable --now {UNIT_NAME}", f"{ctl} status {UNIT_NAME}", journal]
    if not system:
        commands.insert(0, f"loginctl enable-linger {getpass.getuser()}   # 开机即启动，不必先登录")
    check_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    commands.append(f"curl -fsS http://{check_host}:{port}/api/v1/health")
    return UnitPlan(path, text, commands)


def write_unit(plan: UnitPlan) -> None:
    try:
        plan.path.parent.mkdir(parents=True, exist_ok=True)
        plan.path.write_text(plan.text, encoding="utf-8")
    except PermissionError:
        raise DangjianError(
            f"没有权限写入 {plan.path}；系统服务请用 sudo 运行，或用 --output 写到别处再复制过去", code="permission"
        ) from None
