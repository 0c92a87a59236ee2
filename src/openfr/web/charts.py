"""Charts as inline SVG, drawn on the server: pure functions from numbers to markup.

Server-rendered SVG rather than a JavaScript chart library: nothing to vendor and pin, nothing to run in the
browser, and the page prints. The Content-Security-Policy forbids inline styles, so geometry goes in SVG
presentation attributes and colour in CSS classes (`chart-*` in console.css) that use the console's colour
variables: the dark theme recolours the charts with the rest of the page. Each chart is one image to
assistive technology (`role="img"`, named by a `<title>` that states its figures in words); its numbers are
in a table next to it, for those who read tables rather than bars.

Horizontal bars, each under two lines, its name and its figures in words: long deployment names fit, the
figures are readable without hovering, and a phone (412 px) shows the chart at about the size a desktop
does, because the drawing is narrow (`WIDTH`) and scales to the column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 440  # drawing units; scaled to the column by CSS (wider would make the text small on a phone)
MARGIN = 8  # right of the longest bar, so that an expected tick at the top of the axis stays visible
FONT = 14  # drawing units: about 12 px on a phone, 14 px in a desktop's half-width column
LINE = 18  # one line of text
LABEL_CHARS = 48  # a longer name is cut (with "…") to its line; the table has it whole
LABEL_H, BAR_H, GAP = 2 * LINE, 16, 12  # one bar: its name and figures, the bar, the space before the next
AXIS_H = 22
MAX_BARS = 20  # a chart of more stops being readable; the table beside it has every row


@dataclass(frozen=True)
class Series:
    """One kind of segment: `key` names its CSS class (`chart-<key>`), `label` its legend entry, `short`
    what the figures line under each bar calls it (default: the label in lower case)."""

    key: str
    label: str
    short: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    values: Sequence[float]  # one per series, drawn left to right


@dataclass(frozen=True)
class Measure:
    """One bar of a chart against expectation: `value` (None: nothing to show, `note` says why), the
    `expected` figure drawn as a tick across the bar, and whether the gap is `flagged` as not chance."""

    label: str
    value: float | None
    expected: float | None = None
    flagged: bool = False
    note: str = ""


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above `value` (at least 1): an axis that ends on a round figure."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def number(value: float) -> str:
    """A figure as the charts write it: whole numbers without decimals, others to two at most."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def stacked_bars(chart_id: str, title: str, series: Sequence[Series], bars: Sequence[Bar]) -> Markup:
    """One horizontal bar per item, its segments stacked in `series` order, its total and non-zero parts
    written above it. `title` is the chart's accessible name: say in it what the chart shows (the totals)."""
    shown = list(bars[:MAX_BARS])
    top = max((sum(b.values) for b in shown), default=0)
    scale = (WIDTH - MARGIN) / nice_max(top)
    parts = []
    for i, bar in enumerate(shown):
        y, x = _row_y(i), 0.0
        parts_of = list(zip(series, bar.values, strict=True))
        split = ", ".join(f"{number(v)} {s.short or s.label.lower()}" for s, v in parts_of if v)
        parts.append(_label(bar.label, f"{number(sum(bar.values))}" + (f" ({split})" if split else ""), y))
        for s, value in parts_of:
            if value > 0:
                w = value * scale
                parts.append(
                    f'<rect class="chart-{s.key}" x="{x:.1f}" y="{y + LABEL_H}" width="{w:.1f}" height="{BAR_H}">'
                    f"<title>{escape(bar.label)}: {escape(s.label)} {number(value)}</title></rect>"
                )
                x += w
    legend = [(s.key, s.label) for s in series]
    return _figure(chart_id, title, parts, len(shown), nice_max(top), scale, legend, len(bars))


