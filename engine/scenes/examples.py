"""Captioned scenes as a stream: what the trainer learns from and what the demo queries with.

Each example is a fresh scene, one way of describing it (`describe`) and that description in
one language. Streams are seeded by name, so the training stream and the demo's collection
never share a random sequence.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from engine.scenes.languages import LANGUAGES, caption
from engine.scenes.scene import MAX_OBJECTS, Scene, random_scene
from engine.scenes.spec import CaptionSpec, describe


@dataclass(frozen=True)
class Example:
    scene: Scene
    spec: CaptionSpec
    lang: str
    text: str


def examples(seed: int | str, languages: Sequence[str] = tuple(LANGUAGES), max_objects: int = MAX_OBJECTS) -> Iterator[Example]:
    """An endless, reproducible stream of (scene, description, language, caption), languages mixed
    uniformly. Draw the picture with `draw_scene(example.scene, size)` at the model's input size."""
    languages = list(languages)
    rng = random.Random(f"examples:{seed}")
    while True:
        scene = random_scene(rng, max_objects)
        spec = describe(scene, rng)
        lang = rng.choice(languages)
        yield Example(scene, spec, lang, caption(spec, lang))


def queries(scenes: Sequence[Scene], lang: str, seed: int | str) -> list[tuple[CaptionSpec, str]]:
    """One caption per scene in `lang`; the same descriptions for every language with the same seed,
    so per-language scores compare like with like."""
    rng = random.Random(f"queries:{seed}")
    specs = [describe(scene, rng) for scene in scenes]
    return [(spec, caption(spec, lang)) for spec in specs]
