"""Draw a scene with Pillow at any resolution.

Geometry is in fractions of the canvas and the jitter comes from the scene's own seed, so the
same scene looks the same at 64 px (the `cpu-tiny` input) and at 224 px (thumbnails, bigger
sizes). Shapes are drawn at 4x and box-downsampled, which anti-aliases their edges cheaply
enough for the trainer to draw on the fly.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from engine.scenes.scene import Scene, SceneObject

RGB = {
    "red": (220, 40, 40),
    "orange": (245, 140, 20),
    "yellow": (240, 215, 30),
    "green": (40, 160, 60),
    "blue": (40, 80, 220),
    "purple": (140, 50, 180),
    "white": (250, 250, 250),
    "gray": (128, 128, 128),
    "black": (15, 15, 15),
}
SIDE = {"small": 0.18, "large": 0.30}  # bounding-box side, fraction of the canvas
POSITION_JITTER = 0.035  # fraction of the canvas, each axis
SHADE_JITTER = 12  # brightness, added to every RGB channel
SUPERSAMPLE = 4


def draw_scene(scene: Scene, size: int = 64) -> Image.Image:
    """The scene as an RGB picture of `size` x `size` pixels."""
    rng = random.Random(scene.jitter_seed)
    big = size * SUPERSAMPLE
    picture = Image.new("RGB", (big, big), _shade(RGB[scene.background], rng))
    pen = ImageDraw.Draw(picture)
    vertical = any(thing.position in ("top", "bottom") for thing in scene.objects)
    for index, thing in enumerate(scene.objects):
        x, y = _slot_centre(index, len(scene.objects), vertical)
        x += rng.uniform(-POSITION_JITTER, POSITION_JITTER)
        y += rng.uniform(-POSITION_JITTER, POSITION_JITTER)
        _draw_shape(pen, thing, x * big, y * big, SIDE[thing.size] * big / 2, _shade(RGB[thing.colour], rng))
    return picture.reduce(SUPERSAMPLE)


def _slot_centre(index: int, count: int, vertical: bool) -> tuple[float, float]:
    """Objects share a row (left..right) or a column (top..bottom) in equal slots."""
    along = (index + 0.5) / count
    return (0.5, along) if vertical else (along, 0.5)


def _shade(rgb: tuple[int, int, int], rng: random.Random) -> tuple[int, int, int]:
    """A little lighter or darker, never a different hue (a tinted white would be a new colour)."""
    offset = rng.randint(-SHADE_JITTER, SHADE_JITTER)
    return tuple(min(255, max(0, c + offset)) for c in rgb)  # type: ignore[return-value]


def _draw_shape(pen: ImageDraw.ImageDraw, thing: SceneObject, x: float, y: float, r: float, fill: tuple[int, int, int]) -> None:
    if thing.shape == "circle":
        pen.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    elif thing.shape == "square":
        s = r * 0.9  # a square looks bigger than a circle of the same width
        pen.rectangle((x - s, y - s, x + s, y + s), fill=fill)
    elif thing.shape == "triangle":
        pen.polygon([(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)], fill=fill)
    elif thing.shape == "star":
        pen.polygon(_star(x, y, r), fill=fill)
    elif thing.shape == "diamond":
        pen.polygon([(x, y - r), (x + r * 0.75, y), (x, y + r), (x - r * 0.75, y)], fill=fill)
    else:
        raise ValueError(f"no drawing for shape {thing.shape!r}")


def _star(x: float, y: float, r: float, points: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    corners = []
    for k in range(points * 2):
        radius = r if k % 2 == 0 else r * inner
        angle = -math.pi / 2 + k * math.pi / points
        corners.append((x + radius * math.cos(angle), y + radius * math.sin(angle)))
    return corners
