"""A scene: one to three coloured shapes on a plain background, as data.

The picture is drawn from this data (`engine.scenes.draw`) and the captions are written from it
(`engine.scenes.spec` + `engine.scenes.languages`), so a caption can be checked against the
scene it came from — and against every other scene — without looking at pixels.

The attribute space is small on purpose: a `cpu-tiny` model learns it in minutes on two CPU
cores, while 6 colours x 5 shapes x 2 sizes x layouts x 3 backgrounds still makes pictures that
share an object common, so retrieval has to read every word.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COLOURS = ("red", "orange", "yellow", "green", "blue", "purple")
SHAPES = ("circle", "square", "triangle", "star", "diamond")
SIZES = ("small", "large")
BACKGROUNDS = ("white", "gray", "black")
POSITIONS = ("left", "right", "top", "bottom", "middle")

# Where n objects stand: a row or a column, one slot per object, named by where it is.
LAYOUTS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("middle",),),
    2: (("left", "right"), ("top", "bottom")),
    3: (("left", "middle", "right"), ("top", "middle", "bottom")),
}
MAX_OBJECTS = max(LAYOUTS)

# How often a scene repeats an object's colour and shape, so captions need plurals ("two red circles").
REPEAT_PROBABILITY = 0.25


@dataclass(frozen=True)
class SceneObject:
    shape: str
    colour: str
    size: str
    position: str


@dataclass(frozen=True)
class Scene:
    objects: tuple[SceneObject, ...]  # in slot order: left to right, or top to bottom
    background: str
    jitter_seed: int  # small offsets and shade changes in the drawing; not part of any caption


def random_scene(rng: random.Random, max_objects: int = MAX_OBJECTS) -> Scene:
    """A scene drawn uniformly from the attribute space (with some repeated objects, see above)."""
    count = rng.randint(1, max_objects)
    slots = rng.choice(LAYOUTS[count])
    objects: list[SceneObject] = []
    for position in slots:
        if objects and rng.random() < REPEAT_PROBABILITY:
            shape, colour = objects[-1].shape, objects[-1].colour
        else:
            shape, colour = rng.choice(SHAPES), rng.choice(COLOURS)
        objects.append(SceneObject(shape, colour, rng.choice(SIZES), position))
    return Scene(tuple(objects), rng.choice(BACKGROUNDS), rng.getrandbits(32))


def random_scenes(count: int, seed: int | str, max_objects: int = MAX_OBJECTS) -> list[Scene]:
    """`count` scenes, the same ones for the same seed on every machine and Python version."""
    rng = random.Random(f"scenes:{seed}")
    return [random_scene(rng, max_objects) for _ in range(count)]
