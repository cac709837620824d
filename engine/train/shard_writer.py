"""`engine shards write`: any `--data` source into shards that `shards:` / `pair-shards:` stream back.

Photo/caption sources (flickr8k, table, xm3600, ...) become WebDataset tars in the img2dataset
layout, one sample per photo: `KEY.jpg` (the file's own bytes, so a streamed run decodes exactly
what the in-memory cache decodes), `KEY.txt` (its first caption) and `KEY.json` ({"caption",
"language", "captions": [{"caption", "language"}, ...]} with every caption of the photo).
Text-pair sources become Parquet tables (left, right, lang, right_lang).

Each shard is written under a temporary name and renamed when complete, so a killed write leaves
whole shards only; running the same command again keeps them and writes the rest.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from tqdm import tqdm

from engine.atomic import atomic_path
from engine.errors import EngineError
from engine.images import UnreadableImage, load_rgb
from engine.train.batches import merge_pools
from engine.train.data import ImageCaptions, TextPairs, load_source
from engine.train.shards import _webdataset


def write_shards(specs: list[str], out: Path, per_shard: int, prefix: str = "", image_size: int | None = None) -> dict[str, int]:
    """Write the photos of `specs` as `OUT/PREFIXNNNNN.tar` and their text pairs as `OUT/PREFIXpairs-NNNNN.parquet`.

    With `image_size`, each photo is stored as the model sees it (squashed to image_size x image_size, JPEG quality 95),
    as img2dataset resizes: smaller shards and a cheaper decode per step, at the cost of one more lossy encoding.
    """
    if per_shard < 1:
        raise EngineError(f"--per-shard must be at least 1, got {per_shard}")
    if image_size is not None and image_size < 8:
        raise EngineError(f"--image-size must be at least 8, got {image_size}")
    images, pairs = merge_pools([load_source(spec) for spec in specs])
    if not images.images and not pairs.left:
        raise EngineError("nothing to write: the --data sources hold no photos and no text pairs")
    out.mkdir(parents=True, exist_ok=True)
    counts = {"photo_shards": 0, "photos": 0, "missing_photos": 0, "pair_shards": 0, "pairs": 0, "kept_shards": 0}
    if images.images:
        _write_photos(images, out, per_shard, prefix, counts, image_size)
    if pairs.left:
        _write_pairs(pairs, out, per_shard, prefix, counts)
    return counts


def _write_photos(pool: ImageCaptions, out: Path, per_shard: int, prefix: str, counts: dict[str, int], image_size: int | None) -> None:
    wds = _webdataset()
    captions: list[list[dict]] = [[] for _ in pool.images]
    for image, text, lang in zip(pool.caption_image, pool.caption_text, pool.caption_lang):
        captions[image].append({"caption": text, "language": lang})
    order = [i for i in range(len(pool.images)) if captions[i]]
    with tqdm(total=len(order), desc=f"writing photo shards to {out}", unit="photo") as bar:
        for shard, first in enumerate(range(0, len(order), per_shard)):
            rows = order[first : first + per_shard]
            path = out / f"{prefix}{shard:05d}.tar"
            counts["photo_shards"] += 1
            if path.exists():
                counts["kept_shards"] += 1
                counts["photos"] += len(rows)
                bar.update(len(rows))
                continue
            with atomic_path(path, durable=True) as tmp, open(tmp, "wb") as handle, wds.TarWriter(handle, encoder=False, mtime=0) as tar:
                for index, row in enumerate(rows):
                    photo = Path(pool.images[row])
                    try:
                        data = photo.read_bytes() if image_size is None else _resized(photo, image_size)
                    except (OSError, UnreadableImage) as error:
                        counts["missing_photos"] += 1
                        tqdm.write(f"skipping {photo}: {error}")
                        continue
                    first_caption = captions[row][0]
                    meta = {**first_caption, "captions": captions[row], "source": photo.name}
                    suffix = photo.suffix.lower().lstrip(".") if image_size is None else "jpg"
                    tar.write(
                        {
                            "__key__": f"{shard:05d}{index:04d}",
                            "jpg" if suffix == "jpeg" else suffix: data,
                            "txt": first_caption["caption"].encode("utf-8"),
                            "json": json.dumps(meta, ensure_ascii=False).encode("utf-8"),
                        }
                    )
                    counts["photos"] += 1
                    bar.update(1)


def _resized(photo: Path, size: int) -> bytes:
    """The photo as the model sees it (`image_pixels`), as a quality-95 JPEG."""
    from PIL import Image

    from engine.model.inputs import image_pixels

    buffer = io.BytesIO()
    Image.fromarray(image_pixels(load_rgb(photo, min_side=size), size).transpose(1, 2, 0)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _write_pairs(pool: TextPairs, out: Path, per_shard: int, prefix: str, counts: dict[str, int]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tqdm(total=len(pool.left), desc=f"writing pair shards to {out}", unit="pair") as bar:
        for shard, first in enumerate(range(0, len(pool.left), per_shard)):
            path = out / f"{prefix}pairs-{shard:05d}.parquet"
            part = slice(first, first + per_shard)
            n = len(pool.left[part])
            counts["pair_shards"] += 1
            counts["pairs"] += n
            if path.exists():
                counts["kept_shards"] += 1
            else:
                columns = {"left": pool.left[part], "right": pool.right[part], "lang": pool.lang[part], "right_lang": pool.right_lang[part]}
                with atomic_path(path, durable=True) as tmp:
                    pq.write_table(pa.table(columns), tmp)
            bar.update(n)
