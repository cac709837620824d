"""Per-script proofs that shaping happened (glyph substitution, reordering, mark positioning,
direction), not merely that some ink appeared."""

import numpy as np
import pytest

from engine.render import RenderConfig, Renderer
from engine.render.renderer import cached_renderer


@pytest.fixture(scope="module")
def renderer():
    return cached_renderer(RenderConfig())


def runs(renderer, text):
    """The laid-out runs of a one-line text, in visual (left-to-right) order."""
    lines = renderer.layout(text)
    assert len(lines) == 1
    return [run for run in lines[0] if run.text.strip()]


def glyphs(renderer, text):
    (run,) = runs(renderer, text)
    return run.glyphs


def ink_rows(renderer, text):
    rows = np.flatnonzero((renderer.render(text).pixels < 128).any(axis=1))
    return rows.min(), rows.max()


def test_arabic_letters_join_and_run_right_to_left(renderer):
    joined = glyphs(renderer, "كتب")
    isolated = [glyphs(renderer, letter) for letter in "كتب"]
    assert len(joined) == 3 and not set(joined) & {g for (g,) in isolated}  # contextual forms
    # Visual order: the rightmost glyph is the initial kaf (as in "كت"), the leftmost the final beh.
    assert joined[-1] == glyphs(renderer, "كت")[-1] and joined[0] == glyphs(renderer, "تب")[0]
    first, second = runs(renderer, "سلام عليكم")
    assert first.rtl and second.rtl and first.text == "عليكم" and second.text == "سلام"


def test_persian_and_urdu_letters_are_covered(renderer):
    out = renderer.render("پچژگ کی یہ ے")
    assert out.notdef == 0 and all(run.font_file == "NotoSansArabic-Regular.ttf" for run in runs(renderer, "پچژگ"))


def test_hebrew_with_digits_keeps_numbers_left_to_right(renderer):
    left, digits, right = runs(renderer, "שלום 123 עולם")
    assert (left.text, digits.text, right.text) == ("עולם", "123", "שלום")
    assert left.rtl and right.rtl and not digits.rtl
    assert list(digits.glyphs) == sorted(digits.glyphs)  # 1, 2, 3 from left to right
    assert left.x < digits.x < right.x


def test_devanagari_reph_and_conjuncts(renderer):
    ka = glyphs(renderer, "क")[0]
    ra = glyphs(renderer, "र")[0]
    reph = glyphs(renderer, "र्क")
    assert len(reph) == 2 and ka in reph and ra not in reph  # ra + virama became a reph mark
    assert len(glyphs(renderer, "क्ष")) == 1  # k.ssa conjunct ligature
    assert len(glyphs(renderer, "स्त")) < 3


def test_bengali_pre_base_vowel_sign_is_reordered(renderer):
    ka = glyphs(renderer, "ক")[0]
    ki = glyphs(renderer, "কি")
    assert len(ki) == 2 and ki[1] == ka and ki[0] != ka  # the i sign is drawn before the consonant


def test_tamil_two_part_vowel_sign_surrounds_the_consonant(renderer):
    ka = glyphs(renderer, "க")[0]
    ko = glyphs(renderer, "கொ")
    assert len(ko) == 3 and ko[1] == ka  # e-sign, ka, aa-sign


@pytest.mark.parametrize("base, stacked", [("ก่", "กิ่"), ("ກ່", "ກິ່")])
def test_thai_and_lao_tone_marks_stack_above_vowel_signs(renderer, base, stacked):
    tone_alone, tone_stacked = glyphs(renderer, base)[-1], glyphs(renderer, stacked)[-1]
    assert tone_alone != tone_stacked  # the font's raised tone-mark variant was substituted
    assert ink_rows(renderer, stacked)[0] < ink_rows(renderer, base)[0]  # and drawn higher


@pytest.mark.parametrize("single, subscript", [("ក", "ក្ក"), ("က", "က္က")])
def test_khmer_and_myanmar_subscript_consonants(renderer, single, subscript):
    base = glyphs(renderer, single)[0]
    shaped = glyphs(renderer, subscript)
    assert len(shaped) == 2 and shaped[0] == base and shaped[1] != base  # a subscript form
    assert ink_rows(renderer, subscript)[1] > ink_rows(renderer, single)[1]  # hangs below


def test_hangul_syllables_from_the_korean_face(renderer):
    syllables = runs(renderer, "한국어")  # UAX #14 may break between Hangul syllables: a run each
    assert "".join(run.text for run in syllables) == "한국어"
    assert all(run.face_index == 1 and len(run.glyphs) == 1 for run in syllables)
    jamo = "\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165"  # the same syllables as conjoining jamo
    assert np.array_equal(renderer.render(jamo).pixels, renderer.render("한국어").pixels)


def test_japanese_text_uses_the_japanese_face():
    for lang, face in [("ja", 0), ("ko", 1), ("zh", 2), ("zh-Hans", 2), ("zh-TW", 3), ("zh-Hant", 3), ("zh-HK", 4)]:
        (run,) = runs(Renderer(RenderConfig(64, 64, 8, 4, lang)), "直")
        assert (run.font_file, run.face_index) == ("NotoSansCJK-Regular.ttc", face), lang
    ja = Renderer(RenderConfig(lang="ja"))
    zh = Renderer(RenderConfig(lang="zh"))
    assert runs(ja, "直")[0].glyphs != runs(zh, "直")[0].glyphs  # regional glyph forms differ
    assert {run.face_index for run in runs(cached_renderer(RenderConfig()), "今日は晴れ")} == {0}  # kana: JP


def test_scripts_fall_back_per_cluster_with_marks_kept_on_their_base(renderer):
    text = "Ωμέγα Ⴀ ᎠᏍᎦ ᐃᓄᒃᑎᑐᑦ ⵜⴰⵎⴰⵣⵉⵖⵜ ꆈꌠ ᱚᱞ ꦗꦮ ߒߞߏ ܐܪܡܝܐ ދިވެހި བོད་ ᠮᠣᠩᠭᠣᠯ"
    fonts = {run.font_file for line in renderer.layout(text) for run in line if run.text.strip()}
    assert len(fonts) >= 13
    assert renderer.render(text).notdef == 0
    # A combining mark the Latin font lacks pulls its whole cluster into one font that has both.
    (run,) = runs(renderer, "x\u20dd")
    assert run.text == "x\u20dd" and renderer.render("x\u20dd").notdef == 0
