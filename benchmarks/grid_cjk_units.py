"""CJK on the patch grid (`--text-grid`): one cell run per character (UAX #14, as shipped) or per
word (ICU's dictionary words)? Measures, on the first --lines Tatoeba lines of Chinese,
Japanese, Cantonese, Wu and Korean, at each preset's page (image/patch/text px):

- inked patches per text (the sequence the model reads with drop_blank: its compute);
- texts cut short (the page is full before the text ends);
- distinct inked patches per 100 characters: how many different patch images the model must
  learn to read this text (fewer = each is seen more often; per character, an ideograph is
  always the same patch, per word it lands at as many offsets as it has positions in words).

Per-word units are made by dropping UAX #14 breaks between two CJK characters where ICU's word
iterator sees no boundary; nothing else changes.

    .venv/bin/python benchmarks/grid_cjk_units.py --lines 1000
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from unittest import mock

import icu

from engine.cli import run_reporting_errors
from engine.errors import EngineError
from engine.eval.tatoeba import load_pairs
from engine.paths import shared_data_dir
from engine.render import RenderConfig, Renderer
from engine.render import renderer as renderer_module
from engine.render.segment import line_breaks, word_bounds

LANGUAGES = ("cmn", "jpn", "yue", "wuu", "kor")
PRESETS = {"cpu-tiny 64/8, 8 px": (64, 8, 8), "cpu-small 112/16, 10 px": (112, 16, 10), "b16 224/16, 16 px": (224, 16, 16)}
_PER_CHARACTER = (icu.ULineBreak.H2, icu.ULineBreak.H3, 14, 37)  # UAX #14 ID, CJ and Hangul syllables


def per_character(ch: str) -> bool:
    return icu.Char.getIntPropertyValue(ch, icu.UProperty.LINE_BREAK) in _PER_CHARACTER


def word_line_breaks(text: str) -> list[int]:
    """UAX #14 breaks, less those between two CJK characters inside one ICU word."""
    words = set(word_bounds(text))
    return [b for b in line_breaks(text) if b == len(text) or b in words or not (per_character(text[b - 1]) and per_character(text[b]))]


def measure(texts: list[str], config: RenderConfig, patch: int) -> dict[str, float]:
    renderer = Renderer(config)
    inked, cut, distinct, characters = 0, 0, set(), 0
    for text in texts:
        out = renderer.render(text)
        cut += out.truncated
        pixels = out.pixels
        rows, cols = pixels.shape[0] // patch, pixels.shape[1] // patch
        blocks = pixels[: rows * patch, : cols * patch].reshape(rows, patch, cols, patch).transpose(0, 2, 1, 3)
        mask = (blocks < 255).any(axis=(2, 3))
        inked += int(mask.sum())
        distinct.update(hashlib.blake2b(block.tobytes(), digest_size=8).digest() for block in blocks[mask])
        characters += len(text)
    return {"patches": inked / len(texts), "cut": 100 * cut / len(texts), "distinct": 100 * len(distinct) / characters}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1000, help="Tatoeba lines per language (default 1000)")
    args = parser.parse_args(argv)
    data = shared_data_dir()
    folder = data / "translation" / "tatoeba_laser_v1" if data else None
    if folder is None or not folder.is_dir():
        raise EngineError("Tatoeba (translation/tatoeba_laser_v1) is absent: set ENGINE_DATA to the shared data folder")
    print("| language | page | units | inked patches per text | cut short % | distinct patches per 100 chars |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for lang in LANGUAGES:
        texts = load_pairs(folder, lang, args.lines)[0]
        hint = {"cmn": "zh", "yue": "zh-Hant", "wuu": "zh", "jpn": "ja", "kor": "ko"}[lang]
        for page, (size, patch, text_px) in PRESETS.items():
            config = RenderConfig(width=size, height=size, font_size=text_px, lang=hint, grid=patch)
            for units in ("character", "word"):
                if units == "word":
                    with mock.patch.object(renderer_module, "line_breaks", word_line_breaks):
                        row = measure(texts, config, patch)
                else:
                    row = measure(texts, config, patch)
                print(f"| {lang} | {page} | {units} | {row['patches']:.1f} | {row['cut']:.1f} | {row['distinct']:.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
