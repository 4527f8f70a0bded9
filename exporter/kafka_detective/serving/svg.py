"""Small inline SVG charts for the investigation pages: no JavaScript, no fonts to fetch, a few KB each.

Every text that reaches the markup goes through `html.escape`; numbers are formatted here, so a chart is safe
to embed in a page served with `Content-Security-Policy: default-src 'none'`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

Point = tuple[float, float | None]   # (unix seconds, value or None for a gap)


@dataclass(frozen=True)
class Series:
    label: str
    colour: str                 # a CSS colour from this module's palette, never user input
    points: Sequence[Point]
    bars: bool = False          # counts per step (rebalances, leader changes) read better as bars


def short_number(v: float) -> str:
    a = abs(v)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= limit:
            return f"{v / limit:.3g}{suffix}"
    if a >= 10 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.2g}"


def clock(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%H:%M")


def _finite(points: Sequence[Point]) -> list[tuple[float, float]]:
    return [(t, v) for t, v in points if v is not None and math.isfinite(v) and math.isfinite(t)]


def chart(title: str, series: Sequence[Series], *, onset: float | None = None, width: int = 520,
          height: int = 150, unit: str = "") -> str:
    """A time chart of one or more series sharing a y axis from 0, the onset as a dashed red line."""
    left, right, top, bottom = 48, 8, 20, 20
    pw, ph = width - left - right, height - top - bottom
    data = [(s, _finite(s.points)) for s in series]
    times = [t for _, pts in data for t, _ in pts]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>'
            f'<text x="{left}" y="13" class="ct">{escape(title)}{escape(f" ({unit})") if unit else ""}</text>')
    if len(times) < 2:
        return (head + f'<text x="{left + pw / 2:.0f}" y="{top + ph / 2:.0f}" text-anchor="middle" class="cn">'
                       "no history yet</text></svg>")
    t0, t1 = min(times), max(times)
    if t1 <= t0:
        t1 = t0 + 1.0
    vmax = max((v for _, pts in data for _, v in pts), default=0.0)
    vmin = min(0.0, min((v for _, pts in data for _, v in pts), default=0.0))
    if vmax <= vmin:
        vmax = vmin + 1.0

    def x(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * pw

    def y(v: float) -> float:
        return top + ph - (v - vmin) / (vmax - vmin) * ph

    out = [head,
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="cb"/>',
           f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="cl">{short_number(vmax)}</text>',
           f'<text x="{left - 4}" y="{top + ph}" text-anchor="end" class="cl">{short_number(vmin)}</text>',
           f'<text x="{left}" y="{height - 4}" class="cl">{clock(t0)}</text>',
           f'<text x="{left + pw}" y="{height - 4}" text-anchor="end" class="cl">{clock(t1)} UTC</text>']
    legend_x = left + pw
    for s, pts in data:
        if not pts:
            continue
        if s.bars:
            bw = max(1.0, pw / max(len(pts), 1) * 0.8)
            out.append(f'<g fill="{escape(s.colour)}">' + "".join(
                f'<rect x="{x(t) - bw / 2:.1f}" y="{y(v):.1f}" width="{bw:.1f}" height="{y(vmin) - y(v):.1f}"/>'
                for t, v in pts if v > 0) + "</g>")
        else:
            path = _path(s.points, x, y)
            out.append(f'<path d="{path}" fill="none" stroke="{escape(s.colour)}" stroke-width="1.5"/>')
    for s, _pts in reversed(data):
        # the legend, right-aligned on the title line
        # a style attribute, not fill=: the class's CSS fill would win over a presentation attribute
        out.append(f'<text x="{legend_x}" y="13" text-anchor="end" class="cl" style="fill:{escape(s.colour)}">'
                   f'{escape(s.label)}</text>')
        legend_x -= 7 * len(s.label) + 14
    if onset is not None and t0 <= onset <= t1:
        xo = x(onset)
        # the label sits left of the line when the onset is near the right edge, so it is not cut off
        right_side = xo < left + pw * 0.75
        out.append(f'<line x1="{xo:.1f}" y1="{top}" x2="{xo:.1f}" y2="{top + ph}" class="co"/>'
                   f'<text x="{xo + 3 if right_side else xo - 3:.1f}" y="{top + 10}" '
                   f'text-anchor="{"start" if right_side else "end"}" class="cl co-t">onset {clock(onset)}</text>')
    out.append("</svg>")
    return "".join(out)


def _path(points: Sequence[Point], x: Callable[[float], float], y: Callable[[float], float]) -> str:
    """An SVG path that breaks at gaps (None values) instead of drawing a line across them."""
    parts: list[str] = []
    pen_down = False
    for t, v in points:
        if v is None or not math.isfinite(v) or not math.isfinite(t):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x(t):.1f} {y(v):.1f}")
        pen_down = True
    return "".join(parts)
