"""Batches from streamed shards: which shard each rank and worker reads, in which order, and where a resumed run picks up.

Every process (torchrun rank r of W) runs K DataLoader workers; each worker reads one *slot*, and
slot j of rank r owns shards `order[r + W*j :: W*K]` of epoch e, where `order` is a permutation of
all shards drawn from (seed, epoch). A slot walks its shards in that order, a shard's samples in
tar order, and then the next epoch, on its own: memory holds one shard's reader, never the list
of samples.

Step s is built by slot s mod K (the DataLoader takes batches from its workers in turn), so the
batches follow from (seed, step) and the data alone. Each batch carries its slot's position
after it (epoch, shard, offset, and the corrupt samples and broken shards met so far); the
checkpoint saves the positions of the batches trained on, and a resumed run continues each slot
where it stopped: exactly the samples not seen yet. Corrupt samples and truncated shards are
skipped, counted, and never stop the run.

Text pairs from memory (`pairs`, `multi30k`, ...) are drawn as `Sampler` draws them (`PairDraw`), so
mixing streamed photos with in-memory pairs keeps `pair_share`, `train.pair_mix` and the pairs' order.
"""

from __future__ import annotations

import random
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from engine.errors import EngineError
from engine.train.augment import stored_size
from engine.train.batches import PairDraw, batch_shape, hash_stream, local_rows
from engine.train.data import ImageCaptions, TextPairs
from engine.train.shards import CorruptSample, PairShards, PhotoShards, Stream

# What a broken shard raises while it is read: a truncated or damaged tar, a vanished or unreadable file, bad Parquet.
BROKEN_SHARD = (tarfile.TarError, OSError, EOFError, ValueError, zlib.error)


@dataclass
class Position:
    """Where one slot of one stream stands: its epoch, the shard it is in (index into the slot's order), the samples taken from it."""

    epoch: int = 0
    shard: int = 0
    offset: int = 0  # samples of the shard already passed (used, filtered or corrupt)
    corrupt: int = 0  # corrupt samples skipped so far
    broken: int = 0  # truncated or unreadable shards met so far


def slot_order(n_shards: int, seed: int, epoch: int, slot: int, slots: int) -> np.ndarray:
    """The shards (indices) one slot reads in `epoch`, in order."""
    return np.random.default_rng([seed, hash_stream("shards"), epoch]).permutation(n_shards)[slot::slots]


def stream_samples(stream: Stream, position: Position, seed: int, slot: int, slots: int) -> Iterator[tuple[object, Position, tuple[int, int]]]:
    """Raw samples of one slot from `position` on, forever: (sample, position after it, (epoch, global shard index)).

    The position object is updated in place; a sample's identity for caption draws is (epoch, shard, offset).
    """
    if len(stream.shards) < slots:
        raise EngineError(f"{len(stream.shards)} shard(s) for {slots} readers (processes x workers): write more shards or use fewer workers")
    while True:
        order = slot_order(len(stream.shards), seed, position.epoch, slot, slots)
        found = False
        while position.shard < len(order):
            shard = int(order[position.shard])
            try:
                for index, raw in enumerate(stream.read(stream.shards[shard])):
                    found = True
                    if index < position.offset:
                        continue  # seen before the resume (raw bytes only, nothing decoded)
                    position.offset = index + 1
                    yield raw, position, (position.epoch, shard)
            except BROKEN_SHARD as error:
                position.broken += 1
                tqdm.write(f"skipping the rest of broken shard {stream.shards[shard]}: {error}")
            position.shard, position.offset = position.shard + 1, 0
        if not found:
            raise EngineError(f"no readable samples in a whole epoch of {len(order)} shard(s), e.g. {stream.shards[int(order[0])]}")
        position.epoch, position.shard = position.epoch + 1, 0


