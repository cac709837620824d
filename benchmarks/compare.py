"""CLIPPO against tokenizer baselines, trained alike and scored alike: the README comparison in one command.

Every contender is a named recipe (`engine configs`) of one family: the same architecture, data,
seed, wall-time budget and optimisation, differing only in the model kind and its vocabulary
(the baselines fit their SentencePiece vocabulary on the same training texts, English only or
every language). `--set KEY=VALUE` changes every contender alike. Then both harnesses score
every checkpoint: crossmodal retrieval on Flickr8k val in the XM3600 layout (`run_xm3600.py`)
and translation retrieval on Tatoeba (`run_tatoeba.py`). Training never sees Tatoeba, so the
Tatoeba table is held out.

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/compare.py
    .venv/bin/python benchmarks/compare.py --skip-train                     # re-score runs/compare/*
    .venv/bin/python benchmarks/compare.py --models clippo=runs/a 1t-clip-en=runs/b   # any checkpoints
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import subprocess
import sys
from pathlib import Path

from engine.atomic import write_atomic
from engine.cli import run_reporting_errors
from engine.configs import RECIPES, recipe
from engine.errors import EngineError
from engine.eval import report, xm3600
from engine.model.checkpoint import find_checkpoint, read_config

BENCHMARKS = Path(__file__).resolve().parent
FAMILY = "flickr8k-cpu-small"  # recipes <label>-flickr8k-cpu-small
LABELS = ("clippo", "1t-clip-en", "1t-clip-all", "2t-clip-en", "2t-clip-all")
# Pixels against an English and a multilingual vocabulary on the same shared trunk; 2T on request.
DEFAULT_CONTENDERS = ("clippo", "1t-clip-en", "1t-clip-all")


def recipe_name(label: str) -> str:
    return f"{label}-{FAMILY}"


def train_command(label: str, runs: Path, sets: list[str], device: str = "cpu") -> list[str]:
    """`engine train` of one contender's recipe; `sets` apply to every contender alike."""
    overrides = [arg for assignment in sets for arg in ("--set", assignment)]
    return [sys.executable, "-m", "engine", "train", "--config", recipe_name(label), *overrides, "--device", device, "--out", str(runs / label)]


def run_step(command: list[str]) -> None:
    """Run one stage, its output streaming through; a failure stops the comparison with the command."""
    print("$ " + shlex.join(command), file=sys.stderr, flush=True)
    if subprocess.run(command).returncode != 0:
        raise EngineError(f"this stage failed (see its message above): {' '.join(command)}")


def train_all(labels: list[str], runs: Path, sets: list[str], device: str) -> None:
    existing = [str(runs / label) for label in labels if (runs / label).exists()]
    if existing:
        raise EngineError(f"{', '.join(existing)} already exist: pass --skip-train to score them, or choose another --runs")
    runs.mkdir(parents=True, exist_ok=True)
    for label in labels:
        run_step(train_command(label, runs, sets, device))


def checked_models(specs: list[str] | None, labels: list[str], runs: Path) -> list[str]:
    """LABEL=PATH for each model to score; trained runs must be complete checkpoints of one architecture."""
    if specs:
        return specs
    models, sizes = [], {}
    for label in labels:
        directory = find_checkpoint(runs / label)
        sizes[str(directory)] = read_config(directory)["model"]["name"]
        models.append(f"{label}={runs / label}")
    if len(set(sizes.values())) > 1:
        raise EngineError(f"the runs are of different sizes ({', '.join(f'{d}: {n}' for d, n in sizes.items())}): the comparison needs one architecture")
    return models


