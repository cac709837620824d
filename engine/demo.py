"""`engine demo`: the README's first command. Shows the engine working with nothing downloaded.

It draws a fresh scene collection (a seed never used in training), indexes it with the two
shipped checkpoints — CLIPPO, which reads text as pixels, and a CLIP baseline with an English
vocabulary — and queries it in 18 languages. A hit is any picture the query truly describes
(`engine.scenes.satisfies`), so text->image R@1 counts every correct answer, not only the picture
the caption was written for. Results go to the terminal, `report.html` and `report.png`.

Then it searches a text collection in many scripts (each scene described once, the languages in
turn; a query is looked for in the other languages) with the shipped multilingual text model,
distilled from multilingual-e5-small on Tatoeba and the scene captions
(engine/assets/clippo-text-tatoeba-cpu-small/MODEL_CARD.md), beside the scene CLIPPO.
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
from engine.index.collect import Item, image_item, text_item
from engine.paths import PACKAGE_DIR
from engine.scenes import LANGUAGES, CaptionSpec, Scene, caption, full_spec, queries, random_scenes, satisfies
from engine.scenes.files import write_pictures

ASSETS = PACKAGE_DIR / "assets"
MODELS = {  # label -> shipped checkpoint directory
    "CLIPPO": ASSETS / "clippo-cpu-tiny-scenes",
    "1T-CLIP en-vocab": ASSETS / "1t-clip-en-cpu-tiny-scenes",
    "CLIPPO text": ASSETS / "clippo-text-tatoeba-cpu-small",
}
REPRODUCE = {
    "CLIPPO": "bash scripts/train_demo_models   # recipes clippo-scenes-cpu-tiny and 1t-clip-en-scenes-cpu-tiny",
    "CLIPPO text": "bash scripts/train_text_model   # recipe clippo-text-teacher-cpu-small (needs ../shared/data)",
}
PICTURE_PX = 64  # the cpu-tiny input size, as in training
TOP_K = 3  # results shown per query
EPILOG = """examples:
  engine demo                          # 200 fresh scenes, 18 languages, report in demo_out/
  engine demo --quick --out /tmp/demo  # 40 scenes: a smoke test for CI
  engine demo --seed 7 --count 1000    # another fresh collection, harder (more near misses)
