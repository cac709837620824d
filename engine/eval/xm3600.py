"""Crossmodal-3600 (XM3600) retrieval: the `captions.jsonl` loader and the per-language scoring.

The file has one JSON object per image: `"image/key"` (the image is `images/<key>.jpg`), other
`"image/..."` metadata, and one object per language whose `"caption"` list holds that image's
captions (about two on average; any number, zero included, must be accepted). The same layout is
staged for Flickr8k val, so one harness serves both.

Public harnesses disagree on how to use several captions: big_vision flattens every caption
(`all`), CLIP_benchmark keeps the first caption per language (`first`). Both are offered and the
choice is recorded with the results.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.eval.report import Score
from engine.eval.retrieval import recall_at_k

PROTOCOLS = ("all", "first")
DIRECTIONS = ("i2t", "t2i")
KS = (1, 5, 10)


@dataclass(frozen=True)
class CaptionSet:
    """Every image of the benchmark and, per language, each image's captions (0..N)."""

    image_keys: list[str]
    captions: dict[str, list[list[str]]]  # language -> one caption list per image, in image order

    @property
    def languages(self) -> list[str]:
        return sorted(self.captions)


def _line_error(path: Path, lineno: int, message: str) -> EngineError:
    return EngineError(f"{path}:{lineno}: {message}")


def _read_captions(path: Path, lineno: int, language: str, value: object) -> list[str]:
    """One language's caption list, checked: the `caption` list of strings (may be empty)."""
    if not isinstance(value, dict) or "caption" not in value:
        raise _line_error(path, lineno, f'language "{language}" must be an object with a "caption" list')
    captions = value["caption"]
    if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
        raise _line_error(path, lineno, f'"{language}"."caption" must be a list of strings')
    return captions


def load_captions(path: str | Path) -> CaptionSet:
    """Read an XM3600-schema `captions.jsonl`; a malformed line fails with its line number.

    A language absent from a line means that image has no caption in it. Keys containing `/`
    other than `image/key` (e.g. `image/locale`) are metadata and ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"captions file not found: {path}")
    rows: list[tuple[str, dict[str, list[str]]]] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise _line_error(path, lineno, f"not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise _line_error(path, lineno, "expected a JSON object per line")
            key = record.get("image/key")
            if not isinstance(key, str) or not key:
                raise _line_error(path, lineno, 'missing "image/key" (a non-empty string)')
            if key in seen:
                raise _line_error(path, lineno, f'image/key "{key}" appears twice')
            seen.add(key)
            per_language = {lang: _read_captions(path, lineno, lang, value) for lang, value in record.items() if "/" not in lang}
            rows.append((key, per_language))
    if not rows:
        raise EngineError(f"{path}: no images listed")
    languages = {lang for _, per_language in rows for lang in per_language}
    return CaptionSet(
        image_keys=[key for key, _ in rows],
        captions={lang: [per_language.get(lang, []) for _, per_language in rows] for lang in languages},
    )


def image_paths(captions: CaptionSet, images_dir: str | Path) -> list[Path]:
    """`images/<image/key>.jpg` for every image; fails up front if any is missing."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise EngineError(f"images folder not found: {images_dir}")
    paths = [images_dir / f"{key}.jpg" for key in captions.image_keys]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise EngineError(f"{len(missing)} of {len(paths)} images are missing from {images_dir}, e.g. {missing[0].name}")
    return paths


def language_texts(captions: CaptionSet, language: str, protocol: str) -> tuple[list[str], np.ndarray]:
    """One language's queries: the captions (flattened or first only) and the image each describes."""
    if protocol not in PROTOCOLS:
        raise EngineError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if language not in captions.captions:
        raise EngineError(f"language {language!r} not in the captions; have {', '.join(captions.languages)}")
    texts: list[str] = []
    owners: list[int] = []
    for image, image_captions in enumerate(captions.captions[language]):
        kept = image_captions[:1] if protocol == "first" else image_captions
        texts.extend(kept)
        owners.extend([image] * len(kept))
    return texts, np.asarray(owners, dtype=np.int64)


def modality_gap(image_emb: np.ndarray, text_emb: np.ndarray) -> float:
    """Distance between the mean image and mean text embedding (Liang et al. 2022, CLIPPO §4)."""
    return float(np.linalg.norm(image_emb.mean(axis=0) - text_emb.mean(axis=0)))


@dataclass(frozen=True)
class LanguageResult:
    scores: list[Score]
    modality_gap: float
    n_texts: int
    n_queried_images: int


def evaluate_language(
    model: str,
    language: str,
    image_emb: np.ndarray,
    texts: Sequence[str],
    text_image: np.ndarray,
    embed_texts: Callable[[list[str]], np.ndarray],
) -> LanguageResult:
    """R@1/5/10 both ways for one language; every image of the benchmark is a t2i candidate.

    Images without a caption in this language are not i2t queries but stay in the gallery, so
    every language is ranked against the same images.
    """
    if not texts:
        raise EngineError(f"language {language!r} has no captions")
    text_emb = embed_texts(list(texts))
    recalls = recall_at_k(image_emb, text_emb, text_image, KS)
    scores = [Score(model, language, d, k, recalls[f"{d}@{k}"]) for d in DIRECTIONS for k in KS]
    return LanguageResult(scores, modality_gap(image_emb, text_emb), len(texts), len(np.unique(text_image)))


TEXT_DIRECTION = "xx2en"  # the text-to-text mode's one direction (the pivot is English unless told)


def pivot_gallery(captions: CaptionSet, pivot: str = "en") -> tuple[list[str], np.ndarray]:
    """The text-to-text gallery: each image's first caption in `pivot`, and the image each one describes."""
    if pivot not in captions.captions:
        raise EngineError(f"pivot language {pivot!r} not in the captions; have {', '.join(captions.languages)}")
    rows = [(image, texts[0]) for image, texts in enumerate(captions.captions[pivot]) if texts]
    return [text for _, text in rows], np.asarray([image for image, _ in rows], dtype=np.int64)


def evaluate_text_to_text(
    model: str, language: str, gallery_emb: np.ndarray, gallery_image: np.ndarray, texts: Sequence[str], text_image: np.ndarray, embed_texts
) -> list[Score]:
    """R@1/5/10 of each caption in `language` finding the pivot caption of the same photo: reading apart from seeing.

    Captions of photos without a pivot caption are not queried.
    """
    row_of_image = {int(image): row for row, image in enumerate(gallery_image)}
    keep = [i for i, image in enumerate(text_image) if int(image) in row_of_image]
    if not keep:
        raise EngineError(f"language {language!r} has no caption of a photo with a pivot caption")
    text_emb = embed_texts([texts[i] for i in keep])
    recalls = recall_at_k(gallery_emb, text_emb, np.asarray([row_of_image[int(text_image[i])] for i in keep]), KS)
    return [Score(model, language, TEXT_DIRECTION, k, recalls[f"t2i@{k}"]) for k in KS]
