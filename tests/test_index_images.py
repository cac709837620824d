"""Image decoding for indexing: awkward modes are converted faithfully, broken files are refused with a reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engine import images
from engine.images import UnreadableImage, load_rgb


def _save(image: Image.Image, path, **options):
    image.save(path, **options)
    return path


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    path = _save(Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16)), tmp_path / "g16.png")
    assert Image.open(path).mode.startswith("I")
    assert np.asarray(load_rgb(path))[0, 0].tolist() == [128, 128, 128]


def test_alpha_and_palette_transparency_become_white(tmp_path):
    rgba = Image.new("RGBA", (6, 6), (255, 0, 0, 0))
    rgba.putpixel((0, 0), (0, 0, 255, 255))
    picture = np.asarray(load_rgb(_save(rgba, tmp_path / "a.png")))
    assert picture[0, 0].tolist() == [0, 0, 255] and picture[3, 3].tolist() == [255, 255, 255]
    palette = rgba.convert("P")
    gif = _save(palette, tmp_path / "p.gif", transparency=palette.getpixel((3, 3)))
    assert np.asarray(load_rgb(gif))[3, 3].tolist() == [255, 255, 255]


def test_cmyk_becomes_rgb(tmp_path):
    path = _save(Image.new("CMYK", (10, 10), (0, 255, 255, 0)), tmp_path / "c.jpg")  # pure red ink
    red, green, blue = np.asarray(load_rgb(path))[5, 5].astype(int)
    assert red > 200 and green < 60 and blue < 60


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    path = _save(Image.new("RGB", (40, 20), "green"), tmp_path / "r.jpg", exif=exif)
    assert load_rgb(path).size == (20, 40)


def test_large_pictures_are_reduced_but_keep_the_short_side(tmp_path):
    path = _save(Image.new("RGB", (1000, 500), "blue"), tmp_path / "big.png")
    picture = load_rgb(path, min_side=112)
    assert min(picture.size) >= 112 and picture.size[0] == 2 * picture.size[1] and picture.size[0] < 1000


@pytest.mark.parametrize("kind", ["empty", "text", "truncated"])
def test_broken_files_are_refused_with_a_reason(tmp_path, kind):
    path = tmp_path / f"{kind}.jpg"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("<html>not a picture</html>")
    else:
        buffer = io.BytesIO()
        Image.effect_noise((200, 200), 50).convert("RGB").save(buffer, "JPEG")
        path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(UnreadableImage) as caught:
        load_rgb(path)
    assert str(caught.value)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    path = _save(Image.new("L", (300, 300)), tmp_path / "bomb.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 300 * 300 - 1)  # a real 90 Mpx file would slow the suite
    with pytest.raises(UnreadableImage, match="decompression bomb"):
        load_rgb(path)


def test_bytes_are_accepted_like_paths(tmp_path):
    path = _save(Image.new("RGB", (5, 5), "red"), tmp_path / "x.webp", lossless=True)
    assert np.asarray(load_rgb(path.read_bytes()))[0, 0].tolist() == [255, 0, 0]
