"""Turkish: adjectives first, "bir" (a) just before the noun (küçük kırmızı bir daire); after a
numeral the noun stays singular (iki kırmızı daire); places and backgrounds come first (solda ...)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "tr", "Turkish", "Latn"

NOUNS = {"circle": "daire", "square": "kare", "triangle": "üçgen", "star": "yıldız", "diamond": "eşkenar dörtgen"}
ADJECTIVES = {"red": "kırmızı", "orange": "turuncu", "yellow": "sarı", "green": "yeşil", "blue": "mavi", "purple": "mor", "small": "küçük", "large": "büyük"}
NUMBERS = {2: "iki", 3: "üç"}
POSITIONS = {"left": "solda", "right": "sağda", "top": "üstte", "bottom": "altta", "middle": "ortada"}
BACKGROUNDS = {"white": "beyaz", "gray": "gri", "black": "siyah"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        adjectives = [ADJECTIVES[a] for a in (g.size, g.colour) if a]
        if g.count == 1:
            phrases.append(words(POSITIONS.get(g.position), *adjectives, "bir", NOUNS[g.shape]))
        else:
            phrases.append(words(POSITIONS.get(g.position), NUMBERS[g.count], *adjectives, NOUNS[g.shape]))
    text = join_list(phrases, ", ", " ve ")
    if spec.background:
        text = f"{BACKGROUNDS[spec.background]} zemin üzerinde {text}"
    return text
