"""Fuzzed strings of the kinds that break text pipelines, from one seeded generator.

The one place the suite gets its hostile strings: swap `fuzz_strings` for the renderer's own
fuzz generator (benchmarks/fuzz_render.py) once it lands, keeping the signature.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
COMBINING = [chr(c) for c in range(0x300, 0x370)] + ["\u0e31", "\u0e49", "\u094d", "\u0651", "\u3099"]
WORDS = [
    "a red circle",
    "ein grüner Kreis",
    "黄色的正方形",
    "красный круг",
    "دائرة زرقاء",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีครับ",
    "こんにちは",
    "안녕하세요",
    "Ελληνικά",
    "১২৩ বাংলা",
    "ﷺ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]
EMOJI = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1fa\U0001f1f8",
    "\U0001f44d\U0001f3fd",
    "\u2764\ufe0f",
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
]


def _any_code_point(rng: random.Random) -> str:
    plane = rng.choice([0, 0, 0, 1, 2, 14, 15, 16])
    return chr(rng.randrange(plane << 16, (plane << 16) + 0x10000))


def _random_code_points(rng: random.Random) -> str:
    return "".join(_any_code_point(rng) for _ in range(rng.randint(1, 60)))


def _lone_surrogates(rng: random.Random) -> str:
    return rng.choice(WORDS) + chr(rng.randrange(0xD800, 0xE000)) + rng.choice(WORDS)


def _combining_storm(rng: random.Random) -> str:
    return rng.choice("aあ한ก") + "".join(rng.choice(COMBINING) for _ in range(rng.randint(50, 3000)))


def _bidi_soup(rng: random.Random) -> str:
    return "".join(rng.choice([rng.choice(BIDI), rng.choice(WORDS), "(", ")", "[", "123"]) for _ in range(rng.randint(2, 80)))


def _controls(rng: random.Random) -> str:
    specials = ["\x00", "\x07", "\x1b[31m", "\r\n", "\r", "\n", "\t", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x7f"]
    return "".join(rng.choice(specials + WORDS) for _ in range(rng.randint(1, 20)))


def _whitespace(rng: random.Random) -> str:
    return "".join(rng.choice(" \t\u00a0\u3000\u2003\u200b\ufeff") for _ in range(rng.randint(0, 30)))


def _very_long(rng: random.Random) -> str:
    return rng.choice(WORDS) * rng.randint(200, 20_000)


def _emoji(rng: random.Random) -> str:
    return "".join(rng.choice(EMOJI + ["\ufe0f", "\u200d", "\U0001f3fb"]) for _ in range(rng.randint(1, 40)))


def _noncharacters(rng: random.Random) -> str:
    odd = ["\ufffe", "\uffff", "\ufdd0", "\U0010ffff", "\ue000", "\U000f0000", "\ufffd", "\u00ad", "\u034f", "\u2060"]
    return "".join(rng.choice(odd + WORDS) for _ in range(rng.randint(1, 30)))


def _brackets(rng: random.Random) -> str:
    depth = rng.randint(10, 500)
    return "(" * depth + rng.choice(WORDS) + "]" * rng.randint(0, depth) + "\u05d0" * rng.randint(0, 5)


def _scripts(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))


def _markup(rng: random.Random) -> str:
    return rng.choice(
        [
            "<script>alert(1)</script>",
            "'; DROP TABLE items; --",
            "../../../../etc/passwd",
            "%00%ff%2e%2e",
            '{"q": null}',
            "${jndi:ldap://x}",
            "%s%s%s%n",
            "\\u0000",
            "&#0;&#x110000;",
        ]
    ) + rng.choice(WORDS)


KINDS: dict[str, Callable[[random.Random], str]] = {
    "code points": _random_code_points,
    "lone surrogate": _lone_surrogates,
    "combining storm": _combining_storm,
    "bidi controls": _bidi_soup,
    "control chars": _controls,
    "whitespace only": _whitespace,
    "very long": _very_long,
    "emoji sequences": _emoji,
    "noncharacters": _noncharacters,
    "bracket nesting": _brackets,
    "mixed scripts": _scripts,
    "markup and injection": _markup,
}


def fuzz_strings(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` (kind, string) pairs, cycling through every kind, reproducible from `seed`."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    return [(kinds[i % len(kinds)], KINDS[kinds[i % len(kinds)]](rng)) for i in range(count)]
