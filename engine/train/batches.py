"""Which examples make up step s of a run: a pure function of (seed, step), then their pixels.

Because the batch of step s never depends on what ran before, `--resume` continues mid-epoch
with exactly the batches an uninterrupted run would have seen, whatever the worker count.

A batch has `batch_size` text rows on the right: captions first, then (a `pair_share` of the
batch) the second text of each pair. With `captions_per_photo` K, each photo brings K different
captions, so a batch holds K times fewer photos: reading practice is cheap (a caption is ~20 ink
patches, a photo 49), and each photo's K captions are all its positives in the loss. Left = the
photos then the first text of each pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.errors import EngineError
from engine.train.data import ImageCaptions, TextPairs


def merge_pools(pools: list) -> tuple[ImageCaptions, TextPairs]:
    """All image/caption sources as one pool, all text/text sources as another."""
    images, pairs = ImageCaptions(images=[]), TextPairs()
    for pool in pools:
        if not isinstance(pool, (ImageCaptions, TextPairs)):
            raise EngineError(f"a streamed source ({type(pool).__name__}) is read only as engine train --data, not here")
        if isinstance(pool, ImageCaptions):
            offset = len(images.images)
            images.images += pool.images
            images.caption_image += [i + offset for i in pool.caption_image]
            images.caption_text += pool.caption_text
            images.caption_lang += pool.caption_lang
        else:
            pairs.left += pool.left
            pairs.right += pool.right
            pairs.lang += pool.lang
            pairs.right_lang += pool.right_lang
            pairs.source += pool.source or [""] * len(pool.left)
    return images, pairs


@dataclass(frozen=True)
class Plan:
    """Global indices of one step: photos, the captions drawn for each (photo-major), text pairs."""

    images: np.ndarray
    captions: np.ndarray
    pairs: np.ndarray


def batch_shape(batch_size: int, pair_share: float, has_photos: bool, has_pairs: bool, captions_per_photo: int, world: int) -> tuple[int, int]:
    """(photos, text pairs) in a global batch of `batch_size` text rows: caption rows come in whole photos on every rank.

    Without photos every row is a pair: a text-only run (translation pairs and a teacher) reads as many texts a step.
    """
    if batch_size % world:
        raise EngineError(f"--batch-size {batch_size} must be a multiple of the number of processes ({world})")
    if not has_photos:
        return 0, batch_size
    unit = captions_per_photo * world
    n_captions = int(round(batch_size * (1 - pair_share) / unit)) * unit if has_pairs else batch_size
    if n_captions % unit:
        raise EngineError(
            f"--batch-size {batch_size} must be a multiple of --captions-per-photo ({captions_per_photo}) x processes ({world}) when there are no text pairs"
        )
    return n_captions // captions_per_photo, batch_size - n_captions


class EpochDraw:
    """Rows step*count ... of an endless run of epochs, each a fresh permutation of n items from (seed, stream, epoch).

    Whatever ran before, step s draws the same rows: the batch is a pure function of (seed, step).
    """

    def __init__(self, seed: int, stream: str, n: int) -> None:
        self.seed, self.stream, self.n = seed, stream, n
        self._cache: tuple[int, np.ndarray] | None = None  # the latest epoch's permutation

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != epoch:
            self._cache = (epoch, np.random.default_rng([self.seed, hash_stream(self.stream), epoch]).permutation(self.n))
        return self._cache[1]

    def take(self, step: int, count: int) -> np.ndarray:
        if not count or not self.n:
            return np.zeros(0, dtype=np.int64)
        positions = step * count + np.arange(count)
        return np.array([self._permutation(p // self.n)[p % self.n] for p in positions], dtype=np.int64)


class PairDraw:
    """The `count` text pairs of step s, shared by in-memory and streamed runs: one epoch-wise shuffle of all pairs
    or, with `train.pair_mix`, one per source kind, each kind its share of the rows whatever its size, so a
    small source (Tatoeba beside Multi30k) is not drowned; kinds the mix does not list are not drawn."""

    def __init__(self, pairs: TextPairs, count: int, seed: int, mix: dict[str, float] | None = None) -> None:
        self.count = count
        if not mix:
            self._tables = [(np.arange(len(pairs.left)), EpochDraw(seed, "pairs", len(pairs.left)), count)]
            return
        source = np.asarray(pairs.source, dtype=object)
        present = sorted(set(pairs.source))
        unknown = sorted(set(mix) - set(present))
        if unknown:
            raise EngineError(f"train.pair_mix names {', '.join(unknown)}, but the pairs come from: {', '.join(present) or 'no source'}")
        kinds = [kind for kind in sorted(mix) if mix[kind] > 0]
        if not kinds:
            raise EngineError("train.pair_mix gives every source a share of 0")
        counts = split_by_weight(count, [mix[kind] for kind in kinds])
        tables = [np.flatnonzero(source == kind) for kind in kinds]
        self._tables = [(ids, EpochDraw(seed, f"pairs/{kind}", len(ids)), n) for kind, ids, n in zip(kinds, tables, counts)]

    def take(self, step: int) -> np.ndarray:
        return np.concatenate([ids[draw.take(step, n)] for ids, draw, n in self._tables])


class Sampler:
    """Epoch-wise shuffles of the photos and of the pairs; captions per photo drawn by language weight."""

    def __init__(
        self,
        images: ImageCaptions,
        pairs: TextPairs,
        batch_size: int,
        pair_share: float,
        lang_weights: dict[str, float] | None,
        seed: int,
        world: int = 1,
        usable: np.ndarray | None = None,
        captions_per_photo: int = 1,
        pair_mix: dict[str, float] | None = None,
    ) -> None:
        self.seed, self.captions_per_photo = seed, captions_per_photo
        self.n_images, self.n_pairs = batch_shape(batch_size, pair_share, bool(images.caption_text), bool(pairs.left), captions_per_photo, world)
        absent = sorted(set(lang_weights or {}) - set(images.caption_lang)) if images.caption_text else []
        if absent:  # a misspelt language ("zh_Hant") would otherwise train silently without it
            raise EngineError(f"train.caption_langs names {', '.join(absent)}, but the captions are in: {', '.join(sorted(set(images.caption_lang)))}")
        self._caption_tables(images, lang_weights, usable)
        if self.n_images and not len(self.image_ids):
            raise EngineError("no photo has a caption in the chosen languages (--caption-langs)")
        if not self.n_images and not self.n_pairs:
            raise EngineError("nothing to train on: give --data with photos or text pairs")
        self._image_draw = EpochDraw(seed, "images", len(self.image_ids))
        self._pair_draw = PairDraw(pairs, self.n_pairs, seed, pair_mix)

    def _caption_tables(self, images: ImageCaptions, weights: dict[str, float] | None, usable: np.ndarray | None) -> None:
        """Per photo: its captions and their draw weights (language weight / captions in that language)."""
        image = np.asarray(images.caption_image, dtype=np.int64)
        lang = np.asarray(images.caption_lang, dtype=object)
        weight = np.array([1.0 if weights is None else weights.get(code, 0.0) for code in lang]) if len(lang) else np.zeros(0)
        keep = weight > 0
        if usable is not None and len(image):
            keep &= usable[image]
        caption_ids = np.flatnonzero(keep)
        caption_ids = caption_ids[np.lexsort((lang[caption_ids].astype(str), image[caption_ids]))] if len(caption_ids) else caption_ids
        per_lang = {}  # (image, lang) -> number of captions, to split a language's weight among them
        for c in caption_ids:
            per_lang[(image[c], lang[c])] = per_lang.get((image[c], lang[c]), 0) + 1
        share = np.array([weight[c] / per_lang[(image[c], lang[c])] for c in caption_ids])
        self.caption_ids = caption_ids
        self.image_ids, starts = np.unique(image[caption_ids], return_index=True)
        self.starts = np.append(starts, len(caption_ids))
        self.share = share

    def plan(self, step: int) -> Plan:
        rows = self._image_draw.take(step, self.n_images)
        rng = np.random.default_rng([self.seed, hash_stream("captions"), step])
        captions = np.concatenate([self._captions_of(row, rng) for row in rows]) if len(rows) else np.zeros(0, dtype=np.int64)
        pairs = self._pair_draw.take(step)
        return Plan(self.image_ids[rows], captions, pairs)

    def _captions_of(self, row: int, rng: np.random.Generator) -> np.ndarray:
        """`captions_per_photo` captions of one photo, by weight, all different while the photo has enough."""
        lo, hi = self.starts[row], self.starts[row + 1]
        weights = self.share[lo:hi]
        k = self.captions_per_photo
        chosen = rng.choice(hi - lo, size=k, replace=k > hi - lo, p=weights / weights.sum())
        return self.caption_ids[lo + chosen]


def split_by_weight(total: int, weights: list[float]) -> list[int]:
    """`total` rows shared in proportion to `weights`, whole rows by largest remainder (the same split every step)."""
    exact = np.asarray(weights, dtype=float) / sum(weights) * total
    counts = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[index] += 1
    return counts.tolist()


def hash_stream(name: str) -> int:
    """A stable integer per stream name (Python's hash() changes between processes)."""
    return int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little")


def local_rows(n: int, rank: int, world: int) -> slice:
    """This rank's contiguous share of n rows (n is a multiple of world)."""
    per = n // world
    return slice(rank * per, (rank + 1) * per)


class StepBatches(torch.utils.data.Dataset):
    """Item i = the tensors of step `start + i` for this rank; DataLoader workers render and copy them."""

    def __init__(
        self,
        sampler: Sampler,
        images: ImageCaptions,
        pairs: TextPairs,
        pixels: np.ndarray,
        text_inputs,
        start: int,
        stop: int,
        rank: int = 0,
        world: int = 1,
        targets=None,
    ) -> None:
        self.sampler, self.images, self.pairs, self.pixels, self.text_inputs = sampler, images, pairs, pixels, text_inputs
        self.start, self.stop, self.rank, self.world = start, stop, rank, world
        self.targets = targets  # a teacher's TargetTable: each text row's target row (engine/train/teacher.py)

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        plan = self.sampler.plan(self.start + index)
        own_images = plan.images[local_rows(len(plan.images), self.rank, self.world)]
        own_captions = plan.captions[local_rows(len(plan.captions), self.rank, self.world)]
        own_pairs = plan.pairs[local_rows(len(plan.pairs), self.rank, self.world)]
        texts = [self.images.caption_text[c] for c in own_captions] + [self.pairs.left[p] for p in own_pairs] + [self.pairs.right[p] for p in own_pairs]
        langs = [self.images.caption_lang[c] for c in own_captions] + [self.pairs.lang[p] for p in own_pairs] + [self.pairs.right_lang[p] for p in own_pairs]
        batch = {
            "images": torch.from_numpy(self.pixels[own_images]),
            "texts": torch.from_numpy(self.text_inputs(texts, langs)),
            "step": torch.tensor(self.start + index),
        }
        if self.targets is not None:
            batch["target_ids"] = torch.from_numpy(self.targets.rows(own_captions, own_pairs))
            batch["photo_target_ids"] = torch.from_numpy(self.targets.photo_rows(own_images, own_captions))
        return batch
