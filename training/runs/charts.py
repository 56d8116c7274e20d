"""Line charts of a run's figures against step, drawn on the server as SVG: no script, and
they show in any browser and in the docs' screenshots."""

import math

from django.utils.html import escape

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 36
COLOURS = ("#2563eb", "#dc2626", "#059669")
Points = list[list[float]]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values spanning low..high."""
    span = high - low or abs(high) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int(math.ceil((high - first) / step)) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}"


def line_chart(title: str, series: dict[str, Points], *, y_label: str = "", last_step: int = 0) -> str:
    """An SVG chart of each series ([step, value] points) against step, from 0 to last_step
    (or the last point, if later), so that it shows how far a run has come; a note when empty."""
    points = [point for values in series.values() for point in values]
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not points:
        svg.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#666">No figures yet</text>')
        return "".join(svg) + "</svg>"
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_ticks, y_ticks = _ticks(0, max(*xs, last_step) or 1), _ticks(min(ys), max(ys))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def x(step: float) -> float:
        return LEFT + (step - x0) / ((x1 - x0) or 1) * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (value - y0) / ((y1 - y0) or 1) * (HEIGHT - TOP - BOTTOM)

    for tick in y_ticks:
        svg.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e7eb"/>')
        svg.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
    for tick in x_ticks:
        svg.append(f'<text x="{x(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{_label(tick)}</text>')
    svg.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end" fill="#666">step</text>')
    if y_label:
        svg.append(f'<text x="12" y="{TOP + 60}" transform="rotate(-90 12 {TOP + 60})" fill="#666">{escape(y_label)}</text>')
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{x(step):.1f},{y(value):.1f}" for step, value in values)
        if len(values) > 1:
            svg.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if len(values) <= 60:  # dots where they can be told apart
            svg += [f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>' for s, v in values]
        legend_x = WIDTH - RIGHT - 150 * (len(series) - index)
        svg.append(f'<rect x="{legend_x}" y="8" width="10" height="10" fill="{colour}"/>')
        svg.append(f'<text x="{legend_x + 14}" y="17">{escape(name)}</text>')
    return "".join(svg) + "</svg>"


CHARTS = {
    "loss": ("Training loss", {"content loss": "loss"}, ""),
    "psnr": ("PSNR", {"validation": "val_psnr", "training patches": "train_psnr"}, "dB"),
    "ssim": ("Validation SSIM", {"validation": "val_ssim"}, ""),
}


def run_chart(name: str, history: dict[str, Points], total_steps: int = 0) -> str:
    """One of CHARTS for a run's history (TrainingRun.history); KeyError for another name."""
    title, series, y_label = CHARTS[name]
    values = {label: history.get(key, []) for label, key in series.items()}
    return line_chart(title, values, y_label=y_label, last_step=total_steps)
