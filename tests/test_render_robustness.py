"""Bad input never crashes and never hangs: hostile strings, then arbitrary Unicode (hypothesis)."""

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.render import RenderConfig
from engine.render.renderer import cached_renderer

SMALL = RenderConfig(64, 64, 8, 4)

HOSTILE = {
    "controls": "a\x00b\x01c\x07\x08\x1b[31m\x7f\x85\x9f\r\n\rtab\there\x0b\x0c",
    "lone surrogates": "x\ud800y\udfffz\udc00\ud83d",
    "bidi overrides and isolates": "\u202eevil\u202c \u2067עברית\u2069 \u2068abc\u2069 \u202b\u202a\u202d\u202c\u200f\u200e",
    "unbalanced bidi": "\u202e\u202e\u202e\u2067\u2067" * 50 + "שלום",
    "zero-width joiners": "\u200d" * 100 + "a\u200db\u200c\u200d\u200d",
    "1000 combining marks": "a" + "\u0301" * 1000,
    "marks without base": "\u0301\u0302\u0903\u093f\u0e34",
    "unassigned and private use": "\U000e0fff\U0003ffff\ue000\U0010fffd\uffff\ufffe",
    "emoji sequences": "👩🏽‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇳🇫🇷🇯 #️⃣ 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "variation selectors": "a\ufe0f\U000e0100 葛\U000e0100",
    "only spaces and newlines": " \n \n\u3000\t",
    "many newlines": "\n" * 10_000 + "end",
    "huge cluster of viramas": "क" + "्" * 500,
    "zalgo": "Z̷̢̛̛̤̜͖̪̫͓̪͚̖̘̣̣̩̗̤̈̃̀̌̿̊͒̾͐̈́̐̈́̃̅̀̀̊̀̓̚͝a̷̢̡̛̞̞̙͔̦̳̜̮̲͎̘̹͓̓̈̀̓͒͐̏̀̌̈́̾̈́̃̑̋̑̈́̕͝͝l̴" * 20,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_renders(name):
    for config in (RenderConfig(), SMALL):
        renderer = cached_renderer(config)
        out = renderer.render(HOSTILE[name])
        assert out.pixels.shape == (config.height, config.width) and out.pixels.dtype == np.uint8
        assert 0 <= out.lines <= renderer.max_lines and out.notdef >= 0
        assert np.array_equal(out.pixels, renderer.render(HOSTILE[name]).pixels)


def test_unassigned_code_points_are_counted_as_notdef():
    renderer = cached_renderer(RenderConfig())
    assert renderer.render("a\U0003fffdb\U0005ffff").notdef == 2  # unassigned, no font: a box each
    assert renderer.render("\u0378").notdef == 0  # Unifont draws unassigned BMP code points as hex boxes
    assert renderer.render("a\U000e0fffb").notdef == 0  # default-ignorable range: invisible


def test_bidi_override_really_reverses():
    renderer = cached_renderer(RenderConfig())
    (run,) = [r for r in renderer.layout("\u202eabc\u202c")[0] if "abc" in r.text]
    (plain,) = renderer.layout("abc")[0]
    visible = [g for g in run.glyphs if g in plain.glyphs]
    assert run.rtl and visible == list(reversed(plain.glyphs))


@pytest.mark.parametrize("text", ["x" * 10_000_000, "word " * 2_000_000, "日本" * 5_000_000, "\u0301" * 10_000_000])
def test_a_10_mb_string_costs_bounded_work(text):
    renderer = cached_renderer(RenderConfig())
    started = time.perf_counter()
    out = renderer.render(text)
    assert time.perf_counter() - started < 5.0
    assert out.truncated or text[0] == "\u0301"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300))
def test_any_unicode_string_renders_deterministically(text):
    renderer = cached_renderer(SMALL)
    out = renderer.render(text)
    assert out.pixels.shape == (64, 64) and out.pixels.dtype == np.uint8
    assert 0 <= out.lines <= renderer.max_lines and out.notdef >= 0
    assert np.array_equal(out.pixels, renderer.render(text).pixels)
    assert out.ink_mask(16).shape == (4, 4)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["مرحبا", "שלום", "abc", "123", "١٢٣", " ", "(", ")", "\u2067", "\u2069", "\u202b", "\u202c", "!", "\u200f", "\n", "-"]), max_size=40
    )
)
def test_mixed_direction_soup_renders(pieces):
    renderer = cached_renderer(RenderConfig())
    out = renderer.render("".join(pieces))
    assert out.pixels.shape == (224, 224) and 0 <= out.lines <= renderer.max_lines
