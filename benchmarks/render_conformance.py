"""Conformance figures for the renderer's Unicode text handling, each as passed/total.

- Unicode's own test files (Debian's `unicode-data`, /usr/share/unicode): GraphemeBreakTest,
  WordBreakTest, LineBreakTest through `engine.render.segment`, BidiTest and BidiCharacterTest
  (paragraphs with automatic direction) through `engine.render.bidi`.
- Bidi against ICU's ubidi called directly on random strings with isolates, overrides,
  embeddings, brackets and characters beyond the BMP: levels, and our L2 order against ubidi's.
- The renderer's own segmentation against ICU's over whole paragraphs, on random text and on
  every Tatoeba line: grapheme clusters (the ones fonts are chosen for), words (every
  line-break unit ends on an ICU word boundary) and line breaks (every line a layout ends is an
  ICU break opportunity, or a cut inside a unit wider than the line).

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/render_conformance.py
    .venv/bin/python benchmarks/render_conformance.py --tatoeba-lines 20 --random 2000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import icu

from engine.cli import run_reporting_errors
from engine.errors import EngineError
from engine.eval.tatoeba import languages, load_pairs
from engine.paths import shared_data_dir
from engine.render import RenderConfig, Renderer
from engine.render.bidi import paragraph_levels, visual_order
from engine.render.segment import ICU_UNICODE_VERSION, ICU_VERSION, grapheme_starts, line_breaks, word_bounds
from engine.render.text import SPACES, sanitise

UNICODE_DIR = Path("/usr/share/unicode")
# One character per Bidi_Class, for BidiTest's class sequences.
CLASS_CHARS = {
    "L": "a",
    "R": "\u05d0",
    "AL": "\u0627",
    "EN": "1",
    "ES": "+",
    "ET": "$",
    "AN": "\u0660",
    "CS": ",",
    "NSM": "\u0300",
    "BN": "\u00ad",
    "B": "\u2029",
    "S": "\t",
    "WS": " ",
    "ON": "!",
    "LRE": "\u202a",
    "LRO": "\u202d",
    "RLE": "\u202b",
    "RLO": "\u202e",
    "PDF": "\u202c",
    "LRI": "\u2066",
    "RLI": "\u2067",
    "FSI": "\u2068",
    "PDI": "\u2069",
}
BIDI_ALPHABET = (
    list("abcXYZ")
    + list("\u05d0\u05d1\u05d2\u0639\u0645\u0646")
    + list("0129\u0660\u0661\u06f1")
    + list("+-$%#\u00b0,.:/")
    + ["\u0301", "\u064b", "\u05b0"]
    + [" "] * 3
    + list("!\"&'*;?@")
    + list("()[]{}\u3008\u3009\uff08\uff09\u00ab\u00bb")
    + ["\U00010900", "\U0001e900", "\U0001f600", "\U00020000"]
    + list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u00ad\u200b")
)
# Random text for segmentation: letters of many scripts, marks, joiners, emoji, punctuation, spaces.
SEGMENT_ALPHABET = (
    list("abcXYZ019")
    + list("\u0e01\u0e32\u0e40\u0e48\u0e31\u0e33")
    + list("\u0e81\u0eb2\u0ec0")
    + list("\u1780\u17b6\u17d2\u1798")
    + list("\u1000\u103a\u1039\u102c")
    + list("\u0915\u094d\u0937\u093f")
    + list("\u65e5\u672c\u8a9e\u3001\u3002\u300c\u300d\u3063\u30fc")
    + list("\ud55c\uad6d\u1100\u1161\u11a8")
    + list("\u05d0\u0627\u0301\u0308\u200d\u200c\u00ad\u00a0\u2060\ufe0f")
    + list("\U0001f600\U0001f1fa\U0001f1f3\U0001f3fd\U0001f469")
    + list(" -.,!?()\"'/%$")
    + [" "] * 6
)


class Figure:
    """passed/total, and a few failing inputs to look at."""

    def __init__(self, name: str) -> None:
        self.name, self.passed, self.total, self.failures = name, 0, 0, []

    def check(self, ok: bool, case: object) -> None:
        self.total += 1
        self.passed += ok
        if not ok and len(self.failures) < 5:
            self.failures.append(case)

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "total": self.total, "failures": [ascii(case) for case in self.failures]}


# --- Unicode's test files ------------------------------------------------------------------
def break_test_cases(path: Path) -> Iterator[tuple[str, list[int]]]:
    """(text, boundaries after 0) from a GraphemeBreakTest/WordBreakTest/LineBreakTest file."""
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        text, bounds = [], []
        for token in line.split():
            if token == "÷":
                if text:
                    bounds.append(len(text))
            elif token != "×":
                text.append(chr(int(token, 16)))
        yield "".join(text), bounds


def grapheme_bounds(text: str) -> list[int]:
    return grapheme_starts(text)[1:] + [len(text)] if text else []


def check_break_file(name: str, segment: Callable[[str], list[int]]) -> Figure | None:
    path = UNICODE_DIR / "auxiliary" / f"{name}.txt"
    if not path.is_file():
        return None
    figure = Figure(f"{name}.txt (Unicode {unicode_data_version()})")
    for text, bounds in break_test_cases(path):
        figure.check(segment(text) == bounds, text)
    return figure


def unicode_data_version() -> str:
    """The Unicode version of the installed test files (from a header line)."""
    header = (UNICODE_DIR / "auxiliary" / "GraphemeBreakTest.txt").read_text(encoding="utf-8")[:200]
    for word in header.replace("-", " ").replace(".txt", " ").split():
        if word[0].isdigit() and word.count(".") == 2:
            return word
    return "?"


def bidi_agrees(resolved: list[int], levels: list[str], order: list[int], exact: Figure, shown: Figure, case: object) -> None:
    """Count a case in `exact` (every level as the file says) and in `shown` (what the renderer
    draws: the visual order and each character's direction, the parity of its level)."""
    kept = [i for i, level in enumerate(levels) if level != "x"]
    ours = [resolved[i] for i in kept]
    expected = [int(levels[i]) for i in kept]
    same_order = [kept[j] for j in visual_order(ours)] == order
    exact.check(ours == expected and same_order, case)
    shown.check(same_order and [level % 2 for level in ours] == [level % 2 for level in expected], case)


def check_bidi_character_test() -> list[Figure]:
    """BidiCharacterTest.txt, every paragraph direction (0 LTR, 1 RTL, 2 auto)."""
    path = UNICODE_DIR / "BidiCharacterTest.txt"
    if not path.is_file():
        return []
    version = unicode_data_version()
    exact = Figure(f"BidiCharacterTest.txt (Unicode {version}): levels and order exactly")
    shown = Figure(f"BidiCharacterTest.txt (Unicode {version}): visual order and directions")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code_points, direction, paragraph, levels, order = line.split(";")
        text = "".join(chr(int(cp, 16)) for cp in code_points.split())
        base, resolved = paragraph_levels(text, None if direction == "2" else int(direction))
        if base != int(paragraph):
            resolved = []  # counts as a failure of both
        bidi_agrees(resolved or [-1] * len(text), levels.split(), [int(i) for i in order.split()], exact, shown, text)
    return [exact, shown]


def check_bidi_test() -> list[Figure]:
    """BidiTest.txt: each case once per paragraph level in its bitset (auto, LTR, RTL). Cases with
    a paragraph separator (B) inside are left out: the renderer splits paragraphs first."""
    path = UNICODE_DIR / "BidiTest.txt"
    if not path.is_file():
        return []
    version = unicode_data_version()
    exact = Figure(f"BidiTest.txt (Unicode {version}), no B: levels and order exactly")
    shown = Figure(f"BidiTest.txt (Unicode {version}), no B: visual order and directions")
    levels: list[str] = []
    order: list[int] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("@Levels:"):
            levels = line.split(":", 1)[1].split()
        elif line.startswith("@Reorder:"):
            order = [int(i) for i in line.split(":", 1)[1].split()]
        elif line and not line.startswith("#") and ";" in line:
            classes, bitset = line.split(";")
            names = classes.split()
            if "B" in names:
                continue
            text = "".join(CLASS_CHARS[name] for name in names)
            for bit, base in ((1, None), (2, 0), (4, 1)):
                if int(bitset) & bit:
                    bidi_agrees(paragraph_levels(text, base)[1], levels, order, exact, shown, (classes, base))
    return [exact, shown]


# --- bidi against ubidi on random strings -----------------------------------------------------
def random_bidi_strings(count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(BIDI_ALPHABET) for _ in range(rng.randint(1, 24)))


def ubidi(text: str) -> tuple[int, list[int], list[int]]:
    """ICU's own answer on the UTF-16 text, mapped to code points: base, levels, visual order."""
    string = icu.UnicodeString(text)
    bidi = icu.Bidi()
    bidi.setPara(string, icu.Bidi.DEFAULT_LTR)
    units, unit = [], 0
    for ch in text:
        units.append(unit)
        unit += 2 if ord(ch) > 0xFFFF else 1
    index_of = {u: i for i, u in enumerate(units)}
    levels = [bidi.getLevelAt(u) for u in units]
    order = [index_of[u] for u in bidi.getVisualMap() if u in index_of]
    return bidi.getParaLevel(), levels, order


def check_random_bidi(count: int, seed: int) -> Figure:
    """Our levels (through the code-point mapping) and our L2 order against ubidi's."""
    figure = Figure(f"bidi vs ICU ubidi, {count} random strings (levels and visual order)")
    for text in random_bidi_strings(count, seed):
        base, levels = paragraph_levels(text)
        icu_base, icu_levels, icu_order = ubidi(text)
        figure.check(base == icu_base and levels == icu_levels and visual_order(levels) == icu_order, text)
    return figure


# --- the renderer's segmentation against ICU over whole paragraphs --------------------------------
def random_segment_texts(count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(SEGMENT_ALPHABET) for _ in range(rng.randint(1, 60)))


def renderer_graphemes(renderer: Renderer, paragraph: str) -> list[int]:
    """The cluster boundaries the renderer chooses fonts for: within each line-break unit's core
    (grapheme_starts, as itemize_unit does), at unit ends, and where trailing spaces begin."""
    bounds: set[int] = set()
    start = 0
    for end in line_breaks(paragraph):
        unit = paragraph[start:end]
        core = len(unit.rstrip(SPACES))
        bounds.update(start + offset for offset in grapheme_starts(unit[:core]))
        if core < len(unit):
            bounds.update(start + core + offset for offset in grapheme_starts(unit[core:]))
        start = end
    return sorted(bounds - {0}) + [len(paragraph)]


def line_spans(renderer: Renderer, paragraph: str) -> list[tuple[int, int]]:
    """[start, end) of each laid-out line of one paragraph, spaces dropped at a line's end included."""
    spans, position = [], 0
    for line in renderer.layout(paragraph):
        start = position
        position += sum(len(run.text) for run in line)
        while position < len(paragraph) and paragraph[position] in SPACES:
            position += 1
        spans.append((start, position))
    return spans


_ICU_LINE = icu.BreakIterator.createLineInstance(icu.Locale.getRoot())
_PER_CHARACTER = (icu.ULineBreak.H2, icu.ULineBreak.H3, 14, 37)  # UAX #14 ID, CJ and Hangul syllables


def icu_line_breaks(text: str) -> list[int]:
    """ICU's UAX #14 opportunities as ICU gives them (code point offsets after 0)."""
    _ICU_LINE.setText(text)
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
    index_of = {unit: index for index, unit in enumerate(units)}
    return [index_of[unit] for unit in _ICU_LINE]


def per_character(ch: str) -> bool:
    """Ideographs, kana and Hangul syllables: units of one character each, by choice (CJK in
    docs/rendering.md), where ICU's word boundaries fall between dictionary words."""
    return icu.Char.getIntPropertyValue(ch, icu.UProperty.LINE_BREAK) in _PER_CHARACTER


def check_paragraphs(texts: Iterable[str], label: str, renderer: Renderer) -> tuple[Figure, Figure, Figure]:
    graphemes = Figure(f"grapheme clusters vs ICU, {label}")
    words = Figure(f"line-break units end on ICU word boundaries (but between two CJK characters), {label}")
    lines = Figure(f"layout line ends vs ICU line breaks, {label}")
    for raw in texts:
        for paragraph in sanitise(raw).split("\n"):
            if not paragraph.strip():
                continue
            graphemes.check(renderer_graphemes(renderer, paragraph) == grapheme_bounds(paragraph), paragraph)
            breaks = line_breaks(paragraph)
            word_set = set(word_bounds(paragraph))
            words.check(
                all(end in word_set or end == len(paragraph) or (per_character(paragraph[end - 1]) and per_character(paragraph[end])) for end in breaks),
                paragraph,
            )
            break_set, cluster_set = set(icu_line_breaks(paragraph)), set(grapheme_bounds(paragraph))
            spans = line_spans(renderer, paragraph)
            ok = all(end in break_set or (end in cluster_set and not any(start < b < end for b in breaks)) for start, end in spans[:-1])
            lines.check(ok and all(start < end for start, end in spans[:-1]), paragraph)
    return graphemes, words, lines


def tatoeba_lines(per_language: int | None) -> Iterator[str]:
    """Both sides of every Tatoeba pair file (each language's first `per_language` pairs, or all)."""
    data = shared_data_dir()
    folder = data / "translation" / "tatoeba_laser_v1" if data else None
    if folder is None or not folder.is_dir():
        raise EngineError("Tatoeba (translation/tatoeba_laser_v1) is absent: set ENGINE_DATA to the shared data folder")
    for lang in languages(folder):
        theirs, english = load_pairs(folder, lang, per_language)
        yield from theirs
        yield from english


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Run under flock /tmp/engine-cpu.lock on the shared machine.")
    parser.add_argument("--random", type=int, default=20_000, help="random strings per random check (default 20000)")
    parser.add_argument("--tatoeba-lines", type=int, help="pairs per Tatoeba language (default: every line)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.random < 1:
        raise EngineError("--random must be at least 1")
    # Narrow lines, so that most paragraphs wrap; tall, so that nothing is cut off.
    renderer = Renderer(RenderConfig(width=112, height=4096, font_size=10, margin=4))
    figures = [
        check_break_file("GraphemeBreakTest", grapheme_bounds),
        check_break_file("WordBreakTest", word_bounds),
        check_break_file("LineBreakTest", icu_line_breaks),
        *check_bidi_test(),
        *check_bidi_character_test(),
        check_random_bidi(args.random, args.seed),
        *check_paragraphs(random_segment_texts(args.random, args.seed), f"{args.random} random strings", renderer),
        *check_paragraphs(
            tatoeba_lines(args.tatoeba_lines),
            "every Tatoeba line" if args.tatoeba_lines is None else f"Tatoeba, {args.tatoeba_lines} pairs per language",
            renderer,
        ),
    ]
    if figures[0] is None:
        print(f"(Unicode's test files are not installed at {UNICODE_DIR}: apt-get install unicode-data)")
    figures = [figure for figure in figures if figure is not None]
    print(f"ICU {ICU_VERSION} (Unicode {ICU_UNICODE_VERSION}) via pyicu-wheels")
    print("| check | passed/total | % |\n| --- | ---: | ---: |")
    for figure in figures:
        print(f"| {figure.name} | {figure.passed:,}/{figure.total:,} | {100 * figure.passed / max(1, figure.total):.2f} |")
    for figure in figures:
        for case in figure.failures:
            print(f"fails: {figure.name}: {ascii(case)[:120]}")
    if args.json:
        args.json.write_text(json.dumps([figure.as_dict() for figure in figures], indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
