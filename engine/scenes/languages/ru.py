"""Russian: adjectives agree with the noun's gender; after два/три the noun is genitive singular
and a masculine noun's adjectives genitive plural (два красных круга), a feminine noun's
nominative plural (две красные звезды)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "ru", "Russian", "Cyrl"

NOUNS = {  # gender, nominative singular, genitive singular
    "circle": ("m", "круг", "круга"),
    "square": ("m", "квадрат", "квадрата"),
    "triangle": ("m", "треугольник", "треугольника"),
    "star": ("f", "звезда", "звезды"),
    "diamond": ("m", "ромб", "ромба"),
}
ADJECTIVES = {  # masculine, feminine, nominative plural, genitive plural
    "red": ("красный", "красная", "красные", "красных"),
    "orange": ("оранжевый", "оранжевая", "оранжевые", "оранжевых"),
    "yellow": ("жёлтый", "жёлтая", "жёлтые", "жёлтых"),
    "green": ("зелёный", "зелёная", "зелёные", "зелёных"),
    "blue": ("синий", "синяя", "синие", "синих"),
    "purple": ("фиолетовый", "фиолетовая", "фиолетовые", "фиолетовых"),
    "small": ("маленький", "маленькая", "маленькие", "маленьких"),
    "large": ("большой", "большая", "большие", "больших"),
}
NUMBERS = {("m", 2): "два", ("f", 2): "две", ("m", 3): "три", ("f", 3): "три"}
POSITIONS = {"left": "слева", "right": "справа", "top": "сверху", "bottom": "снизу", "middle": "в центре"}
BACKGROUNDS = {"white": "белом", "gray": "сером", "black": "чёрном"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        gender, nominative, genitive = NOUNS[g.shape]
        if g.count == 1:
            form, number, noun = (gender == "f"), None, nominative
        else:
            form, number, noun = (2 if gender == "f" else 3), NUMBERS[gender, g.count], genitive
        adjectives = [ADJECTIVES[a][form] for a in (g.size, g.colour) if a]
        phrases.append(words(number, *adjectives, noun, POSITIONS.get(g.position)))
    text = join_list(phrases, ", ", " и ")
    if spec.background:
        text += f" на {BACKGROUNDS[spec.background]} фоне"
    return text
