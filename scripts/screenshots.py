"""Screenshots of every view of the web page at 1280 px and 390 px, into docs/screenshots/.

    python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Builds a fresh knowledge base of the bundled corpus in a temporary folder, starts `dangjian serve`
on it with an editor key, drives Chromium (playwright) through each view and saves
``<view>-<width>.png``. Console errors of the page are printed and make the script exit 1.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDTHS = {1280: 860, 390: 844}
MAX_HEIGHT = 1800


def serve(home: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dangjian = str(Path(sys.executable).parent / "dangjian")
    proc = subprocess.Popen(
        [dangjian, "serve", "--index", str(home), "--port", str(port), "--corpus", str(REPO / "corpus")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=10).read()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("dangjian serve did not start") from None
            time.sleep(0.5)


def shoot(page, path: Path, start: str | None = None) -> None:
    """The page from its top (or from 120 px above the element ``start`` names), at most MAX_HEIGHT px."""
    total = page.evaluate("document.documentElement.scrollHeight")
    y = 0
    if start:
        y = page.evaluate(f"Math.max(0, document.querySelector({start!r}).getBoundingClientRect().top + scrollY - 120)")
        y = max(0, min(y, total - MAX_HEIGHT))
    height = min(total - y, MAX_HEIGHT)
    width = page.viewport_size["width"]
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": y, "width": width, "height": height})


def views(page, base: str, key: str, shot) -> None:
    """Each view as a staff member sees it; ``shot(name)`` saves the current page."""
    page.goto(base + "/")
    page.locator("#examples button").first.wait_for()
    shot("home")
    page.locator("#examples button").first.click()
    page.locator(".passage").first.wait_for()
    shot("answer")
    page.click("#new-conversation")  # a question and two follow-ups, the ask box and the history below
    for n, question in enumerate(["物业管理十联工作法包括哪些内容？", "第三项具体怎么做？", "它取得了哪些成效？"], 1):
        page.fill("#question", question)
        page.press("#question", "Enter")
        page.locator(f"#result .turn:nth-child({n}) .turn-body > *").first.wait_for()
    page.locator("#history summary").click()
    shot("conversation", start="#result .turn:nth-child(2)")
    page.click("#sign-in")
    page.fill("#key", key)
    page.click("#key-panel button[type=submit]")
    page.locator("#sign-out").wait_for()
    page.goto(base + "/#/library")
    page.locator("#lib-table").wait_for()
    shot("library")
    page.locator("#lib-table a").first.click()
    page.locator("#doc-toc summary").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    shot("document")
    page.goto(base + "/#/methods")
    page.locator("#methods .method").first.wait_for()
    shot("methods")
    page.goto(base + "/#/quiz")
    page.fill("#quiz-topic", "十联工作法")
    page.fill("#quiz-n", "4")
    page.click("#quiz-form button[type=submit]")
    page.locator(".question").first.wait_for()
    for question in page.locator(".question").all():  # a worker's try: the first choice of each
        if question.locator("input[type=radio]").count():
            question.locator("input[type=radio]").first.check()
    page.click("#quiz-sheet button[type=submit]")
    page.locator("#quiz-score").wait_for()
    shot("quiz")
    page.goto(base + "/#/draft")
    page.fill("#draft-topic", "2022年社区党建工作总结")
    page.click("#draft-form button[type=submit]")
    page.locator(".draft-section").first.wait_for()
    shot("draft")
    page.goto(base + "/docs")
    page.locator(".opblock").first.wait_for()
    shot("api-docs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from dangjian.service.keys import KeyStore

    args.out.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "idx"
        home.mkdir()
        key = KeyStore(home).create("editor")
        proc, base = serve(home)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=args.chromium,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                for width, height in WIDTHS.items():
                    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
                    page.on("pageerror", lambda exc: errors.append(str(exc)))
                    page.on(
                        "console",
                        lambda m: errors.append(f"{m.text} ({m.location['url']})") if m.type == "error" else None,
                    )

                    def shot(name: str, page=page, width=width, start: str | None = None) -> None:
                        path = args.out / f"{name}-{width}.png"
                        shoot(page, path, start)
                        overflow = page.evaluate("document.documentElement.scrollWidth") - width
                        print(f"{path.relative_to(REPO)}" + (f"  OVERFLOW {overflow}px" if overflow > 0 else ""))

                    views(page, base, key, shot)
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    for e in errors:
        print("page error:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
