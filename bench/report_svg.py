"""Draw latency distributions as a hand-written SVG: empirical CDFs on a log time axis.

Used by bench/run_all.py; nothing outside the standard library, so the plot can be made
anywhere the benchmarks run.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 1000, 680
PANEL_TOP, PANEL_HEIGHT = 110, 390
# The vertical axis is -log10(1 - fraction): equal room for 0-90 %, 90-99 % and 99-99.9 %,
# so the tail the goals are about (p99) is as readable as the median.
TAIL_DECADES = 3  # up to 99.9 %; the few slower samples run along the top edge
PERCENTILE_TICKS = (0, 0.5, 0.9, 0.99, 0.999)
# Okabe-Ito colours stay distinct for the common colour-vision deficiencies; the baseline is
# also dashed, so the two lines differ without colour.
BASELINE_STYLE = ("#0072B2", "7 4")
OURS_STYLE = ("#D55E00", "")
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


@dataclass(frozen=True)
class Panel:
    """One chart: where it sits, its title, axis label and (label, samples, style) series."""

    x: float
    y: float
    width: float
    height: float
    title: str
    x_label: str
    series: list[tuple[str, list[float], tuple[str, str]]]
    goal_ms: float | None = None


def latency_svg(
    roundtrip: dict[str, list[float]] | None, tap: dict[str, list[float]] | None, date: str
) -> str:
    """Return the SVG: (a) MQTT request/response, raw paho vs hub member_status; (b) tap-to-unlock,
    the kiosk vs the reader pulsing the relay directly. A missing sample set leaves a note."""
    gap, side = 80, 75
    width = (WIDTH - 2 * side - gap) / 2
    panels = [
        _roundtrip_panel(roundtrip, side, PANEL_TOP, width),
        _tap_panel(tap, side + width + gap, PANEL_TOP, width),
    ]
    body = [_chart(p) if p.series else _missing(p) for p in panels]
    return "\n".join(
        [
            f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' {FONT}>",
            "<title>Latency distributions of the Commonshed benchmarks</title>",
            "<desc>Empirical cumulative distributions, on a logarithmic milliseconds axis, of (a) "
            "MQTT request/response round trips answered by a bare paho echo and by the hub's "
            "member_status handler, and (b) tap-to-unlock latency of the kiosk and of the reader "
            "pulsing the relay directly. The vertical axis is stretched towards the tail (50, 90, "
            "99, 99.9 %); each legend gives the series' median and 99th percentile.</desc>",
            f"<rect width='{WIDTH}' height='{HEIGHT}' fill='white'/>",
            f"<text x='{WIDTH / 2}' y='32' text-anchor='middle' font-size='20' font-weight='bold'>"
            f"Latency distributions, same run ({escape(date)})</text>",
            f"<text x='{WIDTH / 2}' y='54' text-anchor='middle' font-size='13' fill='#444'>"
            "empirical CDF: the share of samples at or below each time, tail stretched upwards; "
            "further left is faster</text>",
            *body,
            "</svg>",
            "",
        ]
    )


def _roundtrip_panel(samples, x: float, y: float, width: float) -> Panel:
    series = []
    if samples:
        raw = next(v for k, v in samples.items() if k.startswith("bare echo"))
        hub = next(v for k, v in samples.items() if "member_status" in k)
        series = [
            ("bare paho echo (baseline)", raw, BASELINE_STYLE),
            ("hub member_status", hub, OURS_STYLE),
        ]
    return Panel(
        x,
        y,
        width,
        PANEL_HEIGHT,
        "(a) MQTT request/response round trip",
        "round-trip time, ms (log scale)",
        series,
    )


def _tap_panel(samples, x: float, y: float, width: float) -> Panel:
    series = []
    if samples:
        base = next(v for k, v in samples.items() if k.startswith("baseline"))
        kiosk = next(v for k, v in samples.items() if k.startswith("kiosk"))
        series = [
            ("reader → relay directly (baseline)", base, BASELINE_STYLE),
            ("kiosk: reader → decision → relay", kiosk, OURS_STYLE),
        ]
    return Panel(
        x,
        y,
        width,
        PANEL_HEIGHT,
        "(b) tap-to-unlock, software",
        "tap to relay, ms (log scale)",
        series,
        goal_ms=5.0,
    )


# --- one chart ----------------------------------------------------------------------------


class Scale:
    """Map milliseconds (log) and cumulative fraction (log of the tail) to panel pixels."""

    def __init__(self, panel: Panel, low_ms: float, high_ms: float) -> None:
        self.panel = panel
        self.low, self.high = math.log10(low_ms), math.log10(high_ms)

    def x(self, ms: float) -> float:
        span = self.high - self.low
        return self.panel.x + (math.log10(ms) - self.low) / span * self.panel.width

    def y(self, fraction: float) -> float:
        tail = min(TAIL_DECADES, -math.log10(max(1 - fraction, 10**-TAIL_DECADES)))
        return self.panel.y + (1 - tail / TAIL_DECADES) * self.panel.height


def _chart(panel: Panel) -> str:
    everything = [ms for _, samples, _ in panel.series for ms in samples if ms > 0]
    low = 10 ** math.floor(math.log10(min(everything)))
    high = 10 ** math.ceil(math.log10(max(everything)))
    scale = Scale(panel, low, high)
    parts = [
        f"<g><title>{escape(panel.title)}</title>",
        _frame(panel),
        _x_axis(scale, low, high),
        _y_axis(scale),
    ]
    if panel.goal_ms and low < panel.goal_ms < high:
        parts.append(_goal(scale, panel.goal_ms))
    parts += [_curve(scale, samples, style) for _, samples, style in panel.series]
    parts += [_legend(panel), "</g>"]
    return "\n".join(parts)


def _frame(panel: Panel) -> str:
    return (
        f"<text x='{panel.x}' y='{panel.y - 12}' font-size='16' font-weight='bold'>"
        f"{escape(panel.title)}</text>\n"
        f"<rect x='{panel.x}' y='{panel.y}' width='{panel.width}' height='{panel.height}' "
        "fill='none' stroke='#333'/>"
    )


def _x_axis(scale: Scale, low: float, high: float) -> str:
    panel, parts, bottom = scale.panel, [], scale.panel.y + scale.panel.height
    decade = low
    while decade <= high * 1.0001:
        for step in (1, 2, 5):
            ms = decade * step
            if ms > high * 1.0001:
                break
            x = scale.x(ms)
            major = step == 1
            parts.append(
                f"<line x1='{x:.1f}' y1='{panel.y}' x2='{x:.1f}' y2='{bottom}' "
                f"stroke='{'#ccc' if major else '#eee'}'/>"
            )
            parts.append(
                f"<text x='{x:.1f}' y='{bottom + 18}' text-anchor='middle' "
                f"font-size='{12 if major else 10}' fill='{'#222' if major else '#666'}'>"
                f"{_ms_label(ms)}</text>"
            )
        decade *= 10
    parts.append(
        f"<text x='{panel.x + panel.width / 2}' y='{bottom + 42}' text-anchor='middle' "
        f"font-size='13'>{escape(panel.x_label)}</text>"
    )
    return "\n".join(parts)


def _ms_label(ms: float) -> str:
    return f"{ms:g}"


def _y_axis(scale: Scale) -> str:
    panel, parts = scale.panel, []
    for fraction in PERCENTILE_TICKS:
        y = scale.y(fraction)
        key = fraction in (0.5, 0.99)  # the quantiles the goals and tables use
        look = "stroke='#888' stroke-dasharray='3 3'" if key else "stroke='#ddd'"
        parts.append(
            f"<line x1='{panel.x}' y1='{y:.1f}' x2='{panel.x + panel.width}' y2='{y:.1f}' {look}/>"
        )
        parts.append(
            f"<text x='{panel.x - 8}' y='{y + 4:.1f}' text-anchor='end' font-size='12' "
            f"font-weight='{'bold' if key else 'normal'}'>{fraction * 100:g} %</text>"
        )
    middle = panel.y + panel.height / 2
    parts.append(
        f"<text x='{panel.x - 55}' y='{middle}' text-anchor='middle' font-size='13' "
        f"transform='rotate(-90 {panel.x - 55} {middle})'>samples at or below the time"
        "</text>"
    )
    return "\n".join(parts)


def _goal(scale: Scale, goal_ms: float) -> str:
    panel, x = scale.panel, scale.x(goal_ms)
    return (
        f"<line x1='{x:.1f}' y1='{panel.y}' x2='{x:.1f}' y2='{panel.y + panel.height}' "
        "stroke='#009E73' stroke-width='2' stroke-dasharray='6 3'/>\n"
        # Low on the line: the curves reach this far right only near the top.
        f"<text x='{x - 5:.1f}' y='{panel.y + panel.height - 30}' text-anchor='end' "
        "font-size='12' "
        f"fill='#00704f'>goal: p99 &lt; {goal_ms:g} ms</text>"
    )


def _curve(scale: Scale, samples: list[float], style: tuple[str, str]) -> str:
    """Return the ECDF as a step path, dropping points closer than half a pixel to the last."""
    ordered = sorted(ms for ms in samples if ms > 0)
    count, points, last = len(ordered), [], (-1.0, -1.0)
    for rank, ms in enumerate(ordered, 1):
        x, y = scale.x(ms), scale.y(rank / count)
        if abs(x - last[0]) >= 0.5 or abs(y - last[1]) >= 0.5 or rank == count:
            points.append(f"{x:.1f},{y:.1f}")
            last = (x, y)
    colour, dashes = style
    dash = f" stroke-dasharray='{dashes}'" if dashes else ""
    return (
        f"<polyline points='{' '.join(points)}' fill='none' stroke='{colour}' "
        f"stroke-width='2.2'{dash}/>"
    )


def _legend(panel: Panel) -> str:
    """Return the legend, under the panel's axis label, with each series' p50 and p99."""
    left, top = panel.x, panel.y + panel.height + 62
    parts = []
    for index, (label, samples, (colour, dashes)) in enumerate(panel.series):
        y = top + 36 * index
        dash = f" stroke-dasharray='{dashes}'" if dashes else ""
        parts.append(
            f"<line x1='{left}' y1='{y}' x2='{left + 34}' y2='{y}' "
            f"stroke='{colour}' stroke-width='2.5'{dash}/>"
        )
        parts.append(f"<text x='{left + 42}' y='{y + 4}' font-size='13'>{escape(label)}</text>")
        parts.append(
            f"<text x='{left + 42}' y='{y + 20}' font-size='12' fill='#444'>"
            f"{_quantiles(samples)}</text>"
        )
    return "\n".join(parts)


def _quantiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50:.3f} ms · p99 {p99:.3f} ms · n = {len(ordered):,}"


def _missing(panel: Panel) -> str:
    return (
        f"{_frame(panel)}\n<text x='{panel.x + panel.width / 2}' "
        f"y='{panel.y + panel.height / 2}' text-anchor='middle' font-size='14' fill='#666'>"
        "not measured in this run</text>"
    )
