"""Small charts as PNG images, drawn with Pillow (no matplotlib): loss curves and score histograms.

Pure functions from numbers to PNG bytes, so reports can embed them; nothing here grades.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

WIDTH, HEIGHT, MARGIN = 480, 240, 40
INK, GRID, LINE, REFERENCE = (40, 40, 40), (220, 220, 220), (31, 119, 180), (150, 150, 150)


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    return image, ImageDraw.Draw(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def loss_curve(losses: Sequence[float], title: str, reference: Sequence[float] = ()) -> bytes:
    """A line chart of `losses` against the step (blue), with the book's model's `reference`
    losses in the same run (grey) where given; both axes named, the loss's range labelled."""
    image, draw = _canvas()
    values = [v for v in [*losses, *reference] if math.isfinite(v)] or [0.0]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    left, top, right, bottom = MARGIN, 24, WIDTH - 12, HEIGHT - MARGIN + 10
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - fraction * (bottom - top)
        draw.line([(left, y), (right, y)], fill=GRID)
        draw.text((2, y - 6), f"{low + fraction * span:.2f}", fill=INK)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=INK)
    steps = max(len(losses), len(reference), 2) - 1

    def place(series: Sequence[float]) -> list[tuple[float, float]]:
        return [
            (
                left + i / steps * (right - left),
                bottom - ((v if math.isfinite(v) else high) - low) / span * (bottom - top),
            )
            for i, v in enumerate(series)
        ]

    if len(reference) > 1:
        draw.line(place(reference), fill=REFERENCE, width=2)
    points = place(losses)
    if len(points) > 1:
        draw.line(points, fill=LINE, width=2)
    for x, y in points[:1] + points[-1:]:
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=LINE)
    draw.text((left, 4), f"{title}: training loss (vertical) per optimiser step", fill=INK)
    if reference:
        draw.text((right - 150, 14), "yours: blue, the book's: grey", fill=INK)
    draw.text((left, bottom + 8), "step 1", fill=INK)
    draw.text((right - 60, bottom + 8), f"step {steps + 1}", fill=INK)
    return _png(image)


def histogram(
    scores: Sequence[float], maximum: float, bins: int = 10, title: str = "scores"
) -> bytes:
    """A bar chart of how many scores fall into each of `bins` equal ranges of [0, maximum]."""
    image, draw = _canvas()
    counts = [0] * bins
    for score in scores:
        index = min(int(score / maximum * bins), bins - 1) if maximum > 0 else 0
        counts[max(index, 0)] += 1
    top_count = max(counts) or 1
    left, top, right, bottom = MARGIN, 24, WIDTH - 12, HEIGHT - MARGIN + 10
    width = (right - left) / bins
    for i, count in enumerate(counts):
        height = count / top_count * (bottom - top)
        draw.rectangle(
            [left + i * width + 2, bottom - height, left + (i + 1) * width - 2, bottom], fill=LINE
        )
        if count:
            draw.text((left + i * width + width / 3, bottom - height - 12), str(count), fill=INK)
        draw.text((left + i * width + 2, bottom + 4), f"{i * maximum / bins:g}", fill=INK)
    draw.line([(left, bottom), (right, bottom)], fill=INK)
    draw.text((left, 4), f"{title} ({len(scores)} submissions)", fill=INK)
    return _png(image)
