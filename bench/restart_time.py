#!/usr/bin/env python3
"""Restart time of ``scripts/start.sh``: seconds from running the script until ``/api/v1/health``
answers 200, with the venv and the index already in place (nothing changed since the last start).

    python bench/restart_time.py [--script scripts/start.sh] [--runs 3]

The first run (which may install and build the index) is reported apart and not counted.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_once(script: Path, timeout: float = 900.0) -> float:
    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(script), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.monotonic() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"{script} exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("no health answer")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", type=Path, default=REPO / "scripts" / "start.sh")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    first = start_once(args.script)
    times = [start_once(args.script) for _ in range(args.runs)]
    print(
        f"{args.script.name}: first start {first:.1f} s; restarts {', '.join(f'{t:.2f}' for t in times)} s; "
        f"median {statistics.median(times):.2f} s"
    )


if __name__ == "__main__":
    main()
