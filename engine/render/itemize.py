"""Split one line-break unit (ICU's text between two line-break opportunities, see `segment.py`)
into pieces (runs of one script and one font), choosing each grapheme cluster's font by cmap
coverage.

Units repeat across texts, so the renderer caches the result per (unit, preceding script, CJK
face); this code runs once per distinct unit. Pieces and words are plain tuples holding a font
*index*, not NamedTuples holding a Font: the caches keep ~10^5 of them, and the garbage collector
stops tracking exact tuples of ints and strings, so full collections stay short.
"""

from __future__ import annotations

from engine.render.fonts import FontSet
from engine.render.segment import grapheme_starts
from engine.render.text import COMMON, SPACES, char_info

Piece = tuple[int, int, str, int]
"""(start, end, script, font index): characters [start, end) of a unit shaped together."""

Word = tuple[tuple[Piece, ...], Piece | None]
"""(pieces, space): a line-break unit's pieces and the spaces after them (dropped at a line end)."""


def itemize_unit(unit: str, prev_script: str | None, fonts: FontSet, cjk_face: int) -> tuple[Word, str | None]:
    """The pieces of one unit, and the last real script seen (the next unit's context).

    Common and Inherited characters (punctuation, digits, marks) take the script before them, or
    at the start of a paragraph the first real script after them.
    """
    core = unit.rstrip(SPACES)
    infos = [char_info(ch) for ch in core]
    script = prev_script
    if script is None:
        script = next((own for own, _ in infos if own not in COMMON), None)
    pieces: list[Piece] = []
    piece_start, piece_script, piece_font = 0, "", -1
    starts = grapheme_starts(core)
    starts.append(len(core))
    for index in range(len(starts) - 1):
        start, end = starts[index], starts[index + 1]
        own = infos[start][0]
        if own in COMMON:
            own = next((s for s, _ in infos[start + 1 : end] if s not in COMMON), None)
        if own is not None:
            script = own
        run_script = script or "Zyyy"
        cluster = core[start:end]
        visible = [ord(ch) for ch, (_, ignorable) in zip(cluster, infos[start:end]) if not ignorable]
        font = fonts.covering(cluster, visible, run_script, cjk_face)
        if font != piece_font or run_script != piece_script:
            if index:
                pieces.append((piece_start, start, piece_script, piece_font))
            piece_start, piece_script, piece_font = start, run_script, font
    if core:
        pieces.append((piece_start, len(core), piece_script, piece_font))
    space = None
    if len(core) < len(unit):
        spaces = unit[len(core) :]
        run_script = script or "Zyyy"
        if pieces and all(ord(ch) in fonts.fonts[pieces[-1][3]].cmap for ch in spaces):
            font = pieces[-1][3]
        else:
            font = fonts.covering(spaces, [ord(ch) for ch in spaces], run_script, cjk_face)
        space = (len(core), len(unit), run_script, font)
    return (tuple(pieces), space), script
