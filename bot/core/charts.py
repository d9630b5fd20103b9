"""Office statistics as tables and bar charts: pure SVG text, each with its numbers as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from statistics import median

# Colours that stay apart for most kinds of colour blindness (Okabe and Ito), then repeat.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH, HEIGHT = 720, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 160, 32, 64


@dataclass(frozen=True, slots=True)
class Table:
    """A chart's numbers: a heading for the labels, one per series, then one row per label."""

    title: str
    label_heading: str
    series: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float, ...]], ...]

    def column(self, index: int) -> list[float]:
        """Return one series' values, in row order."""
        return [values[index] for _, values in self.rows]

    def total(self, label: str) -> float:
        """Return the sum of a row's values (0 for a label not in the table)."""
        return next((sum(values) for row, values in self.rows if row == label), 0)

    def csv(self) -> str:
        """Return the table as CSV text, headings first."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([self.label_heading, *self.series])
        for label, values in self.rows:
            writer.writerow([label, *(_number(v) for v in values)])
        return out.getvalue()


@dataclass(frozen=True, slots=True)
class Chart:
    """A table of numbers drawn as a (stacked) bar chart."""

    table: Table
    svg: str


def bar_chart(table: Table) -> Chart:
    """Draw ``table`` as bars, one per row, its series stacked, with a legend and a scale."""
    return Chart(table, _svg(table))


def _svg(table: Table) -> str:
    inner_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    inner_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = max((sum(values) for _, values in table.rows), default=0)
    scale_max = _nice(top)
    count = max(len(table.rows), 1)
    slot = inner_w / count
    bar = max(1.0, slot * 0.8)
    title = escape(table.title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{title}"'
        ' font-family="sans-serif" font-size="11">',
        f"<title>{title}</title>",
        f'<text x="{MARGIN_LEFT}" y="18" font-size="14" font-weight="bold">{title}</text>',
    ]
    base = MARGIN_TOP + inner_h
    for step in range(5):
        value = scale_max * step / 4
        y = base - inner_h * step / 4
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{MARGIN_LEFT + inner_w}" y2="{y:.1f}"'
            ' stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>'
        )
    every = max(1, -(-count // 26))  # at most 26 labels under the bars
    for index, (label, values) in enumerate(table.rows):
        x = MARGIN_LEFT + slot * index + (slot - bar) / 2
        y = base
        for series, value in enumerate(values):
            if value <= 0 or scale_max <= 0:
                continue
            height = inner_h * value / scale_max
            y -= height
            name = escape(f"{label}, {table.series[series]}: {_number(value)}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}"'
                f' fill="{PALETTE[series % len(PALETTE)]}"><title>{name}</title></rect>'
            )
        if index % every == 0:
            cx = x + bar / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{base + 12}" text-anchor="end"'
                f' transform="rotate(-45 {cx:.1f} {base + 12})">{escape(label)}</text>'
            )
    for series, name in enumerate(table.series):
        y = MARGIN_TOP + 16 * series
        x = WIDTH - MARGIN_RIGHT + 12
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10"'
            f' fill="{PALETTE[series % len(PALETTE)]}"/>'
        )
        parts.append(f'<text x="{x + 14}" y="{y + 9}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _nice(top: float) -> float:
    """Return a round number at or above ``top`` for the top of the scale."""
    if top <= 0:
        return 1
    step = 1.0
    while step * 10 <= top:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= top:
            return step * factor
    return step * 10


def _number(value: float) -> str:
    """Return a number as a table shows it: whole numbers plain, others to one decimal place."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def week_of(day: date) -> date:
    """Return the Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weeks(start: date, end: date) -> list[date]:
    """Return the Mondays of every week from ``start``'s to ``end``'s."""
    first, found = week_of(start), []
    while first <= end:
        found.append(first)
        first += timedelta(days=7)
    return found


def middle(values: Sequence[float]) -> float | None:
    """Return the median of ``values``, or None for none."""
    return float(median(values)) if values else None