class StreamBatches(torch.utils.data.IterableDataset):
    """Steps `start` ... `stop`-1 of this rank, built by DataLoader workers from streamed shards (and in-memory pairs)."""

    def __init__(
        self,
        photos: PhotoShards | None,
        pair_stream: PairShards | None,
        pairs: TextPairs,
        text_inputs,
        image_size: int,
        shape: tuple[int, int],
        lang_weights: dict[str, float] | None,
        pair_mix: dict[str, float] | None,
        captions_per_photo: int,
        seed: int,
        start: int,
        stop: int,
        rank: int,
        world: int,
        slots: int,
        positions: dict[str, dict] | None,
    ) -> None:
        self.photos, self.pair_stream, self.pairs, self.text_inputs, self.image_size = photos, pair_stream, pairs, text_inputs, image_size
        self.n_images, self.n_pairs = shape[0] // world, shape[1] // world
        self.lang_weights, self.captions_per_photo, self.seed = lang_weights, captions_per_photo, seed
        self.start, self.stop, self.rank, self.world, self.slots = start, stop, rank, world, slots
        self.positions = positions or {}
        self.pair_draw = PairDraw(pairs, shape[1], seed, pair_mix)

    def __iter__(self) -> Iterator[dict]:
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        if workers != self.slots:
            raise EngineError(f"{workers} data workers for {self.slots} stream slots")
        first = self.start + worker
        slot = first % self.slots
        saved = self.positions.get(f"{self.rank}/{slot}", {})
        reader = self.rank + self.world * slot
        photo_at, pair_at = Position(**saved.get("photos", {})), Position(**saved.get("pairs", {}))
        photo_samples = stream_samples(self.photos, photo_at, self.seed, reader, self.world * self.slots) if self.photos and self.n_images else None
        pair_samples = stream_samples(self.pair_stream, pair_at, self.seed, reader, self.world * self.slots) if self.pair_stream and self.n_pairs else None
        for step in range(first, self.stop, workers):
            pixels, texts, langs = self._photos(photo_samples) if photo_samples else (np.zeros((0, 3, self.image_size, self.image_size), np.uint8), [], [])
            left, right, left_langs, right_langs = self._pairs(step, pair_samples)
            yield {
                "images": torch.from_numpy(pixels),
                "texts": torch.from_numpy(self.text_inputs(texts + left + right, langs + left_langs + right_langs)),
                "step": torch.tensor(step),
                "stream": {"key": f"{self.rank}/{slot}", "photos": asdict(photo_at), "pairs": asdict(pair_at)},
            }

    def _photos(self, samples: Iterator) -> tuple[np.ndarray, list[str], list[str]]:
        pixels = np.empty((self.n_images, 3, self.image_size, self.image_size), dtype=np.uint8)
        texts: list[str] = []
        langs: list[str] = []
        row, last_epoch = 0, None
        while row < self.n_images:
            raw, position, (epoch, shard) = next(samples)
            last_epoch = epoch if last_epoch is None else last_epoch
            if epoch > last_epoch + 1:
                raise EngineError(f"no usable photo (with a caption in --caption-langs) in a whole epoch of {self.photos.shards[shard]} and its other shards")
            try:
                pixels[row], captions = self.photos.decode(raw, self.image_size)
            except CorruptSample as error:
                position.corrupt += 1
                tqdm.write(f"skipping corrupt sample in {self.photos.shards[shard]}: {error}")
                continue
            chosen = self._choose(captions, (self.seed, hash_stream("captions"), epoch, shard, position.offset))
            if chosen is None:
                continue  # no caption in the chosen languages: not an error, just not this run's
            last_epoch = epoch
            texts += [text for text, _ in chosen]
            langs += [lang for _, lang in chosen]
            row += 1
        return pixels, texts, langs

    def _choose(self, captions: list[tuple[str, str]], seed: tuple[int, ...]) -> list[tuple[str, str]] | None:
        """`captions_per_photo` captions by language weight (a language's weight split among its
        captions), as Sampler does, drawn with a generator seeded by `seed` (the sample's identity;
        a tuple of ints hashes the same in every process). Python's `random` here: seeding a numpy
        Generator per photo cost 0.14 ms, a third of what a streamed photo costs beside its decoding."""
        weights = self.lang_weights
        usable = captions if weights is None else [caption for caption in captions if weights.get(caption[1], 0.0) > 0]
        if not usable:
            return None
        count = Counter(lang for _, lang in usable)
        share = [(1.0 if weights is None else weights[lang]) / count[lang] for _, lang in usable]
        rng = random.Random(hash(seed))
        k = self.captions_per_photo
        if k > len(usable):  # more captions wanted than there are: draw with replacement
            return rng.choices(usable, weights=share, k=k)
        left = list(range(len(usable)))
        picked = []
        for _ in range(k):  # without replacement
            index = rng.choices(range(len(left)), weights=[share[i] for i in left])[0]
            picked.append(usable[left.pop(index)])
        return picked

    def _pairs(self, step: int, samples: Iterator | None) -> tuple[list[str], list[str], list[str], list[str]]:
        if samples is None:  # in memory: this rank's rows of the pairs Sampler would draw
            rows = self.pair_draw.take(step)[local_rows(self.pair_draw.count, self.rank, self.world)]
            p = self.pairs
            return [p.left[i] for i in rows], [p.right[i] for i in rows], [p.lang[i] for i in rows], [p.right_lang[i] for i in rows]
        out: list[tuple[str, str, str, str]] = []
        while len(out) < self.n_pairs:
            raw, position, _ = next(samples)
            try:
                out.append(self.pair_stream.decode(raw))
            except CorruptSample:
                position.corrupt += 1
        left, right, lang, right_lang = (list(column) for column in zip(*out)) if out else ([], [], [], [])
        return left, right, lang, right_lang


