"""Arabic: noun first, then colour and size agreeing in gender; two things take the dual on noun
and adjectives (دائرتان حمراوان); three take a reversed-gender numeral and a plural noun whose
adjectives are feminine singular, as for all non-human plurals (ثلاثة مربعات زرقاء)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "ar", "Arabic", "Arab"

NOUNS = {  # gender, singular, dual, plural
    "circle": ("f", "دائرة", "دائرتان", "دوائر"),
    "square": ("m", "مربع", "مربعان", "مربعات"),
    "triangle": ("m", "مثلث", "مثلثان", "مثلثات"),
    "star": ("f", "نجمة", "نجمتان", "نجوم"),
    "diamond": ("m", "معين", "معينان", "معينات"),
}
ADJECTIVES = {  # masculine, feminine, masculine dual, feminine dual
    "red": ("أحمر", "حمراء", "أحمران", "حمراوان"),
    "orange": ("برتقالي", "برتقالية", "برتقاليان", "برتقاليتان"),
    "yellow": ("أصفر", "صفراء", "أصفران", "صفراوان"),
    "green": ("أخضر", "خضراء", "أخضران", "خضراوان"),
    "blue": ("أزرق", "زرقاء", "أزرقان", "زرقاوان"),
    "purple": ("بنفسجي", "بنفسجية", "بنفسجيان", "بنفسجيتان"),
    "small": ("صغير", "صغيرة", "صغيران", "صغيرتان"),
    "large": ("كبير", "كبيرة", "كبيران", "كبيرتان"),
}
THREE = {"m": "ثلاثة", "f": "ثلاث"}  # the numeral takes the gender opposite to the noun's
POSITIONS = {"left": "على اليسار", "right": "على اليمين", "top": "في الأعلى", "bottom": "في الأسفل", "middle": "في الوسط"}
BACKGROUNDS = {"white": "بيضاء", "gray": "رمادية", "black": "سوداء"}  # خلفية is feminine


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        gender, singular, dual, plural = NOUNS[g.shape]
        if g.count == 1:
            number, noun, form = None, singular, (gender == "f")
        elif g.count == 2:
            number, noun, form = None, dual, 2 + (gender == "f")
        else:
            number, noun, form = THREE[gender], plural, 1
        adjectives = [ADJECTIVES[a][form] for a in (g.colour, g.size) if a]
        phrases.append(words(number, noun, *adjectives, POSITIONS.get(g.position)))
    text = join_list(phrases, " و", " و")  # و is written joined to the next word
    if spec.background:
        text += f" على خلفية {BACKGROUNDS[spec.background]}"
    return text
