"""Server-rendered SVG charts: a bar per point, scaled to a fixed box. No JavaScript, no CDN."""

from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 40, 30, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float


def bar_chart(points: list[tuple[str, float]], *, maximum: float | None = None) -> dict:
    """Bars for `points` (label, value); the template draws them (`feedback/_bar_chart.svg`)."""
    top = maximum or max((value for _, value in points), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = plot_h * (value / top)
        bars.append(
            Bar(
                x=round(LEFT + index * step + step * 0.1, 1),
                y=round(TOP + plot_h - height, 1),
                width=round(step * 0.8, 1),
                height=round(height, 1),
                label=label,
                value=value,
            )
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "top": top,
        "axis_y": TOP + plot_h,
        "left": LEFT,
        "label_every": max(1, len(points) // 8),
    }
