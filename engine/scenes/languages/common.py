"""Small helpers shared by the per-language caption modules."""

from __future__ import annotations

from collections.abc import Sequence

from engine.scenes.spec import Group


def join_list(items: Sequence[str], comma: str, last: str) -> str:
    """["A", "B", "C"] -> "A, B and C" with the language's comma and final conjunction."""
    if len(items) == 1:
        return items[0]
    return comma.join(items[:-1]) + last + items[-1]


def words(*parts: str | None) -> str:
    """Space-separated words, skipping the ones a caption leaves out (None or "")."""
    return " ".join(p for p in parts if p)


def noun_then_adjectives(g: Group, nouns: dict, adjectives: dict, articles: dict) -> str:
    """Spanish and Portuguese: article, noun (+s), colour, size, all agreeing in gender and number.

    nouns: shape -> (gender, noun); adjectives: name -> (m sg, f sg, m pl, f pl);
    articles: (gender, count) -> word.
    """
    gender, noun = nouns[g.shape]
    form = (gender == "f") + 2 * (g.count > 1)
    agreeing = [adjectives[a][form] for a in (g.colour, g.size) if a]
    return words(articles[gender, g.count], noun + ("s" if g.count > 1 else ""), *agreeing)
