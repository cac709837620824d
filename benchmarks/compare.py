"""CLIPPO against tokenizer baselines, trained alike and scored alike: the README comparison in one command.

Every contender is trained by the same trainer (`engine train`) with the same preset, data, seed
and wall-time budget; the baselines' SentencePiece vocabularies are fitted on the same training
texts (English only, or every language). Then both harnesses score every checkpoint: crossmodal
retrieval on Flickr8k val in the XM3600 layout (`run_xm3600.py`) and translation retrieval on
Tatoeba (`run_tatoeba.py`). Training never sees Tatoeba, so the Tatoeba table is held out.

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/compare.py --preset cpu-small --minutes 15
    .venv/bin/python benchmarks/compare.py --skip-train                     # re-score runs/compare/*
    .venv/bin/python benchmarks/compare.py --models clippo=runs/a 1t-clip-en=runs/b   # any checkpoints
"""
from __future__ import annotations

import argparse
import datetime
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.cli import run_reporting_errors
from engine.errors import EngineError
from engine.eval import report, xm3600
from engine.model import PRESETS
from engine.train.checkpoint import find_checkpoint, read_config

BENCHMARKS = Path(__file__).resolve().parent
# The same sources for every contender. No Tatoeba: it is the held-out translation benchmark.
TRAIN_DATA = ("flickr8k:split=train", "multi30k:split=train,exclude=val")
VAL_DATA = "flickr8k:split=val"
VOCAB_SIZE = 8000
# The training recipe every contender shares, the best of the ninth round's Flickr8k probes
# (docs/training-notes.md, ninth round): sigmoid loss, mean pooling, text on the patch grid, English
# captions, a tenth of each batch Multi30k translation pairs, half of each photo's patches masked
# (FLIP), Muon. Flags that do not apply to a contender (the text grid for the tokenizer baselines)
# leave it unchanged.
RECIPE = ("--loss", "sigmoid", "--pool", "gap", "--text-grid", "--caption-langs", "en", "--pair-share", "0.1",
          "--photo-mask", "0.5", "--optimizer", "muon", "--lr", "5e-3", "--val-every", "500")


@dataclass(frozen=True)
class Contender:
    label: str
    kind: str                  # engine train --kind
    vocabulary: str | None     # None: pixels, no tokenizer; "en": English-only vocabulary; "all": every language


CONTENDERS = (
    Contender("clippo", "clippo", None),
    Contender("1t-clip-en", "1t-clip", "en"),
    Contender("1t-clip-all", "1t-clip", "all"),
    Contender("2t-clip-en", "2t-clip", "en"),
    Contender("2t-clip-all", "2t-clip", "all"),
)
BY_LABEL = {c.label: c for c in CONTENDERS}
# Pixels against an English and a multilingual vocabulary on the same shared trunk; 2T on request.
DEFAULT_CONTENDERS = ("clippo", "1t-clip-en", "1t-clip-all")


def engine_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine", *args]


def tokenizer_path(runs: Path, vocabulary: str) -> Path:
    return runs / f"tokenizer-{vocabulary}.model"


def tokenizer_command(runs: Path, vocabulary: str) -> list[str]:
    """Fit a vocabulary on the training texts (the same sources the models train on)."""
    data = [arg for spec in TRAIN_DATA for arg in ("--data", spec)]
    langs = [] if vocabulary == "all" else ["--langs", vocabulary]
    return engine_command("tokenizer", "train", *data, *langs, "--vocab-size", str(VOCAB_SIZE),
                          "--out", str(tokenizer_path(runs, vocabulary)))


def train_command(contender: Contender, runs: Path, preset: str, minutes: float, steps: int | None, device: str = "cpu",
                  recipe: tuple[str, ...] = ()) -> list[str]:
    """`engine train` for one contender; only --kind and --tokenizer differ between contenders."""
    budget = ["--time-budget", str(minutes), "--device", device, *recipe] + (["--steps", str(steps)] if steps else [])
    tokenizer = ["--tokenizer", str(tokenizer_path(runs, contender.vocabulary))] if contender.vocabulary else []
    data = [arg for spec in TRAIN_DATA for arg in ("--data", spec)]
    return engine_command("train", "--preset", preset, "--kind", contender.kind, *tokenizer, *data,
                          "--val", VAL_DATA, *budget, "--seed", "0", "--out", str(runs / contender.label))


def run_step(command: list[str]) -> None:
    """Run one stage, its output streaming through; a failure stops the comparison with the command."""
    print("$ " + shlex.join(command), file=sys.stderr, flush=True)
    if subprocess.run(command).returncode != 0:
        raise EngineError(f"this stage failed (see its message above): {' '.join(command)}")


def train_all(contenders: list[Contender], runs: Path, preset: str, minutes: float, steps: int | None, device: str,
              recipe: tuple[str, ...]) -> None:
    existing = [str(runs / c.label) for c in contenders if (runs / c.label).exists()]
    if existing:
        raise EngineError(f"{', '.join(existing)} already exist: pass --skip-train to score them, or choose another --runs")
    runs.mkdir(parents=True, exist_ok=True)
    for vocabulary in sorted({c.vocabulary for c in contenders if c.vocabulary}):
        if not tokenizer_path(runs, vocabulary).is_file():
            run_step(tokenizer_command(runs, vocabulary))
    for contender in contenders:
        run_step(train_command(contender, runs, preset, minutes, steps, device, recipe))


