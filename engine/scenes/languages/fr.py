"""French: size before the noun, colour after it, both agreeing in gender and number
(un petit carré bleu, une petite étoile bleue, deux étoiles orange: orange is invariable)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "fr", "French", "Latn"

NOUNS = {"circle": ("m", "cercle"), "square": ("m", "carré"), "triangle": ("m", "triangle"), "star": ("f", "étoile"), "diamond": ("m", "losange")}
ADJECTIVES = {  # masculine, feminine; plural adds -s unless invariable
    "red": ("rouge", "rouge"),
    "orange": ("orange", "orange"),
    "yellow": ("jaune", "jaune"),
    "green": ("vert", "verte"),
    "blue": ("bleu", "bleue"),
    "purple": ("violet", "violette"),
    "small": ("petit", "petite"),
    "large": ("grand", "grande"),
}
INVARIABLE = {"orange"}
ARTICLES = {"m": "un", "f": "une", 2: "deux", 3: "trois"}
POSITIONS = {"left": "à gauche", "right": "à droite", "top": "en haut", "bottom": "en bas", "middle": "au centre"}
BACKGROUNDS = {"white": "blanc", "gray": "gris", "black": "noir"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        gender, noun = NOUNS[g.shape]
        article = ARTICLES[gender if g.count == 1 else g.count]
        phrases.append(words(article, _agree(g.size, gender, g.count), _plural(noun, g.count), _agree(g.colour, gender, g.count), POSITIONS.get(g.position)))
    text = join_list(phrases, ", ", " et ")
    if spec.background:
        text += f" sur fond {BACKGROUNDS[spec.background]}"
    return text


def _agree(adjective: str | None, gender: str, count: int) -> str | None:
    if adjective is None:
        return None
    form = ADJECTIVES[adjective][gender == "f"]
    return form if adjective in INVARIABLE else _plural(form, count)


def _plural(word: str, count: int) -> str:
    return word + "s" if count > 1 else word
