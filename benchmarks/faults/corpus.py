"""A generated folder of good photos mixed with every kind of bad or odd file a collection holds.

Each entry says what a build must do with it: `indexed` (an odd but valid picture, converted),
`skipped` (listed in the manifest with a reason), `folder` (a directory that only looks like
an image, walked like any folder) or `alias` (a symlink to a photo already there: indexed once). Names are bytes so that non-UTF-8 names can be made.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

PALETTE = [(220, 40, 40), (40, 160, 60), (40, 80, 220), (240, 215, 30), (140, 50, 180), (15, 15, 15)]


@dataclass(frozen=True)
class Entry:
    kind: str
    path: Path  # as os.walk will report it (non-UTF-8 bytes surrogate-escaped)
    expect: str  # "indexed" | "skipped" | "folder" | "alias"


def photo(index: int, size: tuple[int, int] = (120, 90)) -> Image.Image:
    """A distinct small picture: two shapes of colours chosen by `index`, on noise."""
    rng = np.random.default_rng(index)
    picture = Image.fromarray(rng.integers(180, 255, (size[1], size[0], 3), dtype=np.uint8))
    pen = ImageDraw.Draw(picture)
    w, h = size
    pen.ellipse((w * 0.1, h * 0.2, w * 0.45, h * 0.8), fill=PALETTE[index % len(PALETTE)])
    pen.rectangle((w * 0.55, h * 0.2, w * 0.9, h * 0.8), fill=PALETTE[(index // len(PALETTE)) % len(PALETTE)])
    return picture


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def good_photos(folder: Path, count: int, start: int = 0) -> list[Path]:
    """`count` plain JPEG/PNG photos, `good-<i>.jpg|png`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + count):
        path = folder / (f"good-{i}.jpg" if i % 2 else f"good-{i}.png")
        photo(i).save(path)
        paths.append(path)
    return paths


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 20_000) -> bytes:
    """A grey PNG of side x side pixels (400 Mpx by default) whose file is under 1 MB."""
    row = b"\x00" + b"\x00" * side
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def huge_header_png(width: int = 1_000_000, height: int = 1_000_000) -> bytes:
    """A PNG header claiming 10^12 pixels, followed by almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b"")


def huge_header_gif() -> bytes:
    """A GIF whose screen and frame claim 65535 x 65535 pixels, in 40 bytes."""
    return (
        b"GIF89a"
        + struct.pack("<HH", 65535, 65535)
        + b"\x80\x00\x00"
        + b"\x00\x00\x00\xff\xff\xff"
        + b",\x00\x00\x00\x00"
        + struct.pack("<HH", 65535, 65535)
        + b"\x00\x02\x02\x44\x01\x00;"
    )


def _huge_sof_jpeg() -> bytes:
    """A real JPEG whose frame header is patched to claim 65000 x 65000 pixels."""
    data = bytearray(encoded(photo(0), "JPEG"))
    at = data.find(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    return encoded(photo(7, (160, 80)), "JPEG", exif=exif.tobytes())


def _animated_gif() -> bytes:
    frames = [photo(i).convert("P") for i in range(3)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _multipage_tiff() -> bytes:
    pages = [photo(i) for i in range(3)]
    return encoded(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def _palette_transparent() -> bytes:
    picture = photo(11).convert("P")
    return encoded(picture, "PNG", transparency=0)


def _bad_crc_png() -> bytes:
    data = bytearray(encoded(photo(12), "PNG"))
    at = data.find(b"IDAT") + 40
    data[at] ^= 0xFF
    return bytes(data)


def bad_file_corpus(folder: Path, good: int = 20) -> list[Entry]:
    """Write the corpus into `folder` (which must not exist yet) and say what a build must do with each entry."""
    folder.mkdir(parents=True)
    jpeg = encoded(photo(3, (320, 240)), "JPEG", quality=90)
    files: list[tuple[str, bytes, bytes | None, str]] = [  # kind, name, content (None: made below), expectation
        ("zero bytes", b"empty.jpg", b"", "skipped"),
        ("JPEG truncated at 10 %", b"cut10.jpg", jpeg[: len(jpeg) // 10], "skipped"),
        ("JPEG truncated at 50 %", b"cut50.jpg", jpeg[: len(jpeg) // 2], "skipped"),
        ("JPEG truncated at 90 %", b"cut90.jpg", jpeg[: len(jpeg) * 9 // 10], "skipped"),
        ("text named .jpg", b"notes.jpg", b"this is not a picture\n" * 20, "skipped"),
        ("HTML named .png", b"page.png", b"<!doctype html><html><body>404 Not Found</body></html>", "skipped"),
        ("SVG named .png", b"vector.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "skipped"),
        ("PNG decompression bomb (20000x20000)", b"bomb.png", png_bomb(), "skipped"),
        ("PNG header claiming 10^12 pixels", b"huge-header.png", huge_header_png(), "skipped"),
        ("GIF claiming 65535x65535", b"huge-header.gif", huge_header_gif(), "skipped"),
        ("JPEG frame claiming 65000x65000", b"huge-sof.jpg", _huge_sof_jpeg(), "skipped"),
        ("PNG with a corrupt data chunk", b"bad-crc.png", _bad_crc_png(), "skipped"),
        ("PNG truncated at 50 %", b"cut50.png", encoded(photo(13), "PNG")[:300], "skipped"),
        ("CMYK JPEG", b"cmyk.jpg", encoded(photo(14).convert("CMYK"), "JPEG"), "indexed"),
        ("16-bit grey PNG", b"grey16.png", encoded(Image.fromarray(np.asarray(photo(15).convert("L"), np.uint16) * 257), "PNG"), "indexed"),
        ("32-bit float TIFF", b"float.tiff", encoded(Image.fromarray(np.asarray(photo(16).convert("L"), np.float32) / 255), "TIFF"), "indexed"),
        ("palette PNG with transparency", b"palette.png", _palette_transparent(), "indexed"),
        ("grey + alpha PNG", b"grey-alpha.png", encoded(photo(17).convert("LA"), "PNG"), "indexed"),
        ("1-bit BMP", b"mono.bmp", encoded(photo(18).convert("1"), "BMP"), "indexed"),
        ("animated GIF", b"animated.gif", _animated_gif(), "indexed"),
        ("WebP with alpha", b"alpha.webp", encoded(photo(19).convert("RGBA"), "WEBP"), "indexed"),
        ("multi-page TIFF", b"pages.tif", _multipage_tiff(), "indexed"),
        ("EXIF-rotated JPEG", b"rotated.jpg", _exif_rotated(), "indexed"),
        ("progressive JPEG", b"progressive.jpeg", encoded(photo(20), "JPEG", progressive=True), "indexed"),
        ("PNG named .jpg", b"really-png.jpg", encoded(photo(21), "PNG"), "indexed"),
        ("upper-case suffix", b"SHOUT.JPG", encoded(photo(22), "JPEG"), "indexed"),
        ("1x1 pixel", b"dot.png", encoded(photo(23, (1, 1)), "PNG"), "indexed"),
        ("10000x10 pixels", b"strip-wide.png", encoded(photo(24, (10000, 10)), "PNG"), "indexed"),
        ("10x10000 pixels", b"strip-tall.png", encoded(photo(25, (10, 10000)), "PNG"), "indexed"),
        ("name with a newline", b"line\nbreak.jpg", encoded(photo(26), "JPEG"), "indexed"),
        ("name with quotes, tabs and spaces", b" a 'b'\t\"c\" .png", encoded(photo(27), "PNG"), "indexed"),
        ("name of 255 bytes", b"x" * 251 + b".jpg", encoded(photo(28), "JPEG"), "indexed"),
        ("name of 255 bytes in UTF-8 (85 CJK chars)", ("图" * 83).encode() + b".jpg", encoded(photo(29), "JPEG"), "indexed"),
        ("name with non-UTF-8 bytes", b"caf\xe9-\xff.jpg", encoded(photo(30), "JPEG"), "skipped"),
    ]
    entries = []
    raw = os.fsencode(folder)
    for kind, name, content, expect in files:
        with open(raw + b"/" + name, "wb") as handle:
            handle.write(content)
        entries.append(Entry(kind, folder / os.fsdecode(name), expect))
    special = [
        ("FIFO named x.jpg", "fifo.jpg", "skipped"),
        ("directory named x.jpg", "folder.jpg", "folder"),
        ("symlink loop named x.jpg", "loop.jpg", "skipped"),
        ("dangling symlink", "dangling.png", "skipped"),
        ("symlink to a good photo", "link.png", "alias"),
    ]
    os.mkfifo(folder / "fifo.jpg")
    (folder / "folder.jpg").mkdir()
    os.symlink("loop.jpg", folder / "loop.jpg")
    os.symlink("does-not-exist.png", folder / "dangling.png")
    goods = good_photos(folder / "good", good)
    os.symlink(goods[0], folder / "link.png")
    entries += [Entry(kind, folder / name, expect) for kind, name, expect in special]
    entries += [Entry("good photo", path, "indexed") for path in goods]
    return entries
