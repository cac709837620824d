"""Text analysis before shaping: sanitising and per-character facts (script, ignorability).

Segmentation (grapheme clusters, words, line breaks) comes from ICU: see `segment.py`.
"""

from __future__ import annotations

import re
import unicodedata

from fontTools.unicodedata import script as _script_of

# What must not reach HarfBuzz (lone surrogates, control characters), and the many spellings of
# a line break.
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_NEEDS_SANITISING = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

COMMON = ("Zyyy", "Zinh", "Zzzz")
# Spaces a line may drop at its end (a line-break unit's trailing spaces are drawn only inside a line);
# non-breaking spaces (U+00A0, U+2007, U+202F) are not among them.
SPACES = " \t\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"
CHAR_CACHE_LIMIT = 1 << 16  # memoised characters (fuzzed text visits every plane): emptied when full
_PREPENDED_FORMATS = frozenset((0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06DD, 0x070F, 0x08E2, 0x110BD))


# (script, default-ignorable) per character. Plain tuples of str and bool, which the garbage
# collector stops tracking (a NamedTuple stays tracked): the memo may hold 65,536 of them.
_INFO: dict[str, tuple[str, bool]] = {}


def char_info(ch: str) -> tuple[str, bool]:
    """Script and whether the character is default-ignorable (needs no glyph of its own: ZWJ,
    variation selectors, bidi controls...). Memoised: called per character."""
    info = _INFO.get(ch)
    if info is None:
        category = unicodedata.category(ch)
        cp = ord(ch)
        ignorable = (
            category == "Cf" or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or cp in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0)
        ) and cp not in _PREPENDED_FORMATS  # these format characters draw (Arabic number signs)
        info = (_script_of(ch), ignorable)
        if len(_INFO) >= CHAR_CACHE_LIMIT:
            _INFO.clear()
        _INFO[ch] = info
    return info


def sanitise(text: str) -> str:
    """NFC text HarfBuzz can take: lone surrogates become U+FFFD, control characters vanish,
    tabs become spaces and every line-break convention becomes "\\n"."""
    if _NEEDS_SANITISING.search(text) is None:  # the common case: skip three substitutions
        return unicodedata.normalize("NFC", text)
    text = _SURROGATES.sub("\ufffd", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROLS.sub("", text).replace("\t", " ")
    return unicodedata.normalize("NFC", text)
