"""What a caption says, as data: the bridge between a scene and its sentences in every language.

A caption is written from a `CaptionSpec` (one `Mention` per object, each naming some of the
object's attributes, plus perhaps the background). The same spec becomes the English, Thai and
Arabic sentences, so they say exactly the same thing; and `satisfies` decides on the spec, not the
words, whether a picture matches — which is what retrieval counts as a hit.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, fields

from engine.scenes.scene import Scene, SceneObject

# What a caption may say besides each object's colour and shape, by number of objects (one choice
# drawn uniformly). The cpu-tiny page (64 px, text at 8 px) holds about 60 Latin characters, so
# scenes with more objects say less: three objects with places would not fit in German.
EXTRAS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: ((), ("size",), ("background",), ("size", "background")),
    2: ((), ("size",), ("position",), ("background",)),
    3: ((),),
}


@dataclass(frozen=True)
class Mention:
    """What a caption says about one object; None = not mentioned (any value fits)."""

    shape: str
    colour: str | None = None
    size: str | None = None
    position: str | None = None

    def fits(self, thing: SceneObject) -> bool:
        return all(getattr(self, f.name) in (None, getattr(thing, f.name)) for f in fields(self))


@dataclass(frozen=True)
class CaptionSpec:
    """A whole caption: every object of the scene, in the order the sentence names them."""

    mentions: tuple[Mention, ...]
    background: str | None = None

    @property
    def positioned(self) -> bool:
        return any(m.position is not None for m in self.mentions)


def satisfies(scene: Scene, spec: CaptionSpec) -> bool:
    """True if the caption describes the scene: same number of objects, each matched to a distinct
    mention that fits it, and the background if the caption names one."""
    if len(scene.objects) != len(spec.mentions) or spec.background not in (None, scene.background):
        return False
    return any(all(m.fits(o) for m, o in zip(spec.mentions, order)) for order in itertools.permutations(scene.objects))


def full_spec(scene: Scene) -> CaptionSpec:
    """Everything about the scene, objects in slot order: how the demo says what it found."""
    return CaptionSpec(tuple(Mention(o.shape, o.colour, o.size, o.position) for o in scene.objects), scene.background)


def describe(scene: Scene, rng: random.Random) -> CaptionSpec:
    """One of the ways to describe the scene: every object's colour and shape, perhaps one of the
    EXTRAS, objects in any order (positioned captions half the time in slot order)."""
    extras = rng.choice(EXTRAS[len(scene.objects)])
    mentions = [Mention(o.shape, o.colour, o.size if "size" in extras else None, o.position if "position" in extras else None) for o in scene.objects]
    if "position" not in extras or rng.random() < 0.5:
        rng.shuffle(mentions)
    return CaptionSpec(tuple(mentions), scene.background if "background" in extras else None)


@dataclass(frozen=True)
class Group:
    """Equal mentions said once with a number ("two red circles"): what a language module words."""

    count: int
    shape: str
    colour: str | None
    size: str | None
    position: str | None


def groups(spec: CaptionSpec) -> list[Group]:
    """The spec's mentions with equal ones merged, in order of first appearance."""
    counts: dict[Mention, int] = {}
    for mention in spec.mentions:
        counts[mention] = counts.get(mention, 0) + 1
    return [Group(count, m.shape, m.colour, m.size, m.position) for m, count in counts.items()]
