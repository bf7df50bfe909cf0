"""Readable terminal tables that line up Chinese text too (wide characters count as two columns)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, limit: int) -> str:
    if width(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        step = width(char)
        if used + step > limit - 1:
            break
        out.append(char)
        used += step
    return "".join(out) + "…"


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]], max_width: int = 60) -> str:
    """A boxed table; cells longer than ``max_width`` columns are cut with an ellipsis."""
    cells = [[_fit(str(c), max_width) for c in row] for row in rows]
    widths = [max([width(h)] + [width(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "│ " + " │ ".join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)) + " │"

    rule = "─┼─".join("─" * w for w in widths)
    return "\n".join(
        ["┌─" + "─┬─".join("─" * w for w in widths) + "─┐", line(headers), "├─" + rule + "─┤"]
        + [line(row) for row in cells]
        + ["└─" + "─┴─".join("─" * w for w in widths) + "─┘"]
    )
