"""Progress of a long write, in Chinese, with counts, rate and time left: a tqdm bar on a
terminal, plain periodic lines in logs and pipes, and the numbers a background job shows.

Every write reports ``progress(stage, done, total)`` (``index.build.Progress``); the stages are
``parse`` (files), ``ocr`` (scanned pages), ``embed`` (passages) and ``write`` (the switch to the new version).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

STAGES = {
    "parse": ("解析文件", "个"),
    "ocr": ("识别扫描页", "页"),
    "embed": ("向量化段落", "段"),
    "write": ("写入新版本", "步"),
}


def stage_label(stage: str) -> str:
    return STAGES.get(stage, (stage, ""))[0]


def duration(seconds: float) -> str:
    """``125`` → ``2 分 5 秒``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


class Tracker:
    """The current stage, its counts, its rate (items/s since the stage began) and the seconds
    left at that rate (None until there is a rate to go by)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.stage: str | None = None
        self.done = 0
        self.total = 0
        self.began = 0.0
        self.first = 0  # count already done when the stage began (vectors found in a cache)

    def update(self, stage: str, done: int, total: int) -> bool:
        """Record a report; True when it starts a new stage."""
        new = stage != self.stage
        if new:
            self.stage, self.began, self.first = stage, self.clock(), done
        self.done, self.total = done, total
        return new

    @property
    def rate(self) -> float | None:
        elapsed = self.clock() - self.began
        work = self.done - self.first
        return work / elapsed if elapsed > 0.5 and work > 0 else None

    @property
    def eta_s(self) -> float | None:
        rate = self.rate
        if self.done >= self.total:
            return 0.0
        return round((self.total - self.done) / rate, 1) if rate else None

    def line(self) -> str:
        """``向量化段落 1200/5800（21%），32.1 段/秒，预计还需 2 分 23 秒``."""
        label, unit = STAGES.get(self.stage or "", (self.stage or "", ""))
        share = f"（{self.done / self.total:.0%}）" if self.total else ""
        text = f"{label} {self.done}/{self.total}{share}"
        rate, eta = self.rate, self.eta_s
        if rate and self.stage != "write":
            text += f"，{rate:.1f} {unit}/秒"
        if eta is not None and self.done < self.total:
            text += f"，预计还需 {duration(eta)}"
        return text


class LineProgress:
    """Plain lines (for logs and pipes): at the start and end of each stage and at most every
    ``every_s`` seconds between."""

    def __init__(self, emit: Callable[[str], None], every_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.emit = emit
        self.every_s = every_s
        self.tracker = Tracker(clock)
        self.last = float("-inf")
        self.said: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total <= 0 or (stage, done) == self.said:
            return
        new = self.tracker.update(stage, done, total)
        now = self.tracker.clock()
        if new or done >= total or now - self.last >= self.every_s:
            self.last, self.said = now, (stage, done)
            self.emit(self.tracker.line())

    def close(self) -> None:
        pass


class BarProgress:
    """A tqdm bar per stage on a terminal, labelled in Chinese, with rate and time left."""

    def __init__(self, file: TextIO):
        self.file = file
        self.bar = None
        self.stage: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            label, unit = STAGES.get(stage, (stage, ""))
            self.stage = stage
            self.bar = tqdm(
                total=total,
                initial=done,
                desc=label,
                unit=unit,
                file=self.file,
                dynamic_ncols=True,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [已用 {elapsed}，剩余 {remaining}，{rate_fmt}]",
            )
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            self.stage = None


def console_progress(enabled: bool = True, file: TextIO | None = None):
    """A bar where ``file`` (stderr) is a terminal, plain lines otherwise; None when disabled."""
    if not enabled:
        return None
    file = file or sys.stderr
    if file.isatty():
        return BarProgress(file)
    return LineProgress(lambda text: print(text, file=file, flush=True))