def against_expected(chart_id: str, title: str, measures: Sequence[Measure], *, expected_label: str) -> Markup:
    """One bar per item with the expected figure drawn as a tick across it: how far each is from what was
    predicted. A flagged bar is drawn in the warning colour and says so in words (colour is never alone)."""
    shown = list(measures[:MAX_BARS])
    top = max((v for m in shown for v in (m.value, m.expected) if v is not None), default=0)
    scale = (WIDTH - MARGIN) / nice_max(top)
    parts = []
    for i, m in enumerate(shown):
        y = _row_y(i)
        if m.value is None:
            parts.append(_label(m.label, m.note or "no figure", y))
            continue
        words = number(m.value)
        if m.expected is not None:
            words += f", expected {number(m.expected)}"
        if m.flagged:
            words += ", flagged"
        parts.append(_label(m.label, words, y))
        kind = "chart-flagged" if m.flagged else "chart-observed"
        parts.append(f'<rect class="{kind}" x="0" y="{y + LABEL_H}" width="{m.value * scale:.1f}" height="{BAR_H}"/>')
        if m.expected is not None:
            tick = m.expected * scale
            parts.append(
                f'<line class="chart-expected" x1="{tick:.1f}" x2="{tick:.1f}" y1="{y + LABEL_H - 3}" '
                f'y2="{y + LABEL_H + BAR_H + 3}" stroke-width="3"/>'
            )
    legend = [("observed", "Observed"), ("flagged", "Flagged: too many to be chance"), ("expected", expected_label)]
    return _figure(chart_id, title, parts, len(shown), nice_max(top), scale, legend, len(measures))


def _row_y(i: int) -> int:
    return i * (LABEL_H + BAR_H + GAP)


def _text(words: str, x: float, y: float, kind: str) -> str:
    return f'<text class="{kind}" x="{x:.1f}" y="{y}" font-size="{FONT}">{escape(words)}</text>'


def _label(name: str, figures: str, y: int) -> str:
    """The two lines above a bar: its name (cut if long) in bold, then its figures."""
    cut = name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"
    return (
        f'<text class="chart-label" x="0" y="{y + LINE - 4}" font-size="{FONT}" font-weight="700">{escape(cut)}</text>'
        + _text(figures, 0, y + 2 * LINE - 5, "chart-value")
    )


def _figure(
    chart_id: str, title: str, parts: list[str], rows: int, top: float, scale: float,
    legend: list[tuple[str, str]], total_rows: int,
) -> Markup:  # fmt: skip
    """The drawing with its axis (0, half, top) under the bars, inside a figure with a legend; the legend is
    HTML so that it wraps on a phone."""
    plot_h = max(rows, 1) * (LABEL_H + BAR_H + GAP)
    axis = []
    for tick in (0, top / 2, top):
        x = tick * scale
        anchor = "start" if tick == 0 else ("end" if tick == top else "middle")
        axis.append(f'<line class="chart-grid" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{plot_h}" stroke-width="1"/>')
        axis.append(
            f'<text class="chart-axis" x="{x:.1f}" y="{plot_h + AXIS_H - 6}" font-size="{FONT}" '
            f'text-anchor="{anchor}">{escape(number(tick))}</text>'
        )
    if not rows:
        parts = [_text("Nothing to show.", 0, LABEL_H, "chart-value")]
    keys = "".join(
        f'<li><svg class="swatch" aria-hidden="true" focusable="false" viewBox="0 0 12 12" width="12" height="12">'
        f'<rect class="chart-{key}" width="12" height="12"/></svg>{escape(label)}</li>'
        for key, label in legend
    )
    more = (
        f'<p class="small">The first {rows} of {total_rows}; the table below has every one.</p>'
        if total_rows > rows
        else ""
    )
    return Markup(
        f'<figure class="chart" id="{escape(chart_id)}">'
        f'<svg role="img" aria-labelledby="{escape(chart_id)}-title" viewBox="0 0 {WIDTH} {plot_h + AXIS_H}" '
        f'width="{WIDTH}" height="{plot_h + AXIS_H}" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f"{''.join(axis)}{''.join(parts)}</svg>"
        f'<figcaption><ul class="chart-legend">{keys}</ul>{more}</figcaption></figure>'
    )