def differences_table(title: str, path: Path, a: str, b: str) -> str:
    scores = report.read_results_csv(path)
    rows = report.largest_differences(scores, a, b, k=1, n=5)
    if not rows:
        return f"{title}: no language scored for both {a} and {b}."
    lines = [f"{title}: {a} minus {b}, R@1 averaged over both directions, in points", "", "| language | difference |", "| --- | ---: |"]
    return "\n".join(lines + [f"| {lang} | {100 * diff:+.1f} |" for lang, diff in rows])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=f"Contenders: {', '.join(LABELS)} (recipes LABEL-{FAMILY}; 1T: text through the shared ViT with a token "
        "embedding; 2T: a separate text tower; -en: English-only vocabulary; -all: every training language). "
        f"Training data: {' + '.join(d.spec for d in recipe(recipe_name('clippo')).train.data)}. "
        "Run it under flock /tmp/engine-cpu.lock on a shared machine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(LABELS),
        default=list(DEFAULT_CONTENDERS),
        metavar="LABEL",
        help=f"contenders to train and score, from {', '.join(LABELS)} (default: {' '.join(DEFAULT_CONTENDERS)})",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="sets",
        help="override a config field of every contender alike, e.g. time_budget=5 or input.photo_flip=false",
    )
    parser.add_argument("--runs", type=Path, default=Path("runs/compare"), help="where the runs go (default: runs/compare)")
    parser.add_argument("--skip-train", action="store_true", help="score the runs already in --runs")
    parser.add_argument("--models", nargs="+", metavar="LABEL=PATH", help="score these checkpoints instead (implies --skip-train)")
    parser.add_argument(
        "--contrast",
        nargs=2,
        default=["clippo", "1t-clip-en"],
        metavar=("A", "B"),
        help="the two labels whose per-language differences are listed (default: clippo 1t-clip-en)",
    )
    parser.add_argument("--protocol", choices=xm3600.PROTOCOLS, default="all", help="XM3600 caption protocol (default: all)")
    parser.add_argument("--xm3600-langs", nargs="+", metavar="LANG", help="caption languages to score (default: all)")
    parser.add_argument("--tatoeba-langs", nargs="+", metavar="XXX", help="Tatoeba languages to score (default: all 112)")
    parser.add_argument(
        "--tatoeba-limit",
        type=int,
        default=200,
        metavar="N",
        help="first N pairs per Tatoeba language (default: 200, 41k distinct sentences; 0 = all 1,000: 158k sentences)",
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where training and scoring run (default: cpu)")
    parser.add_argument("--out", type=Path, default=Path("out/compare"), help="comparison.md and both harnesses' outputs (default: out/compare)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    missing = [recipe_name(label) for label in args.only if recipe_name(label) not in RECIPES]
    if missing:
        raise EngineError(f"no recipe {', '.join(missing)}")
    if not (args.skip_train or args.models):
        train_all(args.only, args.runs, args.sets, args.device)
    models = checked_models(args.models, args.only, args.runs)

    xm_out, tat_out = args.out / "xm3600", args.out / "tatoeba"
    xm_args = ["--device", args.device, "--protocol", args.protocol] + (["--langs", *args.xm3600_langs] if args.xm3600_langs else [])
    tat_args = (
        ["--device", args.device]
        + (["--langs", *args.tatoeba_langs] if args.tatoeba_langs else [])
        + (["--limit", str(args.tatoeba_limit)] if args.tatoeba_limit else [])
    )
    run_step([sys.executable, str(BENCHMARKS / "run_xm3600.py"), "--models", *models, *xm_args, "--out", str(xm_out)])
    run_step([sys.executable, str(BENCHMARKS / "run_tatoeba.py"), "--models", *models, *tat_args, "--out", str(tat_out)])

    a, b = args.contrast
    trained = "" if args.models else f": recipes {', '.join(recipe_name(label) for label in args.only)}" + (f" with {' '.join(args.sets)}" if args.sets else "")
    comparison = (
        "\n\n".join(
            [
                f"## CLIPPO vs tokenizer baselines{trained if not args.models else ' (given checkpoints)'}",
                f"Date {datetime.datetime.now(datetime.UTC).date().isoformat()}; command: `{' '.join(['benchmarks/compare.py', *sys.argv[1:]])}`",
                (xm_out / "results.md").read_text(encoding="utf-8").strip(),
                differences_table("Flickr8k val, largest per-language differences", xm_out / "results.csv", a, b),
                (tat_out / "results.md").read_text(encoding="utf-8").strip(),
                differences_table("Tatoeba, largest per-language differences", tat_out / "results.csv", a, b),
            ]
        )
        + "\n"
    )
    write_atomic(args.out / "comparison.md", comparison)
    print(comparison)
    print(f"wrote {args.out / 'comparison.md'}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
