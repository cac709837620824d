"""Unicode text -> uint8 pixels: segment (ICU), itemize, shape each unit once, wrap, reorder per
line, blit.

Speed comes from caching at the level where texts repeat: line-break units (itemized and shaped),
pieces (a shaped and rasterized strip per font/script/direction/language/text) and glyphs
(FreeType bitmaps). A text then costs one ICU line-break pass, a few dictionary look-ups and one
`np.minimum` per unit. Every cache has a bound (below); work per call is bounded by `max_chars`
and by never shaping a unit longer than a line more than once.

What the caches hold are plain tuples of ints, strings and arrays (no NamedTuples, no Font
objects): CPython's garbage collector stops tracking such tuples, so the ~10^5 cached entries
add nothing to its full collections, which otherwise stalled a call for 0.1-0.2 s each time
(docs/rendering.md).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided
import uharfbuzz as hb

from engine.errors import EngineError
from engine.render.bidi import needs_bidi, paragraph_levels, visual_order
from engine.render.cache import LruCache
from engine.render.fonts import CJK_FACE_JP, CJK_FACE_KR, Font, FontSet, cjk_face_for_lang
from engine.render.itemize import Piece, Word, itemize_unit
from engine.render.segment import grapheme_starts, line_breaks, may_start_line
from engine.render.text import sanitise

_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# Cache bounds, per Renderer (least recently used entries leave first; no pixel changes).
STRIP_CACHE_BYTES = 64 << 20  # rasterized pieces and glyphs kept, counting STRIP_OVERHEAD each
UNIT_CACHE_BYTES = 32 << 20  # shaped line-break units kept (their pieces' keys, not pixels), UNIT_OVERHEAD each
STRIP_OVERHEAD = 640  # bytes of Python objects per cached strip beyond its pixels (tuple, array, key, glyph ids; on average)
UNIT_OVERHEAD = 1536  # bytes of Python objects per cached unit (key, Word, piece keys; on average)
CACHED_TEXT_MAX = 64  # longer units and pieces are pathological (no break chance): never cached
HELD_LIMIT = 1 << 16  # references kept to new cache entries' inner tuples (see _hold_nested)


@dataclass(frozen=True)
class RenderConfig:
    """Canvas and type size in pixels; `lang` (BCP-47) picks the CJK face and HarfBuzz language.

    `grid` > 0 snaps the layout to the model's patch grid (see `docs/text-layout.md`): every word
    starts on a multiple of `grid` pixels, lines are `grid` pixels apart (ink beyond a line's band
    is cut) and the margin is ignored, so a word always falls on the same pixels of its patches
    wherever it stands on the page. 0 is ordinary flowing text.
    """

    width: int = 224
    height: int = 224
    font_size: int = 16
    margin: int = 4
    lang: str | None = None
    grid: int = 0


class Rendered:
    """Pixels (uint8 H x W, 255 = paper, 0 = ink) and what happened while drawing them."""

    def __init__(self, pixels: np.ndarray, lines: int, truncated: bool, notdef: int) -> None:
        self.pixels = pixels
        self.lines = lines
        self.truncated = truncated
        self.notdef = notdef

    def ink_mask(self, patch: int) -> np.ndarray:
        """bool (H // patch, W // patch): True where a patch holds any ink (blank ones may be dropped)."""
        if patch <= 0:
            raise EngineError(f"patch size must be positive, got {patch}")
        rows, cols = self.pixels.shape[0] // patch, self.pixels.shape[1] // patch
        blocks = self.pixels[: rows * patch, : cols * patch].reshape(rows, patch, cols, patch)
        return (blocks < 255).any(axis=(1, 3))

    def __repr__(self) -> str:
        return f"Rendered({self.pixels.shape[1]}x{self.pixels.shape[0]}, lines={self.lines}, truncated={self.truncated}, notdef={self.notdef})"


Strip = tuple[int, np.ndarray | None, int, int, int, int, int, tuple[int, ...], tuple]
"""A shaped, rasterized piece: (advance, paper, rows, cols, dx, dy, notdef, glyphs, source), its
top-left corner at (pen + dx, baseline + dy); `glyphs` are glyph ids in visual order and `source`
is its cache key (font index, script, right-to-left, language, text), () for padding.

`paper` (255 = blank) is stored flat with the canvas' row stride (rows * width - width + cols
values), so drawing it is one `np.minimum` on a contiguous slice of the flat canvas.
"""

Item = tuple[Strip, int]  # a strip and its bidi level

ShapedWord = tuple[tuple[Item, ...], int, tuple[Item, ...], int]
"""A word ready for line filling: (items, width, its trailing spaces' items, their width)."""

KeyedWord = tuple[tuple[tuple[tuple, int], ...], int, tuple[tuple[tuple, int], ...], int]
"""A ShapedWord as the unit cache holds it: each strip by its key, so that pixels live in one
cache only (a unit whose strips have left that cache shapes just those again)."""


def _paper_2d(strip: Strip, stride: int) -> np.ndarray:
    """The (rows, cols) view of a strip's paper (for drawing clipped at the canvas edges)."""
    _, paper, rows, cols = strip[:4]
    return as_strided(paper, shape=(rows, cols), strides=(stride, 1), writeable=False)


class PlacedRun(NamedTuple):
    """One shaped run of a laid-out line (see `Renderer.layout`)."""

    x: int
    font_file: str
    face_index: int
    script: str
    rtl: bool
    text: str
    glyphs: tuple[int, ...]


def _hold_nested(value: tuple, held: list) -> None:
    """Append every still-tracked tuple nested in a new cache entry to `held`, a long-lived list.

    Why: CPython stops tracking a tuple of untracked values (ints, strings, arrays) when a
    collection finds it, but it visits a new nested structure outer level first (inner tuples
    reachable only through it are queued behind it), so each collection frees one level and
    the rest is promoted to the oldest generation, whose full collections then walk it: the
    0.1-0.2 s stalls of docs/rendering.md. Referenced from an old list, the inner tuples stay in
    creation order (inner first) and the first young collection untracks the whole entry.
    """
    stack = [value]
    while stack:
        for child in stack.pop():
            if type(child) is tuple and gc.is_tracked(child):
                held.append(child)
                stack.append(child)
    if len(held) > HELD_LIMIT:  # long since seen by a collection: let go
        held.clear()


def _strip_cost(strip: Strip) -> int:
    paper = strip[1]
    return STRIP_OVERHEAD + (0 if paper is None else paper.nbytes)


def _unit_cost(_: tuple) -> int:
    return UNIT_OVERHEAD


def _keyed(shaped: ShapedWord) -> KeyedWord:
    items, width, spaces, space_width = shaped
    return tuple((strip[8], level) for strip, level in items), width, tuple((strip[8], level) for strip, level in spaces), space_width


def _width(items: Sequence[Item]) -> int:
    return sum(strip[0] for strip, _ in items)


def _round_up(value: int, step: int) -> int:
    """The smallest multiple of `step` that is >= `value`."""
    return -(-value // step) * step


def _round26(value: int) -> int:
    """26.6 fixed point to whole pixels, rounding half up (deterministic, no floats)."""
    return (value + 32) >> 6


def _flat_strip(coverage: np.ndarray | None, dx: int, dy: int, stride: int) -> Strip:
    """Paper for ink `coverage` (rows, cols) laid out with the canvas' row stride; ink wider than
    the canvas is cropped (a cluster that wide can never be seen whole)."""
    if coverage is None:
        return (0, None, 0, 0, dx, dy, 0, (), ())
    coverage = coverage[:, :stride]
    rows, cols = coverage.shape
    paper = np.full((rows - 1) * stride + cols, 255, dtype=np.uint8)
    as_strided(paper, shape=(rows, cols), strides=(stride, 1))[:] = 255 - coverage
    return (0, paper, rows, cols, dx, dy, 0, (), ())


def _shaped(font: Font, key: tuple) -> hb.Buffer:
    """HarfBuzz's glyphs and positions for a piece; `key` is (font index, script, rtl, lang, text)."""
    _, script, rtl, lang, text = key
    buf = hb.Buffer()
    buf.add_str(text)
    buf.script = script
    buf.direction = "rtl" if rtl else "ltr"
    if lang:
        buf.language = lang
    hb.shape(font.hb_font, buf)
    return buf


def _check(config: RenderConfig) -> None:
    if config.width < 1 or config.height < 1 or config.font_size < 1 or config.margin < 0 or config.grid < 0:
        raise EngineError(f"invalid render configuration {config}: sizes must be positive")
    if config.font_size > 1024 or config.width * config.height > 64_000_000:
        raise EngineError(f"render configuration {config} is too large")


class Renderer:
    """Holds the fonts and the caches for one configuration; use one per process or worker."""

    def __init__(self, config: RenderConfig = RenderConfig()) -> None:
        _check(config)
        self.config = config
        self.fonts = FontSet(config.font_size)
        size, grid = config.font_size, config.grid
        if grid:  # one line per row of patches, baseline 3/4 down the band (below: descenders)
            self.margin, self.line_height = 0, grid
            self.ascent = (grid * 3 + 2) // 4
            self.avail = max(grid, config.width - config.width % grid)
        else:
            self.margin = config.margin
            self.line_height = max(1, (size * 5 + 2) // 4)  # 1.25 em
            self.ascent = (size * 9 + 5) // 10  # baseline 0.9 em below the line's top
            self.avail = max(1, config.width - 2 * config.margin)
        self.max_lines = max(1, (config.height - 2 * self.margin) // self.line_height)
        # No glyph is narrower than ~1/8 em, so this many characters always fill the canvas.
        self.max_chars = self.max_lines * (self.avail * 8 // size + 8) * 4
        self._blank = np.full((config.height, config.width), 255, dtype=np.uint8)
        # Pieces (keyed by font, script, direction, language, text) and glyphs (font, glyph id).
        self._strips: LruCache[Strip] = LruCache(STRIP_CACHE_BYTES, _strip_cost)
        self._shaped_units: LruCache[tuple[Word, KeyedWord, str | None]] = LruCache(UNIT_CACHE_BYTES, _unit_cost)
        self._held: list[tuple] = []

    # --- shaping ---------------------------------------------------------------------------
    def _shape(self, font_index: int, script: str, rtl: bool, lang: str | None, text: str) -> Strip:
        key = (font_index, script, rtl, lang, text)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._rasterize(self.fonts.fonts[font_index], key)
            if len(text) <= CACHED_TEXT_MAX:
                self._strips.put(key, strip)
                _hold_nested(strip, self._held)
        return strip

    def _glyph_strip(self, font: Font, glyph_id: int) -> Strip:
        """One glyph's bitmap as flat paper with the canvas stride (the unit strips are built of)."""
        key = (font.index, glyph_id)
        strip = self._strips.get(key)
        if strip is None:
            bitmap = font.glyph(glyph_id)
            strip = _flat_strip(bitmap.coverage, bitmap.left, -bitmap.top, self.config.width)
            self._strips.put(key, strip)
        return strip

    def _rasterize(self, font: Font, key: tuple) -> Strip:
        """Shape with HarfBuzz and draw the glyphs into one strip (clipped to a canvas' reach)."""
        buf = _shaped(font, key)
        glyphs = tuple(info.codepoint for info in buf.glyph_infos)
        pen = 0
        placed: list[tuple[int, int, Strip]] = []
        reach_x, reach_y = 2 * self.config.width, 2 * self.config.height
        for glyph_id, pos in zip(glyphs, buf.glyph_positions):
            glyph = self._glyph_strip(font, glyph_id)
            if glyph[1] is not None:
                row = glyph[5] - _round26(pos.y_offset)
                col = glyph[4] + _round26(pen + pos.x_offset)
                if -reach_x < col < reach_x and -reach_y < row < reach_y:
                    placed.append((row, col, glyph))
            pen += pos.x_advance
        advance, notdef = _round26(pen), glyphs.count(0)
        if not placed:
            return (advance, None, 0, 0, 0, 0, notdef, glyphs, key)
        top = min(row for row, _, _ in placed)
        left = min(col for _, col, _ in placed)
        rows = max(row + glyph[2] for row, _, glyph in placed) - top
        cols = max(col + glyph[3] for _, col, glyph in placed) - left
        stride = self.config.width
        if cols <= stride:  # the usual case: compose directly in the flat layout
            paper = np.full((rows - 1) * stride + cols, 255, dtype=np.uint8)
            for row, col, glyph in placed:
                start = (row - top) * stride + col - left
                ink = glyph[1]
                target = paper[start : start + ink.size]
                np.minimum(target, ink, out=target)
            return (advance, paper, rows, cols, left, top, notdef, glyphs, key)
        canvas = np.full((rows, cols), 255, dtype=np.uint8)
        for row, col, glyph in placed:
            target = canvas[row - top : row - top + glyph[2], col - left : col - left + glyph[3]]
            np.minimum(target, _paper_2d(glyph, stride), out=target)
        _, paper, rows, cols, dx, dy = _flat_strip(255 - canvas, left, top, stride)[:6]  # cropped to the canvas width
        return (advance, paper, rows, cols, dx, dy, notdef, glyphs, key)

    # --- layout ----------------------------------------------------------------------------
    def _items(self, text: str, pieces: tuple[Piece, ...], levels: list[int] | None, lang: str | None) -> list[Item]:
        """Shaped strips and bidi levels of pieces of `text`, split further where the level changes."""
        items = []
        for start, end, script, font in pieces:
            if levels is None:
                items.append((self._shape(font, script, False, lang, text[start:end]), 0))
                continue
            run_start = start
            for i in range(start + 1, end + 1):
                if i == end or levels[i] != levels[run_start]:
                    level = levels[run_start]
                    strip = self._shape(font, script, level % 2 == 1, lang, text[run_start:i])
                    items.append((strip, level))
                    run_start = i
        return items

    def _shape_word(self, token: str, word: Word, levels: list[int] | None, lang: str | None) -> ShapedWord:
        pieces, space = word
        items = tuple(self._items(token, pieces, levels, lang))
        spaces = tuple(self._items(token, (space,), levels, lang)) if space else ()
        return items, _width(items), spaces, _width(spaces)

    def _shaped_units_of(
        self, paragraph: str, cjk_face: int, lang: str | None, levels: list[int] | None
    ) -> Iterator[tuple[str, Word, list[int] | None, ShapedWord | None]]:
        """Each line-break unit of a paragraph with its pieces, its bidi levels and its shaped
        form (from a cache keyed by text, context, language and levels); None for a unit too
        long to cache, which the line filler measures before drawing any of it."""
        script = None
        start = 0
        for end in line_breaks(paragraph):
            unit = paragraph[start:end]
            unit_levels = None if levels is None else levels[start:end]
            start = end
            if len(unit) > CACHED_TEXT_MAX:
                word, script = itemize_unit(unit, script, self.fonts, cjk_face)
                yield unit, word, unit_levels, None
                continue
            key = (unit, script, cjk_face, lang, None if unit_levels is None else tuple(unit_levels))
            cached = self._shaped_units.get(key)
            if cached is None:
                word, next_script = itemize_unit(unit, script, self.fonts, cjk_face)
                shaped = self._shape_word(unit, word, unit_levels, lang)
                cached = word, _keyed(shaped), next_script
                self._shaped_units.put(key, cached)
                _hold_nested(key, self._held)
                _hold_nested(cached, self._held)
                script = next_script
            else:
                word, (item_keys, width, space_keys, space_width), script = cached
                strips = self._strips
                items = tuple((strips.get(key) or self._shape(*key), level) for key, level in item_keys)
                spaces = tuple((strips.get(key) or self._shape(*key), level) for key, level in space_keys)
                shaped = items, width, spaces, space_width
            yield unit, word, unit_levels, shaped

    def _grapheme_widths(self, unit: str, word: Word, lang: str | None) -> tuple[list[int], list[int]]:
        """Grapheme starts of a unit's core (relative to its first piece) and each grapheme's
        advance in 26.6, from one shaping of each piece (nothing rasterized)."""
        pieces = word[0]
        base = pieces[0][0]
        text = unit[base : pieces[-1][1]]
        bounds = grapheme_starts(text) + [len(text)]
        owner = [0] * len(text)
        for index in range(len(bounds) - 1):
            owner[bounds[index] : bounds[index + 1]] = [index] * (bounds[index + 1] - bounds[index])
        widths = [0] * (len(bounds) - 1)
        for start, end, script, font in pieces:
            buf = _shaped(self.fonts.fonts[font], (font, script, False, lang, unit[start:end]))
            offset = start - base
            for info, pos in zip(buf.glyph_infos, buf.glyph_positions):  # clusters are code point offsets
                widths[owner[offset + info.cluster]] += pos.x_advance
        return bounds, widths

    def _split_to_fit(self, unit: str, word: Word, levels: list[int] | None, lang: str | None, measured: tuple[list[int], list[int]]) -> list[list[Item]]:
        """A unit wider than a whole line, cut at grapheme boundaries into at most `max_lines`
        line-sized parts: greedy on the measured advances, each part shaped once (and again,
        one grapheme shorter, in the rare case shaping across the cut made it wider)."""
        pieces = word[0]
        base = pieces[0][0]
        bounds, widths = measured
        text = unit[base : pieces[-1][1]]
        count = len(bounds) - 1
        room = self.avail * 64

        def part(lo: int, hi: int) -> list[Item]:
            lo, hi = base + bounds[lo], base + bounds[hi]
            cut = tuple((max(start, lo), min(end, hi), script, font) for start, end, script, font in pieces if end > lo and start < hi)
            return self._items(unit, cut, levels, lang)

        parts = []
        first = 0
        while first < count and len(parts) < self.max_lines:
            last, total = first, 0
            while last < count and total + widths[last] <= room:
                total += widths[last]
                last += 1
            last = max(last, first + 1)  # at least one grapheme, even one wider than the line
            while last - 1 > first and last < count and not may_start_line(text[bounds[last]]):
                last -= 1  # carry a grapheme over rather than start a line with "." or "、"
            items = part(first, last)
            if last - 1 > first and _width(items) > self.avail:
                last -= 1
                items = part(first, last)
            parts.append(items)
            first = last
        return parts

    def _lines(self, paragraph: str, cjk_face: int, lang: str | None, budget: int) -> tuple[list[list[Item]], int, bool, bool]:
        """Greedy line filling of one paragraph: at most `budget` lines; returns the lines (items
        in logical order), the paragraph's base level, whether it needed bidi, and whether text
        was left over."""
        levels = None
        base = 0
        bidi = needs_bidi(paragraph)
        if bidi:
            base, levels = paragraph_levels(paragraph)
        avail = self.avail
        lines: list[list[Item]] = []
        line: list[Item] = []
        trailing: tuple[Item, ...] = ()
        width = 0
        for unit, word, unit_levels, shaped in self._shaped_units_of(paragraph, cjk_face, lang, levels):
            measured = None
            if shaped is None:  # a long unit: shaped (uncached) only if it can fit on a line
                measured = self._grapheme_widths(unit, word, lang) if word[0] else ([0], [])
                if _round26(sum(measured[1])) <= avail:
                    shaped = self._shape_word(unit, word, unit_levels, lang)
            if shaped is not None:
                word_spaces = shaped[2]
                if self.config.grid:
                    shaped = self._snapped(shaped)
                items, need, spaces, space_width = shaped
            else:
                word_spaces = tuple(self._items(unit, (word[1],), unit_levels, lang)) if word[1] else ()
                items, need, spaces, space_width = (), avail + 1, word_spaces, _width(word_spaces)
            if line and width + need > avail:
                lines.append(line)
                line, trailing, width = [], (), 0
                if len(lines) >= budget:
                    return lines, base, bidi, True
            if not line and need > avail:
                parts = self._split_to_fit(unit, word, unit_levels, lang, measured or self._grapheme_widths(unit, word, lang))
                for part in parts[:-1]:
                    lines.append(part)
                    if len(lines) >= budget:
                        return lines, base, bidi, True
                items = parts[-1]
                need = _width(items)
                if self.config.grid:
                    items, need = self._snapped((tuple(items), need, word_spaces, 0))[:2]
            line.extend(trailing)
            line.extend(items)
            trailing = spaces
            width += need + space_width
        if line or not lines:
            lines.append(line)
        return lines, base, bidi, False

    def _snapped(self, shaped: ShapedWord) -> ShapedWord:
        """A word padded to whole grid cells, so that the next one starts on a cell boundary.

        Trailing spaces become padding (at least 1 px, so words never touch); a word that would
        then overflow a line on its own is padded only to its own last cell. Scripts written
        without spaces break between clusters (Thai) or characters (CJK): each such unit gets its
        own cells, so a Thai word looks the same wherever it stands, as a Latin word does.
        """
        items, need, spaces, _ = shaped
        grid = self.config.grid
        padded = _round_up(need + (1 if spaces else 0), grid)
        if padded > self.avail >= need:
            padded = _round_up(need, grid)
        if padded == need:
            return tuple(items), need, (), 0
        level = (spaces or items or ((None, 0),))[-1][1]
        pad = (padded - need, None, 0, 0, 0, 0, 0, (), ())
        return tuple(items) + ((pad, level),), padded, (), 0

    # --- drawing ---------------------------------------------------------------------------
    def _cjk_face_and_lang(self, text: str) -> tuple[int, str | None]:
        """The CJK face and HarfBuzz language: from the hint, else guessed from kana / Hangul."""
        lang = self.config.lang
        if lang:
            return cjk_face_for_lang(lang), lang
        if _KANA.search(text):
            return CJK_FACE_JP, "ja"
        if _HANGUL.search(text):
            return CJK_FACE_KR, "ko"
        return cjk_face_for_lang(None), None

    def _laid_out(self, text: str) -> tuple[list[tuple[list[Item], int, bool]], bool]:
        """Every line of `text` that fits, as (items in logical order, base level, needs bidi),
        and whether anything was left out."""
        limit = self.max_chars
        truncated = len(text) > limit and not text[limit:].isspace()
        text = sanitise(text[:limit])
        cjk_face, lang = self._cjk_face_and_lang(text)
        paragraphs = text.rstrip("\n").split("\n") if text.strip() else []
        laid_out: list[tuple[list[Item], int, bool]] = []
        for number, paragraph in enumerate(paragraphs):
            if len(laid_out) >= self.max_lines:
                truncated = truncated or any(p.strip() for p in paragraphs[number:])
                break
            lines, base, bidi, left_over = self._lines(paragraph, cjk_face, lang, self.max_lines - len(laid_out))
            truncated = truncated or left_over
            laid_out.extend((line, base, bidi) for line in lines)
        return laid_out, truncated

    def _placed(self, line: list[Item], base: int, bidi: bool) -> list[tuple[int, Strip]]:
        """A line's strips in visual order with their pen x (RTL paragraphs right-aligned)."""
        if bidi:
            order = visual_order([level for _, level in line])
            line = [line[i] for i in order]
        x = self.config.width - self.margin - _width(line) if base % 2 else self.margin
        placed = []
        for strip, _ in line:
            placed.append((x, strip))
            x += strip[0]
        return placed

    def render(self, text: str) -> Rendered:
        """Draw `text` (any str) onto a fresh canvas; stops once the canvas is full."""
        if not isinstance(text, str):
            raise EngineError(f"render expects a str, got {type(text).__name__}")
        canvas = self._blank.copy()
        lines, truncated = self._laid_out(text)
        notdef = 0
        for number, (line, base, bidi) in enumerate(lines):
            notdef += self._draw_line(canvas, self._placed(line, base, bidi), number)
        return Rendered(canvas, len(lines), truncated, notdef)

    def layout(self, text: str) -> list[list[PlacedRun]]:
        """What `render` would draw, for inspection and tests: per line, the shaped runs in
        visual order with their font, script, direction and glyph ids."""
        if not isinstance(text, str):
            raise EngineError(f"layout expects a str, got {type(text).__name__}")
        laid_out = []
        for line, base, bidi in self._laid_out(text)[0]:
            runs = []
            for x, strip in self._placed(line, base, bidi):
                glyphs, source = strip[7:]
                if not source:
                    continue  # grid padding: nothing drawn
                font_index, script, rtl, _, piece = source
                font = self.fonts.fonts[font_index]
                runs.append(PlacedRun(x, font.file, font.face_index, script, rtl, piece, glyphs))
            laid_out.append(runs)
        return laid_out

    def missing(self, text: str) -> list[str]:
        """The characters of `text` that no pinned font draws (they would render as .notdef
        boxes), found by itemizing and shaping as `render` does, without rasterizing."""
        text = sanitise(text[: self.max_chars])
        cjk_face, lang = self._cjk_face_and_lang(text)
        found = []
        for paragraph in text.split("\n"):
            script = None
            start = 0
            for end in line_breaks(paragraph):
                unit = paragraph[start:end]
                start = end
                word, script = itemize_unit(unit, script, self.fonts, cjk_face)
                for start, end, script, font in word[0]:
                    chunk = unit[start:end]
                    buf = _shaped(self.fonts.fonts[font], (font, script, False, lang, chunk))
                    # clusters are code point offsets (uharfbuzz adds str as UTF-32)
                    found.extend(chunk[info.cluster] for info in buf.glyph_infos if info.codepoint == 0)
        return found

    def _draw_line(self, canvas: np.ndarray, placed: list[tuple[int, Strip]], number: int) -> int:
        """Blit one line's placed strips; returns how many .notdef glyphs it holds."""
        height, width = canvas.shape
        line_top = self.margin + number * self.line_height
        baseline = line_top + self.ascent
        band = (line_top, line_top + self.line_height) if self.config.grid else (0, height)
        notdef = 0
        flat = canvas.reshape(-1)
        minimum = np.minimum
        for x, strip in placed:
            _, paper, rows, cols, dx, dy, missing, _, _ = strip  # unpacking beats 7 attribute reads
            notdef += missing
            if paper is not None:
                top, left = baseline + dy, x + dx
                if top >= band[0] and left >= 0 and top + rows <= band[1] and left + cols <= width:
                    start = top * width + left
                    target = flat[start : start + paper.size]
                    minimum(target, paper, out=target)
                else:
                    self._draw_clipped(canvas, strip, top, left, band)
        return notdef

    @staticmethod
    def _draw_clipped(canvas: np.ndarray, strip: Strip, top: int, left: int, band: tuple[int, int]) -> None:
        """Draw the part of a strip that lies on the canvas and within its line's band of rows."""
        width = canvas.shape[1]
        rows, cols = strip[2:4]
        r0, c0 = max(top, band[0], 0), max(left, 0)
        r1, c1 = min(top + rows, band[1], canvas.shape[0]), min(left + cols, width)
        if r0 < r1 and c0 < c1:
            target = canvas[r0:r1, c0:c1]
            paper = _paper_2d(strip, width)[r0 - top : r1 - top, c0 - left : c1 - left]
            np.minimum(target, paper, out=target)


@lru_cache(maxsize=8)
def cached_renderer(config: RenderConfig) -> Renderer:
    """One Renderer per configuration per process (fonts load once)."""
    return Renderer(config)


def render(text: str, config: RenderConfig = RenderConfig()) -> Rendered:
    """Render with a shared, cached Renderer for `config`."""
    return cached_renderer(config).render(text)
