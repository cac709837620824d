"""`engine render`: draw one text to a PNG, or many texts (one per line) onto a contact sheet."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np
from PIL import Image

from engine.atomic import atomic_path
from engine.errors import EngineError
from engine.render.renderer import Rendered, RenderConfig, Renderer

SHEET_GAP = 4  # px of grey between the tiles of a contact sheet
SHEET_MAX_TEXTS = 10_000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render text to pixels exactly as the model sees it",
        description="Render TEXT (any script) to a PNG the way the model reads it: shaped with "
        "HarfBuzz, bidi-ordered, wrapped, dark text on white. With --file, render every line of a "
        "UTF-8 file onto one contact sheet.",
        epilog="examples:\n  engine render 'Hello, мир, مرحبا, 你好' -o hello.png\n"
        "  engine render 'こんにちは' --lang ja --size 112 --font-size 10\n"
        "  engine render --file texts.txt --sheet sheet.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("text", nargs="?", help="the text to render (omit with --file)")
    parser.add_argument("-o", "--output", type=Path, help="PNG to write (default: render-<text>.png here)")
    parser.add_argument("--file", type=Path, help="UTF-8 text file: one text per line, for --sheet")
    parser.add_argument("--sheet", type=Path, help="contact sheet PNG to write from --file")
    parser.add_argument("--size", type=int, default=224, help="square canvas side in px (default 224)")
    parser.add_argument("--font-size", type=int, default=16, help="font size in px (default 16)")
    parser.add_argument("--margin", type=int, default=4, help="margin in px (default 4)")
    parser.add_argument("--lang", help="BCP-47 language hint: picks the CJK face (ja, ko, zh-TW, zh-HK)")
    parser.add_argument(
        "--grid",
        type=int,
        default=0,
        help="lay the text out on a patch grid of this many px, as a model with text_grid sees it (default 0: flowing text; docs/text-layout.md)",
    )
    parser.set_defaults(func=run)


def _default_name(text: str) -> Path:
    """A file name from the text's first ASCII word characters, so repeated calls stay readable."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", text)[:32].strip("-") or "text"
    return Path(f"render-{stem}.png")


def save_png(pixels: np.ndarray, path: Path) -> None:
    """Write a PNG under a temporary name, then rename it into place."""
    if path.parent and not path.parent.exists():
        raise EngineError(f"output folder {path.parent} does not exist")
    with atomic_path(path) as temporary:
        Image.fromarray(pixels).save(temporary, format="PNG")


def contact_sheet(images: list[Rendered]) -> np.ndarray:
    """Tiles in a near-square grid on a grey background."""
    height, width = images[0].pixels.shape
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    sheet = np.full((rows * (height + SHEET_GAP) + SHEET_GAP, columns * (width + SHEET_GAP) + SHEET_GAP), 160, np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = SHEET_GAP + row * (height + SHEET_GAP), SHEET_GAP + column * (width + SHEET_GAP)
        sheet[top : top + height, left : left + width] = image.pixels
    return sheet


def _read_texts(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        raise EngineError(f"cannot read {path}: {error.strerror}") from None
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise EngineError(f"{path} holds no text (one text per line expected)")
    if len(texts) > SHEET_MAX_TEXTS:
        raise EngineError(f"{path} holds {len(texts)} texts; a contact sheet takes at most {SHEET_MAX_TEXTS}")
    return texts


def run(args: argparse.Namespace) -> int:
    if args.size < 8 or args.size > 4096:
        raise EngineError(f"--size must be between 8 and 4096 px, got {args.size}")
    if args.font_size < 4 or args.font_size > args.size:
        raise EngineError(f"--font-size must be between 4 and --size ({args.size}) px, got {args.font_size}")
    if args.margin < 0 or 2 * args.margin >= args.size:
        raise EngineError(f"--margin must leave room on the canvas, got {args.margin}")
    if args.grid < 0 or args.grid > args.size:
        raise EngineError(f"--grid must be between 0 and --size ({args.size}) px, got {args.grid}")
    config = RenderConfig(args.size, args.size, args.font_size, args.margin, args.lang, args.grid)
    if args.file is not None or args.sheet is not None:
        if args.file is None or args.sheet is None or args.text is not None:
            raise EngineError("a contact sheet needs both --file and --sheet, and no TEXT")
        renderer = Renderer(config)
        images = [renderer.render(text) for text in _read_texts(args.file)]
        save_png(contact_sheet(images), args.sheet)
        print(f"wrote {args.sheet} ({len(images)} texts, {sum(i.notdef for i in images)} missing glyphs)")
        return 0
    if args.text is None:
        raise EngineError("give a TEXT to render, or --file texts.txt --sheet sheet.png")
    rendered = Renderer(config).render(args.text)
    output = args.output or _default_name(args.text)
    save_png(rendered.pixels, output)
    notes = [f"{rendered.lines} lines"]
    if rendered.truncated:
        notes.append("truncated: the text did not fit")
    if rendered.notdef:
        notes.append(f"{rendered.notdef} missing glyphs")
    print(f"wrote {output} ({', '.join(notes)})")
    return 0
