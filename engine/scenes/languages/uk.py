"""Ukrainian: adjectives agree with masculine, feminine and neuter nouns (синій квадрат, синя
зірка, синє коло); after два/дві/три noun and adjectives take the nominative plural
(два червоні кола, дві червоні зірки)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "uk", "Ukrainian", "Cyrl"

NOUNS = {  # gender, singular, plural
    "circle": ("n", "коло", "кола"),
    "square": ("m", "квадрат", "квадрати"),
    "triangle": ("m", "трикутник", "трикутники"),
    "star": ("f", "зірка", "зірки"),
    "diamond": ("m", "ромб", "ромби"),
}
FORMS = {"m": 0, "f": 1, "n": 2, "plural": 3}
ADJECTIVES = {  # masculine, feminine, neuter, plural
    "red": ("червоний", "червона", "червоне", "червоні"),
    "orange": ("помаранчевий", "помаранчева", "помаранчеве", "помаранчеві"),
    "yellow": ("жовтий", "жовта", "жовте", "жовті"),
    "green": ("зелений", "зелена", "зелене", "зелені"),
    "blue": ("синій", "синя", "синє", "сині"),
    "purple": ("фіолетовий", "фіолетова", "фіолетове", "фіолетові"),
    "small": ("маленький", "маленька", "маленьке", "маленькі"),
    "large": ("великий", "велика", "велике", "великі"),
}
NUMBERS = {("m", 2): "два", ("n", 2): "два", ("f", 2): "дві", ("m", 3): "три", ("n", 3): "три", ("f", 3): "три"}
POSITIONS = {"left": "ліворуч", "right": "праворуч", "top": "вгорі", "bottom": "внизу", "middle": "посередині"}
BACKGROUNDS = {"white": "білому", "gray": "сірому", "black": "чорному"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        gender, singular, plural = NOUNS[g.shape]
        form = FORMS[gender if g.count == 1 else "plural"]
        adjectives = [ADJECTIVES[a][form] for a in (g.size, g.colour) if a]
        number = NUMBERS[gender, g.count] if g.count > 1 else None
        phrases.append(words(number, *adjectives, singular if g.count == 1 else plural, POSITIONS.get(g.position)))
    text = join_list(phrases, ", ", " та ")
    if spec.background:
        text += f" на {BACKGROUNDS[spec.background]} тлі"
    return text
