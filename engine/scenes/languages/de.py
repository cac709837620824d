"""German: adjective endings follow the noun's gender (ein roter Kreis, ein rotes Quadrat,
eine rote Raute); plurals after a numeral take the strong ending -e (zwei rote Kreise)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "de", "German", "Latn"

NOUNS = {  # gender, singular, plural
    "circle": ("m", "Kreis", "Kreise"),
    "square": ("n", "Quadrat", "Quadrate"),
    "triangle": ("n", "Dreieck", "Dreiecke"),
    "star": ("m", "Stern", "Sterne"),
    "diamond": ("f", "Raute", "Rauten"),
}
STEMS = {
    "red": "rot",
    "orange": "orangefarben",
    "yellow": "gelb",
    "green": "grün",
    "blue": "blau",
    "purple": "violett",
    "small": "klein",
    "large": "groß",
}
ENDINGS = {"m": "er", "n": "es", "f": "e", "plural": "e"}  # nominative after ein/eine, or no article
ARTICLES = {"m": "ein", "n": "ein", "f": "eine", 2: "zwei", 3: "drei"}
POSITIONS = {"left": "links", "right": "rechts", "top": "oben", "bottom": "unten", "middle": "in der Mitte"}
BACKGROUNDS = {"white": "weißem", "gray": "grauem", "black": "schwarzem"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        gender, singular, plural = NOUNS[g.shape]
        ending = ENDINGS[gender if g.count == 1 else "plural"]
        adjectives = [STEMS[a] + ending for a in (g.size, g.colour) if a]
        article = ARTICLES[gender if g.count == 1 else g.count]
        phrases.append(words(article, *adjectives, singular if g.count == 1 else plural, POSITIONS.get(g.position)))
    text = join_list(phrases, ", ", " und ")
    if spec.background:
        text += f" auf {BACKGROUNDS[spec.background]} Hintergrund"
    return text
