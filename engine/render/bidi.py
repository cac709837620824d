"""Unicode bidi (UAX #9): paragraph direction, resolved levels, and per-line visual order.

Implements P2-P3, X1-X10 (embeddings, overrides and isolates, with the depth limit and overflow
counters), W1-W7, N0 (bracket pairs), N1-N2 and I1-I2 on isolating run sequences; L2 reordering
is applied per line to already-shaped pieces, because lines are known only after shaping (L1:
trailing spaces are simply not drawn). Unassigned code points get the default classes of their
blocks, so any str is accepted.
"""
from __future__ import annotations

import re
import unicodedata

# Texts without right-to-left letters, Arabic digits or explicit controls are one level-0 run.
_NEEDS_BIDI = re.compile(
    "[\u0590-\u08ff\u200f\u202a-\u202e\u2066-\u2069\ufb1d-\ufdff\ufe70-\ufefe"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
_ASCII_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_EXPLICIT = re.compile("[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides, isolates
MAX_DEPTH = 125
_STRONG = {"L": 0, "R": 1, "AL": 1}
_REMOVED = frozenset({"RLE", "LRE", "RLO", "LRO", "PDF", "BN"})  # X9
_INITIATORS = frozenset({"LRI", "RLI", "FSI"})
_NEUTRAL = frozenset({"B", "S", "WS", "ON", "LRI", "RLI", "FSI", "PDI"})
_CLASSES: dict[str, str] = {}


def needs_bidi(text: str) -> bool:
    """False for purely left-to-right text, which then skips the algorithm entirely."""
    return _NEEDS_BIDI.search(text) is not None


def bidi_class(ch: str) -> str:
    """The Bidi_Class of a character; unassigned ones get their block's default (UAX #9 / DerivedBidiClass)."""
    kind = _CLASSES.get(ch)
    if kind is None:
        kind = unicodedata.bidirectional(ch)
        if not kind:
            cp = ord(ch)
            if 0x0600 <= cp <= 0x07BF or 0x0860 <= cp <= 0x08FF or 0xFB50 <= cp <= 0xFDCF or 0xFDF0 <= cp <= 0xFDFF \
                    or 0xFE70 <= cp <= 0xFEFF or 0x1EC70 <= cp <= 0x1ECBF or 0x1ED00 <= cp <= 0x1ED4F \
                    or 0x1EE00 <= cp <= 0x1EEFF:
                kind = "AL"
            elif 0x0590 <= cp <= 0x05FF or 0x07C0 <= cp <= 0x085F or 0xFB1D <= cp <= 0xFB4F \
                    or 0x10800 <= cp <= 0x10FFF or 0x1E800 <= cp <= 0x1EFFF:
                kind = "R"
            elif 0x20A0 <= cp <= 0x20CF:
                kind = "ET"
            elif (cp & 0xFFFE) == 0xFFFE or 0xFDD0 <= cp <= 0xFDEF or 0xE0000 <= cp <= 0xE0FFF:
                kind = "BN"
            else:
                kind = "L"
        _CLASSES[ch] = kind
    return kind


def _matching_pdis(types: list[str]) -> dict[int, int]:
    """BD9: the PDI that closes each isolate initiator (initiators without one are absent)."""
    matches, open_ = {}, []
    for i, kind in enumerate(types):
        if kind in _INITIATORS:
            open_.append(i)
        elif kind == "PDI" and open_:
            matches[open_.pop()] = i
    return matches


def _first_strong(types: list[str], start: int, end: int, matches: dict[int, int]) -> int | None:
    """P2: 1 if the first strong type in [start, end) outside isolates is R/AL, 0 if L, else None."""
    i = start
    while i < end:
        kind = types[i]
        if kind in _STRONG:
            return _STRONG[kind]
        i = matches.get(i, end) + 1 if kind in _INITIATORS else i + 1
    return None


def paragraph_levels(text: str) -> tuple[int, list[int]]:
    """The paragraph's base level (0 LTR, 1 RTL) and the resolved level of every character."""
    types = [bidi_class(ch) for ch in text]
    n = len(types)
    matches = _matching_pdis(types)
    base = _first_strong(types, 0, n, matches) or 0
    kept = [i for i in range(n) if types[i] not in _REMOVED]
    position = {index: k for k, index in enumerate(kept)}
    if _EXPLICIT.search(text) is None:  # the usual paragraph: one level, one run sequence
        levels = [base] * n
        explicit = levels[:]
        sequences = [kept] if kept else []
    else:
        levels = _explicit_levels(types, base, matches)
        explicit = list(levels)  # sos/eos compare explicit levels, not already resolved ones
        sequences = _isolating_run_sequences(kept, types, levels, matches)
    for sequence in sequences:
        _resolve_sequence(text, sequence, types, explicit, levels, base, kept, position)
    previous = base
    for i in range(n):  # X9-removed characters take their neighbour's level (they draw nothing)
        if types[i] in _REMOVED:
            levels[i] = previous
        previous = levels[i]
    return base, levels


def _explicit_levels(types: list[str], base: int, matches: dict[int, int]) -> list[int]:
    """X1-X8: embedding levels from explicit embeddings, overrides and isolates (types overridden in place)."""
    stack = [(base, "", False)]  # (level, override "L"/"R"/"", isolate)
    overflow_isolates = overflow_embeddings = valid_isolates = 0
    levels = [base] * len(types)
    for i, kind in enumerate(types):
        level, override, _ = stack[-1]
        if kind in ("RLE", "LRE", "RLO", "LRO"):
            levels[i] = level
            new = (level + 1) | 1 if kind[0] == "R" else (level + 2) & ~1
            if new <= MAX_DEPTH and not overflow_isolates and not overflow_embeddings:
                stack.append((new, kind[0] if kind[2] == "O" else "", False))
            elif not overflow_isolates:
                overflow_embeddings += 1
        elif kind in _INITIATORS:
            levels[i] = level
            if override:
                types[i] = override
            rtl = kind == "RLI" or (kind == "FSI" and _first_strong(types, i + 1, matches.get(i, len(types)), matches) == 1)
            new = (level + 1) | 1 if rtl else (level + 2) & ~1
            if new <= MAX_DEPTH and not overflow_isolates and not overflow_embeddings:
                valid_isolates += 1
                stack.append((new, "", True))
            else:
                overflow_isolates += 1
        elif kind == "PDI":
            if overflow_isolates:
                overflow_isolates -= 1
            elif valid_isolates:
                overflow_embeddings = 0
                while not stack[-1][2]:
                    stack.pop()
                stack.pop()
                valid_isolates -= 1
            level, override, _ = stack[-1]
            levels[i] = level
            if override:
                types[i] = override
        elif kind == "PDF":
            levels[i] = level
            if overflow_isolates:
                pass
            elif overflow_embeddings:
                overflow_embeddings -= 1
            elif not stack[-1][2] and len(stack) >= 2:
                stack.pop()
        else:
            levels[i] = level
            if override and kind != "BN":
                types[i] = override
    return levels


def _isolating_run_sequences(
    kept: list[int], types: list[str], levels: list[int], matches: dict[int, int]
) -> list[list[int]]:
    """X10 / BD13: level runs (over characters X9 keeps) chained across matched isolates."""
    runs: list[list[int]] = []
    for i in kept:
        if runs and levels[runs[-1][-1]] == levels[i]:
            runs[-1].append(i)
        else:
            runs.append([i])
    run_starting_with = {run[0]: run for run in runs}
    matched_pdis = set(matches.values())
    sequences = []
    for run in runs:
        if run[0] in matched_pdis:
            continue  # continues the sequence of its initiator
        sequence = list(run)
        while types[sequence[-1]] in _INITIATORS and sequence[-1] in matches:
            following = run_starting_with.get(matches[sequence[-1]])
            if following is None:
                break
            sequence.extend(following)
        sequences.append(sequence)
    return sequences


def _resolve_sequence(
    text: str,
    seq: list[int],
    types: list[str],
    explicit: list[int],
    levels: list[int],
    base: int,
    kept: list[int],
    position: dict[int, int],
) -> None:
    """W1-W7, N0-N2 and I1-I2 on one isolating run sequence (levels updated in place).

    `kept` lists the characters X9 keeps and `position` maps each to its place there, which
    finds the neighbours that decide sos and eos."""
    level = explicit[seq[0]]
    first, last = position[seq[0]], position[seq[-1]]
    before = explicit[kept[first - 1]] if first > 0 else base
    after = base
    if types[seq[-1]] not in _INITIATORS and last + 1 < len(kept):
        after = explicit[kept[last + 1]]
    sos = "R" if max(level, before) % 2 else "L"
    eos = "R" if max(level, after) % 2 else "L"
    t = [types[i] for i in seq]
    n = len(t)
    # W1: NSM takes the type of what precedes it (ON after an isolate initiator or PDI).
    for k in range(n):
        if t[k] == "NSM":
            t[k] = sos if k == 0 else ("ON" if t[k - 1] in _INITIATORS or t[k - 1] == "PDI" else t[k - 1])
    # W2: EN after AL becomes AN; W3: AL becomes R.
    strong = sos
    for k in range(n):
        if t[k] in _STRONG:
            strong = t[k]
        elif t[k] == "EN" and strong == "AL":
            t[k] = "AN"
    t = ["R" if kind == "AL" else kind for kind in t]
    # W4: a single separator between two numbers of the same kind joins them.
    for k in range(1, n - 1):
        if t[k] == "ES" and t[k - 1] == "EN" and t[k + 1] == "EN":
            t[k] = "EN"
        elif t[k] == "CS" and t[k - 1] == t[k + 1] and t[k - 1] in ("EN", "AN"):
            t[k] = t[k - 1]
    # W5: terminators next to European numbers become numbers.
    k = 0
    while k < n:
        if t[k] == "ET":
            end = k
            while end < n and t[end] == "ET":
                end += 1
            if (k > 0 and t[k - 1] == "EN") or (end < n and t[end] == "EN"):
                t[k:end] = ["EN"] * (end - k)
            k = end
        else:
            k += 1
    # W6: remaining separators and terminators are neutral.
    t = ["ON" if kind in ("ES", "ET", "CS") else kind for kind in t]
    # W7: European numbers after L (or an L start) become L.
    strong = sos
    for k in range(n):
        if t[k] in ("L", "R"):
            strong = t[k]
        elif t[k] == "EN" and strong == "L":
            t[k] = "L"
    embedding = "R" if level % 2 else "L"
    _resolve_brackets([text[i] for i in seq], [types[i] == "NSM" for i in seq], t, sos, embedding)
    # N1/N2: neutral runs take the surrounding direction if both sides agree, else the embedding's.
    k = 0
    while k < n:
        if t[k] in _NEUTRAL:
            end = k
            while end < n and t[end] in _NEUTRAL:
                end += 1
            left = sos if k == 0 else ("R" if t[k - 1] in ("R", "EN", "AN") else "L")
            right = eos if end == n else ("R" if t[end] in ("R", "EN", "AN") else "L")
            t[k:end] = [left if left == right else embedding] * (end - k)
            k = end
        else:
            k += 1
    # I1/I2
    for index, kind in zip(seq, t):
        if level % 2 == 0:
            levels[index] = level + (1 if kind == "R" else 2 if kind in ("AN", "EN") else 0)
        else:
            levels[index] = level + (1 if kind in ("L", "EN", "AN") else 0)


def _closing_bracket(ch: str) -> str | None:
    """Bidi_Paired_Bracket of an opening bracket: ASCII by table, others are the next code point
    (true of every pair in BidiBrackets.txt beyond ASCII once NFC has unified U+2329/U+232A)."""
    if ch in _ASCII_BRACKETS:
        return _ASCII_BRACKETS[ch]
    if unicodedata.category(ch) == "Ps" and unicodedata.mirrored(ch):
        partner = chr(ord(ch) + 1)
        if unicodedata.category(partner) == "Pe":
            return partner
    return None


def _resolve_brackets(chars: list[str], was_nsm: list[bool], t: list[str], sos: str, embedding: str) -> None:
    """N0: a bracket pair takes the embedding direction if its content has a strong type of that
    direction, else the other direction if both content and context have it (BD16 pairing)."""
    pairs, stack = [], []
    for k, ch in enumerate(chars):
        if t[k] != "ON":
            continue
        closing = _closing_bracket(ch)
        if closing is not None:
            if len(stack) == 63:
                break
            stack.append((closing, k))
        elif stack and unicodedata.category(ch) == "Pe":
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == ch:
                    pairs.append((stack[depth][1], k))
                    del stack[depth:]
                    break
    opposite = "L" if embedding == "R" else "R"
    for opening, closing in sorted(pairs):
        inside = {"L" if kind == "L" else "R" for kind in t[opening + 1 : closing] if kind in ("L", "R", "EN", "AN")}
        if embedding in inside:
            new = embedding
        elif opposite in inside:
            context = next(("L" if kind == "L" else "R" for kind in reversed(t[:opening])
                            if kind in ("L", "R", "EN", "AN")), sos)
            new = opposite if context == opposite else embedding
        else:
            continue
        for k in (opening, closing):
            t[k] = new
            k += 1
            while k < len(t) and was_nsm[k]:  # marks on a bracket follow it
                t[k] = new
                k += 1


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
