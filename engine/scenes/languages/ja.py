"""Japanese: size, colour, noun, and for several things the number with the counter つ after
the noun (赤い丸二つ); places come first (左に赤い丸、右に青い四角); lists "A、BとC"."""

from __future__ import annotations

from engine.scenes.languages.common import join_list
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "ja", "Japanese", "Jpan"

NOUNS = {"circle": "丸", "square": "四角", "triangle": "三角", "star": "星", "diamond": "ひし形"}
COLOURS = {
    "red": "赤い",
    "orange": "オレンジ色の",
    "yellow": "黄色い",
    "green": "緑の",
    "blue": "青い",
    "purple": "紫の",
    "white": "白い",
    "gray": "灰色の",
    "black": "黒い",
}
SIZES = {"small": "小さな", "large": "大きな"}
COUNTS = {2: "二つ", 3: "三つ"}
POSITIONS = {"left": "左に", "right": "右に", "top": "上に", "bottom": "下に", "middle": "真ん中に"}


def caption(spec: CaptionSpec) -> str:
    phrases = [
        POSITIONS.get(g.position, "") + SIZES.get(g.size, "") + COLOURS.get(g.colour, "") + NOUNS[g.shape] + COUNTS.get(g.count, "") for g in groups(spec)
    ]
    text = "、".join(phrases) if spec.positioned else join_list(phrases, "、", "と")
    if spec.background:
        text = COLOURS[spec.background] + ("背景の" if spec.positioned else "背景に") + text
    return text
