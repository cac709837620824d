"""Segmentation from ICU: Unicode's own break tests, the renderer's clusters, units and line ends
against ICU over whole paragraphs (random text and Tatoeba), and the UTF-16 offset mapping."""

import runpy
from pathlib import Path

import pytest

from engine.paths import shared_data_dir
from engine.render import RenderConfig, Renderer
from engine.render.segment import grapheme_starts, line_breaks, may_start_line, word_bounds

CONFORMANCE = runpy.run_path(str(Path(__file__).resolve().parent.parent / "benchmarks" / "render_conformance.py"), run_name="render_conformance")


def test_offsets_are_code_points_even_beyond_the_bmp():
    text = "a😀\u200d😀b 𝐀𝐁 c"
    assert grapheme_starts(text) == [0, 1, 4, 5, 6, 7, 8, 9]
    assert line_breaks(text) == [1, 4, 6, 9, 10]  # emoji are ideograph-like (ID): breaks around them
    assert word_bounds("𝐀𝐁 cd") == [2, 3, 5]


def test_thai_words_come_from_the_dictionary():
    text = "สี่เหลี่ยมจัตุรัสสีแดง"
    assert line_breaks(text) == [10, 17, 19, 22]  # สี่เหลี่ยม | จัตุรัส | สี | แดง
    assert word_bounds(text) == [10, 17, 19, 22]


def test_a_space_keeps_the_mark_after_it():
    # UAX #14 (LB10) would break between " " and U+0301; UAX #29 keeps them in one cluster
    assert line_breaks("a \u0301b c") == [5, 6]


def test_closing_punctuation_never_starts_a_line():
    assert not any(may_start_line(ch) for ch in ".,、。)」!?ゃー")
    assert all(may_start_line(ch) for ch in "a日(「ก")


@pytest.mark.parametrize("name, segment", [("GraphemeBreakTest", CONFORMANCE["grapheme_bounds"]), ("WordBreakTest", word_bounds)])
def test_unicode_break_test_files(name, segment):
    figure = CONFORMANCE["check_break_file"](name, segment)
    if figure is None:
        pytest.skip("Unicode's test files are absent (apt-get install unicode-data; scripts/bootstrap does)")
    assert figure.passed == figure.total > 500, figure.failures


def test_unicode_line_break_test_file():
    """ICU 77 implements Unicode 16's UAX #14; the Debian file is Unicode 15.0, whose rules for
    hyphens before letters and for emoji modifiers after spaces changed since (31 cases)."""
    figure = CONFORMANCE["check_break_file"]("LineBreakTest", CONFORMANCE["icu_line_breaks"])
    if figure is None:
        pytest.skip("Unicode's test files are absent (apt-get install unicode-data; scripts/bootstrap does)")
    assert figure.total > 7000 and figure.passed >= 0.99 * figure.total


def renderer():
    return Renderer(RenderConfig(width=112, height=4096, font_size=10, margin=4))


def test_renderer_segmentation_against_icu_on_random_text():
    graphemes, _, lines = CONFORMANCE["check_paragraphs"](CONFORMANCE["random_segment_texts"](1000, 1), "random", renderer())
    assert graphemes.total > 900 and graphemes.passed == graphemes.total, graphemes.failures
    assert lines.passed == lines.total, lines.failures


def test_renderer_segmentation_against_icu_on_tatoeba():
    data = shared_data_dir()
    if data is None or not (data / "translation" / "tatoeba_laser_v1").is_dir():
        pytest.skip("Tatoeba (translation/tatoeba_laser_v1) is absent: set ENGINE_DATA to the shared data folder")
    figures = CONFORMANCE["check_paragraphs"](CONFORMANCE["tatoeba_lines"](8), "Tatoeba", renderer())
    for figure in figures:
        assert figure.total > 1500 and figure.passed == figure.total, (figure.name, figure.failures)
