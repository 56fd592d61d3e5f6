#!/usr/bin/env bash
# 安装 dangjian 并导入随附语料 corpus/，打印导入摘要。
# Install dangjian into .venv and run the main job on the bundled corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet .
.venv/bin/dangjian ingest corpus/ "$@"