def checked_models(specs: list[str] | None, contenders: list[Contender], runs: Path, preset: str | None) -> list[str]:
    """LABEL=PATH for each model to score; trained runs must be complete checkpoints of the same preset."""
    if specs:
        return specs
    models = []
    for contender in contenders:
        directory = find_checkpoint(runs / contender.label)
        trained_with = read_config(directory).get("preset", {}).get("name")
        if preset and trained_with != preset:
            raise EngineError(f"{directory} is a {trained_with} model, not {preset}: the comparison needs one preset")
        models.append(f"{contender.label}={runs / contender.label}")
    return models


def differences_table(title: str, path: Path, a: str, b: str) -> str:
    scores = report.read_results_csv(path)
    rows = report.largest_differences(scores, a, b, k=1, n=5)
    if not rows:
        return f"{title}: no language scored for both {a} and {b}."
    lines = [f"{title}: {a} minus {b}, R@1 averaged over both directions, in points", "",
             "| language | difference |", "| --- | ---: |"]
    return "\n".join(lines + [f"| {lang} | {100 * diff:+.1f} |" for lang, diff in rows])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=f"Contenders: {', '.join(BY_LABEL)} (1T: text through the shared ViT with a token embedding; "
        "2T: a separate text tower; -en: English-only vocabulary; -all: every training language). "
        f"Training data: {' + '.join(TRAIN_DATA)}. Run it under flock /tmp/engine-cpu.lock on a shared machine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--preset", default="cpu-small", choices=sorted(PRESETS), help="model size for every contender (default: cpu-small)")
    parser.add_argument("--minutes", type=float, default=15.0, help="training wall-time budget per contender (default: 15)")
    parser.add_argument("--steps", type=int, default=None, help="also cap training at N steps (quick trials)")
    parser.add_argument("--recipe", default=" ".join(RECIPE), metavar="FLAGS",
                        help=f"engine train flags given to every contender alike (default: {' '.join(RECIPE)!r})")
    parser.add_argument("--only", nargs="+", choices=list(BY_LABEL), default=list(DEFAULT_CONTENDERS), metavar="LABEL",
                        help=f"contenders to train and score, from {', '.join(BY_LABEL)} (default: {' '.join(DEFAULT_CONTENDERS)})")
    parser.add_argument("--runs", type=Path, default=Path("runs/compare"), help="where runs and vocabularies go (default: runs/compare)")
    parser.add_argument("--skip-train", action="store_true", help="score the runs already in --runs")
    parser.add_argument("--models", nargs="+", metavar="LABEL=PATH", help="score these checkpoints instead (implies --skip-train)")
    parser.add_argument("--contrast", nargs=2, default=["clippo", "1t-clip-en"], metavar=("A", "B"),
                        help="the two labels whose per-language differences are listed (default: clippo 1t-clip-en)")
    parser.add_argument("--protocol", choices=xm3600.PROTOCOLS, default="all", help="XM3600 caption protocol (default: all)")
    parser.add_argument("--xm3600-langs", nargs="+", metavar="LANG", help="caption languages to score (default: all)")
    parser.add_argument("--tatoeba-langs", nargs="+", metavar="XXX", help="Tatoeba languages to score (default: all 112)")
    parser.add_argument("--tatoeba-limit", type=int, default=200, metavar="N",
                        help="first N pairs per Tatoeba language (default: 200, 41k distinct sentences; 0 = all 1,000: "
                        "158k sentences, about 12 min per cpu-small model on 2 cores)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where training and scoring run (default: cpu)")
    parser.add_argument("--out", type=Path, default=Path("out/compare"), help="comparison.md and both harnesses' outputs (default: out/compare)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.minutes <= 0:
        raise EngineError("--minutes must be positive")
    contenders = [BY_LABEL[label] for label in args.only]
    if not (args.skip_train or args.models):
        train_all(contenders, args.runs, args.preset, args.minutes, args.steps, args.device, tuple(shlex.split(args.recipe)))
    models = checked_models(args.models, contenders, args.runs, None if args.models else args.preset)

    xm_out, tat_out = args.out / "xm3600", args.out / "tatoeba"
    xm_args = ["--device", args.device, "--protocol", args.protocol] + (["--langs", *args.xm3600_langs] if args.xm3600_langs else [])
    tat_args = ["--device", args.device] + (["--langs", *args.tatoeba_langs] if args.tatoeba_langs else []) + (
        ["--limit", str(args.tatoeba_limit)] if args.tatoeba_limit else [])
    run_step([sys.executable, str(BENCHMARKS / "run_xm3600.py"), "--models", *models, *xm_args, "--out", str(xm_out)])
    run_step([sys.executable, str(BENCHMARKS / "run_tatoeba.py"), "--models", *models, *tat_args, "--out", str(tat_out)])

    a, b = args.contrast
    trained = "" if args.models else f", trained {args.minutes:g} min each on {' + '.join(TRAIN_DATA)}"
    comparison = "\n\n".join([
        f"## CLIPPO vs tokenizer baselines ({args.preset if not args.models else 'given checkpoints'}{trained})",
        f"Date {datetime.datetime.now(datetime.UTC).date().isoformat()}; command: `{' '.join(['benchmarks/compare.py', *sys.argv[1:]])}`",
        (xm_out / "results.md").read_text(encoding="utf-8").strip(),
        differences_table("Flickr8k val, largest per-language differences", xm_out / "results.csv", a, b),
        (tat_out / "results.md").read_text(encoding="utf-8").strip(),
        differences_table("Tatoeba, largest per-language differences", tat_out / "results.csv", a, b),
    ]) + "\n"
    report.write_atomic(args.out / "comparison.md", comparison)
    print(comparison)
    print(f"wrote {args.out / 'comparison.md'}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
