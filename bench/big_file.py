#!/usr/bin/env python3
"""Ingest one ~50 MB text file (the seed report repeated with variations) into a fresh index.

Reports wall time and the peak RSS of the ingesting process.

    python bench/big_file.py [--mb 50]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHILD = """
import json, sys, time
from dangjian.evaluation import peak_rss_mb
from dangjian.kb import KnowledgeBase
t = time.perf_counter()
r = KnowledgeBase(sys.argv[1]).ingest([sys.argv[2]])
print(json.dumps({"seconds": round(time.perf_counter() - t, 2), "passages": r.passages, "sections": r.sections,
                  "skipped": len(r.skipped), "peak_rss_mb": round(peak_rss_mb())}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    seed = (REPO / "corpus" / "000_47bfaefce9c6aa4d.txt").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        with open(path, "w", encoding="utf-8") as fh:
            n = 0
            while fh.tell() < args.mb * 1024 * 1024:
                fh.write(f"第{n + 1}部分 汇编\n" + seed.replace("***", f"第{n}号"))
                n += 1
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(Path(tmp) / "index"), str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout)
        result["mb"] = round(path.stat().st_size / 1048576, 1)
        result["mb_per_s"] = round(result["mb"] / result["seconds"], 2)
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
