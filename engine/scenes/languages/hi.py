"""Hindi: number, size, colour, noun; adjectives in -ā agree (नीला वर्ग, दो नीले तारे) while लाल,
नारंगी, बैंगनी do not; the background पृष्ठभूमि is feminine (काली पृष्ठभूमि पर); places come first."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "hi", "Hindi", "Deva"

NOUNS = {  # singular, plural (all masculine)
    "circle": ("वृत्त", "वृत्त"),
    "square": ("वर्ग", "वर्ग"),
    "triangle": ("त्रिभुज", "त्रिभुज"),
    "star": ("तारा", "तारे"),
    "diamond": ("समचतुर्भुज", "समचतुर्भुज"),
}
ADJECTIVES = {  # masculine singular, masculine plural
    "red": ("लाल", "लाल"),
    "orange": ("नारंगी", "नारंगी"),
    "yellow": ("पीला", "पीले"),
    "green": ("हरा", "हरे"),
    "blue": ("नीला", "नीले"),
    "purple": ("बैंगनी", "बैंगनी"),
    "small": ("छोटा", "छोटे"),
    "large": ("बड़ा", "बड़े"),
}
NUMBERS = {1: "एक", 2: "दो", 3: "तीन"}
POSITIONS = {"left": "बाईं ओर", "right": "दाईं ओर", "top": "ऊपर", "bottom": "नीचे", "middle": "बीच में"}
BACKGROUNDS = {"white": "सफ़ेद", "gray": "स्लेटी", "black": "काली"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        plural = g.count > 1
        adjectives = [ADJECTIVES[a][plural] for a in (g.size, g.colour) if a]
        phrases.append(words(POSITIONS.get(g.position), NUMBERS[g.count], *adjectives, NOUNS[g.shape][plural]))
    text = join_list(phrases, ", ", " और ")
    if spec.background:
        text = f"{BACKGROUNDS[spec.background]} पृष्ठभूमि पर {text}"
    return text
