"""Unicode bidi (UAX #9): paragraph direction, resolved levels, and per-line visual order.

Levels come from python-bidi's reference implementation (`bidi.algorithm`, rules P2-P3, X1-X10,
W1-W7, N1-N2, I1-I2). It predates isolates, so isolate initiators are mapped onto the embedding
they most resemble (LRI -> LRE, RLI -> RLE, FSI -> either by its first strong character,
PDI -> PDF); the text inside still gets its own level. Reordering (L2) is done here per line on
already-shaped pieces, because lines are only known after shaping.
"""
from __future__ import annotations

import re

from bidi import algorithm as uax9

# Texts without right-to-left letters, Arabic digits or explicit controls are one level-0 run.
_NEEDS_BIDI = re.compile(
    "[\u0590-\u08ff\u200f\u202a-\u202e\u2066-\u2069\ufb1d-\ufdff\ufe70-\ufefe"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
_ISOLATE_AS_EMBEDDING = {"LRI": "LRE", "RLI": "RLE", "PDI": "PDF"}


def needs_bidi(text: str) -> bool:
    """False for purely left-to-right text, which skips the (slow, pure-Python) algorithm."""
    return _NEEDS_BIDI.search(text) is not None


def _first_strong_level(text: str) -> int | None:
    """P2: 1 if the first strong character is right-to-left, 0 if left-to-right, None if none."""
    for ch in text:
        kind = uax9.bidirectional(ch)
        if kind in ("R", "AL"):
            return 1
        if kind == "L":
            return 0
    return None


def paragraph_levels(text: str) -> tuple[int, list[int]]:
    """The paragraph's base level (0 LTR, 1 RTL) and the resolved level of every character."""
    base = _first_strong_level(text) or 0
    storage = uax9.get_empty_storage()
    storage["base_level"] = base
    storage["base_dir"] = ("L", "R")[base]
    uax9.get_embedding_levels(text, storage)
    chars = list(storage["chars"])  # X9 drops controls from storage; these keep every index
    for offset, char in enumerate(chars):
        kind = char["type"]
        if kind == "FSI":
            char["type"] = "RLE" if _first_strong_level(text[offset + 1 :]) == 1 else "LRE"
        elif kind in _ISOLATE_AS_EMBEDDING:
            char["type"] = _ISOLATE_AS_EMBEDDING[kind]
    uax9.explicit_embed_and_overrides(storage)
    uax9.resolve_weak_types(storage)
    uax9.resolve_neutral_types(storage, False)
    uax9.resolve_implicit_levels(storage, False)
    return base, [char["level"] for char in chars]


def visual_order(levels: list[int]) -> list[int]:
    """L2: indices of a line's items (each at one level) in left-to-right display order."""
    order = list(range(len(levels)))
    if not levels:
        return order
    highest = max(levels)
    lowest_odd = min(levels) | 1
    for level in range(highest, lowest_odd - 1, -1):
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
