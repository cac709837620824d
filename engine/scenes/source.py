"""The `scenes` training source: `engine train --data scenes:count=20000,seed=0`.

Pictures are drawn once into the user's cache (keyed by seed, count and size) so the trainer's
photo cache can read them like any photo folder; every picture gets one caption per language,
each from its own description, so the trainer sees varied phrasings across epochs.
"""
from __future__ import annotations

from engine.errors import EngineError
from engine.scenes.examples import queries
from engine.scenes.files import picture_name, write_pictures
from engine.scenes.languages import LANGUAGES
from engine.scenes.scene import random_scenes
from engine.train.data import ImageCaptions, register_source
from engine.train.image_cache import default_cache_dir


@register_source("scenes")
def scenes(count: str = "20000", seed: str = "0", size: str = "64", langs: str | None = None) -> ImageCaptions:
    """`count` scenes of training seed `seed` drawn at `size` px, captioned in `langs` (default: all 18)."""
    n, px = int(count), int(size)
    wanted = langs.split("+") if langs else list(LANGUAGES)
    unknown = [lang for lang in wanted if lang not in LANGUAGES]
    if n < 1 or px < 8 or unknown:
        raise EngineError(f"scenes: need count >= 1, size >= 8 and languages from {', '.join(LANGUAGES)} (got count={n}, size={px}, unknown={unknown})")
    collection = random_scenes(n, f"train:{seed}")
    directory = default_cache_dir().parent / "scenes" / f"train-{seed}-{n}-{px}"
    if not directory.is_dir():  # written aside and renamed: present means complete
        write_pictures(collection, directory, px)
    pool = ImageCaptions(images=[directory / picture_name(i) for i in range(n)])
    for lang in wanted:
        for index, (_, text) in enumerate(queries(collection, lang, seed=f"train:{seed}:{lang}")):
            pool.caption_image.append(index)
            pool.caption_text.append(text)
            pool.caption_lang.append(lang)
    return pool
