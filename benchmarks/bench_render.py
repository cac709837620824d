"""Renderer throughput on one core: engine.render against Pillow's RAQM layout on the same texts.

The corpus is fixed: the first --per-lang lines of 40 Tatoeba languages (19 scripts), rendered at
224x224 with 16 px text (CLIPPO's setting). Ours is timed warm (after one pass has filled the
caches, as in training where a worker renders for hours) and also cold (first pass). The
baseline draws each text with Pillow + libraqm (HarfBuzz and FriBiDi inside), one font per text
(the font our fallback picks for the text's first script), wrapping at spaces with measured
word widths: the straightforward way to render shaped text in Python; and, as a lower bound on
Pillow's cost, the whole text in one unwrapped draw call. The speedup is against the faster.

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/bench_render.py
    .venv/bin/python benchmarks/bench_render.py --per-lang 20 --json
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core: set before numpy loads

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from PIL import Image, ImageDraw, ImageFont, features  # noqa: E402

from engine.cli import run_reporting_errors  # noqa: E402
from engine.errors import EngineError  # noqa: E402
from engine.eval.tatoeba import load_pairs  # noqa: E402
from engine.paths import fonts_dir, shared_data_dir  # noqa: E402
from engine.render import RenderConfig, Renderer  # noqa: E402
from engine.render.text import COMMON, char_info  # noqa: E402

LANGUAGES = (
    "eng deu fra spa pol tur vie rus ukr bul ell hye kat heb yid ara pes urd uig amh hin mar ben tam "
    "tel mal tha khm cmn jpn kor yue wuu kaz mon tat ind swh isl lit"
).split()


def load_corpus(per_lang: int) -> list[str]:
    """The same lines every run: the first `per_lang` sentences of each language, interleaved."""
    shared = shared_data_dir()
    folder = shared / "translation" / "tatoeba_laser_v1" if shared else None
    if folder is None or not folder.is_dir():
        raise EngineError("the benchmark corpus is Tatoeba: set ENGINE_DATA to the shared data folder")
    per_language = []
    for lang in LANGUAGES:
        if lang == "eng":
            per_language.append(load_pairs(folder, "deu", per_lang)[1])
        else:
            per_language.append(load_pairs(folder, lang, per_lang)[0])
    return [text for group in zip(*per_language) for text in group]


def scripts_of(texts: list[str]) -> list[str]:
    return sorted({script for text in texts for script, _ in map(char_info, text) if script not in COMMON})


def best_rate(texts: list[str], draw: Callable[[str], object], repeats: int) -> tuple[float, float]:
    """Texts per second of the fastest of `repeats` passes: by the wall clock, and per second of
    the thread's CPU time (what a busy shared machine does not take away)."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.thread_time()
        for text in texts:
            draw(text)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.thread_time() - started_cpu)
    return len(texts) / best, len(texts) / best_cpu


