"""Translation retrieval on Tatoeba (LASER v1, up to 112 languages): xx->en and en->xx top-1 accuracy.

For each language, every sentence must find its translation among that language's pairs (up to
1,000). It shows where a vocabulary fails and pixels do not: scripts an English tokenizer never
saw. Only the held-out pairs are scored: the first 500 of every language, which training never
sees (engine/eval/tatoeba.py). Writes results.csv, results.md, results.png and summary.json under --out:

    .venv/bin/python benchmarks/run_tatoeba.py --models runs/clippo runs/1t-clip-en --out out/tatoeba
    .venv/bin/python benchmarks/run_tatoeba.py --models runs/clippo --langs deu cmn ara --limit 200
    .venv/bin/python benchmarks/run_tatoeba.py --models runs/clippo --references e5-small minilm
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli import run_reporting_errors
from engine.errors import EngineError
from engine.eval import harness, report, tatoeba
from engine.paths import shared_data_dir

TATOEBA = Path("translation/tatoeba_laser_v1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Accuracy is Recall@1 with one correct candidate; ties count against the model. "
        f"The first {tatoeba.HELD_OUT} pairs of every language are held out: `engine train --data tatoeba` reads only the pairs after them, "
        "and the trainer refuses any other source that holds one.",
    )
    parser.add_argument("--data", type=Path, default=None, help=f"folder of tatoeba.<xxx>-eng.{{xxx,eng}}.gz files (default: SHARED_DATA/{TATOEBA})")
    parser.add_argument("--langs", nargs="+", default=None, metavar="XXX", help="ISO 639-3 codes as in the file names, e.g. deu cmn ara (default: all)")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help=f"use only the first N held-out pairs of each language (quick runs; default: all {tatoeba.HELD_OUT})",
    )
    harness.add_common_arguments(parser, default_out="out/tatoeba")
    harness.add_reference_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    data_dir = args.data
    if data_dir is None:
        shared = shared_data_dir()
        if shared is None:
            raise EngineError("no --data given and no shared data found (set ENGINE_DATA or pass --data DIR)")
        data_dir = shared / TATOEBA
    if args.limit is not None and not 2 <= args.limit <= tatoeba.HELD_OUT:
        raise EngineError(f"--limit must be 2 to {tatoeba.HELD_OUT}: retrieval needs a wrong candidate, and later pairs may be trained on")
    available = tatoeba.languages(data_dir)
    unknown = sorted(set(args.langs or []) - set(available))
    if unknown:
        raise EngineError(f"no Tatoeba pairs for {', '.join(unknown)} in {data_dir}")
    pairs = {lang: tatoeba.load_pairs(data_dir, lang, args.limit or tatoeba.HELD_OUT) for lang in args.langs or available}
    cache = args.cache or args.out / "cache"
    models = harness.load_models(args.models, cache, args.device) + harness.load_references(args.references, cache)

    # One embedding pass per model over the distinct sentences (English sides repeat across languages).
    distinct = list(dict.fromkeys(text for xx, en in pairs.values() for text in (*xx, *en)))
    row = {text: i for i, text in enumerate(distinct)}
    scores: list[report.Score] = []
    for model in models:
        emb = model.texts(distinct)
        for lang, (xx, en) in pairs.items():
            scores += tatoeba.evaluate_pairs(model.label, lang, emb[[row[t] for t in xx]], emb[[row[t] for t in en]])

    limit = f", first {args.limit or tatoeba.HELD_OUT} (held-out) pairs per language"
    title = f"Tatoeba (LASER v1), {len(pairs)} languages{limit}"
    sections = [f"### Translation retrieval: {title}", report.language_table(scores, tatoeba.DIRECTIONS), report.model_table(scores, tatoeba.DIRECTIONS, (1,))]
    for reference in (m for m in models if isinstance(m, harness.TeacherUnderTest)):
        for model in (m for m in models if not isinstance(m, harness.TeacherUnderTest)):
            ahead = tatoeba.beats(scores, model.label, reference.label)
            sections.append(f"{model.label} ahead of {reference.name} (xx->en R@1) in {len(ahead)} of {len(pairs)} languages: {', '.join(ahead) or 'none'}")
    markdown = "\n\n".join(sections) + "\n"
    per_model = report.summary(scores, {(m.label, lang): {"pairs": len(pairs[lang][0])} for m in models for lang in pairs})
    for m in models:
        per_model[m.label] = {**m.metadata, **per_model[m.label]}
    summary = {"benchmark": "tatoeba_laser_v1", "data": str(data_dir), "limit": args.limit, "models": per_model}
    harness.finish(args, scores, markdown, summary, report.bar_chart_png(scores, tatoeba.DIRECTIONS, title))


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
