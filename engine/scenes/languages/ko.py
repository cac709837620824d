"""Korean: size, colour, noun, then native number + counter 개 (노란 별 두 개); "and" is 와 after a
vowel and 과 after a consonant (마름모와, 원과); places as 왼쪽의 ...; background first."""

from __future__ import annotations

from engine.scenes.languages.common import words
from engine.scenes.spec import CaptionSpec, groups

CODE, NAME, SCRIPT = "ko", "Korean", "Kore"

NOUNS = {"circle": "원", "square": "정사각형", "triangle": "삼각형", "star": "별", "diamond": "마름모"}
ADJECTIVES = {"red": "빨간", "orange": "주황색", "yellow": "노란", "green": "초록색", "blue": "파란", "purple": "보라색", "small": "작은", "large": "큰"}
COUNTS = {2: "두 개", 3: "세 개"}
POSITIONS = {"left": "왼쪽의", "right": "오른쪽의", "top": "위쪽의", "bottom": "아래쪽의", "middle": "가운데의"}
BACKGROUNDS = {"white": "흰색", "gray": "회색", "black": "검은색"}


def caption(spec: CaptionSpec) -> str:
    phrases = [words(POSITIONS.get(g.position), *[ADJECTIVES[a] for a in (g.size, g.colour) if a], NOUNS[g.shape], COUNTS.get(g.count)) for g in groups(spec)]
    text = phrases[-1]
    for phrase in reversed(phrases[:-1]):  # A와 B와 C: the particle depends on the word before it
        text = f"{phrase}{_and(phrase)} {text}"
    if spec.background:
        text = f"{BACKGROUNDS[spec.background]} 배경에 {text}"
    return text


def _and(word: str) -> str:
    """과 after a closed syllable, 와 after an open one (Hangul syllables are 0xAC00 + 28*k + final)."""
    return "과" if (ord(word[-1]) - 0xAC00) % 28 else "와"
