"""Unicode bidi (UAX #9) from ICU's ubidi: paragraph direction and resolved levels; L2 reordering
is applied per line to already-shaped pieces, because lines are known only after shaping.

ICU replaced a hand-written UAX #9 that was 30x slower and agreed with ubidi's display order on
all but one of 20,000 random strings (docs/rendering.md). Levels are per code point; characters
that X9 removes (embedding controls, BN) get levels too, but draw nothing.
"""

from __future__ import annotations

import re
import threading

import icu

from engine.render.segment import code_point_starts

# Texts without right-to-left letters, Arabic digits or explicit controls are one level-0 run.
_NEEDS_BIDI = re.compile("[\u0590-\u08ff\u200f\u202a-\u202e\u2066-\u2069\ufb1d-\ufdff\ufe70-\ufefe\U00010800-\U00010fff\U0001e800-\U0001efff]")


class _Bidi(threading.local):
    """A ubidi object keeps the paragraph it resolved: one per thread."""

    def __init__(self) -> None:
        self.bidi = icu.Bidi()


_LOCAL = _Bidi()


def needs_bidi(text: str) -> bool:
    """False for purely left-to-right text, which then skips the algorithm entirely."""
    return _NEEDS_BIDI.search(text) is not None


def paragraph_levels(text: str, base: int | None = None) -> tuple[int, list[int]]:
    """The paragraph's base level and the resolved level of every code point (X1-I2, and L1 at
    the paragraph's end). The base is `base` (0 LTR, 1 RTL) or, as the renderer asks, found by
    P2-P3 (LTR without a strong letter).

    Where no character can be right-to-left, ubidi gives every one the base level (a shortcut
    that displays the same as the levels UAX #9 would give, e.g. 2 for Arabic digits)."""
    if not text:
        return 0, []
    bidi = _LOCAL.bidi
    string = icu.UnicodeString(text)  # ubidi reads it in place: it must outlive the calls below
    bidi.setPara(string, icu.Bidi.DEFAULT_LTR if base is None else base)
    levels = bidi.getLevels()
    base = bidi.getParaLevel()
    starts = code_point_starts(text)
    return base, list(levels) if starts is None else [levels[unit] for unit in starts[:-1]]


def visual_order(levels: list[int]) -> list[int]:
    """L2: indices of a line's items (each at one level) in left-to-right display order."""
    order = list(range(len(levels)))
    if not levels:
        return order
    for level in range(max(levels), (min(levels) | 1) - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return order
