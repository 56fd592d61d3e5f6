"""`dangjian serve` for real, on a free loopback port (tests that need a socket, not TestClient)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DANGJIAN = str(Path(sys.executable).parent / "dangjian")


REPO = Path(__file__).resolve().parents[2]


def start_server(
    index_dir: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """`dangjian serve --index index_dir` on a free loopback port, once /api/v1/health answers:
    the process and its base URL (``http://127.0.0.1:PORT``). The code is this checkout's."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [DANGJIAN, "serve", "--index", str(index_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=10).read()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"dangjian serve did not start in {timeout:.0f} s") from None
            time.sleep(0.5)


@contextmanager
def live_server(index_dir: Path, timeout: float = 120, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `dangjian serve --index index_dir` (``env``: more environment, such as the store),
    wait for /api/v1/health, yield its base URL (``http://127.0.0.1:PORT``), stop it afterwards."""
    proc, base = start_server(index_dir, timeout, env)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
