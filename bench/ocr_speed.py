"""OCR speed and accuracy on the seed report rendered as a scanned, image-only PDF.

    python bench/ocr_speed.py [--dpi 300] [--angle 0] [--noise 0]

Prints pages, seconds, pages/min (the whole load_document, rendering and layout included) and the
character error rate against the known text. Record the machine, date and command in RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dangjian.ingest import load_document, split_sections  # noqa: E402
from dangjian.ingest.ocr import get_engine  # noqa: E402
from tests.ingest.scans import cer, degrade, render_pages, save_pdf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--angle", type=float, default=0.0)
    parser.add_argument("--noise", type=float, default=0.0)
    args = parser.parse_args()
    seed = REPO / "corpus" / "000_47bfaefce9c6aa4d.txt"
    text = seed.read_text(encoding="utf-8")
    pages = [
        degrade(p, angle=args.angle, noise=args.noise, seed=i) for i, p in enumerate(render_pages(text, dpi=args.dpi))
    ]
    started = time.perf_counter()
    get_engine()
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        pdf = save_pdf(pages, Path(tmp) / "scan.pdf", args.dpi)
        started = time.perf_counter()
        doc = load_document(pdf)
        seconds = time.perf_counter() - started
    typed = load_document(seed)
    same_tree = [(s.depth, s.heading) for s in split_sections(doc)] == [
        (s.depth, s.heading) for s in split_sections(typed)
    ]
    print(
        f"dpi={args.dpi} angle={args.angle} noise={args.noise} cpus={os.cpu_count()} pages={len(pages)} "
        f"engine_load_s={load_s:.1f} seconds={seconds:.1f} pages_per_min={len(pages) / seconds * 60:.1f} "
        f"cer={cer(text, doc.text):.4f} same_tree={same_tree} confidence={doc.metadata['ocr']['confidence']}"
    )


if __name__ == "__main__":
    main()
