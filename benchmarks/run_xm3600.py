"""Crossmodal retrieval per language on XM3600-layout data: image->text and text->image R@1/5/10.

Reads `captions.jsonl` (XM3600 schema) and `images/<image/key>.jpg`, embeds every image and every
caption once per model (cached on disk), and writes results.csv, results.md, results.png and
summary.json under --out. Runs unchanged on the real XM3600 and on the Flickr8k val split staged
in the same layout (the default when ../shared/data is present):

    .venv/bin/python benchmarks/run_xm3600.py --models runs/clippo runs/1t-clip-en --out out/flickr8k_val
    .venv/bin/python benchmarks/run_xm3600.py --captions xm3600/captions.jsonl --images xm3600/images \
        --models runs/clippo --protocol first
    .venv/bin/python benchmarks/run_xm3600.py --text-to-text --models runs/clippo --references e5-small minilm

`--text-to-text` measures multilingual reading apart from seeing: each caption in language xx must
find the English caption (the first) of the same photo among every photo's English caption.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli import run_reporting_errors
from engine.errors import EngineError
from engine.eval import harness, report, xm3600
from engine.paths import shared_data_dir

FLICKR8K_VAL = Path("xm3600_format/flickr8k_val/captions.jsonl")
FLICKR8K_IMAGES = Path("flickr8k/images")


def default_paths(captions: Path | None, images: Path | None) -> tuple[Path, Path]:
    """--captions defaults to the staged Flickr8k val; --images to `images/` beside the captions."""
    data = shared_data_dir()
    if captions is None:
        if data is None:
            raise EngineError("no --captions given and no shared data found (set ENGINE_DATA or pass --captions PATH/captions.jsonl --images PATH/images)")
        captions = data / FLICKR8K_VAL
        images = images or data / FLICKR8K_IMAGES
    return captions, images or captions.parent / "images"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Protocols: 'all' flattens every caption (big_vision); 'first' keeps the first caption of "
        "each image per language (CLIP_benchmark). Image->text counts a hit when any of the image's "
        "captions in that language is in the top k; ties count against the model. Every image stays "
        "a text->image candidate, even in languages where it has no caption.",
    )
    parser.add_argument("--captions", type=Path, default=None, help=f"captions.jsonl in the XM3600 schema (default: SHARED_DATA/{FLICKR8K_VAL})")
    parser.add_argument(
        "--images",
        type=Path,
        default=None,
        help=f"folder holding <image/key>.jpg (default: images/ beside --captions; SHARED_DATA/{FLICKR8K_IMAGES} for the default captions)",
    )
    parser.add_argument("--langs", nargs="+", default=None, metavar="LANG", help="languages to score (default: every language with a caption)")
    parser.add_argument(
        "--protocol",
        choices=xm3600.PROTOCOLS,
        default="all",
        help="all: every caption is a query (big_vision); first: first caption per image and language (CLIP_benchmark). Recorded in the outputs. Default: all",
    )
    parser.add_argument(
        "--text-to-text",
        action="store_true",
        help="score caption (xx) -> English caption of the same photo instead of photo retrieval: reading apart from seeing",
    )
    harness.add_common_arguments(parser, default_out="out/xm3600")
    harness.add_reference_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    captions_path, images_dir = default_paths(args.captions, args.images)
    captions = xm3600.load_captions(captions_path)
    if args.references and not args.text_to_text:
        raise EngineError("--references need --text-to-text: the pretrained text models have no photo tower")
    paths = None if args.text_to_text else xm3600.image_paths(captions, images_dir)
    languages = args.langs or [lang for lang in captions.languages if any(captions.captions[lang])]
    queries = {lang: xm3600.language_texts(captions, lang, args.protocol) for lang in languages}
    cache = args.cache or args.out / "cache"
    models = harness.load_models(args.models, cache, args.device)
    if args.text_to_text:
        return text_to_text(args, captions, captions_path, queries, models + harness.load_references(args.references, cache))

    scores: list[report.Score] = []
    extra: dict[tuple[str, str], dict] = {}
    for model in models:
        image_emb = model.images(paths)
        for lang in languages:
            texts, text_image = queries[lang]
            result = xm3600.evaluate_language(model.label, lang, image_emb, texts, text_image, model.texts)
            scores += result.scores
            extra[(model.label, lang)] = {"modality_gap": round(result.modality_gap, 6), "texts": result.n_texts, "queried_images": result.n_queried_images}

    gaps = {m.label: sum(extra[(m.label, lang)]["modality_gap"] for lang in languages) / len(languages) for m in models}
    title = f"{captions_path.parent.name}/{captions_path.name}, protocol {args.protocol}, {len(paths)} images"
    markdown = (
        "\n\n".join(
            [
                f"### Crossmodal retrieval: {title}",
                report.language_table(scores, xm3600.DIRECTIONS),
                report.model_table(scores, xm3600.DIRECTIONS, xm3600.KS, {m: {"modality gap": f"{gap:.3f}"} for m, gap in gaps.items()}),
            ]
        )
        + "\n"
    )
    per_model = report.summary(scores, extra)
    for m in models:
        per_model[m.label] = {**m.metadata, "mean_modality_gap": round(gaps[m.label], 6), **per_model[m.label]}
    summary = {
        "benchmark": "xm3600-layout",
        "captions": str(captions_path),
        "images": str(images_dir),
        "protocol": args.protocol,
        "n_images": len(paths),
        "models": per_model,
    }
    harness.finish(args, scores, markdown, summary, report.bar_chart_png(scores, xm3600.DIRECTIONS, title))


def text_to_text(args: argparse.Namespace, captions: xm3600.CaptionSet, captions_path: Path, queries: dict, models: list) -> None:
    """The --text-to-text mode: every non-English language's captions against the English gallery."""
    gallery, gallery_image = xm3600.pivot_gallery(captions, "en")
    languages = [lang for lang in queries if lang != "en"]
    scores: list[report.Score] = []
    for model in models:
        gallery_emb = model.texts(gallery)
        for lang in languages:
            texts, text_image = queries[lang]
            scores += xm3600.evaluate_text_to_text(model.label, lang, gallery_emb, gallery_image, texts, text_image, model.texts)
    title = f"{captions_path.parent.name}/{captions_path.name}, caption in xx -> English caption of the same photo, {len(gallery)} English captions"
    directions = (xm3600.TEXT_DIRECTION,)
    markdown = "\n\n".join(
        [f"### Text-to-text retrieval: {title}", report.language_table(scores, directions, 10), report.model_table(scores, directions, xm3600.KS)]
    )
    per_model = report.summary(scores)
    for m in models:
        per_model[m.label] = {**m.metadata, **per_model[m.label]}
    summary = {
        "benchmark": "xm3600-layout text-to-text",
        "captions": str(captions_path),
        "protocol": args.protocol,
        "gallery": len(gallery),
        "models": per_model,
    }
    harness.finish(args, scores, markdown + "\n", summary, report.bar_chart_png(scores, directions, title, 10))


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
