"""Oracle: on single-font texts our pixels match Pillow's RAQM layout (HarfBuzz + FriBiDi inside
libraqm, FreeType rasterization) with the same font file, face and size.

The two differ only in hinting and sub-pixel placement, so the comparison aligns the images (the
best shift within a few pixels) and then asks for highly correlated grey levels and for ink that
lies within one pixel of the other's ink.
"""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, features

from engine.paths import fonts_dir
from engine.render import RenderConfig
from engine.render.renderer import cached_renderer

if not features.check("raqm"):
    pytest.skip("this Pillow build lacks libraqm, the oracle's shaping layout", allow_module_level=True)

CASES = [
    ("Hello, wonderful world", "NotoSans-Regular.ttf", 0, "ltr", "en"),
    ("Съешь же ещё этих булок", "NotoSans-Regular.ttf", 0, "ltr", "ru"),
    ("مرحبا بالعالم", "NotoSansArabic-Regular.ttf", 0, "rtl", "ar"),
    ("שלום עולם", "NotoSansHebrew-Regular.ttf", 0, "rtl", "he"),
    ("नमस्ते दुनिया क्षत्रिय", "NotoSansDevanagari-Regular.ttf", 0, "ltr", "hi"),
    ("ভাষা কি", "NotoSansBengali-Regular.ttf", 0, "ltr", "bn"),
    ("ภาษาไทย", "NotoSansThai-Regular.ttf", 0, "ltr", "th"),
    ("ខ្ញុំស្រលាញ់", "NotoSansKhmer-Regular.ttf", 0, "ltr", "km"),
    ("日本語の文章", "NotoSansCJK-Regular.ttc", 0, "ltr", "ja"),
    ("한국어 문장", "NotoSansCJK-Regular.ttc", 1, "ltr", "ko"),
]


def pillow_raqm(text, file, face, direction, lang, renderer):
    font = ImageFont.truetype(str(fonts_dir() / file), renderer.config.font_size, index=face, layout_engine=ImageFont.Layout.RAQM)
    image = Image.new("L", (renderer.config.width, renderer.config.height), 255)
    baseline = renderer.config.margin + renderer.ascent
    ImageDraw.Draw(image).text((renderer.config.margin, baseline), text, font=font, fill=0, anchor="ls", direction=direction, language=lang)
    return np.asarray(image)


def near(mask):
    """The mask grown by one pixel in every direction."""
    grown = mask.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown |= np.roll(mask, (dy, dx), axis=(0, 1))
    return grown


def best_aligned(ours, theirs):
    """`theirs` shifted (bounding boxes first, then +-3 px) to correlate best with `ours`."""

    def corner(pixels):
        ink = pixels < 128
        return np.flatnonzero(ink.any(axis=1))[0], np.flatnonzero(ink.any(axis=0))[0]

    (r0, c0), (r1, c1) = corner(ours), corner(theirs)
    candidates = (np.roll(theirs, (r0 - r1 + dy, c0 - c1 + dx), axis=(0, 1)) for dy in range(-3, 4) for dx in range(-3, 4))
    return max(candidates, key=lambda shifted: np.corrcoef(ours.ravel(), shifted.ravel())[0, 1])


@pytest.mark.parametrize("text, file, face, direction, lang", CASES)
def test_matches_pillow_raqm_on_single_font_text(text, file, face, direction, lang):
    renderer = cached_renderer(RenderConfig(lang=lang))
    ours = renderer.render(text).pixels
    used = {(run.font_file, run.face_index) for line in renderer.layout(text) for run in line if run.text.strip()}
    assert used == {(file, face)}  # one font, the same as Pillow's, so the comparison is fair
    theirs = best_aligned(ours, pillow_raqm(text, file, face, direction, lang, renderer))
    correlation = np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]
    a, b = ours < 128, theirs < 128
    assert (a & near(b)).sum() / a.sum() > 0.95 and (b & near(a)).sum() / b.sum() > 0.95
    assert correlation > 0.7, f"grey-level correlation {correlation:.3f}"  # hinting blurs edges differently
