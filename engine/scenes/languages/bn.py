"""Bengali: the numeral carries the classifier -টি (একটি, দুটি, তিনটি) and nouns stay singular
after it; size and colour precede the noun and do not inflect; places come first."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "bn", "Bengali", "Beng"

NOUNS = {"circle": "বৃত্ত", "square": "বর্গক্ষেত্র", "triangle": "ত্রিভুজ", "star": "তারা", "diamond": "রম্বস"}
ADJECTIVES = {"red": "লাল", "orange": "কমলা", "yellow": "হলুদ", "green": "সবুজ", "blue": "নীল", "purple": "বেগুনি", "small": "ছোট", "large": "বড়"}
NUMBERS = {1: "একটি", 2: "দুটি", 3: "তিনটি"}
POSITIONS = {"left": "বাঁ দিকে", "right": "ডান দিকে", "top": "উপরে", "bottom": "নিচে", "middle": "মাঝখানে"}
BACKGROUNDS = {"white": "সাদা", "gray": "ধূসর", "black": "কালো"}


def caption(spec: CaptionSpec) -> str:
    phrases = [words(POSITIONS.get(g.position), NUMBERS[g.count], *[ADJECTIVES[a] for a in (g.size, g.colour) if a], NOUNS[g.shape]) for g in groups(spec)]
    text = join_list(phrases, ", ", " এবং ")
    if spec.background:
        text = f"{BACKGROUNDS[spec.background]} পটভূমিতে {text}"
    return text
