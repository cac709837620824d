"""Named training recipes: one Python `get_config(arg)` per family, as big_vision's configs are.

Each recipe is the exact configuration behind a figure (README "Results"); `engine train
--config NAME` runs it, `engine configs` lists them, `--set key=value` and the flags override a
field. Why Python and not data files: docs/configs.md.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Recipe(NamedTuple):
    module: str  # engine.configs.<module>
    arg: str  # passed to its get_config(arg)
    summary: str  # one line for `engine configs`


RECIPES: dict[str, Recipe] = {
    "clippo-flickr8k-cpu-small": Recipe("flickr8k", "clippo", "CLIPPO on Flickr8k train + Multi30k pairs, 15 CPU minutes (the best measured Flickr8k recipe)"),
    "1t-clip-en-flickr8k-cpu-small": Recipe("flickr8k", "1t-clip-en", "its 1T-CLIP baseline, English SentencePiece vocabulary, trained alike"),
    "1t-clip-all-flickr8k-cpu-small": Recipe("flickr8k", "1t-clip-all", "its 1T-CLIP baseline, vocabulary over every training language, trained alike"),
    "2t-clip-en-flickr8k-cpu-small": Recipe("flickr8k", "2t-clip-en", "its 2T-CLIP baseline (a separate text tower), English vocabulary; never trained here"),
    "2t-clip-all-flickr8k-cpu-small": Recipe("flickr8k", "2t-clip-all", "its 2T-CLIP baseline, vocabulary over every training language; never trained here"),
    "clippo-scenes-cpu-tiny": Recipe("scenes", "clippo", "the demo's CLIPPO: built-in scenes + translation pairs, 9.5 CPU minutes"),
    "1t-clip-en-scenes-cpu-tiny": Recipe("scenes", "1t-clip-en", "the demo's baseline: the same, 48-piece English vocabulary"),
    "clippo-teacher-cpu-small": Recipe("teacher", "clippo-15m", "CLIPPO taught by multilingual-e5-small: Flickr8k + Tatoeba training pairs, 15 CPU minutes"),
    "clippo-teacher-cpu-small-2h": Recipe("teacher", "clippo-2h", "the same over more data for 7,000 steps (~2 CPU hours; run it in sittings with --resume)"),
    "clippo-teacher-cpu-small-2h-crop": Recipe("teacher", "clippo-2h-crop", "the 2-hour recipe with random photo crops (English R@10 23.9 %)"),
    "clippo-teacher-cpu-small-2h-crop-sd-ema": Recipe(
        "teacher", "clippo-2h-crop-sd-ema", "the cropped 2-hour recipe with stochastic depth 0.1 and a weight average: the best English R@10 (27.7 % in 2 h)"
    ),
    "clippo-teacher-cpu-small-2h-crop-sd-ema-mean": Recipe(
        "teacher",
        "clippo-2h-crop-sd-ema-mean",
        "the same with photos aimed at the mean of their captions, drop path 0.2, EMA 0.9995, 5,800 steps (English R@10 28.9 %)",
    ),
    "clippo-teacher-cpu-small-2h-crop-sd-ema-mean-2cap": Recipe(
        "teacher",
        "clippo-2h-crop-sd-ema-mean-2cap",
        "the same with two captions of each photo per step, crops of at least 30 %, 6,200 steps (English R@10 29.6 %)",
    ),
    "clippo-teacher-cpu-small-2h-crop-sd-ema-mean-2cap-110m": Recipe(
        "teacher",
        "clippo-2h-crop-sd-ema-mean-2cap-110m",
        "the same on a 110-minute time budget (the step count follows the machine's speed; one sitting): English R@10 30.4 % with AMX",
    ),
    "clippo-teacher-cpu-small-2h-11lang": Recipe(
        "teacher", "clippo-2h11", "the 2-hour recipe with captions in all 11 Flickr8k languages and more Tatoeba rows (7,000 steps)"
    ),
    "clippo-teacher-cpu-small-2h-11lang-crop": Recipe(
        "teacher", "clippo-2h11-crop", "the 11-language 2-hour recipe with random crops of at least half of each training photo"
    ),
    "1t-clip-en-teacher-cpu-small": Recipe("teacher", "1t-clip-en-15m", "its 1T-CLIP baseline (English vocabulary), taught by the same teacher alike"),
    "1t-clip-en-teacher-cpu-small-2h": Recipe("teacher", "1t-clip-en-2h", "its 1T-CLIP baseline for the 2-hour recipe"),
    "1t-clip-en-teacher-cpu-small-2h-11lang": Recipe("teacher", "1t-clip-en-2h11", "its 1T-CLIP baseline for the 11-language 2-hour recipe"),
    "1t-clip-en-teacher-cpu-small-2h-11lang-crop": Recipe("teacher", "1t-clip-en-2h11-crop", "its 1T-CLIP baseline for the cropped 11-language recipe"),
    "clippo-text-teacher-cpu-small": Recipe(
        "teacher", "text", "the shipped text model: CLIPPO taught by e5-small on Tatoeba + scene-caption pairs (permissive), ~30 CPU min"
    ),
    "clippo-b16": Recipe("paper", "b16", "paper scale (B/16, 224 px, text at 16 px) for a GPU; not trained here"),
}


def recipe(name: str):
    """The Config of a named recipe."""
    from engine.errors import EngineError

    if name not in RECIPES:
        raise EngineError(f"unknown recipe {name!r}; recipes: {', '.join(RECIPES)}")
    entry = RECIPES[name]
    return importlib.import_module(f"engine.configs.{entry.module}").get_config(entry.arg)
