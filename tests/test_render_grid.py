"""The patch-grid layout (RenderConfig.grid): words on cell boundaries, one line per patch row."""

import numpy as np

from engine.model import architecture, inputs_for
from engine.model.inputs import render_config
from engine.render import RenderConfig
from engine.render.renderer import Renderer

GRID = 8


def grid_renderer(lang: str | None = None, size: int = 64) -> Renderer:
    return Renderer(RenderConfig(width=size, height=size, font_size=8, lang=lang, grid=GRID))


def cells(pixels: np.ndarray, row: int, first: int, count: int) -> np.ndarray:
    return pixels[row * GRID : (row + 1) * GRID, first * GRID : (first + count) * GRID]


def test_every_word_starts_on_a_cell_boundary():
    lines = grid_renderer().layout("two large blue diamonds and a small red star on a gray background")
    assert len(lines) > 1
    for line in lines:
        starts = [run.x for run in line if not run.text.isspace()]
        assert starts and all(x % GRID == 0 for x in starts)


def test_a_word_has_the_same_pixels_wherever_it_stands():
    renderer = grid_renderer()
    first = renderer.render("blue red").pixels
    second = renderer.render("red blue").pixels
    # "blue" takes three cells at the start of one text and after "red " (two cells) in the other
    assert (cells(first, 0, 0, 3) < 255).any()
    assert np.array_equal(cells(first, 0, 0, 3), cells(second, 0, 2, 3))


def test_ink_of_each_line_stays_in_its_row_of_patches():
    renderer = grid_renderer()
    text = "Ég gýpj"
    alone = renderer.render(text).pixels
    below = renderer.render("x " * 7 + "\n" + text).pixels  # the same line, one row lower
    assert np.array_equal(alone[:GRID], below[GRID : 2 * GRID])
    assert (alone[GRID:] == 255).all()


def test_right_to_left_lines_end_on_the_right_cell_boundary():
    renderer = grid_renderer("ar")
    pixels = renderer.render("دائرة حمراء صغيرة").pixels
    ink_columns = np.flatnonzero((pixels < 255).any(axis=0))
    assert ink_columns.max() >= 64 - 2  # flush with the right edge: no margin in grid mode
    shifted = renderer.render("دائرة حمراء").pixels
    # the first (rightmost) word is the same cells in both texts
    assert np.array_equal(pixels[:GRID, -3 * GRID :], shifted[:GRID, -3 * GRID :])


def test_cjk_characters_fill_one_cell_each():
    pixels = grid_renderer("zh").render("红色的圆形").pixels
    inked = [(cells(pixels, 0, i, 1) < 255).any() for i in range(6)]
    assert inked == [True] * 5 + [False]


def test_presets_choose_their_layout():
    assert render_config(architecture("cpu-tiny"), inputs_for("cpu-tiny", text_grid=False)).grid == 0
    assert render_config(architecture("cpu-tiny"), inputs_for("cpu-tiny", text_grid=True)).grid == 8
    assert render_config(architecture("cpu-small"), inputs_for("cpu-small", text_grid=True)).grid == 16
