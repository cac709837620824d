"""Which photos, captions and pairs a step draws: language weights and several captions per photo."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import EngineError
from engine.train.batches import Sampler, merge_pools, split_by_weight
from engine.train.data import ImageCaptions, TextPairs, load_source


def _pool() -> ImageCaptions:
    """Four photos, each with three English captions and one German one."""
    pool = ImageCaptions(images=[f"photo{i}.jpg" for i in range(4)])
    for image in range(4):
        for index, lang in enumerate(("en", "en", "en", "de")):
            pool.caption_image.append(image)
            pool.caption_text.append(f"photo {image} caption {index} ({lang})")
            pool.caption_lang.append(lang)
    return pool


def test_each_photo_brings_k_different_captions_of_its_own_in_the_chosen_language():
    pool = _pool()
    sampler = Sampler(pool, TextPairs(), batch_size=8, pair_share=0.0, lang_weights={"en": 1.0}, seed=0, captions_per_photo=2)
    assert sampler.n_images == 4
    for step in range(20):
        plan = sampler.plan(step)
        owners = np.asarray(pool.caption_image)[plan.captions].reshape(4, 2)
        assert (owners == plan.images[:, None]).all()  # photo-major: photo i's captions are rows 2i, 2i+1
        pairs_of_captions = plan.captions.reshape(4, 2)
        assert (pairs_of_captions[:, 0] != pairs_of_captions[:, 1]).all()
        assert all(pool.caption_lang[c] == "en" for c in plan.captions)


def test_a_caption_language_the_photos_lack_is_refused_with_the_languages_they_have():
    with pytest.raises(EngineError, match=r"names zh_Hant, but the captions are in: de, en"):
        Sampler(_pool(), TextPairs(), batch_size=8, pair_share=0.0, lang_weights={"en": 2.0, "zh_Hant": 1.0}, seed=0)


def test_text_pairs_fill_what_whole_photos_leave_and_a_batch_without_pairs_must_split_evenly():
    pairs = TextPairs(left=["ein Hund"] * 10, right=["a dog"] * 10, lang=["de"] * 10, right_lang=["en"] * 10)
    sampler = Sampler(_pool(), pairs, batch_size=128, pair_share=0.1, lang_weights=None, seed=0, captions_per_photo=2)
    assert (sampler.n_images, sampler.n_pairs) == (58, 12)  # 116 caption rows: the even count nearest 115.2
    with pytest.raises(EngineError, match="multiple of --captions-per-photo"):
        Sampler(_pool(), TextPairs(), batch_size=9, pair_share=0.0, lang_weights=None, seed=0, captions_per_photo=2)


def test_without_photos_every_row_is_a_pair_whatever_the_pair_share():
    pairs = TextPairs(left=[f"Satz {i}" for i in range(40)], right=[f"sentence {i}" for i in range(40)], lang=["de"] * 40, right_lang=["en"] * 40)
    sampler = Sampler(ImageCaptions(images=[]), pairs, batch_size=16, pair_share=0.1, lang_weights={"en": 1.0}, seed=0)
    assert (sampler.n_images, sampler.n_pairs) == (0, 16)
    plan = sampler.plan(1)  # rows 16-31 of the first epoch's permutation of the 40 pairs
    assert len(plan.images) == len(plan.captions) == 0 and len(set(plan.pairs.tolist())) == 16


def test_pair_mix_gives_each_source_its_share_of_the_pair_rows_whatever_its_size():
    big = TextPairs(
        left=[f"Satz {i}" for i in range(90)], right=[f"s {i}" for i in range(90)], lang=["de"] * 90, right_lang=["en"] * 90, source=["multi30k"] * 90
    )
    small = TextPairs(
        left=[f"frase {i}" for i in range(10)], right=[f"t {i}" for i in range(10)], lang=["spa"] * 10, right_lang=["en"] * 10, source=["tatoeba"] * 10
    )
    _, pairs = merge_pools([big, small])
    by_size = Sampler(ImageCaptions(images=[]), pairs, batch_size=20, pair_share=0.5, lang_weights=None, seed=0)
    mixed = Sampler(ImageCaptions(images=[]), pairs, batch_size=20, pair_share=0.5, lang_weights=None, seed=0, pair_mix={"tatoeba": 1, "multi30k": 1})
    from_small = [int((by_size.plan(s).pairs >= 90).sum()) for s in range(20)], [int((mixed.plan(s).pairs >= 90).sum()) for s in range(20)]
    assert sum(from_small[0]) < 20 * 4 and from_small[1] == [10] * 20  # by size ~2 a step; mixed half of the 20 rows every step
    assert sorted(mixed.plan(0).pairs[mixed.plan(0).pairs >= 90].tolist()) == list(range(90, 100))  # an epoch of the small source per step
    assert (mixed.plan(3).pairs == mixed.plan(3).pairs).all()  # a pure function of (seed, step)
    assert split_by_weight(7, [1, 1, 1]) == [3, 2, 2] and split_by_weight(20, [3, 1]) == [15, 5]
    with pytest.raises(EngineError, match="pair_mix names xtd10"):
        Sampler(ImageCaptions(images=[]), pairs, batch_size=20, pair_share=0.5, lang_weights=None, seed=0, pair_mix={"xtd10": 1})


def test_loaded_pairs_remember_their_source_kind(tmp_path):
    (tmp_path / "a.de").write_text("ein Hund\nzwei Katzen\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("a dog\ntwo cats\n", encoding="utf-8")
    _, pairs = merge_pools([load_source(f"pairs:left={tmp_path / 'a.de'},right={tmp_path / 'a.en'},lang=de")])
    assert pairs.source == ["pairs", "pairs"]
