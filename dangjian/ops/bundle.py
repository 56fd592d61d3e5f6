"""``dangjian bundle``: an offline install bundle for a machine without internet.

Built on a machine with registry access, from the source tree (the folder with pyproject.toml)::

    dangjian-offline/
      wheelhouse/          the dangjian wheel and every dependency as wheels for the target
                           platform and Python (the CPU torch build unless --no-torch; extras on request)
      install.sh           installs from wheelhouse/ only (pip --no-index), then restores the index
      index-backup.tar.gz  a prebuilt index as a ``dangjian backup`` archive (only with --index)
      corpus/              the bundled documents (so ``dangjian serve --corpus corpus`` works)
      BUNDLE.json          version, Python, platform, extras, and each wheel's SHA-256
      安装说明.txt

The wheelhouse is filled in two steps: ``pip wheel`` turns every requirement into a wheel here
(pure-Python sdists such as jieba are built), then ``pip download --only-binary=:all:`` resolves
again for the target (``--platform``, default this machine's; ``--python-version`` X.Y, default
this one's, taken as its oldest patch release), finding the pure wheels among those built.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import DangjianError

TORCH_SPEC = "torch==2.13.0"  # the CPU build (a bare `torch` pulls a multi-GB CUDA build)
BUNDLE_DIR = "dangjian-offline"

INSTALL_SH = r"""#!/usr/bin/env bash
# 离线安装 dangjian：只使用本安装包中的 wheelhouse/，不访问任何网络。
# 用法：bash install.sh [安装目录]      默认 ~/dangjian；程序装在 安装目录/.venv，索引在 安装目录/dangjian_data
# 升级：对同一个安装目录运行新安装包的 install.sh（先备份，见 docs/deployment.md“内网部署”）。
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:-$HOME/dangjian}
python=${PYTHON:-python3}
want="@PYTHON@"
have=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || {
  echo "错误：找不到 $python；请先安装 Python $want（或用 PYTHON=解释器路径 指定）" >&2; exit 1; }
if [ "$have" != "$want" ]; then
  echo "错误：本安装包适用于 Python $want，而 $python 是 Python $have；请改用 Python $want（PYTHON=python$want bash install.sh）" >&2
  exit 1
fi
mkdir -p "$target"
if [ ! -x "$target/.venv/bin/python" ]; then
  "$python" -m venv "$target/.venv" || {
    echo "错误：无法创建虚拟环境；Debian/Ubuntu 上请先安装 python3-venv" >&2; exit 1; }
fi
# Only this bundle: no configured index, no find-links from the environment.
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL
pip=("$target/.venv/bin/python" -m pip install --quiet --no-index --find-links "$here/wheelhouse" --upgrade)
echo "安装 dangjian @VERSION@ 到 $target/.venv …"
if [ -n "@TORCH@" ]; then "${pip[@]}" "@TORCH@"; fi
"${pip[@]}" "dangjian@EXTRAS@==@VERSION@"
if [ -d "$here/corpus" ] && [ ! -e "$target/corpus" ]; then cp -r "$here/corpus" "$target/corpus"; fi
if [ -f "$here/index-backup.tar.gz" ]; then
  if [ -e "$target/dangjian_data/CURRENT" ]; then
    echo "已有索引 $target/dangjian_data，未用安装包中的索引覆盖（需要时：dangjian restore $here/index-backup.tar.gz --index $target/dangjian_data）"
  else
    "$target/.venv/bin/dangjian" restore "$here/index-backup.tar.gz" --index "$target/dangjian_data"
  fi
fi
"$target/.venv/bin/dangjian" --version
echo "安装完成。启动：cd $target && .venv/bin/dangjian serve --index dangjian_data --corpus corpus"
echo "开机自动启动：cd $target && .venv/bin/dangjian service install --system --index dangjian_data（见 docs/deployment.md“内网部署”）"
"""

README_TXT = """dangjian 离线安装包（dangjian @VERSION@，Python @PYTHON@，@PLATFORM@）

1. 把整个文件拷到内网机器上，解开：tar xzf dangjian-offline.tar.gz
2. 安装（不联网）：bash dangjian-offline/install.sh ~/dangjian
3. 启动：cd ~/dangjian && .venv/bin/dangjian serve --host 0.0.0.0 --index dangjian_data --corpus corpus
4. 开机自动启动、备份、恢复、升级：见 docs/deployment.md 的“内网部署”一节。

机器需要已装好 Python @PYTHON@ 和 venv 模块（Debian/Ubuntu：python3-venv）。
"""


@dataclass
class BundleReport:
    output: str
    version: str
    python: str
    platform: str
    wheels: int
    torch: bool
    extras: list[str]
    with_index: bool
    bytes: int
    elapsed_s: float
    wheel_names: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def source_tree() -> Path | None:
    """The source checkout this package runs from (pyproject.toml beside the package), if any."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").exists() and (root / "dangjian").is_dir() else None


