"""`engine shards write`: turn a caption table, a photo folder's caption source or text pairs into streamable shards."""

from __future__ import annotations

import argparse
from pathlib import Path

SUMMARY = "write photo/caption and text-pair sources as shards for streamed training"
EXAMPLES = """examples:
  engine shards write --data flickr8k:split=train --out shards/flickr8k-train
  engine shards write --data flickr8k:split=train --image-size 112 --per-shard 500 --out shards/flickr8k-train-112
  engine shards write --data table:path=captions.tsv,images=photos/,lang_col=lang --per-shard 5000 --out shards/mine
  engine shards write --data multi30k:split=train --per-shard 20000 --out shards/multi30k
  engine train --config clippo-flickr8k-cpu-small --data "shards:urls=shards/flickr8k-train/{00000..00005}.tar" \\
      --data multi30k:exclude=val --val flickr8k:split=val --caption-langs en=1 --out runs/streamed

Photo/caption sources become NNNNN.tar (KEY.jpg, KEY.txt, KEY.json with every caption and its language);
text-pair sources become pairs-NNNNN.parquet. Read them back with --data shards:urls=DIR_OR_PATTERN and
--data pair-shards:path=PATTERN (docs/streaming.md). A killed write leaves whole shards only; run the same
command again to write the rest (existing shards are kept)."""


def register(subparsers) -> None:
    shards = subparsers.add_parser("shards", help=SUMMARY, description="Shards for streamed training (docs/streaming.md).")
    actions = shards.add_subparsers(dest="action", metavar="ACTION", required=True)
    write = actions.add_parser(
        "write",
        help="write --data sources as WebDataset tar shards (photos) and Parquet shards (text pairs)",
        description="Write photo/caption sources as WebDataset tar shards in the img2dataset layout, and text-pair sources as Parquet shards.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    write.add_argument("--data", action="append", required=True, metavar="SPEC", help="a training data spec, as for engine train (repeatable)")
    write.add_argument("--out", type=Path, required=True, help="folder the shards are written to (created)")
    write.add_argument("--per-shard", type=int, default=1000, metavar="N", help="photos (or text pairs) per shard (default 1000)")
    write.add_argument("--prefix", default="", help="shard name prefix, e.g. 'train-' for train-00000.tar")
    write.add_argument(
        "--image-size",
        type=int,
        metavar="PX",
        help="store photos as the model sees them, PX x PX JPEG (as img2dataset resizes; default: the files as they are)",
    )
    write.set_defaults(func=run_write)


def run_write(args: argparse.Namespace) -> int:
    from engine.train.shard_writer import write_shards

    counts = write_shards(args.data, args.out, args.per_shard, args.prefix, args.image_size)
    parts = [f"{counts['photos']:,} photos in {counts['photo_shards']} tar shard(s)", f"{counts['pairs']:,} pairs in {counts['pair_shards']} Parquet shard(s)"]
    if counts["kept_shards"]:
        parts.append(f"{counts['kept_shards']} existing shard(s) kept")
    if counts["missing_photos"]:
        parts.append(f"{counts['missing_photos']} unreadable photo(s) skipped")
    print(f"{args.out}: " + "; ".join(parts))
    return 0
