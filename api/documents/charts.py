"""Small SVG charts drawn on the server, so the same picture is in the page, the printed
report and the PDF without a chart library or JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from maintenance.language.catalogue import gettext_

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def line_chart(
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
) -> Markup:
    """One line per series over the categories (months), with a legend and the y maximum."""
    left, right, top, bottom = 40, 30, 24, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for values in series.values() for v in values), default=0.0) or 1.0
    step = plot_w / max(1, len(categories) - 1)

    def x(i: int) -> float:
        return left + (i * step if len(categories) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - v / peak * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{peak:.3g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for i, name in enumerate(categories):
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 14}" font-size="10" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        for i, v in enumerate(values):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>')
        lx = left + n * 110
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" font-size="10">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    bars: Sequence[tuple[str, float | None, float | None]],
    *,
    title: str,
    width: int = 640,
    percent: bool = True,
) -> Markup:
    """Horizontal bars (label, value, target): the target as a tick on each bar; a value of
    None is drawn as "no data", never as a zero bar."""
    row, left, top = 22, 190, 24
    height = top + row * len(bars) + 8
    plot_w = width - left - 60
    values = [max(v or 0, t or 0) for _, v, t in bars]
    peak = 1.0 if percent else max(values, default=1.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value, target) in enumerate(bars):
        y = top + i * row
        w = 0.0 if value is None else max(0.0, min(1.0, value / peak)) * plot_w
        if value is None:
            shown = gettext_("no data")
        else:
            shown = f"{value * 100:.1f} %" if percent else f"{value:.3g}"
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="14" fill="{PALETTE[0]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="10">{shown}</text>'
        )
        if target is not None:
            tx = left + min(1.0, target / peak) * plot_w
            parts.append(
                f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + 20}" stroke="#d62728" '
                'stroke-width="2"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