def _version(source: Path) -> str:
    import tomllib

    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    if project.get("name") != "dangjian":
        raise DangjianError(
            f"{source} 不是 dangjian 的源码目录（pyproject.toml 中的名称不是 dangjian）", code="bad_source"
        )
    return project["version"]


def _pip(args: list[str], log) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    log("$ " + " ".join(cmd))
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stdout.strip().splitlines()[-15:])
        raise DangjianError(
            f"pip 没能取得依赖（退出码 {done.returncode}）；请检查网络和软件源。pip 的输出：\n{tail}", code="bundle_pip"
        )


def _native_platform() -> str:
    from packaging.tags import sys_tags

    return next(iter(sys_tags())).platform


def build_bundle(
    output: str | Path,
    *,
    source: Path | None = None,
    extras: tuple[str, ...] = (),
    torch: bool = True,
    torch_spec: str = TORCH_SPEC,
    index: Path | None = None,
    platform: str | None = None,
    python_version: str | None = None,
    pip_options: tuple[str, ...] = (),
    compresslevel: int = 1,
    log=lambda msg: None,
) -> BundleReport:
    """Build ``output`` (a .tar.gz) as described in the module docstring."""
    t0 = time.monotonic()
    output = Path(output)
    source = source or source_tree()
    if source is None:
        raise DangjianError("找不到 dangjian 的源码目录；请在源码目录中运行，或用 --source 指定", code="bad_source")
    version = _version(source)
    python = python_version or f"{sys.version_info[0]}.{sys.version_info[1]}"
    extra_part = f"[{','.join(extras)}]" if extras else ""
    work = Path(tempfile.mkdtemp(prefix="dangjian-bundle-", dir=output.parent if output.parent.exists() else None))
    try:
        root = work / BUNDLE_DIR
        wheelhouse = root / "wheelhouse"
        wheelhouse.mkdir(parents=True)
        wanted = ([torch_spec] if torch else []) + [f"{source}{extra_part}"]
        # 1. every requirement as a wheel for this machine: sdists (jieba, opencc) are built here
        built = work / "built"
        _pip(["wheel", "--quiet", "--prefer-binary", "--wheel-dir", str(built), *pip_options, *wanted], log)
        pure = work / "pure"
        pure.mkdir()
        for wheel in built.glob("*-none-any.whl"):  # pure Python: the same for every platform
            shutil.copy2(wheel, pure)
        # 2. resolved again for the target: its platform, and Python X.Y as its oldest patch release
        # (a wheel built here for 3.11.7 may require >= 3.11.5; the intranet machine may have 3.11.2)
        target = ["--python-version", python, "--implementation", "cp", "--only-binary=:all:"]
        if platform:
            target += ["--platform", platform]
        requirements = ([torch_spec] if torch else []) + [f"dangjian{extra_part}=={version}"]
        _pip(
            ["download", "--quiet", "--dest", str(wheelhouse), "--find-links", str(pure), *target, *pip_options]
            + requirements,
            log,
        )
        wheels = sorted(p.name for p in wheelhouse.glob("*.whl"))
        if not any(w.startswith(f"dangjian-{version}-") for w in wheels):
            raise DangjianError("wheelhouse 中没有 dangjian 本身的 wheel；请检查源码目录", code="bundle_pip")
        if torch and not any(w.startswith("torch-") for w in wheels):
            raise DangjianError(f"wheelhouse 中没有 {torch_spec}；请检查软件源是否提供 CPU 版 torch", code="bundle_pip")
        if index is not None:
            from .backup import backup

            log(f"备份索引 {index} 放入安装包")
            backup(index, root / "index-backup.tar.gz")
        if (source / "corpus").is_dir():
            shutil.copytree(source / "corpus", root / "corpus")
        plat = platform or _native_platform()
        fill = {
            "@PYTHON@": python,
            "@VERSION@": version,
            "@TORCH@": torch_spec if torch else "",
            "@EXTRAS@": extra_part,
            "@PLATFORM@": plat,
        }
        for name, template in (("install.sh", INSTALL_SH), ("安装说明.txt", README_TXT)):
            text = template
            for key, value in fill.items():
                text = text.replace(key, value)
            (root / name).write_text(text, encoding="utf-8")
        os.chmod(root / "install.sh", 0o755)
        meta = {
            "dangjian": version,
            "python": python,
            "platform": plat,
            "torch": torch_spec if torch else None,
            "extras": list(extras),
            "with_index": index is not None,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "wheels": {w: _sha256(wheelhouse / w) for w in wheels},
        }
        (root / "BUNDLE.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.part")
        with tarfile.open(tmp, "w:gz", compresslevel=compresslevel) as tar:  # wheels are zips already
            tar.add(root, arcname=BUNDLE_DIR)
        os.replace(tmp, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BundleReport(
        output=str(output),
        version=version,
        python=python,
        platform=plat,
        wheels=len(wheels),
        torch=torch,
        extras=list(extras),
        with_index=index is not None,
        bytes=output.stat().st_size,
        elapsed_s=round(time.monotonic() - t0, 1),
        wheel_names=wheels,
    )


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()
