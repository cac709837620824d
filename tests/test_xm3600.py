"""XM3600 captions.jsonl loader and per-language Recall@k assembly, against hand-computed cases."""

import json
import math

import numpy as np
import pytest

from engine.errors import EngineError
from engine.eval import xm3600

E = np.eye(4, dtype=np.float32)  # image A, B, C, D are the four axes


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def lang(*captions):
    return {"caption": list(captions), "caption/tokenized": list(captions), "caption/tokenized/lowercase": [c.lower() for c in captions]}


@pytest.fixture
def caption_set(tmp_path):
    """A: two English captions + one German; B: one English, an empty German list; C: one English,
    no German key; D: no caption at all."""
    records = [
        {"image/key": "A", "image/locale": "en", "en": lang("a1", "a2"), "de": lang("a-de")},
        {"image/key": "B", "image/locale": "de", "en": lang("b1"), "de": lang()},
        {"image/key": "C", "image/locale": "en", "en": lang("c1")},
        {"image/key": "D", "image/locale": "en"},
    ]
    return xm3600.load_captions(write_jsonl(tmp_path / "captions.jsonl", records))


# a1 looks like image B, a2 like A, b1 and c1 both like C (a tie), a-de like A.
TEXT_VECTORS = {"a1": E[1], "a2": E[0], "b1": E[2], "c1": E[2], "a-de": E[0]}


def embed(texts):
    return np.stack([TEXT_VECTORS[t] for t in texts])


def recalls(caption_set, language, protocol):
    texts, owners = xm3600.language_texts(caption_set, language, protocol)
    result = xm3600.evaluate_language("m", language, E, texts, owners, embed)
    return {f"{s.direction}@{s.k}": s.recall for s in result.scores}, result


def test_loader_keeps_every_image_and_0_to_n_captions(caption_set):
    assert caption_set.image_keys == ["A", "B", "C", "D"]
    assert caption_set.languages == ["de", "en"]  # image/locale and the other image/ keys are metadata
    assert caption_set.captions["en"] == [["a1", "a2"], ["b1"], ["c1"], []]
    assert caption_set.captions["de"] == [["a-de"], [], [], []]


def test_protocols_flatten_or_keep_first(caption_set):
    texts, owners = xm3600.language_texts(caption_set, "en", "all")
    assert texts == ["a1", "a2", "b1", "c1"] and owners.tolist() == [0, 0, 1, 2]
    texts, owners = xm3600.language_texts(caption_set, "en", "first")
    assert texts == ["a1", "b1", "c1"] and owners.tolist() == [0, 1, 2]


def test_all_captions_by_hand(caption_set):
    r, result = recalls(caption_set, "en", "all")
    # i2t (queries A, B, C; D has no caption): A's a2 is top -> hit; B's b1 scores 0 behind a1 and
    # tied with a2, c1 -> rank 4; C's c1 ties with b1 -> miss at 1 (ties count against the model).
    assert math.isclose(r["i2t@1"], 1 / 3) and r["i2t@5"] == 1.0 and r["i2t@10"] == 1.0
    # t2i over all four images: a1 -> B (miss), a2 -> A (hit), b1 -> C (miss), c1 -> C (hit).
    assert r["t2i@1"] == 0.5 and r["t2i@5"] == 1.0
    assert result.n_texts == 4 and result.n_queried_images == 3


def test_first_caption_only_by_hand(caption_set):
    r, _ = recalls(caption_set, "en", "first")
    # A keeps only a1 (which looks like B): all three texts score 0 for A -> tie -> miss.
    assert r["i2t@1"] == 0.0
    assert math.isclose(r["t2i@1"], 1 / 3)  # only c1 finds its image


def test_language_missing_for_some_images(caption_set):
    r, result = recalls(caption_set, "de", "all")
    # Only A has a German caption: one i2t query; B, C, D remain text->image distractors.
    assert r["i2t@1"] == 1.0 and r["t2i@1"] == 1.0
    assert result.n_queried_images == 1
    # gap: mean image (1/4 each axis) minus a-de (axis 0) = (-3/4, 1/4, 1/4, 1/4)
    assert math.isclose(result.modality_gap, math.sqrt(0.75), rel_tol=1e-6)


def test_unknown_language_and_protocol_are_clear_errors(caption_set):
    with pytest.raises(EngineError, match="'fr' not in the captions; have de, en"):
        xm3600.language_texts(caption_set, "fr", "all")
    with pytest.raises(EngineError, match="unknown protocol"):
        xm3600.language_texts(caption_set, "en", "some")


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"en": {"caption": ["x"]}}', 'missing "image/key"'),
        ('{"image/key": "Z", "en": ["x"]}', 'language "en" must be an object with a "caption" list'),
        ('{"image/key": "Z", "en": {"caption": "x"}}', '"en"."caption" must be a list of strings'),
        ('{"image/key": "Z", "en": {"caption": [1]}}', '"en"."caption" must be a list of strings'),
        ('{"image/key": "A", "en": {"caption": []}}', 'image/key "A" appears twice'),
    ],
)
def test_malformed_line_names_its_line_number(tmp_path, bad_line, message):
    path = tmp_path / "captions.jsonl"
    path.write_text('{"image/key": "A", "en": {"caption": ["ok"]}}\n\n' + bad_line + "\n", encoding="utf-8")
    with pytest.raises(EngineError) as error:
        xm3600.load_captions(path)
    assert f"captions.jsonl:3: {message}" in str(error.value)


def test_missing_file_and_missing_images(tmp_path, caption_set):
    with pytest.raises(EngineError, match="captions file not found"):
        xm3600.load_captions(tmp_path / "nope.jsonl")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "A.jpg").write_bytes(b"")
    with pytest.raises(EngineError, match="3 of 4 images are missing"):
        xm3600.image_paths(caption_set, tmp_path / "images")