"""


Asked = dict[str, list[tuple[CaptionSpec, str]]]  # language -> (description, its caption) per query


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
    parser.add_argument("--text-model", type=Path, default=MODELS["CLIPPO text"], help="multilingual text model for the text search (default: the shipped one)")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from engine.demo_report import write_html, write_png  # Pillow + renderer: only once the checks pass

    started = time.monotonic()
    checkpoints = {"CLIPPO": args.clippo, "1T-CLIP en-vocab": args.baseline}
    readers = {"CLIPPO text": args.text_model, "CLIPPO": args.clippo}  # the text search's models
    for label, path in {**checkpoints, **readers}.items():
        if not (Path(path) / "model.safetensors").is_file():
            how = REPRODUCE.get(label, REPRODUCE["CLIPPO"])
            raise EngineError(f"the {label} checkpoint is missing ({path}). Produce it with:\n  {how}")
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
    photos = Collection([image_item(path) for path in pictures], "image")
    found = {label: _search(label, path, index_dir(out, label), photos, asked, shown, scenes) for label, path in checkpoints.items()}
    _print_results(asked, found, shown, scenes)
    texts = described(asked)
    if len(langs) > 1:  # a text is only looked for in the other languages
        read = {label: _search(label, path, out / f"texts-{slug(label)}", texts, asked, shown, scenes) for label, path in readers.items()}
        _print_text_results(asked, read, shown, scenes, texts)
    else:
        read = {}
        print("\n(text search skipped: it looks for a query's meaning in the other languages, and --langs gave one)")
    write_html(out / "report.html", asked, found, shown, scenes, pictures, TOP_K, read, [(item.language, item.text) for item in texts.items])
    write_png(out / "report.png", asked, found, shown, scenes)
    print(
        f"\n{count} pictures and {count} texts, {count * len(langs)} queries per model, {time.monotonic() - started:.0f} s. "
        f"Report: {out / 'report.html'} and {out / 'report.png'}"
    )
    print(f"Search the collection in a browser (any language, or by picture):\n  {serve_command(index_dir(out, 'CLIPPO'))}")
    return 0


@dataclass
class Collection:
    """What one part of the demo indexes: one item per scene, in scene order."""

    items: list[Item]
    modality: str  # "image" | "text": what the queries look for

    def embed(self, encoder) -> np.ndarray:
        if self.modality == "image":
            return encoder.encode_images([Path(item.path) for item in self.items])  # fp32: bf16 is several times slower on AVX2-only CPUs
        return encoder.encode_texts([item.text for item in self.items])

    def findable(self, lang: str) -> np.ndarray:
        """Which items a query in `lang` may find: every picture; texts in the other languages only
        (the collection holds each query's own words in one language, which would be found trivially)."""
        return np.array([self.modality == "image" or item.language != lang for item in self.items])


def described(asked: Asked) -> Collection:
    """A text collection in many scripts: scene i's query description in the i-th language, round
    robin. A query finds its translation in another language, or another description that fits."""
    langs = list(asked)
    chosen = [langs[i % len(langs)] for i in range(len(next(iter(asked.values()))))]
    return Collection([text_item(asked[lang][i][1], lang) for i, lang in enumerate(chosen)], "text")


def slug(label: str) -> str:
    return label.lower().replace(" ", "-")


def serve_command(directory: Path) -> str:
    """The `engine serve` line for an index, naming this environment's `engine` when it is not on PATH."""
    beside = Path(sys.executable).with_name("engine")
    program = "engine" if not beside.is_file() or shutil.which("engine") == str(beside) else str(beside)
    return f"{shlex.quote(program)} serve {shlex.quote(str(directory))}"


def _search(label: str, checkpoint: Path, where: Path, collection: Collection, asked: Asked, shown: dict[str, int], scenes: list[Scene]) -> dict[str, Found]:
    """Index the collection with one checkpoint, show each language's query through the index, and
    score every query of every language (exact search, as the index does at this size)."""
    from engine.eval.retrieval import wrong_at_least  # the team's one Recall@k rule: ties count against the model
    from engine.index.build import build
    from engine.index.search import open_index

    print(f"\n== {label}: indexing {len(scenes)} {collection.modality}s with {checkpoint}")
    build(where, checkpoint, collection.items, [])
    index = open_index(where)
    vectors = collection.embed(index.encoder)
    position = {item.label: i for i, item in enumerate(collection.items)}  # item i describes scene i
    specs = [spec for spec, _ in next(iter(asked.values()))]  # the same descriptions in every language
    correct = np.array([[satisfies(scene, spec) for scene in scenes] for spec in specs])
    results = {}
    for lang, pairs in tqdm(asked.items(), desc=f"querying {label}", unit="language", leave=False):
        findable = collection.findable(lang)
        scores = np.where(findable, index.encoder.encode_texts([text for _, text in pairs]) @ vectors.T, -np.inf)
        ranked = [position[hit] for hit in index.search(pairs[shown[lang]][1], len(collection.items), collection.modality)["item"]]
        top = [i for i in ranked if findable[i]][:TOP_K]
        results[lang] = Found(top, float((wrong_at_least(scores, correct & findable) == 0).mean()))
    return results


def index_dir(out: Path, label: str) -> Path:
    """Where the demo leaves a model's index (CLIPPO -> out/index-clippo), ready for `engine serve`."""
    return out / f"index-{label.split()[0].lower()}"


def _print_results(asked: Asked, found: dict[str, dict[str, Found]], shown: dict[str, int], scenes: list[Scene]) -> None:
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
    _print_r1_table(found, shown)


def _print_text_results(asked: Asked, found: dict[str, dict[str, Found]], shown: dict[str, int], scenes: list[Scene], texts: Collection) -> None:
    langs = sorted({item.language for item in texts.items})
    print(f"\n== text search: {len(texts.items)} descriptions, one per scene, in {len(langs)} languages in turn")
    print("   (a query is looked for in the other languages; + = the found text describes a scene the query fits)")
    for lang, query in shown.items():
        spec, text = asked[lang][query]
        print(f"\n[{lang}] {text}")
        for label, per_lang in found.items():
            best = per_lang[lang].top[0]
            marks = "  ".join(f"{'+' if satisfies(scenes[i], spec) else '-'}[{texts.items[i].language}]" for i in per_lang[lang].top)
            print(f"  {label:<17} {marks}   first: {texts.items[best].text}")
    print("\n== text->text R@1 per language of the query, across languages (a hit: a text describing a scene the query fits)")
    _print_r1_table(found, shown)


def _print_r1_table(found: dict[str, dict[str, Found]], shown: dict[str, int]) -> None:
    labels = list(found)
    print(f"{'language':<12} {'script':<6} " + " ".join(f"{label:>17}" for label in labels))
    for lang in shown:
        module = LANGUAGES[lang]
        print(f"{module.NAME:<12} {module.SCRIPT:<6} " + " ".join(f"{found[label][lang].r1:>17.2f}" for label in labels))
    for label in labels:
        scores = found[label]
        worst, best = min(scores, key=lambda lang: scores[lang].r1), max(scores, key=lambda lang: scores[lang].r1)
        mean = sum(f.r1 for f in scores.values()) / len(scores)
        print(f"{label}: R@1 {scores[worst].r1:.2f}-{scores[best].r1:.2f} over {len(scores)} languages, mean {mean:.2f} (lowest: {LANGUAGES[worst].NAME})")
