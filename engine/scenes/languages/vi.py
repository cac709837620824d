"""Vietnamese: number, noun, size, colour; the colour takes "màu" after a size (một hình tròn đỏ,
một hình tròn nhỏ màu đỏ); nouns do not inflect for plural (hai ngôi sao vàng)."""

from __future__ import annotations

from engine.scenes.languages.common import join_list, words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "vi", "Vietnamese", "Latn"

NOUNS = {"circle": "hình tròn", "square": "hình vuông", "triangle": "hình tam giác", "star": "ngôi sao", "diamond": "hình thoi"}
COLOURS = {"red": "đỏ", "orange": "cam", "yellow": "vàng", "green": "xanh lá", "blue": "xanh dương", "purple": "tím"}
SIZES = {"small": "nhỏ", "large": "lớn"}
NUMBERS = {1: "một", 2: "hai", 3: "ba"}
POSITIONS = {"left": "bên trái", "right": "bên phải", "top": "phía trên", "bottom": "phía dưới", "middle": "ở giữa"}
BACKGROUNDS = {"white": "trắng", "gray": "xám", "black": "đen"}


def caption(spec: CaptionSpec) -> str:
    phrases = [
        words(NUMBERS[g.count], NOUNS[g.shape], SIZES.get(g.size), g.colour and ("màu " if g.size else "") + COLOURS[g.colour], POSITIONS.get(g.position))
        for g in groups(spec)
    ]
    text = join_list(phrases, ", ", " và ")
    if spec.background:
        text += f" trên nền {BACKGROUNDS[spec.background]}"
    return text