class StreamProgress:
    """The positions of the batches trained on, per rank and slot: what the checkpoint saves and metrics.jsonl counts."""

    def __init__(self, saved: dict | None, world: int, slots: int) -> None:
        if saved and (saved["world"], saved["slots"]) != (world, slots):
            raise EngineError(
                f"--resume: the streamed run read its shards with {saved['world']} process(es) x {saved['slots']} worker(s); "
                f"resume it with the same (now {world} x {slots})"
            )
        self.world, self.slots = world, slots
        self.positions: dict[str, dict] = dict(saved["positions"]) if saved else {}

    def update(self, batch: dict) -> None:
        stream = batch["stream"]
        self.positions[stream["key"]] = {"photos": stream["photos"], "pairs": stream["pairs"]}

    def state(self) -> dict:
        """Every rank's positions (a collective under torchrun: all ranks call it at the same step)."""
        positions = dict(self.positions)
        if self.world > 1:
            gathered: list = [None] * self.world
            dist.all_gather_object(gathered, self.positions)
            positions = {key: value for part in gathered for key, value in part.items()}
        return {"world": self.world, "slots": self.slots, "positions": positions}

    def counts(self) -> dict[str, int]:
        """This rank's corrupt samples and broken shards so far (rank 0 logs its own: the others' are in the checkpoint)."""
        total = {"corrupt_samples": 0, "broken_shards": 0}
        for position in self.positions.values():
            for part in ("photos", "pairs"):
                total["corrupt_samples"] += position[part]["corrupt"]
                total["broken_shards"] += position[part]["broken"]
        return total


def split_streams(sources: list) -> tuple[list[Stream], list[ImageCaptions | TextPairs]]:
    """Streamed sources apart from in-memory pools."""
    streams = [s for s in sources if isinstance(s, (PhotoShards, PairShards))]
    return streams, [s for s in sources if not isinstance(s, (PhotoShards, PairShards))]


def stream_dataset(config, streams: list[Stream], images: ImageCaptions, pairs: TextPairs, text_inputs, start: int, stop: int, rank: int, world: int, saved):
    """The DataLoader dataset of a streamed run, and the progress record its batches update."""
    run = config.train
    photo_streams = [s for s in streams if isinstance(s, PhotoShards)]
    pair_streams = [s for s in streams if isinstance(s, PairShards)]
    if images.images:
        raise EngineError("streamed shards cannot be mixed with in-memory photo sources: write them to shards too (engine shards write)")
    if len(photo_streams) > 1 or len(pair_streams) > 1:
        raise EngineError("give one shards: source (join patterns with '+') and at most one pair-shards: source")
    if pair_streams and pairs.left:
        raise EngineError("text pairs come either from pair-shards: or from in-memory sources, not both")
    photos = photo_streams[0] if photo_streams else None
    pair_stream = pair_streams[0] if pair_streams else None
    if pair_stream and run.pair_mix:
        raise EngineError("train.pair_mix shares in-memory pair sources; a pair-shards: source is read in order")
    has_pairs = bool(pair_stream or pairs.left)
    n_images, n_pairs = batch_shape(run.batch_size, run.pair_share, photos is not None, has_pairs, run.captions_per_photo, world)
    slots = max(1, run.workers)
    for stream in (photos, pair_stream):
        if stream and len(stream.shards) < world * slots:
            raise EngineError(f"{len(stream.shards)} shard(s) for {world} process(es) x {slots} worker(s): write more shards or use fewer workers")
    progress = StreamProgress(saved, world, slots)
    dataset = StreamBatches(
        photos,
        pair_stream,
        pairs,
        text_inputs,
        stored_size(config.model.image_size, config.input),
        (n_images, n_pairs),
        run.caption_langs,
        run.pair_mix,
        run.captions_per_photo,
        run.seed,
        start,
        stop,
        rank,
        world,
        slots,
        progress.positions,
    )
    return dataset, progress, n_images
