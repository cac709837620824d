"""Recall@k against small cases computed by hand."""

import math

import numpy as np

from engine.eval.retrieval import recall_at_k


def unit(*rows):
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_perfect_and_swapped():
    images = unit([1, 0], [0, 1])
    texts = unit([1, 0], [0, 1])
    assert recall_at_k(images, texts, [0, 1], ks=(1,)) == {"i2t@1": 1.0, "t2i@1": 1.0}
    assert recall_at_k(images, texts, [1, 0], ks=(1, 2)) == {"i2t@1": 0.0, "t2i@1": 0.0, "i2t@2": 1.0, "t2i@2": 1.0}


def test_ties_count_against_the_model():
    images = unit([1, 0], [1, 0])  # identical images: every text ties between them
    texts = unit([1, 0], [1, 0])
    r = recall_at_k(images, texts, [0, 1], ks=(1, 2))
    assert r["t2i@1"] == 0.0 and r["t2i@2"] == 1.0
    assert r["i2t@1"] == 0.0 and r["i2t@2"] == 1.0


def test_several_captions_any_hit_counts():
    images = unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    # image 0 has two captions (one looks like image 1); image 1 has one caption (looks like image 2).
    texts = unit([0, 0.9, 0.1], [1, 0, 0], [0.1, 0, 1])
    r = recall_at_k(images, texts, [0, 0, 1], ks=(1,))
    # i2t: image 0's captions are texts 0 and 1; text 1 scores 1.0, the top: hit.
    # image 1's caption is text 2 (score 0), beaten by text 0 (.99) and tied with text 1: miss.
    assert r["i2t@1"] == 0.5
    # t2i: text 0 -> image 1 (wrong), text 1 -> image 0 (right), text 2 -> image 2 (wrong)
    assert math.isclose(r["t2i@1"], 1 / 3)


def test_uncaptioned_image_is_a_candidate_not_a_query():
    images = unit([1, 0], [0.9, 0.1])  # image 1 has no caption but looks like image 0
    texts = unit([0.8, 0.2])
    r = recall_at_k(images, texts, [0], ks=(1, 2))
    assert r["t2i@1"] == 0.0 and r["t2i@2"] == 1.0  # image 1 outranks the true image
    assert r["i2t@1"] == 1.0  # only image 0 is a query


def test_no_texts_gives_nan():
    r = recall_at_k(unit([1, 0]), np.zeros((0, 2), np.float32), np.zeros(0, np.int64), ks=(1,))
    assert math.isnan(r["i2t@1"]) and math.isnan(r["t2i@1"])
