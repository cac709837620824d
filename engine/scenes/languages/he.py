"""Hebrew: noun, then colour and size agreeing in number (עיגול אדום, שני עיגולים אדומים); all
five shape nouns are masculine, so the numerals are שני and שלושה; ו joins the last item."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "he", "Hebrew", "Hebr"

NOUNS = {  # singular, plural
    "circle": ("עיגול", "עיגולים"),
    "square": ("ריבוע", "ריבועים"),
    "triangle": ("משולש", "משולשים"),
    "star": ("כוכב", "כוכבים"),
    "diamond": ("מעוין", "מעוינים"),
}
ADJECTIVES = {  # singular, plural (masculine)
    "red": ("אדום", "אדומים"),
    "orange": ("כתום", "כתומים"),
    "yellow": ("צהוב", "צהובים"),
    "green": ("ירוק", "ירוקים"),
    "blue": ("כחול", "כחולים"),
    "purple": ("סגול", "סגולים"),
    "small": ("קטן", "קטנים"),
    "large": ("גדול", "גדולים"),
}
NUMBERS = {2: "שני", 3: "שלושה"}  # masculine forms
POSITIONS = {"left": "משמאל", "right": "מימין", "top": "למעלה", "bottom": "למטה", "middle": "באמצע"}
BACKGROUNDS = {"white": "לבן", "gray": "אפור", "black": "שחור"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        plural = g.count > 1
        adjectives = [ADJECTIVES[a][plural] for a in (g.colour, g.size) if a]
        phrases.append(words(NUMBERS.get(g.count), NOUNS[g.shape][plural], *adjectives, POSITIONS.get(g.position)))
    text = join_list(phrases, ", ", " ו")
    if spec.background:
        text += f" על רקע {BACKGROUNDS[spec.background]}"
    return text
