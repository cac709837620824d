"""Unicode segmentation from ICU (pyicu-wheels, which bundles one pinned ICU build): grapheme
clusters (UAX #29), words (UAX #29 with ICU's dictionaries for Thai, Lao, Khmer, Myanmar and
CJK) and line-break opportunities (UAX #14 with ICU's tailorings, dictionaries included).

The renderer draws what these say, so the ICU version is part of the render fingerprint
(`fonts.font_fingerprint`). Offsets here are code points (Python's), not ICU's UTF-16 units.
"""

from __future__ import annotations

import re
import threading
from itertools import accumulate

import icu

ICU_VERSION: str = icu.ICU_VERSION
ICU_UNICODE_VERSION: str = icu.UNICODE_VERSION
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class _Iterators(threading.local):
    """ICU break iterators keep the text they walk: one set per thread (a server renders in threads)."""

    def __init__(self) -> None:
        root = icu.Locale.getRoot()  # no locale tailoring: the same breaks whatever the caller's locale
        self.character = icu.BreakIterator.createCharacterInstance(root)
        self.word = icu.BreakIterator.createWordInstance(root)
        self.line = icu.BreakIterator.createLineInstance(root)


_ITERATORS = _Iterators()


def code_point_starts(text: str) -> list[int] | None:
    """The UTF-16 offset (ICU's unit) of each code point and of the end; None where they are
    the code point offsets themselves (no character beyond the BMP)."""
    if _ASTRAL.search(text) is None:
        return None
    return list(accumulate((2 if ord(ch) > 0xFFFF else 1 for ch in text), initial=0))


def _boundaries(iterator: icu.BreakIterator, text: str) -> list[int]:
    """Every boundary after 0 up to len(text), in code points."""
    if not text:
        return []
    iterator.setText(text)
    bounds = list(iterator)
    units = code_point_starts(text)
    if units is None:
        return bounds
    code_point = {unit: index for index, unit in enumerate(units)}
    return [code_point[unit] for unit in bounds]


def grapheme_starts(text: str) -> list[int]:
    """Offsets where extended grapheme clusters begin (0 first, for non-empty text)."""
    return [0, *_boundaries(_ITERATORS.character, text)[:-1]] if text else []


def word_bounds(text: str) -> list[int]:
    """Word-boundary offsets after 0 (the last is len(text)); between them lie words, spaces and
    punctuation, Thai/Lao/Khmer/Myanmar/CJK words found with ICU's dictionaries."""
    return _boundaries(_ITERATORS.word, text)


def line_breaks(text: str) -> list[int]:
    """Offsets after 0 where a line may break (the last is len(text)); spaces stay before the break.

    UAX #14 allows a few breaks inside a UAX #29 cluster (after a space before a mark, LB10;
    before an emoji modifier after a letter; between a sign and a Thai vowel). The renderer
    never splits a cluster, so only breaks that are also cluster boundaries are kept (UAX #14,
    section 8.2, for implementations that respect grapheme clusters)."""
    breaks = _boundaries(_ITERATORS.line, text)
    if _MAY_EXTEND.search(text) is None:  # nothing that can continue a cluster
        return breaks
    clusters = set(_boundaries(_ITERATORS.character, text))
    return [b for b in breaks if b in clusters]


_MAY_EXTEND = re.compile("[^\x00-\u02ff]")  # every mark, joiner, selector and modifier lies beyond U+02FF


# UAX #14 classes that never start a line (CL, EX, IS, NS, CP, CJ), as ICU's ULineBreak values
# (PyICU names only some of them).
_CLOSING_CLASSES = frozenset((8, 11, 16, 18, 36, 37))


def may_start_line(ch: str) -> bool:
    """False for closing punctuation, full stops, small kana...: where a word too long for a
    line is cut, these stay on the line before."""
    return icu.Char.getIntPropertyValue(ch, icu.UProperty.LINE_BREAK) not in _CLOSING_CLASSES
