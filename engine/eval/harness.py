"""What the benchmark scripts share: the checkpoints under test, common flags, writing results.

`benchmarks/run_xm3600.py` and `benchmarks/run_tatoeba.py` differ only in the data they read and
how they score it; loading models, caching embeddings, and producing the CSV / Markdown / PNG /
JSON outputs is the same code, here.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.eval.embedding_cache import embed_cached
from engine.eval.report import Score, write_outputs


@dataclass
class ModelUnderTest:
    """A loaded checkpoint with a short label for tables, embedding through the disk cache."""

    label: str
    path: Path
    encoder: object  # engine.encoder.Encoder
    cache_dir: Path
    metadata: dict = field(default_factory=dict)

    def images(self, paths: Sequence[Path]) -> np.ndarray:
        return embed_cached(self.cache_dir, self.encoder.checkpoint_hash, "images", list(paths), self.encoder.encode_images, f"{self.label} images")

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        return embed_cached(self.cache_dir, self.encoder.checkpoint_hash, "texts", list(texts), self.encoder.encode_texts, f"{self.label} texts")


@dataclass
class TeacherUnderTest:
    """A pretrained tokenizer model (a teacher, engine/train/teacher.py) scored beside the checkpoints, for reference."""

    name: str
    cache_dir: Path
    metadata: dict = field(default_factory=dict)
    _teacher: object = None

    @property
    def label(self) -> str:
        return f"{self.name} (pretrained, tokenizer, for reference)"

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        from engine.train.teacher import Teacher

        if self._teacher is None:
            self._teacher = Teacher(self.name)
            self.metadata = {"teacher": self._teacher.key, "reference": True}
        return embed_cached(self.cache_dir, self._teacher.key, "texts", list(texts), self._teacher.embed, f"{self.name} texts")


def load_references(names: Sequence[str], cache_dir: Path) -> list[TeacherUnderTest]:
    """The pretrained reference models named (their optional extra must be installed)."""
    from engine.train.teacher import INSTALL_HINT, installed, spec

    for name in names:
        if not installed(name):
            raise EngineError(f"--references {name}: the {spec(name).package} package is not installed; {INSTALL_HINT}")
    return [TeacherUnderTest(name, cache_dir) for name in names]


def add_reference_argument(parser: argparse.ArgumentParser) -> None:
    from engine.train.teacher import TEACHERS

    parser.add_argument(
        "--references",
        nargs="*",
        default=[],
        choices=sorted(TEACHERS),
        metavar="NAME",
        help=f"pretrained tokenizer models scored beside the checkpoints on the same items, for reference: {', '.join(TEACHERS)} "
        "(needs the optional teacher extra: bash scripts/install_extras teacher)",
    )


def parse_model_specs(specs: Sequence[str]) -> list[tuple[str, Path]]:
    """`PATH` or `LABEL=PATH`; the label defaults to the checkpoint folder's name and must be unique."""
    parsed = []
    for spec in specs:
        label, sep, path = spec.partition("=")
        path = Path(path if sep else spec)
        label = label if sep else path.resolve().name
        if not label:
            raise EngineError(f"empty model label in {spec!r}; write LABEL=PATH")
        parsed.append((label, path))
    labels = [label for label, _ in parsed]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise EngineError(f"two models are labelled {', '.join(duplicated)}; name them with LABEL=PATH")
    return parsed


def load_models(specs: Sequence[str], cache_dir: Path, device: str = "cpu") -> list[ModelUnderTest]:
    """Load every checkpoint (engine.load); a bad path fails before any embedding starts."""
    import engine

    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise EngineError("--device cuda: no CUDA GPU is visible to torch")
    models = []
    for label, path in parse_model_specs(specs):
        if not path.is_dir():
            raise EngineError(f"checkpoint folder not found: {path}")
        encoder = engine.load(path, device=device)
        config = encoder.config
        metadata = {
            "path": str(path),
            "checkpoint_hash": encoder.checkpoint_hash,
            **{key: config[key] for key in ("model", "step") if key in config},
        }
        models.append(ModelUnderTest(label, path, encoder, cache_dir, metadata))
    return models


def add_common_arguments(parser: argparse.ArgumentParser, default_out: str) -> None:
    parser.add_argument(
        "--models",
        nargs="+",
        required=True,
        metavar="CKPT",
        help="checkpoint folders to compare (CLIPPO and baselines), each PATH or LABEL=PATH; "
        "the label (default: the folder name) names the model in every table",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(default_out), help=f"folder for results.csv, results.md, results.png, summary.json (default: {default_out})"
    )
    parser.add_argument("--cache", type=Path, default=None, help="folder for cached embeddings, keyed by checkpoint hash and inputs (default: OUT/cache)")
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], default="cpu", help="where the models run (default: cpu); texts are rendered on the CPU either way"
    )
    parser.add_argument("--json", action="store_true", help="print the JSON summary on stdout instead of the Markdown table")


def finish(args: argparse.Namespace, scores: list[Score], markdown: str, summary: dict, chart: bytes) -> None:
    """Write every output under --out, then print the table (or the JSON summary with --json)."""
    summary = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        **summary,
    }
    paths = write_outputs(args.out, scores, markdown, summary, chart)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(markdown)
    print("wrote " + ", ".join(str(p) for p in paths.values()), file=sys.stderr)
