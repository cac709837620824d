"""Split one space-delimited token into words (units between line-break chances) and pieces
(runs of one script and one font), choosing each grapheme cluster's font by cmap coverage.

Tokens repeat across texts, so the renderer caches the result per (token, preceding script, CJK
face); this code runs once per distinct token.
"""
from __future__ import annotations

from typing import NamedTuple

from engine.render.fonts import Font, FontSet
from engine.render.text import COMMON, SPACES, break_allowed, char_info, grapheme_starts


class Piece(NamedTuple):
    """Characters [start, end) of a token that share a script and a font (shaped together)."""

    start: int
    end: int
    script: str
    font: Font


class Word(NamedTuple):
    """Pieces between two line-break chances, and the spaces after them (dropped at a line end)."""

    pieces: tuple[Piece, ...]
    space: Piece | None


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
    piece_start, piece_script, piece_font = 0, "", None
    starts = grapheme_starts(core, infos)
    starts.append(len(core))
    for index in range(len(starts) - 1):
        start, end = starts[index], starts[index + 1]
        info = infos[start]
        own = info.script if info.script not in COMMON else None
        if own is None and end - start > 1:
            own = next((i.script for i in infos[start + 1 : end] if i.script not in COMMON), None)
        if own is not None:
            script = own
        run_script = script or "Zyyy"
        cluster = core[start:end]
        visible = [ord(ch) for ch, i in zip(cluster, infos[start:end]) if not i.ignorable]
        font = fonts.covering(cluster, visible, run_script, cjk_face)
        before = infos[start - 1]
        if index and (before.line_class or info.line_class) and break_allowed(before, info):
            pieces.append(Piece(piece_start, start, piece_script, piece_font))
            words.append(Word(tuple(pieces), None))
            pieces = []
            piece_start, piece_script, piece_font = start, run_script, font
        elif font is not piece_font or run_script != piece_script:
            if index:
                pieces.append(Piece(piece_start, start, piece_script, piece_font))
            piece_start, piece_script, piece_font = start, run_script, font
    if core:
        pieces.append(Piece(piece_start, len(core), piece_script, piece_font))
    space = None
    if len(core) < len(token):
        spaces = token[len(core) :]
        run_script = script or "Zyyy"
        if pieces and all(ord(ch) in pieces[-1].font.cmap for ch in spaces):
            font = pieces[-1].font
        else:
            font = fonts.covering(spaces, [ord(ch) for ch in spaces], run_script, cjk_face)
        space = Piece(len(core), len(token), run_script, font)
    words.append(Word(tuple(pieces), space))
    return tuple(words), script