class PillowRaqm:
    """The baseline: one Pillow/libraqm font per text, greedy wrapping at spaces."""

    def __init__(self, renderer: Renderer, texts: list[str]) -> None:
        """Choose each text's font before timing: the font of its first run in our layout."""
        self.renderer = renderer
        self.config = renderer.config
        loaded: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        self.font_of: dict[str, ImageFont.FreeTypeFont] = {}
        for text in texts:
            runs = [run for line in renderer.layout(text) for run in line if run.text.strip()]
            key = (runs[0].font_file, runs[0].face_index) if runs else ("NotoSans-Regular.ttf", 0)
            if key not in loaded:
                loaded[key] = ImageFont.truetype(str(fonts_dir() / key[0]), self.config.font_size, index=key[1], layout_engine=ImageFont.Layout.RAQM)
            self.font_of[text] = loaded[key]

    def draw(self, text: str) -> Image.Image:
        font = self.font_of[text]
        config = self.config
        image = Image.new("L", (config.width, config.height), 255)
        pen = ImageDraw.Draw(image)
        avail = config.width - 2 * config.margin
        space = font.getlength(" ")
        lines, line, width = [], [], 0.0
        for word in text.split():
            size = font.getlength(word)
            if line and width + space + size > avail:
                lines.append(" ".join(line))
                line, width = [], 0.0
            width += size + (space if line else 0.0)
            line.append(word)
        lines.append(" ".join(line))
        for number, content in enumerate(lines[: self.renderer.max_lines]):
            baseline = config.margin + self.renderer.ascent + number * self.renderer.line_height
            pen.text((config.margin, baseline), content, font=font, fill=0, anchor="ls")
        return image

    def draw_unwrapped(self, text: str) -> Image.Image:
        """The cheapest Pillow call: the whole text shaped and drawn once, on one line."""
        config = self.config
        image = Image.new("L", (config.width, config.height), 255)
        ImageDraw.Draw(image).text((config.margin, config.margin + self.renderer.ascent), text, font=self.font_of[text], fill=0, anchor="ls")
        return image


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Run under flock /tmp/engine-cpu.lock on the shared machine.")
    parser.add_argument("--per-lang", type=int, default=100, help="lines per language (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the fastest counts (default 3)")
    parser.add_argument("--size", type=int, default=224, help="canvas side in px (default 224)")
    parser.add_argument("--font-size", type=int, default=16, help="font size in px (default 16)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.per_lang < 1 or args.repeats < 1:
        raise EngineError("--per-lang and --repeats must be at least 1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    texts = load_corpus(args.per_lang)
    renderer = Renderer(RenderConfig(args.size, args.size, args.font_size, 4))
    started = time.perf_counter()
    outputs = [renderer.render(text) for text in texts]  # cold pass: fills the caches
    cold = len(texts) / (time.perf_counter() - started)
    ours, ours_cpu = best_rate(texts, renderer.render, args.repeats)
    baseline_name = "Pillow RAQM" if features.check("raqm") else "Pillow basic (no libraqm in this build)"
    baseline = PillowRaqm(renderer, texts)
    baseline.draw(texts[0])
    wrapped = best_rate(texts, baseline.draw, max(1, args.repeats - 1))[0]
    unwrapped = best_rate(texts, baseline.draw_unwrapped, max(1, args.repeats - 1))[0]
    theirs = max(wrapped, unwrapped)  # the speedup is taken against the faster Pillow variant
    result = {
        "texts": len(texts),
        "languages": len(LANGUAGES),
        "scripts": scripts_of(texts),
        "config": f"{args.size}/{args.font_size}",
        "texts_per_s": round(ours, 1),
        "texts_per_cpu_s": round(ours_cpu, 1),
        "cold_texts_per_s": round(cold, 1),
        "baseline": baseline_name,
        "baseline_texts_per_s": round(theirs, 1),
        "baseline_wrapped_texts_per_s": round(wrapped, 1),
        "baseline_unwrapped_texts_per_s": round(unwrapped, 1),
        "speedup": round(ours / theirs, 2),
        "notdef_total": sum(out.notdef for out in outputs),
        "truncated": sum(out.truncated for out in outputs),
        "mean_lines": round(sum(out.lines for out in outputs) / len(outputs), 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['texts']} texts, {result['languages']} Tatoeba languages, {len(result['scripts'])} scripts, {result['config']}, one core")
    print("| renderer | texts/s |\n| --- | ---: |")
    print(f"| engine.render (warm) | {result['texts_per_s']:,.0f} |")
    print(f"| engine.render (warm), per second of CPU time | {result['texts_per_cpu_s']:,.0f} |")
    print(f"| engine.render (cold, first pass) | {result['cold_texts_per_s']:,.0f} |")
    print(f"| {baseline_name}, wrapped at spaces | {result['baseline_wrapped_texts_per_s']:,.0f} |")
    print(f"| {baseline_name}, one unwrapped line | {result['baseline_unwrapped_texts_per_s']:,.0f} |")
    print(
        f"speedup {result['speedup']}x (against the faster Pillow row); .notdef glyphs {result['notdef_total']}; "
        f"truncated {result['truncated']}; mean lines {result['mean_lines']}"
    )


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
