"""`engine demo`: the README's first command. Shows the engine working with nothing downloaded.

It draws a fresh scene collection (a seed never used in training), indexes it with the two
shipped checkpoints — CLIPPO, which reads text as pixels, and a CLIP baseline with an English
vocabulary — and queries it in 18 languages. A hit is any picture the query truly describes
(`engine.scenes.satisfies`), so text->image R@1 counts every correct answer, not only the picture
the caption was written for. Results go to the terminal, `report.html` and `report.png`.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.errors import EngineError
from engine.paths import PACKAGE_DIR
from engine.scenes import LANGUAGES, CaptionSpec, Scene, caption, full_spec, queries, random_scenes, satisfies
from engine.scenes.files import picture_index, write_pictures

ASSETS = PACKAGE_DIR / "assets"
MODELS = {  # label -> shipped checkpoint directory
    "CLIPPO": ASSETS / "clippo-cpu-tiny-scenes",
    "1T-CLIP en-vocab": ASSETS / "1t-clip-en-cpu-tiny-scenes",
}
REPRODUCE = "bash scripts/train_demo_models   # recipes clippo-scenes-cpu-tiny and 1t-clip-en-scenes-cpu-tiny"
PICTURE_PX = 64  # the cpu-tiny input size, as in training
TOP_K = 3  # results shown per query
EPILOG = """examples:
  engine demo                          # 200 fresh scenes, 18 languages, report in demo_out/
  engine demo --quick --out /tmp/demo  # 40 scenes: a smoke test for CI
  engine demo --seed 7 --count 1000    # another fresh collection, harder (more near misses)
"""


@dataclass
class Found:
    """What one model did in one language."""

    top: list[int]  # the shown query's first results (scene indices), as the index returned them
    r1: float  # share of all queries whose best-scored picture satisfies the query


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="index a fresh scene collection and query it in 18 languages (no download)",
        description=__doc__.split("\n\n")[1],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="where the collection, indexes and report go (default: demo_out/)")
    parser.add_argument("--count", type=int, default=200, help="pictures in the fresh collection (default: 200)")
    parser.add_argument("--seed", default="0", help="collection seed; training used other seeds (default: 0)")
    parser.add_argument("--quick", action="store_true", help="40 pictures: a fast end-to-end check")
    parser.add_argument("--langs", help=f"comma-separated languages to query (default: all: {','.join(LANGUAGES)})")
    parser.add_argument("--clippo", type=Path, default=MODELS["CLIPPO"], help="CLIPPO checkpoint (default: the shipped one)")
    parser.add_argument("--baseline", type=Path, default=MODELS["1T-CLIP en-vocab"], help="baseline checkpoint (default: the shipped one)")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from engine.demo_report import write_html, write_png  # Pillow + renderer: only once the checks pass

    started = time.monotonic()
    checkpoints = {"CLIPPO": args.clippo, "1T-CLIP en-vocab": args.baseline}
    for label, path in checkpoints.items():
        if not (Path(path) / "model.safetensors").is_file():
            raise EngineError(f"the {label} checkpoint is missing ({path}). Produce the demo models with:\n  {REPRODUCE}")
    count = 40 if args.quick else args.count
    if count < 2:
        raise EngineError(f"--count must be at least 2, got {count}")
    langs = args.langs.split(",") if args.langs else list(LANGUAGES)
    unknown = [lang for lang in langs if lang not in LANGUAGES]
    if unknown:
        raise EngineError(f"--langs: no scene captions in {', '.join(unknown)}; choose from {','.join(LANGUAGES)}")
    scenes = random_scenes(count, f"demo:{args.seed}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pictures = write_pictures(scenes, out / "collection", PICTURE_PX)
    asked = {lang: queries(scenes, lang, f"demo:{args.seed}") for lang in langs}
    shown = {lang: i % count for i, lang in enumerate(langs)}  # one query per language, all different
    found = {label: _search(label, path, out, asked, shown, scenes, pictures) for label, path in checkpoints.items()}
    _print_results(asked, found, shown, scenes)
    write_html(out / "report.html", asked, found, shown, scenes, pictures, TOP_K)
    write_png(out / "report.png", asked, found, shown, scenes)
    print(
        f"\n{count} pictures, {count * len(langs)} queries per model, {time.monotonic() - started:.0f} s. "
        f"Report: {out / 'report.html'} and {out / 'report.png'}"
    )
    print(f"Search the collection in a browser (any language, or by picture):\n  {serve_command(index_dir(out, 'CLIPPO'))}")
    return 0


def serve_command(directory: Path) -> str:
    """The `engine serve` line for an index, naming this environment's `engine` when it is not on PATH."""
    beside = Path(sys.executable).with_name("engine")
    program = "engine" if not beside.is_file() or shutil.which("engine") == str(beside) else str(beside)
    return f"{shlex.quote(program)} serve {shlex.quote(str(directory))}"


