"""Captions in 18 languages: hand-checked sentences for fixed specs, one script per language, every
different description worded differently, and (once the renderer is present) no missing glyphs."""

from __future__ import annotations

import random
import unicodedata

import pytest

from engine.errors import EngineError
from engine.scenes import LANGUAGES, CaptionSpec, Mention, caption, describe, random_scenes
from engine.scenes.spec import groups


def spec(*mentions: tuple, background: str | None = None) -> CaptionSpec:
    return CaptionSpec(tuple(Mention(*m) for m in mentions), background)


RED_CIRCLE = spec(("circle", "red"))
TWO_BLUE_STARS = spec(("star", "blue"), ("star", "blue"))
THREE_RED_CIRCLES = spec(*[("circle", "red")] * 3)
SMALL_GREEN_TRIANGLE = spec(("triangle", "green", "small"))
CIRCLE_AND_SQUARE = spec(("circle", "red"), ("square", "blue"))
PLACED = spec(("circle", "red", None, "left"), ("square", "blue", None, "right"))
YELLOW_STAR_ON_WHITE = spec(("star", "yellow"), background="white")

EXPECTED = {
    "en": [
        (RED_CIRCLE, "a red circle"),
        (spec(("triangle", "orange")), "an orange triangle"),
        (TWO_BLUE_STARS, "two blue stars"),
        (spec(("diamond", "purple", "large")), "a large purple diamond"),
        (PLACED, "a red circle on the left and a blue square on the right"),
        (YELLOW_STAR_ON_WHITE, "a yellow star on a white background"),
    ],
    "de": [
        (RED_CIRCLE, "ein roter Kreis"),
        (spec(("square", "red")), "ein rotes Quadrat"),
        (spec(("diamond", "red", "small")), "eine kleine rote Raute"),
        (TWO_BLUE_STARS, "zwei blaue Sterne"),
        (spec(("triangle", "orange")), "ein orangefarbenes Dreieck"),
        (PLACED, "ein roter Kreis links und ein blaues Quadrat rechts"),
        (spec(("triangle", "green"), background="black"), "ein grünes Dreieck auf schwarzem Hintergrund"),
    ],
    "fr": [
        (spec(("square", "blue")), "un carré bleu"),
        (spec(("star", "blue")), "une étoile bleue"),
        (spec(("star", "green", "small")), "une petite étoile verte"),
        (spec(("star", "orange"), ("star", "orange")), "deux étoiles orange"),
        (spec(*[("circle", "purple", "large")] * 3), "trois grands cercles violets"),
        (PLACED, "un cercle rouge à gauche et un carré bleu à droite"),
        (YELLOW_STAR_ON_WHITE, "une étoile jaune sur fond blanc"),
    ],
    "es": [
        (spec(("circle", "red", "small")), "un círculo rojo pequeño"),
        (spec(("star", "blue", "large")), "una estrella azul grande"),
        (spec(("star", "yellow"), ("star", "yellow")), "dos estrellas amarillas"),
        (CIRCLE_AND_SQUARE, "un círculo rojo y un cuadrado azul"),
    ],
    "pt": [
        (spec(("circle", "red", "small")), "um círculo vermelho pequeno"),
        (TWO_BLUE_STARS, "duas estrelas azuis"),
        (spec(("square", "red"), ("square", "red")), "dois quadrados vermelhos"),
        (spec(("star", "orange")), "uma estrela laranja"),
    ],
    "tr": [
        (RED_CIRCLE, "kırmızı bir daire"),
        (spec(("circle", "red", "small")), "küçük kırmızı bir daire"),
        (TWO_BLUE_STARS, "iki mavi yıldız"),
        (PLACED, "solda kırmızı bir daire ve sağda mavi bir kare"),
        (YELLOW_STAR_ON_WHITE, "beyaz zemin üzerinde sarı bir yıldız"),
    ],
    "vi": [
        (spec(("circle", "red", "small")), "một hình tròn nhỏ màu đỏ"),
        (spec(("star", "yellow"), ("star", "yellow")), "hai ngôi sao vàng"),
        (CIRCLE_AND_SQUARE, "một hình tròn đỏ và một hình vuông xanh dương"),
    ],
    "ru": [
        (RED_CIRCLE, "красный круг"),
        (spec(("star", "red")), "красная звезда"),
        (spec(("circle", "red"), ("circle", "red")), "два красных круга"),
        (spec(("star", "red"), ("star", "red")), "две красные звезды"),
        (spec(*[("diamond", "blue", "small")] * 3), "три маленьких синих ромба"),
        (PLACED, "красный круг слева и синий квадрат справа"),
        (spec(("square", "blue"), background="white"), "синий квадрат на белом фоне"),
    ],
    "uk": [
        (spec(("circle", "blue")), "синє коло"),
        (spec(("star", "blue")), "синя зірка"),
        (spec(("square", "blue")), "синій квадрат"),
        (spec(("circle", "red"), ("circle", "red")), "два червоні кола"),
        (spec(("star", "red"), ("star", "red")), "дві червоні зірки"),
    ],
    "el": [
        (RED_CIRCLE, "ένας κόκκινος κύκλος"),
        (spec(("square", "red")), "ένα κόκκινο τετράγωνο"),
        (spec(*[("star", "red")] * 3), "τρία κόκκινα αστέρια"),
        (spec(*[("diamond", "green", "small")] * 3), "τρεις μικροί πράσινοι ρόμβοι"),
        (spec(("triangle", "blue")), "ένα μπλε τρίγωνο"),
    ],
    "ar": [
        (RED_CIRCLE, "دائرة حمراء"),
        (spec(("square", "red")), "مربع أحمر"),
        (spec(("circle", "red"), ("circle", "red")), "دائرتان حمراوان"),
        (spec(("square", "blue"), ("square", "blue")), "مربعان أزرقان"),
        (THREE_RED_CIRCLES, "ثلاث دوائر حمراء"),
        (spec(*[("square", "blue")] * 3), "ثلاثة مربعات زرقاء"),
        (spec(("star", "yellow", "small")), "نجمة صفراء صغيرة"),
        (CIRCLE_AND_SQUARE, "دائرة حمراء ومربع أزرق"),
        (YELLOW_STAR_ON_WHITE, "نجمة صفراء على خلفية بيضاء"),
    ],
    "he": [
        (RED_CIRCLE, "עיגול אדום"),
        (spec(("circle", "red"), ("circle", "red")), "שני עיגולים אדומים"),
        (spec(*[("star", "yellow")] * 3), "שלושה כוכבים צהובים"),
        (PLACED, "עיגול אדום משמאל וריבוע כחול מימין"),
    ],
    "hi": [
        (RED_CIRCLE, "एक लाल वृत्त"),
        (spec(("square", "blue")), "एक नीला वर्ग"),
        (TWO_BLUE_STARS, "दो नीले तारे"),
        (SMALL_GREEN_TRIANGLE, "एक छोटा हरा त्रिभुज"),
        (spec(("star", "yellow"), background="black"), "काली पृष्ठभूमि पर एक पीला तारा"),
        (PLACED, "बाईं ओर एक लाल वृत्त और दाईं ओर एक नीला वर्ग"),
    ],
    "bn": [
        (RED_CIRCLE, "একটি লাল বৃত্ত"),
        (TWO_BLUE_STARS, "দুটি নীল তারা"),
        (spec(*[("triangle", "green", "small")] * 3), "তিনটি ছোট সবুজ ত্রিভুজ"),
    ],
    "th": [
        (RED_CIRCLE, "วงกลมสีแดง"),
        (spec(("circle", "red"), ("circle", "red")), "วงกลมสีแดงสองวง"),
        (spec(*[("star", "yellow")] * 3), "ดาวสีเหลืองสามดวง"),
        (spec(("triangle", "green", "small"), ("triangle", "green", "small")), "สามเหลี่ยมเล็กสีเขียวสองรูป"),
        (CIRCLE_AND_SQUARE, "วงกลมสีแดง และสี่เหลี่ยมจัตุรัสสีน้ำเงิน"),
    ],
    "zh": [
        (RED_CIRCLE, "一个红色的圆形"),
        (spec(("star", "yellow"), ("star", "yellow")), "两颗黄色的星星"),
        (spec(*[("square", "blue", "small")] * 3), "三个蓝色的小正方形"),
        (CIRCLE_AND_SQUARE, "一个红色的圆形和一个蓝色的正方形"),
        (PLACED, "左边是一个红色的圆形，右边是一个蓝色的正方形"),
        (YELLOW_STAR_ON_WHITE, "白色背景上有一颗黄色的星星"),
    ],
    "ja": [
        (RED_CIRCLE, "赤い丸"),
        (spec(("circle", "red"), ("circle", "red")), "赤い丸二つ"),
        (spec(("square", "blue", "small")), "小さな青い四角"),
        (CIRCLE_AND_SQUARE, "赤い丸と青い四角"),
        (PLACED, "左に赤い丸、右に青い四角"),
        (YELLOW_STAR_ON_WHITE, "白い背景に黄色い星"),
    ],
    "ko": [
        (RED_CIRCLE, "빨간 원"),
        (spec(("star", "yellow"), ("star", "yellow")), "노란 별 두 개"),
        (CIRCLE_AND_SQUARE, "빨간 원과 파란 정사각형"),
        (spec(("diamond", "yellow"), ("circle", "red")), "노란 마름모와 빨간 원"),
        (spec(("square", "blue", "small"), background="white"), "흰색 배경에 작은 파란 정사각형"),
    ],
}

