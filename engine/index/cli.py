"""The index commands: `engine index build|add`, `engine query`, `engine serve`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.errors import EngineError

EXAMPLES = """examples (INDEX_DIR comes first, for every command):
  engine index build my-index --model runs/small --images ~/Pictures
  engine index build idx --model runs/small --table captions.tsv --image-col image --text-col caption
  engine index add my-index --images ~/Pictures/2026      # only new or changed files are embedded
  engine query my-index "ein Hund am Strand" -k 5
  engine query my-index --image photo.jpg --modality text --json
  engine serve my-index --port 8080
  engine index build big --model runs/small --images /photos --executor ray --ondisk   # larger than RAM
  engine index build big --model runs/small --table urls.parquet --image-col path --executor ray --address ray://head:10001
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    index = subparsers.add_parser(
        "index",
        help="build or extend a searchable index of photos and texts",
        description="Build or extend an index: a folder holding a faiss index, Parquet metadata "
        "and a manifest.json. Photos and texts share one index (column `modality`).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = index.add_subparsers(dest="action", metavar="ACTION", required=True)

    build = actions.add_parser(
        "build",
        help="embed a collection into a new index",
        description="Embed photos and/or texts with a checkpoint and write INDEX_DIR atomically: an interrupted build leaves any previous index there intact.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("index_dir", nargs="?", type=Path, metavar="INDEX_DIR", help="index directory to create or replace")
    build.add_argument("--out", type=Path, help=argparse.SUPPRESS)  # the earlier spelling of INDEX_DIR, still accepted
    build.add_argument("--model", required=True, type=Path, help="checkpoint directory (or a run directory holding checkpoint/)")
    _add_item_options(build)
    build.add_argument("--factory", help="faiss index factory string overriding the automatic choice, e.g. 'IVF1024,Flat' or 'HNSW32,Flat'")
    build.add_argument(
        "--memory-budget",
        metavar="SIZE",
        help="RAM the index may use, e.g. 2G; picks the fastest index that fits "
        "(HNSW, then IVF-Flat, then IVF-PQ with exact re-ranking). Without it: exact up to 50k items, IVF-Flat above",
    )
    build.add_argument(
        "--ondisk",
        action="store_true",
        help="an index larger than RAM: IVF-PQ whose inverted lists, vectors and metadata stay on disk, memory-mapped when searching (needs --executor)",
    )
    build.set_defaults(func=_run_build)

    add = actions.add_parser(
        "add",
        help="append new items to an index (already indexed ones are skipped)",
        description="Embed only the items not yet in INDEX_DIR (same image path and mtime, or same text) and append them, atomically.",
    )
    add.add_argument("index_dir", type=Path, metavar="INDEX_DIR", help="the index to extend")
    add.add_argument("--model", type=Path, help="checkpoint to embed with (default: the one recorded in the index; must match it)")
    _add_item_options(add)
    add.set_defaults(func=_run_add)

    query = subparsers.add_parser(
        "query",
        help="search an index by text or by image",
        description="Search INDEX_DIR with a text in any script, or with a picture (--image). Prints rank, score, modality and item; --json for scripts.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    query.add_argument("index_dir", type=Path, metavar="INDEX_DIR", help="the index to search")
    query.add_argument("text", nargs="?", help="the query text (any language)")
    query.add_argument("--image", type=Path, help="search with this picture instead of a text")
    query.add_argument("--similar", type=int, metavar="ID", help="search with the item of this id (more like this)")
    query.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    query.add_argument("--modality", choices=("any", "image", "text"), default="any", help="only return images or only texts")
    query.add_argument("--json", action="store_true", help="print the results as a JSON list")
    query.add_argument("--model", type=Path, help="checkpoint to use (default: the one recorded in the index; must match it)")
    query.set_defaults(func=_run_query)

    serve = subparsers.add_parser(
        "serve",
        help="serve an index over HTTP (JSON API)",
        description="Serve INDEX_DIR over HTTP: GET /search?q=..., POST /search/image (multipart "
        "'file'), GET /items/ID, GET /items/ID/similar, GET /health. Localhost only by default.",
    )
    serve.add_argument("index_dir", type=Path, metavar="INDEX_DIR", help="the index to serve")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8080, help="TCP port to listen on (default 8080)")
    serve.add_argument("--model", type=Path, help="checkpoint to use (default: the one recorded in the index)")
    serve.add_argument("--max-upload-mb", type=float, default=10.0, help="largest accepted request body (default 10 MB)")
    serve.add_argument(
        "--timeout", type=float, default=10.0, help="seconds a search may take before a 504, and a request body may take to arrive before a 408 (default 10)"
    )
    serve.set_defaults(func=_run_serve)


def _add_item_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("items (any combination)")
    group.add_argument(
        "--images",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="folder of photos, searched recursively (jpg, png, webp, gif, bmp, tiff); repeatable",
    )
    group.add_argument("--texts", type=Path, action="append", default=[], metavar="FILE", help="UTF-8 file, one text per line; repeatable")
    group.add_argument("--lang", help="language (BCP-47) of the --texts lines, stored as metadata")
    group.add_argument("--table", type=Path, help="CSV, TSV, JSONL or Parquet table (optionally compressed, e.g. .tsv.gz)")
    group.add_argument("--image-col", help="--table column holding image paths")
    group.add_argument("--text-col", help="--table column holding texts")
    group.add_argument("--lang-col", help="--table column holding each text's language")
    group.add_argument("--image-root", type=Path, help="folder that relative --image-col paths start from (default: the table's folder)")
    parser.add_argument("--workers", type=int, help="processes decoding photos (default: one per CPU; 0 = none); with --executor ray: actors per stage")
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="embed into resumable partitions (INDEX_DIR/partitions-*): in this process (local) or with Ray Data (ray; bash scripts/install_extras ray)",
    )
    parser.add_argument("--partition-size", type=int, default=10_000, metavar="N", help="with --executor: items per embedding partition (default 10000)")
    parser.add_argument("--address", help="with --executor ray: join the Ray cluster at this address (e.g. ray://head:10001) instead of starting one here")


def _collect(args: argparse.Namespace):
    from engine.index.collect import images_in, table_items, texts_in

    if not (args.images or args.texts or args.table):
        raise EngineError("nothing to index: give --images DIR, --texts FILE and/or --table FILE")
    if (args.image_col or args.text_col or args.lang_col or args.image_root) and not args.table:
        raise EngineError("--image-col/--text-col/--lang-col/--image-root need --table")
    items, skipped = [], []
    for folder in args.images:
        items += images_in(folder)
    for file in args.texts:
        items += texts_in(file, args.lang)
    if args.table:
        table, missing = table_items(args.table, args.image_col, args.text_col, args.lang_col, args.image_root)
        items += table
        skipped += missing
    return items, skipped


def _run_build(args: argparse.Namespace) -> int:
    from engine.index.build import build
    from engine.index.factory import parse_size

    if (args.index_dir is None) == (args.out is None):
        raise EngineError("give the index directory once: engine index build INDEX_DIR --model ...")
    directory = args.index_dir or args.out
    items, skipped = _collect(args)
    budget = parse_size(args.memory_budget) if args.memory_budget else None
    _check_executor(args)
    if args.ondisk and (args.executor is None or args.memory_budget):
        raise EngineError("--ondisk needs --executor local|ray (it indexes embedding partitions) and takes no --memory-budget")
    report = build(directory, args.model, items, skipped, args.factory, budget, args.workers, args.executor, args.address, args.ondisk, args.partition_size)
    _print_report(report, f"built {directory}")
    return 0


def _run_add(args: argparse.Namespace) -> int:
    from engine.index.build import add

    items, skipped = _collect(args)
    _check_executor(args)
    report = add(args.index_dir, items, skipped, args.model, args.workers, args.executor, args.address, args.partition_size)
    _print_report(report, f"added to {args.index_dir}")
    return 0


def _check_executor(args: argparse.Namespace) -> None:
    if args.partition_size < 1:
        raise EngineError(f"--partition-size must be at least 1, got {args.partition_size}")
    if args.address and args.executor != "ray":
        raise EngineError("--address names a Ray cluster: it needs --executor ray")


def _print_report(report, what: str) -> None:
    manifest = report.manifest
    index = manifest["index"]
    rate = report.added / report.seconds if report.seconds else 0.0
    print(
        f"{what}: {report.added:,} new items in {report.seconds:.1f} s ({rate:.1f} items/s); "
        f"{manifest['count']:,} in total ({manifest['counts']['image']:,} images, {manifest['counts']['text']:,} texts)"
    )
    print(f"index: {index['factory']} ({index['why']}); recall@10 {index['recall_at_10']:.3f} {index['knobs'] or ''}".rstrip())
    if manifest.get("layout") == "ondisk":
        parts, segments = manifest["partitions"], len(manifest["segments"])
        print(f"on disk: {parts} partitions in {manifest['parts']}/, {segments} segment(s); search {index['search_ms']} ms a query")
    if report.skipped:
        print(f"skipped {len(report.skipped)} item(s) (listed in manifest.json):")
        for entry in report.skipped[:20]:
            print(f"  {entry.item}: {entry.reason}")
        if len(report.skipped) > 20:
            print(f"  ... and {len(report.skipped) - 20} more")


def _run_query(args: argparse.Namespace) -> int:
    from engine.index.search import open_index, records

    given = [name for name, value in (("text", args.text), ("--image", args.image), ("--similar", args.similar)) if value is not None]
    if len(given) != 1:
        raise EngineError("give exactly one query: a text, --image PATH or --similar ID")
    index = open_index(args.index_dir, args.model)
    if args.text is not None:
        hits = index.search_text(args.text, args.k, args.modality)
    elif args.image is not None:
        hits = index.search_image(args.image, args.k, args.modality)
    else:
        hits = index.search_similar(args.similar, args.k, args.modality)
    if args.json:
        print(json.dumps(records(hits), ensure_ascii=False, indent=1))
    elif hits.empty:
        print("no results")
    else:
        print(hits[["rank", "score", "modality", "item"]].to_string(index=False, formatters={"score": "{:.4f}".format}))
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    from engine.index.search import open_index
    from engine.index.serve import serve

    serve(open_index(args.index_dir, args.model), args.host, args.port, int(args.max_upload_mb * 2**20), args.timeout)
    return 0
