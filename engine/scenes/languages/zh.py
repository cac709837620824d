"""Chinese (Simplified): number + classifier (个, but 颗 for stars; 两 for two), colour + 的, size,
noun (一个红色的小圆形); with places each clause is "左边是…" and clauses are separated by "，"."""

from __future__ import annotations

from engine.scenes.languages.common import join_list
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "zh", "Chinese", "Hans"

NOUNS = {"circle": ("圆形", "个"), "square": ("正方形", "个"), "triangle": ("三角形", "个"), "star": ("星星", "颗"), "diamond": ("菱形", "个")}
COLOURS = {
    "red": "红色",
    "orange": "橙色",
    "yellow": "黄色",
    "green": "绿色",
    "blue": "蓝色",
    "purple": "紫色",
    "white": "白色",
    "gray": "灰色",
    "black": "黑色",
}
SIZES = {"small": "小", "large": "大"}
NUMBERS = {1: "一", 2: "两", 3: "三"}
POSITIONS = {"left": "左边", "right": "右边", "top": "上边", "bottom": "下边", "middle": "中间"}


def caption(spec: CaptionSpec) -> str:
    phrases = []
    for g in groups(spec):
        noun, classifier = NOUNS[g.shape]
        colour = COLOURS[g.colour] + "的" if g.colour else ""
        phrase = NUMBERS[g.count] + classifier + colour + SIZES.get(g.size, "") + noun
        phrases.append(POSITIONS[g.position] + "是" + phrase if g.position else phrase)
    background = COLOURS[spec.background] + "背景上" if spec.background else ""
    if spec.positioned:
        return "，".join(([background] if background else []) + phrases)
    text = join_list(phrases, "、", "和")
    return background + "有" + text if background else text
