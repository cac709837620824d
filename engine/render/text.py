"""Text analysis before shaping: sanitising, grapheme clusters, scripts, and line-break chances.

Everything here works on code points of one paragraph and is cached per character, so the
per-text cost is a few dictionary look-ups per character.
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from fontTools.unicodedata import script as _script_of

# What must not reach HarfBuzz (lone surrogates, control characters), and the many spellings of
# a line break.
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_NEEDS_SANITISING = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

COMMON = ("Zyyy", "Zinh", "Zzzz")
CJK_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Bopo", "Yiii"})
# Scripts written without spaces whose words we cannot find without a dictionary: break between
# clusters (never after a leading vowel, which is stored before the consonant it precedes).
CLUSTER_BREAK_SCRIPTS = frozenset({"Thai", "Laoo", "Khmr", "Mymr"})
LEADING_VOWELS = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4")
# ... nor before a vowel or sign that only ever follows a consonant (spacing letters, not marks,
# so they are clusters of their own: Thai/Lao sara a, aa, am; repetition marks; Khmer and
# Myanmar sentence punctuation).
FOLLOWING_SIGNS = frozenset(
    "\u0e30\u0e32\u0e33\u0e45\u0e46\u0e2f\u0eb0\u0eb2\u0eb3\u0ec6\u0eaf\u17d4\u17d5\u17d6\u104a\u104b"
)
# Kinsoku (basic): lines must not start with closing marks, small kana, iteration marks...
NO_BREAK_BEFORE = frozenset(
    "、。，．・：；？！ー)）]］}｝」』】〕〉》〙〗〟’”ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
    "ㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻ゝゞヽヾ‐゠–〜～…‥.,:;!?%"
)
# ... nor end with opening marks.
NO_BREAK_AFTER = frozenset("(（[［{｛「『【〔〈《〘〖〝‘“")
TIBETAN_TSHEG = "\u0f0b"
SPACES = " \t\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"
# A paragraph splits into tokens: a run of non-spaces plus the spaces after it (the only place a
# Latin-like line may break); non-breaking spaces (U+00A0, U+2007, U+202F) stay inside tokens.
TOKENS = re.compile(f"[{SPACES}]+|[^{SPACES}]+[{SPACES}]*")

# Viramas that only kill a vowel (drawn, not stacking): the next consonant starts a new cluster.
VISIBLE_KILLERS = frozenset("\u103a\u0e3a\u0eba")
# Grapheme-cluster classes (a compact subset of UAX #29 that keeps marks, conjuncts, emoji
# sequences, flags and Hangul jamo together).
OTHER, EXTEND, ZWJ, VIRAMA, PICTO, REGIONAL, PREPEND, HAN_L, HAN_V, HAN_T, HAN_LV, HAN_LVT = range(12)


# Line-break classes (0 = no break chance inside a token, the common case tested first).
LB_OTHER, LB_CLOSE, LB_OPEN, LB_IDEOGRAPHIC, LB_CLUSTER, LB_LEADING_VOWEL, LB_FOLLOWING, LB_TSHEG = range(8)


class CharInfo(NamedTuple):
    script: str
    cluster_class: int
    ignorable: bool  # default-ignorable: needs no glyph of its own (ZWJ, VS, bidi controls...)
    letter: bool
    line_class: int


def _cluster_class(ch: str, category: str) -> int:
    cp = ord(ch)
    if cp == 0x200D:
        return ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return REGIONAL
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97F:
        return HAN_L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return HAN_V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return HAN_T
    if 0xAC00 <= cp <= 0xD7A3:
        return HAN_LV if (cp - 0xAC00) % 28 == 0 else HAN_LVT
    if unicodedata.combining(ch) == 9 and category[0] == "M" and ch not in VISIBLE_KILLERS:
        return VIRAMA
    if (
        category in ("Mn", "Me", "Mc")
        or cp == 0x200C
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0020 <= cp <= 0xE007F
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF
    ):
        return EXTEND
    if cp in (0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06DD, 0x070F, 0x08E2, 0x0D4E, 0x110BD):
        return PREPEND
    if category == "So" or 0x1F000 <= cp <= 0x1FAFF:
        return PICTO
    return OTHER


_INFO: dict[str, CharInfo] = {}


def char_info(ch: str) -> CharInfo:
    """Script, cluster class and ignorability of one character (memoised: called per character)."""
    info = _INFO.get(ch)
    if info is None:
        category = unicodedata.category(ch)
        cp = ord(ch)
        ignorable = (
            category == "Cf"
            or 0xFE00 <= cp <= 0xFE0F
            or 0xE0100 <= cp <= 0xE01EF
            or cp in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0)
        ) and cp not in (0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06DD, 0x070F, 0x08E2, 0x110BD)
        script = _script_of(ch)
        info = CharInfo(script, _cluster_class(ch, category), ignorable, category[0] == "L", _line_class(ch, script))
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


def _joins(prev: CharInfo, cur: CharInfo, regional_run: int) -> bool:
    """True where no grapheme boundary lies between `prev` and `cur`."""
    c = cur.cluster_class
    p = prev.cluster_class
    if c in (EXTEND, ZWJ, VIRAMA):
        return True
    if p == PREPEND:
        return True
    if p == ZWJ and c == PICTO:
        return True
    if p == VIRAMA and cur.letter and cur.script == prev.script:
        return True  # conjuncts / subscript consonants (Khmer coeng, Myanmar virama): GB9c
    if p == HAN_L and c in (HAN_L, HAN_V, HAN_LV, HAN_LVT):
        return True
    if p in (HAN_LV, HAN_V) and c in (HAN_V, HAN_T):
        return True
    if p in (HAN_LVT, HAN_T) and c == HAN_T:
        return True
    if p == REGIONAL and c == REGIONAL and regional_run % 2 == 1:
        return True
    return False


def grapheme_starts(text: str, infos: list[CharInfo]) -> list[int]:
    """Offsets where grapheme clusters begin (always starts with 0 for non-empty text)."""
    starts = [0] if text else []
    regional_run = 1 if infos and infos[0].cluster_class == REGIONAL else 0
    for i in range(1, len(text)):
        cur = infos[i]
        if not _joins(infos[i - 1], cur, regional_run):
            starts.append(i)
            regional_run = 0
        if cur.cluster_class == REGIONAL:
            regional_run += 1
    return starts


def _line_class(ch: str, script: str) -> int:
    if ch in NO_BREAK_BEFORE:
        return LB_CLOSE
    if ch in NO_BREAK_AFTER:
        return LB_OPEN
    cp = ord(ch)
    if script in CJK_SCRIPTS or 0x3000 <= cp <= 0x303F or 0xFF00 <= cp <= 0xFFEF:
        return LB_IDEOGRAPHIC
    if ch in LEADING_VOWELS:
        return LB_LEADING_VOWEL
    if ch in FOLLOWING_SIGNS:
        return LB_FOLLOWING
    if script in CLUSTER_BREAK_SCRIPTS:
        return LB_CLUSTER
    return LB_TSHEG if ch == TIBETAN_TSHEG else LB_OTHER


def break_allowed(before: CharInfo, after: CharInfo) -> bool:
    """A line may break between two grapheme clusters of one token: `before` describes the last
    character of the first cluster, `after` the first of the second. Breaks fall between CJK
    characters (kinsoku: not before closing marks, not after opening ones), between clusters of
    scripts written without spaces (not after a leading vowel), and after a Tibetan tsheg."""
    b, a = before.line_class, after.line_class
    if a == LB_CLOSE or b == LB_OPEN:
        return False
    if b == LB_IDEOGRAPHIC or a == LB_IDEOGRAPHIC:
        return True
    if b == LB_CLUSTER or b == LB_FOLLOWING:
        return a == LB_CLUSTER or a == LB_LEADING_VOWEL
    return b == LB_TSHEG