SCRIPT_NAMES = {  # words in the Unicode character names of each script's letters
    "Latn": ("LATIN",),
    "Cyrl": ("CYRILLIC",),
    "Grek": ("GREEK",),
    "Arab": ("ARABIC",),
    "Hebr": ("HEBREW",),
    "Deva": ("DEVANAGARI",),
    "Beng": ("BENGALI",),
    "Thai": ("THAI",),
    "Hans": ("CJK UNIFIED",),
    "Jpan": ("CJK UNIFIED", "HIRAGANA", "KATAKANA"),
    "Kore": ("HANGUL",),
}


def _random_specs(count: int) -> list[CaptionSpec]:
    rng = random.Random(5)
    return [describe(scene, rng) for scene in random_scenes(count, "captions")]


def test_at_least_16_languages_in_at_least_10_scripts():
    assert len(LANGUAGES) >= 16 and len({m.SCRIPT for m in LANGUAGES.values()}) >= 10


@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_hand_checked_sentences(lang):
    for case, expected in EXPECTED[lang]:
        assert caption(case, lang) == expected


def test_every_language_has_hand_checked_sentences():
    assert set(EXPECTED) == set(LANGUAGES)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_letters_are_all_in_the_language_script(lang):
    """Catches look-alike letters (a Latin 'o' inside a Russian word) that would read fine but
    render, tokenize and search differently."""
    allowed = SCRIPT_NAMES[LANGUAGES[lang].SCRIPT]
    for case in _random_specs(200):
        for char in caption(case, lang):
            if unicodedata.category(char)[0] in "LM":
                assert any(word in unicodedata.name(char) for word in allowed), (lang, char, caption(case, lang))


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_different_descriptions_read_differently(lang):
    """Two specs get the same sentence only if they say the same things (same groups, same
    background); a word missing from a table or two colours sharing a word would break this."""
    seen: dict[str, tuple] = {}
    for case in _random_specs(600):
        meaning = (tuple(groups(case)), case.background)
        assert seen.setdefault(caption(case, lang), meaning) == meaning


