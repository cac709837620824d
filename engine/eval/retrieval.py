"""Recall@k for image<->text retrieval with any number of captions per image.

Ties are counted against the model: a correct item tied with a wrong one ranks below it. A
constant embedding therefore scores chance, never 100 %.
"""

from __future__ import annotations

import numpy as np

CHUNK = 1024  # queries scored at a time, to bound memory on large benchmarks


def wrong_at_least(scores: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """For each query row: how many wrong candidates score >= the best correct candidate.

    `correct` is a boolean matrix of the same shape as `scores`. Rows with no correct candidate
    get a count equal to the number of candidates (never a hit).
    """
    best = np.where(correct, scores, -np.inf).max(axis=1, keepdims=True)
    return ((scores >= best) & ~correct).sum(axis=1) + np.isinf(best[:, 0]) * scores.shape[1]


def recall_at_k(
    image_emb: np.ndarray,
    text_emb: np.ndarray,
    text_image: np.ndarray,
    ks: tuple[int, ...] = (1, 5, 10),
) -> dict[str, float]:
    """Image->text and text->image Recall@k, as fractions.

    image_emb: (N, D); text_emb: (M, D), both L2-normalised; text_image: (M,) the index of the
    image each text describes. Image->text queries are the images with at least one text; a hit
    is any of that image's texts in the top k. Text->image: every text against all N images.
    Returns {"i2t@1": ..., "t2i@1": ..., ...}; NaN where there is no query.
    """
    text_image = np.asarray(text_image, dtype=np.int64)
    if len(text_image) != len(text_emb):
        raise ValueError(f"text_image has {len(text_image)} entries for {len(text_emb)} texts")
    n_images = len(image_emb)
    captioned = np.unique(text_image)
    i2t_wrong = np.empty(len(captioned), dtype=np.int64)
    for start in range(0, len(captioned), CHUNK):
        rows = captioned[start : start + CHUNK]
        scores = image_emb[rows] @ text_emb.T
        i2t_wrong[start : start + CHUNK] = wrong_at_least(scores, text_image[None, :] == rows[:, None])
    t2i_wrong = np.empty(len(text_emb), dtype=np.int64)
    for start in range(0, len(text_emb), CHUNK):
        scores = text_emb[start : start + CHUNK] @ image_emb.T
        targets = text_image[start : start + CHUNK]
        t2i_wrong[start : start + CHUNK] = wrong_at_least(scores, np.arange(n_images)[None, :] == targets[:, None])
    out: dict[str, float] = {}
    for k in ks:
        out[f"i2t@{k}"] = float((i2t_wrong < k).mean()) if len(i2t_wrong) else float("nan")
        out[f"t2i@{k}"] = float((t2i_wrong < k).mean()) if len(t2i_wrong) else float("nan")
    return out
