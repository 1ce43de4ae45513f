"""Small charts drawn on the server as SVG: no script, no library, nothing fetched from outside.

Each chart is a titled, described ``<svg role="img">``; each bar is a ``<rect class="bar">``
carrying its label and value, with a ``<title>`` a screen reader or a hovering mouse can read.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from markupsafe import Markup, escape

WIDTH = 640
FONT = 13  # px in the viewBox; the SVG scales with its container
K = TypeVar("K")  # what a bar is for: a day, a tool code, a kiosk


@dataclass(frozen=True)
class Bar:
    """One bar: what it is, how much, and how to say the amount."""

    label: str
    value: float
    shown: str


def bars(
    pairs: Sequence[tuple[K, int | float | Decimal]],
    label: Callable[[K], str] = str,
    unit: str = "",
) -> list[Bar]:
    """Turn (key, amount) pairs into bars, labelling keys with ``label``."""
    return [Bar(label(key), float(amount), f"{_number(amount)}{unit}") for key, amount in pairs]


def nice_ceiling(value: float) -> float:
    """Return the smallest 1, 2 or 5 times a power of ten at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power: float = 10 ** math.floor(math.log10(value))  # int ** int is Any to mypy (may be a float)
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def column_chart(
    title: str, desc: str, data: Sequence[Bar], *, x_label: str, y_label: str
) -> Markup:
    """Draw vertical bars over time (weeks, months), with a value axis of three ticks."""
    height, left, right, top, bottom = 300, 56, 12, 40, 64
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    top_value = nice_ceiling(max((bar.value for bar in data), default=0))
    slot = plot_w / max(len(data), 1)
    label_every = 1 if len(data) <= 8 else 2  # every other label, so dates never overlap
    parts = [_ticks(top_value, left, top, plot_w, plot_h)]
    for index, bar in enumerate(data):
        bar_h = plot_h * bar.value / top_value
        x, y = left + index * slot + slot * 0.15, top + plot_h - bar_h
        parts.append(_rect(bar, x, y, slot * 0.7, bar_h))
        parts.append(_text(x + slot * 0.35, y - 4, bar.shown, "value"))
        if index % label_every == 0:
            parts.append(_text(x + slot * 0.35, top + plot_h + 18, bar.label, "tick"))
    parts.append(_axes(left, top, plot_w, plot_h))
    parts.append(_text(left + plot_w / 2, height - 12, x_label, "axis-label"))
    parts.append(_y_label(y_label, top + plot_h / 2))
    return _svg(title, desc, height, parts)


def ranked_chart(title: str, desc: str, data: Sequence[Bar], *, x_label: str) -> Markup:
    """Draw horizontal bars, largest first: which tools, which kiosks."""
    row, left, right, top, bottom = 26, 120, 56, 40, 44
    height = top + bottom + row * max(len(data), 1)
    plot_w = WIDTH - left - right
    top_value = nice_ceiling(max((bar.value for bar in data), default=0))
    parts = []
    for index, bar in enumerate(data):
        bar_w = plot_w * bar.value / top_value
        y = top + index * row
        parts.append(_text(left - 8, y + row * 0.65, bar.label, "tick end"))
        parts.append(_rect(bar, left, y + row * 0.15, bar_w, row * 0.7))
        parts.append(_text(left + bar_w + 6, y + row * 0.65, bar.shown, "value start"))
    if not data:
        parts.append(_text(left + plot_w / 2, top + row * 0.65, "Nothing recorded yet", "tick"))
    axis_y = top + row * max(len(data), 1)
    parts.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{axis_y}"/>')
    parts.append(_text(left + plot_w / 2, height - 12, x_label, "axis-label"))
    return _svg(title, desc, height, parts)


def _svg(title: str, desc: str, height: int, parts: list[str]) -> Markup:
    key = hashlib.sha1(title.encode()).hexdigest()[:8]
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="chart-{key}-title chart-{key}-desc" '
        f'aria-label="{escape(title)}">'
        f'<title id="chart-{key}-title">{escape(title)}</title>'
        f'<desc id="chart-{key}-desc">{escape(desc)}</desc>'
        f'<text class="chart-title" x="8" y="22">{escape(title)}</text>{body}</svg>'
    )


def _rect(bar: Bar, x: float, y: float, width: float, height: float) -> str:
    return (
        f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'data-label="{escape(bar.label)}" data-value="{bar.value:g}">'
        f"<title>{escape(bar.label)}: {escape(bar.shown)}</title></rect>"
    )


def _text(x: float, y: float, text: str, kind: str) -> str:
    anchor = "end" if "end" in kind else "start" if "start" in kind else "middle"
    return (
        f'<text class="{kind.split()[0]}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def _ticks(top_value: float, left: float, top: float, plot_w: float, plot_h: float) -> str:
    """Draw the value axis' gridlines and numbers at 0, half and the top."""
    lines = []
    for share in (0, 0.5, 1):
        y = top + plot_h * (1 - share)
        lines.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
        )
        lines.append(_text(left - 6, y + 4, _number(top_value * share), "tick end"))
    return "".join(lines)


def _axes(left: float, top: float, plot_w: float, plot_h: float) -> str:
    bottom = top + plot_h
    return (
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>'
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}"/>'
    )


def _y_label(text: str, middle: float) -> str:
    return (
        f'<text class="axis-label" x="14" y="{middle:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle:.1f})">{escape(text)}</text>'
    )


def _number(value: int | float | Decimal) -> str:
    """Say a number briefly: whole numbers without decimals, others with at most two."""
    number = float(value)
    return f"{number:.0f}" if number == int(number) else f"{number:.2f}".rstrip("0")
