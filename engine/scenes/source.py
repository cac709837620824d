"""The built-in training sources: `--data scenes:count=20000,seed=0` (pictures and captions) and
`--data scene-pairs:count=20000,seed=0` (captions and their translations).

Pictures are drawn once into the user's cache (keyed by seed, count and size) so the trainer's
photo cache can read them like any photo folder; every picture gets one caption per language,
each from its own description, so the trainer sees varied phrasings across epochs. The pairs are
the scenes' translation data, as Tatoeba is Flickr8k's: one description worded in two languages.
"""

from __future__ import annotations

import random

from tqdm import tqdm

from engine.errors import EngineError
from engine.scenes.examples import queries
from engine.scenes.files import picture_name, write_pictures
from engine.scenes.languages import LANGUAGES, caption
from engine.scenes.scene import random_scenes
from engine.scenes.spec import describe
from engine.train.data import ImageCaptions, TextPairs, register_source
from engine.train.image_cache import default_cache_dir


@register_source("scenes")
def scenes(count: int = 20000, seed: int | str = 0, size: int = 64, langs: str | None = None) -> ImageCaptions:
    """`count` scenes of training seed `seed` drawn at `size` px, captioned in `langs` (default: all 18)."""
    n, px = count, size
    wanted = _languages(langs)
    if n < 1 or px < 8:
        raise EngineError(f"scenes: need count >= 1 and size >= 8 (got count={n}, size={px})")
    collection = random_scenes(n, f"train:{seed}")
    directory = default_cache_dir().parent / "scenes" / f"train-{seed}-{n}-{px}"
    if not directory.is_dir():  # written aside and renamed: present means complete
        write_pictures(collection, directory, px)
    pool = ImageCaptions(images=[directory / picture_name(i) for i in range(n)])
    for lang in tqdm(wanted, desc=f"captioning {n} scenes", unit="language", leave=False):
        for index, (_, text) in enumerate(queries(collection, lang, seed=f"train:{seed}:{lang}")):
            pool.caption_image.append(index)
            pool.caption_text.append(text)
            pool.caption_lang.append(lang)
    return pool


@register_source("scene-pairs")
def scene_pairs(count: int = 20000, seed: int | str = 0, langs: str | None = None, pivot: str | None = None) -> TextPairs:
    """For each of `count` scenes and each language: one description of the scene worded in that
    language and in another one — the `pivot` language if given (as translation corpora pair
    every language with English), else one drawn at random."""
    n, wanted = count, _languages(langs)
    if pivot is not None and pivot not in LANGUAGES:
        raise EngineError(f"scene-pairs: no captions in pivot {pivot!r}; choose from {', '.join(LANGUAGES)}")
    if n < 1 or len(set(wanted) | ({pivot} if pivot else set())) < 2:
        raise EngineError(f"scene-pairs: need count >= 1 and at least two languages (got count={n}, langs={wanted}, pivot={pivot})")
    rng = random.Random(f"scene-pairs:{seed}")
    pool = TextPairs()
    for scene in tqdm(random_scenes(n, f"train:{seed}"), desc="pairing scene captions", unit="scene", leave=False):
        for lang in wanted:
            if lang == pivot:
                continue
            spec = describe(scene, rng)
            other = pivot or rng.choice([code for code in wanted if code != lang])
            pool.left.append(caption(spec, lang))
            pool.right.append(caption(spec, other))
            pool.lang.append(lang)
            pool.right_lang.append(other)
    return pool


def _languages(langs: str | None) -> list[str]:
    """`a+b+c` -> the codes, checked (default: every language)."""
    wanted = langs.split("+") if langs else list(LANGUAGES)
    unknown = [lang for lang in wanted if lang not in LANGUAGES]
    if unknown:
        raise EngineError(f"scenes: no captions in {', '.join(unknown)}; choose languages from {', '.join(LANGUAGES)}")
    return wanted
