"""Progress in Chinese with counts, rate and time left."""

from __future__ import annotations

from dangjian.progress import LineProgress, Tracker, duration


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_lines_say_stage_counts_rate_and_time_left_at_most_every_interval():
    clock, lines = Clock(), []
    progress = LineProgress(lines.append, every_s=10, clock=clock)
    progress("embed", 0, 1000)
    for done in range(1, 11):
        clock.now += 2
        progress("embed", done * 50, 1000)
    assert lines[0] == "向量化段落 0/1000（0%）"
    assert lines[1] == "向量化段落 250/1000（25%），25.0 段/秒，预计还需 30 秒"
    assert len(lines) == 3  # at 10 s and 20 s
    clock.now += 1
    progress("embed", 1000, 1000)
    progress("embed", 1000, 1000)  # said once
    assert lines[-1].startswith("向量化段落 1000/1000（100%）") and "预计" not in lines[-1] and len(lines) == 4
    progress("write", 0, 1)
    assert lines[-1] == "写入新版本 0/1（0%）"


def test_the_tracker_has_no_estimate_before_it_has_a_rate():
    clock = Clock()
    tracker = Tracker(clock)
    tracker.update("parse", 0, 10)
    assert tracker.eta_s is None
    clock.now = 4
    tracker.update("parse", 2, 10)
    assert tracker.rate == 0.5 and tracker.eta_s == 16
    assert duration(59) == "59 秒" and duration(125) == "2 分 5 秒" and duration(7300) == "2 小时 1 分"
