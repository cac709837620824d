"""Thai: noun, size, colour ("สี" + colour), then number + classifier when there are several
(วงกลมสีแดงสองวง, ดาวสีเหลืองสามดวง); no spaces inside a phrase, spaces between phrases."""

from __future__ import annotations

from engine.scenes.languages.common import join_list
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "th", "Thai", "Thai"

NOUNS = {  # noun, classifier
    "circle": ("วงกลม", "วง"),
    "square": ("สี่เหลี่ยมจัตุรัส", "รูป"),
    "triangle": ("สามเหลี่ยม", "รูป"),
    "star": ("ดาว", "ดวง"),
    "diamond": ("ข้าวหลามตัด", "รูป"),
}
COLOURS = {"red": "แดง", "orange": "ส้ม", "yellow": "เหลือง", "green": "เขียว", "blue": "น้ำเงิน", "purple": "ม่วง", "white": "ขาว", "gray": "เทา", "black": "ดำ"}
SIZES = {"small": "เล็ก", "large": "ใหญ่"}
NUMBERS = {2: "สอง", 3: "สาม"}
POSITIONS = {"left": "ทางซ้าย", "right": "ทางขวา", "top": "ด้านบน", "bottom": "ด้านล่าง", "middle": "ตรงกลาง"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        noun, classifier = NOUNS[g.shape]
        parts = [noun, SIZES.get(g.size, ""), "สี" + COLOURS[g.colour] if g.colour else ""]
        if g.count > 1:
            parts += [NUMBERS[g.count], classifier]
        parts.append(POSITIONS.get(g.position, ""))
        phrases.append("".join(parts))
    text = join_list(phrases, " ", " และ")
    if spec.background:
        text += f" บนพื้นหลังสี{COLOURS[spec.background]}"
    return text
