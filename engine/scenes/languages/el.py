"""Greek: article, size, colour, noun, agreeing in gender and number (ένας κόκκινος κύκλος, ένα
κόκκινο τετράγωνο, τρία κόκκινα αστέρια); πορτοκαλί, μπλε and μωβ do not inflect."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "el", "Greek", "Grek"

NOUNS = {  # gender, singular, plural
    "circle": ("m", "κύκλος", "κύκλοι"),
    "square": ("n", "τετράγωνο", "τετράγωνα"),
    "triangle": ("n", "τρίγωνο", "τρίγωνα"),
    "star": ("n", "αστέρι", "αστέρια"),
    "diamond": ("m", "ρόμβος", "ρόμβοι"),
}
ADJECTIVES = {  # masculine singular, neuter singular, masculine plural, neuter plural
    "red": ("κόκκινος", "κόκκινο", "κόκκινοι", "κόκκινα"),
    "orange": ("πορτοκαλί",) * 4,  # πορτοκαλί, μπλε and μωβ do not inflect
    "yellow": ("κίτρινος", "κίτρινο", "κίτρινοι", "κίτρινα"),
    "green": ("πράσινος", "πράσινο", "πράσινοι", "πράσινα"),
    "blue": ("μπλε",) * 4,
    "purple": ("μωβ",) * 4,
    "small": ("μικρός", "μικρό", "μικροί", "μικρά"),
    "large": ("μεγάλος", "μεγάλο", "μεγάλοι", "μεγάλα"),
}
ARTICLES = {("m", 1): "ένας", ("n", 1): "ένα", ("m", 2): "δύο", ("n", 2): "δύο", ("m", 3): "τρεις", ("n", 3): "τρία"}
POSITIONS = {"left": "αριστερά", "right": "δεξιά", "top": "πάνω", "bottom": "κάτω", "middle": "στη μέση"}
BACKGROUNDS = {"white": "λευκό", "gray": "γκρι", "black": "μαύρο"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        gender, singular, plural = NOUNS[g.shape]
        form = (gender == "n") + 2 * (g.count > 1)
        adjectives = [ADJECTIVES[a][form] for a in (g.size, g.colour) if a]
        noun = singular if g.count == 1 else plural
        phrases.append(words(ARTICLES[gender, g.count], *adjectives, noun, POSITIONS.get(g.position)))
    text = join_list(phrases, ", ", " και ")
    if spec.background:
        text += f" σε {BACKGROUNDS[spec.background]} φόντο"
    return text
