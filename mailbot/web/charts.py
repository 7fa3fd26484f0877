"""The dashboard's charts, laid out on the server as plain shapes for an inline SVG.

No script and no style attribute (the Content-Security-Policy forbids both): each chart
is rectangles and text with presentation attributes (fill, text-anchor), rendered by
the `chart` macro of templates/charts.html with Jinja's autoescaping, so every label
reaches the page as text. Each shape carries a <title>, and the page gives every
chart a table of the same numbers for screen readers and for copying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from mailbot.figures import Week

WIDTH: Final = 760
HEIGHT: Final = 260
LEFT: Final = 48  # room for the axis numbers
BOTTOM: Final = 36  # room for the week labels
TOP: Final = 12

GREEN: Final = "#1d7a46"
BLUE: Final = "#1f5fbf"
RED: Final = "#b3261e"
GREY: Final = "#c9d1de"
AMBER: Final = "#a86200"
INK: Final = "#1d2430"


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True, slots=True)
class Chart:
    name: str  # an id for aria-labelledby
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (fill, what)


def _scale(largest: int) -> tuple[int, list[int]]:
    """A round top for the axis and the ticks under it."""
    top = max(largest, 1)
    for step in (1, 2, 5):
        magnitude = 1
        while magnitude * step * 4 < top:
            magnitude *= 10
        if magnitude * step * 4 >= top:
            break
    unit = max(magnitude * step, 1)
    ticks = [unit * n for n in range(5) if unit * n <= top + unit]
    return ticks[-1] if ticks[-1] >= top else top, ticks


def week_chart(weeks: Sequence[Week]) -> Chart:
    """Per ISO week of receipt: received (grey), and beside it what became of them."""
    chart = Chart(
        "weeks",
        "Cases per week of receipt",
        "For each ISO week: cases received, closed on time, closed after an extension, late.",
        WIDTH,
        HEIGHT,
        legend=[
            (GREY, "received"),
            (GREEN, "closed on time"),
            (BLUE, "closed after an extension"),
            (RED, "late"),
        ],
    )
    plot_height = HEIGHT - TOP - BOTTOM
    top, ticks = _scale(max((w.received for w in weeks), default=0))
    for tick in ticks:
        y = TOP + plot_height * (1 - tick / top)
        chart.labels.append(Label(LEFT - 6, y + 4, f"{tick:,}", "end"))
    if not weeks:
        chart.labels.append(Label(WIDTH / 2, HEIGHT / 2, "no cases received in this period"))
        return chart
    slot = (WIDTH - LEFT) / len(weeks)
    every = max(1, round(len(weeks) / 12))  # at most about twelve week labels
    for index, week in enumerate(weeks):
        x = LEFT + index * slot

        def height(count: int) -> float:
            return plot_height * count / top

        chart.bars.append(
            Bar(
                x + slot * 0.1,
                TOP + plot_height - height(week.received),
                slot * 0.4,
                height(week.received),
                GREY,
                f"{week.label}: {week.received:,} received",
            )
        )
        base: float = TOP + plot_height
        for count, fill, what in (
            (week.on_time, GREEN, "closed on time"),
            (week.after_extension, BLUE, "closed after an extension"),
            (week.late, RED, "late"),
        ):
            if count:
                base -= height(count)
                chart.bars.append(
                    Bar(
                        x + slot * 0.5,
                        base,
                        slot * 0.4,
                        height(count),
                        fill,
                        f"{week.label}: {count:,} {what}",
                    )
                )
        if index % every == 0:
            chart.labels.append(Label(x + slot / 2, HEIGHT - BOTTOM + 16, week.label))
    return chart


def band_chart(
    name: str, title: str, description: str, bands: Sequence[tuple[str, int]], fills: Sequence[str]
) -> Chart:
    """Horizontal bars, one per band, each with its label and count."""
    row = 30
    height = TOP * 2 + row * len(bands)
    label_width = 230
    chart = Chart(name, title, description, WIDTH, height)
    largest = max((count for _, count in bands), default=0) or 1
    for index, ((label, count), fill) in enumerate(zip(bands, fills, strict=True)):
        y = TOP + index * row
        length = (WIDTH - label_width - 80) * count / largest
        chart.labels.append(Label(label_width - 8, y + row * 0.6, label, "end"))
        chart.bars.append(Bar(label_width, y + 4, length, row - 10, fill, f"{label}: {count:,}"))
        chart.labels.append(Label(label_width + length + 6, y + row * 0.6, f"{count:,}", "start"))
    return chart


DAYS_LEFT_FILLS: Final = (RED, AMBER, AMBER, GREEN, GREEN, BLUE, GREY)
ACKNOWLEDGE_FILLS: Final = (GREEN, GREEN, AMBER, AMBER, RED, RED, GREY)