def _search(
    label: str, checkpoint: Path, out: Path, asked: dict[str, list[tuple[CaptionSpec, str]]], shown: dict[str, int], scenes: list[Scene], pictures: list[Path]
) -> dict[str, Found]:
    """Index the collection with one checkpoint, show each language's query through the index, and
    score every query of every language (exact search, as the index does at this size)."""
    from engine.eval.retrieval import wrong_at_least  # the team's one Recall@k rule: ties count against the model
    from engine.index.build import build
    from engine.index.collect import images_in
    from engine.index.search import open_index

    print(f"\n== {label}: indexing {len(scenes)} pictures with {checkpoint}")
    build(index_dir(out, label), checkpoint, images_in(out / "collection"), [])
    index = open_index(index_dir(out, label))
    images = index.encoder.encode_images(pictures)  # fp32: bf16 is several times slower on AVX2-only CPUs
    specs = [spec for spec, _ in next(iter(asked.values()))]  # the same descriptions in every language
    correct = np.array([[satisfies(scene, spec) for scene in scenes] for spec in specs])
    results = {}
    for lang, pairs in tqdm(asked.items(), desc=f"querying {label}", unit="language", leave=False):
        scores = index.encoder.encode_texts([text for _, text in pairs]) @ images.T
        hits = index.search(pairs[shown[lang]][1], TOP_K, "image")["item"]
        results[lang] = Found([picture_index(path) for path in hits], float((wrong_at_least(scores, correct) == 0).mean()))
    return results


def index_dir(out: Path, label: str) -> Path:
    """Where the demo leaves a model's index (CLIPPO -> out/index-clippo), ready for `engine serve`."""
    return out / f"index-{label.split()[0].lower()}"


def _print_results(asked, found: dict[str, dict[str, Found]], shown: dict[str, int], scenes: list[Scene]) -> None:
    labels = list(found)
    print("\n== one query per language: top results (+ = the picture fits the query)")
    for lang, query in shown.items():
        spec, text = asked[lang][query]
        print(f"\n[{lang}] {text}")
        for label in labels:
            ranked = found[label][lang].top
            marks = "  ".join(f"{'+' if satisfies(scenes[i], spec) else '-'}#{i}" for i in ranked)
            print(f"  {label:<17} {marks}   first: {caption(full_spec(scenes[ranked[0]]), 'en')}")
    print("\n== text->image R@1 per language (a hit is any picture the query describes)")
    print(f"{'language':<12} {'script':<6} " + " ".join(f"{label:>17}" for label in labels))
    for lang in shown:
        module = LANGUAGES[lang]
        print(f"{module.NAME:<12} {module.SCRIPT:<6} " + " ".join(f"{found[label][lang].r1:>17.2f}" for label in labels))
    for label in labels:
        scores = found[label]
        worst, best = min(scores, key=lambda lang: scores[lang].r1), max(scores, key=lambda lang: scores[lang].r1)
        print(f"{label}: R@1 {scores[worst].r1:.2f}-{scores[best].r1:.2f} over {len(scores)} languages (lowest: {LANGUAGES[worst].NAME})")
