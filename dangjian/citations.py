"""How a passage is cited and which of its words are highlighted: one rule for search hits,
answer citations, the page and the CLI."""

from __future__ import annotations

from .text import normalize


def format_citation(title: str, path: list[str], page: int | None, paragraph: int, *, recognised: bool = False) -> str:
    """《标题》三、2023年工作谋划 > （二）突出重点难点… > 一是…，第N页，第N段; a passage read by
    OCR says so (“识别文字”), so a reader checks it against the page."""
    text = f"《{title}》" + " > ".join(h if len(h) <= 24 else h[:23] + "…" for h in path)
    where = (["识别文字"] if recognised else []) + ([f"第{page}页"] if page else [])
    where += [f"第{paragraph}段"] if paragraph else []
    return text + ("，" + "，".join(where) if where else "")


def highlight_terms(tokens: list[str], phrases: list[str]) -> list[str]:
    """The words of a question worth highlighting: its tokens except single ASCII characters,
    and the method names and quoted phrases it uses."""
    return [t for t in tokens if len(t) > 1 or not t.isascii()] + phrases


def highlight_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """``[start, end)`` ranges in ``text`` where any term occurs (normalised matching), merged."""
    norm = normalize(text).lower()
    spans: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        if not term:
            continue
        pos = norm.find(term)
        while pos >= 0:
            spans.append((pos, pos + len(term)))
            pos = norm.find(term, pos + len(term))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