def test_unknown_language_is_a_clear_error():
    with pytest.raises(EngineError, match="no scene captions in 'xx'"):
        caption(RED_CIRCLE, "xx")


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_caption_renders_without_missing_glyphs(lang):
    render = pytest.importorskip("engine.render", reason="the renderer (engine.render) is not in this checkout yet")
    config = render.RenderConfig(width=224, height=224, lang=lang)
    renderer = render.Renderer(config)
    for text in {caption(case, lang) for case in _random_specs(150)}:
        assert renderer.render(text).notdef == 0, text


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_captions_mostly_fit_the_cpu_tiny_text_page(lang):
    """The cpu-tiny model reads text on a 64 px page at 8 px: a caption cut short loses objects,
    so `describe` keeps long scenes terse. Guards against a wordier table or phrasing."""
    render = pytest.importorskip("engine.render", reason="the renderer (engine.render) is not in this checkout yet")
    from engine.model import architecture, inputs_for
    from engine.model.inputs import render_config

    renderer = render.Renderer(render_config(architecture("cpu-tiny"), inputs_for("cpu-tiny", text_grid=False), lang))
    texts = [caption(case, lang) for case in _random_specs(300)]
    truncated = sum(renderer.render(text).truncated for text in texts)
    assert truncated / len(texts) < 0.25
