#!/usr/bin/env bash
# 安装测试依赖并运行全部测试。Install the test dependencies and run the whole test suite.
# The tests use real files, so they need LibreOffice (.doc conversion, PDF export), a CJK font and chromium;
# they are installed from Debian when missing (as root, or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)
{ command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; } || need+=(fonts-noto-cjk fontconfig)
# The web page is tested in a real browser: Debian's chromium, driven by playwright (never
# `playwright install`, which would download a browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "安装系统软件包：${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
python3 -m venv .venv
# torch first, pinned to the CPU build, so sentence-transformers does not pull a CUDA one.
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/python -m pytest "$@"
