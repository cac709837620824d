"""Split one space-delimited token into words (units between line-break chances) and pieces
(runs of one script and one font), choosing each grapheme cluster's font by cmap coverage.

Tokens repeat across texts, so the result is cached per (token, preceding script, CJK face).
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.render.fonts import Font, FontSet
from engine.render.text import COMMON, SPACES, break_allowed, char_info, grapheme_starts


@dataclass(frozen=True)
class Piece:
    """Characters [start, end) of a token that share a script and a font (shaped together)."""

    start: int
    end: int
    script: str
    font: Font


@dataclass(frozen=True)
class Word:
    """Pieces between two line-break chances, and the spaces after them (dropped at a line end)."""

    pieces: tuple[Piece, ...]
    space: Piece | None


def _covering_font(cluster: str, ignorable: list[bool], ranked: tuple[Font, ...]) -> Font:
    """The first ranked font that maps every visible code point of the cluster; failing that, the
    first that maps its base; failing that, the run's own font (whose .notdef is then counted)."""
    needed = [ord(ch) for ch, skip in zip(cluster, ignorable) if not skip]
    if not needed:
        return ranked[0]
    for font in ranked:
        cmap = font.cmap
        if all(cp in cmap for cp in needed):
            return font
    for font in ranked:
        if needed[0] in font.cmap:
            return font
    return ranked[0]


def itemize_token(
    token: str, prev_script: str | None, fonts: FontSet, cjk_face: int
) -> tuple[tuple[Word, ...], str | None]:
    """Words and pieces of one token, and the last real script seen (the next token's context).

    Common and Inherited characters (punctuation, digits, marks) take the script before them, or
    at the start of a paragraph the first real script after them.
    """
    core = token.rstrip(SPACES)
    infos = [char_info(ch) for ch in core]
    script = prev_script
    if script is None:
        script = next((info.script for info in infos if info.script not in COMMON), None)
    words: list[Word] = []
    pieces: list[Piece] = []
    starts = grapheme_starts(core, infos)
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(core)
        own = next((info.script for info in infos[start:end] if info.script not in COMMON), None)
        if own is not None:
            script = own
        run_script = script or "Zyyy"
        ranked = fonts.preference(run_script, cjk_face)
        font = _covering_font(core[start:end], [info.ignorable for info in infos[start:end]], ranked)
        if index and break_allowed(core[start - 1], infos[start - 1], core[start], infos[start]):
            words.append(Word(tuple(pieces), None))
            pieces = []
        last = pieces[-1] if pieces else None
        if last is not None and last.font is font and last.script == run_script:
            pieces[-1] = Piece(last.start, end, run_script, font)
        else:
            pieces.append(Piece(start, end, run_script, font))
    space = None
    if len(core) < len(token):
        run_script = script or "Zyyy"
        ranked = fonts.preference(run_script, cjk_face)
        if pieces and all(ord(ch) in pieces[-1].font.cmap for ch in token[len(core) :]):
            ranked = (pieces[-1].font,)
        font = _covering_font(token[len(core) :], [False] * (len(token) - len(core)), ranked)
        space = Piece(len(core), len(token), run_script, font)
    words.append(Word(tuple(pieces), space))
    return tuple(words), script
