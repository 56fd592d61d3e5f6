#!/usr/bin/env bash
# 安装 dangjian 并启动问答服务和网页（首次启动时先导入随附语料 corpus/），浏览器打开 http://127.0.0.1:8000
# Install dangjian into .venv and run the main job: the service, building the index from corpus/ on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet .
exec .venv/bin/dangjian serve "$@"
