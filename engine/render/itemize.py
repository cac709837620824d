"""Split one line-break unit (ICU's text between two line-break opportunities, see `segment.py`)
into pieces (runs of one script and one font), choosing each grapheme cluster's font by cmap
coverage.

Units repeat across texts, so the renderer caches the result per (unit, preceding script, CJK
face); this code runs once per distinct unit.
"""

from __future__ import annotations

from typing import NamedTuple

from engine.render.fonts import Font, FontSet
from engine.render.segment import grapheme_starts
from engine.render.text import COMMON, SPACES, char_info


class Piece(NamedTuple):
    """Characters [start, end) of a unit that share a script and a font (shaped together)."""

    start: int
    end: int
    script: str
    font: Font


class Word(NamedTuple):
    """A line-break unit: its pieces, and the spaces after them (dropped at a line end)."""

    pieces: tuple[Piece, ...]
    space: Piece | None


def itemize_unit(unit: str, prev_script: str | None, fonts: FontSet, cjk_face: int) -> tuple[Word, str | None]:
    """The pieces of one unit, and the last real script seen (the next unit's context).

    Common and Inherited characters (punctuation, digits, marks) take the script before them, or
    at the start of a paragraph the first real script after them.
    """
    core = unit.rstrip(SPACES)
    infos = [char_info(ch) for ch in core]
    script = prev_script
    if script is None:
        script = next((info.script for info in infos if info.script not in COMMON), None)
    pieces: list[Piece] = []
    piece_start, piece_script, piece_font = 0, "", None
    starts = grapheme_starts(core)
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
        if font is not piece_font or run_script != piece_script:
            if index:
                pieces.append(Piece(piece_start, start, piece_script, piece_font))
            piece_start, piece_script, piece_font = start, run_script, font
    if core:
        pieces.append(Piece(piece_start, len(core), piece_script, piece_font))
    space = None
    if len(core) < len(unit):
        spaces = unit[len(core) :]
        run_script = script or "Zyyy"
        if pieces and all(ord(ch) in pieces[-1].font.cmap for ch in spaces):
            font = pieces[-1].font
        else:
            font = fonts.covering(spaces, [ord(ch) for ch in spaces], run_script, cjk_face)
        space = Piece(len(core), len(unit), run_script, font)
    return Word(tuple(pieces), space), script
