"""Small helpers shared by the per-language caption modules."""
from __future__ import annotations

from collections.abc import Sequence


def join_list(items: Sequence[str], comma: str, last: str) -> str:
    """["A", "B", "C"] -> "A, B and C" with the language's comma and final conjunction."""
    if len(items) == 1:
        return items[0]
    return comma.join(items[:-1]) + last + items[-1]


def words(*parts: str | None) -> str:
    """Space-separated words, skipping the ones a caption leaves out (None or "")."""
    return " ".join(p for p in parts if p)
