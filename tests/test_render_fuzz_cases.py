"""The slowest inputs benchmarks/fuzz_render.py found (first, second and third rounds) render, in the
right shape, within a generous bound: a guard against stalls, not a timing test."""

import json
import time
from pathlib import Path

import pytest

from engine.render import RenderConfig
from engine.render.renderer import Renderer

CASES = json.loads((Path(__file__).parent / "data" / "fuzz_slowest.json").read_text(encoding="utf-8"))
SIZES = {"224/16": RenderConfig(224, 224, 16, 4), "112/10": RenderConfig(112, 112, 10, 4), "64/8": RenderConfig(64, 64, 8, 4)}


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['kind']}-{c['size']}" for i, c in enumerate(CASES)])
def test_slowest_fuzz_inputs_render_in_bounded_time(case):
    config = SIZES[case["size"]]
    renderer = Renderer(config)
    started = time.perf_counter()
    out = renderer.render(case["text"])
    assert time.perf_counter() - started < 5.0
    assert out.pixels.shape == (config.height, config.width) and 0 <= out.lines <= renderer.max_lines
