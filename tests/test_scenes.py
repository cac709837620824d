"""The scene generator: deterministic from a seed, resolution-independent, and `satisfies` right."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from engine.errors import EngineError
from engine.scenes import CaptionSpec, Mention, Scene, SceneObject, caption, describe, draw_scene, examples, queries, random_scenes, satisfies
from engine.scenes.scene import LAYOUTS

RED_CIRCLE_LEFT = SceneObject("circle", "red", "large", "left")
BLUE_SQUARE_RIGHT = SceneObject("square", "blue", "small", "right")
TWO = Scene((RED_CIRCLE_LEFT, BLUE_SQUARE_RIGHT), "white", jitter_seed=1)


def test_same_seed_same_scenes_pictures_and_captions():
    assert random_scenes(20, 7) == random_scenes(20, 7)
    assert random_scenes(20, 7) != random_scenes(20, 8)
    a, b = random_scenes(3, "x"), random_scenes(3, "x")
    assert all(draw_scene(s, 64).tobytes() == draw_scene(t, 64).tobytes() for s, t in zip(a, b))
    first = [(e.scene, e.lang, e.text) for e, _ in zip(examples(3), range(50))]
    again = [(e.scene, e.lang, e.text) for e, _ in zip(examples(3), range(50))]
    assert first == again and len({lang for _, lang, _ in first}) > 10


def test_scenes_use_their_layouts_and_cover_the_attribute_space():
    scenes = random_scenes(500, 0)
    for scene in scenes:
        assert tuple(o.position for o in scene.objects) in LAYOUTS[len(scene.objects)]
    counts = {len(s.objects) for s in scenes}
    colours = {o.colour for s in scenes for o in s.objects}
    shapes = {o.shape for s in scenes for o in s.objects}
    assert counts == {1, 2, 3} and len(colours) == 6 and len(shapes) == 5
    assert any(s.objects[0].shape == s.objects[1].shape and s.objects[0].colour == s.objects[1].colour for s in scenes if len(s.objects) > 1)


def test_picture_is_the_same_at_any_resolution():
    for scene in random_scenes(5, 1):
        small = np.asarray(draw_scene(scene, 64), dtype=np.float32)
        large = np.asarray(draw_scene(scene, 256).resize((64, 64)), dtype=np.float32)
        assert small.shape == (64, 64, 3)
        assert np.abs(small - large).mean() < 4  # same geometry, only edge pixels differ


def test_picture_shows_the_colours_where_the_scene_says():
    picture = np.asarray(draw_scene(TWO, 64), dtype=int)
    left, right = picture[30:34, 14:18], picture[30:34, 46:50]  # the slot centres, give or take the jitter
    assert left[..., 0].mean() > 150 and left[..., 2].mean() < 90  # red on the left
    assert right[..., 2].mean() > 150 and right[..., 0].mean() < 90  # blue on the right
    assert picture[2:6, 2:6].min() > 230  # white background


def test_a_scene_satisfies_every_description_of_itself():
    rng = random.Random(0)
    for scene in random_scenes(300, 2):
        assert satisfies(scene, describe(scene, rng))


def test_satisfies_checks_every_mentioned_attribute_and_the_count():
    assert satisfies(TWO, CaptionSpec((Mention("square", "blue"), Mention("circle", "red"))))
    assert satisfies(TWO, CaptionSpec((Mention("circle", "red", "large", "left"), Mention("square")), "white"))
    assert not satisfies(TWO, CaptionSpec((Mention("circle", "red"),)))  # one object missing
    assert not satisfies(TWO, CaptionSpec((Mention("circle", "red"), Mention("square", "blue")), "black"))
    assert not satisfies(TWO, CaptionSpec((Mention("circle", "blue"), Mention("square", "red"))))  # colours swapped
    assert not satisfies(TWO, CaptionSpec((Mention("circle", position="right"), Mention("square", position="left"))))
    assert not satisfies(TWO, CaptionSpec((Mention("circle", size="small"), Mention("square"))))
    assert not satisfies(TWO, CaptionSpec((Mention("circle"), Mention("square"), Mention("star"))))


def test_satisfies_finds_a_matching_even_when_the_first_guess_is_wrong():
    small, large = SceneObject("circle", "red", "small", "left"), SceneObject("circle", "red", "large", "right")
    scene = Scene((small, large), "gray", jitter_seed=0)
    assert satisfies(scene, CaptionSpec((Mention("circle", "red"), Mention("circle", "red", "small"))))
    assert not satisfies(scene, CaptionSpec((Mention("circle", "red", "small"), Mention("circle", "red", "small"))))


def test_queries_describe_the_same_way_in_every_language():
    scenes = random_scenes(30, 4)
    english, thai = queries(scenes, "en", seed=1), queries(scenes, "th", seed=1)
    assert [spec for spec, _ in english] == [spec for spec, _ in thai]
    assert all(satisfies(scene, spec) for scene, (spec, _) in zip(scenes, english))
    assert english != queries(scenes, "en", seed=2)


def test_training_source_draws_pictures_once_and_captions_each_in_every_language(tmp_path, monkeypatch):
    from engine.train.data import load_source

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    pool = load_source("scenes:count=5,seed=t,langs=en+ja")
    assert len(pool.images) == 5 and all(path.is_file() and tmp_path in path.parents for path in pool.images)
    assert sorted(zip(pool.caption_lang, pool.caption_image)) == sorted((lang, i) for lang in ("en", "ja") for i in range(5))
    scenes = random_scenes(5, "train:t")
    with Image.open(pool.images[2]) as picture:
        assert np.array_equal(np.asarray(picture), np.asarray(draw_scene(scenes[2], 64)))
    assert load_source("scenes:count=5,seed=t,langs=en+ja").caption_text == pool.caption_text


def test_training_source_refuses_bad_options(tmp_path, monkeypatch):
    from engine.train.data import load_source

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(EngineError, match="scenes: no captions in xx"):
        load_source("scenes:count=5,langs=en+xx")
    with pytest.raises(EngineError, match="at least two languages"):
        load_source("scene-pairs:count=5,langs=en")
    with pytest.raises(EngineError):
        load_source("scenes:count=many")


def test_scene_pairs_word_one_description_in_two_languages():
    from engine.train.data import load_source

    pool = load_source("scene-pairs:count=20,seed=t,langs=en+fr+th")
    assert len(pool.left) == 20 * 3 and sorted(set(pool.lang)) == ["en", "fr", "th"]
    assert all(a != b for a, b in zip(pool.lang, pool.right_lang))
    # every pair is some description of its scene, worded twice
    rng = random.Random(0)
    worded = {
        (caption(spec, a), caption(spec, b))
        for scene in random_scenes(20, "train:t")
        for _ in range(300)
        for spec in [describe(scene, rng)]
        for a in ("en", "fr", "th")
        for b in ("en", "fr", "th")
        if a != b
    }
    assert all(pair in worded for pair in zip(pool.left, pool.right))
    assert load_source("scene-pairs:count=20,seed=t,langs=en+fr+th").right == pool.right


def test_scene_pairs_with_a_pivot_pair_every_other_language_with_it():
    from engine.train.data import load_source

    pool = load_source("scene-pairs:count=10,seed=t,langs=en+ar+ja,pivot=en")
    assert len(pool.left) == 10 * 2 and set(pool.right_lang) == {"en"} and sorted(set(pool.lang)) == ["ar", "ja"]
    with pytest.raises(EngineError, match="pivot"):
        load_source("scene-pairs:count=10,pivot=xx")
