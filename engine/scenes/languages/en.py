"""English: size and colour before the noun, "a"/"an" by the next word's sound, plural -s."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "en", "English", "Latn"

NUMBERS = {2: "two", 3: "three"}
POSITIONS = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom", "middle": "in the middle"}


def caption(spec: CaptionSpec) -> str:
    phrases = [
        words(_article(g.count, g.size or g.colour or g.shape), g.size, g.colour, g.shape + ("s" if g.count > 1 else ""), POSITIONS.get(g.position))
        for g in groups(spec)
    ]
    text = join_list(phrases, ", ", " and ")
    if spec.background:
        text += ("," if spec.positioned else "") + f" on a {spec.background} background"
    return text


def _article(count: int, next_word: str) -> str:
    return NUMBERS[count] if count > 1 else ("an" if next_word[0] in "aeiou" else "a")
