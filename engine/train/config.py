"""A training run as one typed value: `Config(model, input, train)`, frozen and checked on load.

A config comes from a named recipe (`engine/configs/`, Python), from a JSON file (a checkpoint's
own config.json is one), and then from `--set section.key=value` and the `engine train` flags.
`resolve` does all three and returns the config the run uses and the checkpoint records.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.errors import EngineError
from engine.model.config import PRECISIONS, InputConfig, ModelConfig
from engine.train.data import DataSource
from engine.typed import check, convert, from_dict, parse_value, to_dict

LOSSES = ("sigmoid", "softmax")
OPTIMIZERS = ("adamw", "muon")
DEVICES = ("cpu", "cuda")
DISTILL_LOSSES = ("mse", "contrastive")
PHOTO_TARGETS = ("caption", "mean")


@dataclass(frozen=True)
class VocabConfig:
    """The SentencePiece vocabulary `engine train` fits for a baseline given no `input.tokenizer`."""

    size: int = 8000
    langs: tuple[str, ...] = ()  # languages whose texts it is fitted on (empty: all)
    data: tuple[DataSource, ...] = ()  # texts it is fitted on (empty: the training data)

    def __post_init__(self) -> None:
        check(self.size >= 8, f"train.vocab.size must be at least 8, got {self.size}")


@dataclass(frozen=True)
class TeacherConfig:
    """Distillation from a pretrained text teacher (docs/teacher.md); off without a name, or with both weights 0."""

    name: str | None = None  # e5-small or minilm (engine/train/teacher.py)
    text_weight: float = 1.0  # (a) rendered text -> the teacher's embedding of its English side (pairs) or of itself (captions)
    image_weight: float = 1.0  # (b) photos -> their captions' teacher embeddings, as fixed targets (LiT)
    loss: str = "mse"  # mse, or contrastive against the batch's other targets (the recipes use contrastive: docs/teacher.md)
    temperature: float = 0.05  # of the contrastive distillation loss
    photo_target: str = "caption"  # (b)'s target: the step's caption's, or the mean of all the photo's captions' (less noisy)

    def __post_init__(self) -> None:
        from engine.train.teacher import TEACHERS

        check(self.name is None or self.name in TEACHERS, f"train.teacher.name {self.name!r}: choose one of {', '.join(TEACHERS)} (or null)")
        check(self.loss in DISTILL_LOSSES, f"train.teacher.loss {self.loss!r}: choose one of {', '.join(DISTILL_LOSSES)}")
        check(self.text_weight >= 0 and self.image_weight >= 0, "train.teacher weights must not be negative")
        check(self.temperature > 0, f"train.teacher.temperature must be positive, got {self.temperature}")
        check(self.photo_target in PHOTO_TARGETS, f"train.teacher.photo_target {self.photo_target!r}: choose one of {', '.join(PHOTO_TARGETS)}")

    @property
    def active(self) -> bool:
        return self.name is not None and (self.text_weight > 0 or self.image_weight > 0)


@dataclass(frozen=True)
class TrainConfig:
    """What to train on and how: data, batch composition, loss, optimizer, schedule, validation, checkpoints."""

    data: tuple[DataSource, ...] = ()
    caption_langs: dict[str, float] | None = None  # caption languages and weights (None: all, equal)
    pair_share: float = 0.1  # share of each batch drawn from text pairs
    pair_mix: dict[str, float] | None = None  # share of the pair rows per source kind, e.g. {"tatoeba": 1, "multi30k": 1} (None: by size)
    captions_per_photo: int = 1
    loss: str = "sigmoid"
    optimizer: str = "muon"
    lr: float = 5e-3
    warmup: int = 50
    weight_decay: float = 0.1
    clip: float = 1.0
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and saved instead of them (0: none)
    unmasked_tail: float = 0.0  # share of the last steps whose photos keep every patch (FLIP's unmasked tuning; 0: masked to the end)
    batch_size: int = 128  # global: all processes together
    steps: int | None = None  # total steps (sets the cosine schedule)
    time_budget: float | None = None  # minutes; without steps, the step count is estimated
    val: DataSource | None = None
    val_langs: tuple[str, ...] = ("en",)
    val_every: int = 200
    checkpoint_every: int = 100
    keep_every: int = 0  # also keep the trained weights every N steps in snapshots/, to average after the run (engine average; 0: none)
    log_every: int = 10
    seed: int = 0
    precision: str = "auto"
    device: str = "cpu"
    workers: int = 2
    vocab: VocabConfig = field(default_factory=VocabConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)

    def __post_init__(self) -> None:
        check(self.loss in LOSSES, f"train.loss {self.loss!r}: choose one of {', '.join(LOSSES)}")
        check(self.optimizer in OPTIMIZERS, f"train.optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}")
        check(self.precision in PRECISIONS, f"train.precision {self.precision!r}: choose one of {', '.join(PRECISIONS)}")
        check(self.device in DEVICES, f"train.device {self.device!r}: choose one of {', '.join(DEVICES)}")
        check(0.0 <= self.pair_share < 1.0, f"train.pair_share must be in [0, 1), got {self.pair_share}")
        check(all(w >= 0 for w in (self.pair_mix or {}).values()), f"train.pair_mix shares must not be negative, got {self.pair_mix}")
        for name in ("captions_per_photo", "batch_size", "val_every", "checkpoint_every", "log_every"):
            check(getattr(self, name) >= 1, f"train.{name} must be at least 1, got {getattr(self, name)}")
        check(self.steps is None or self.steps >= 1, f"train.steps must be at least 1, got {self.steps}")
        check(self.time_budget is None or self.time_budget > 0, f"train.time_budget must be positive, got {self.time_budget}")
        check(self.workers >= 0 and self.warmup >= 0 and self.keep_every >= 0, "train.workers, train.warmup and train.keep_every must not be negative")
        check(self.lr > 0, f"train.lr must be positive, got {self.lr}")
        check(0.0 <= self.ema < 1.0, f"train.ema must be in [0, 1), got {self.ema}")
        check(0.0 <= self.unmasked_tail <= 1.0, f"train.unmasked_tail must be in [0, 1], got {self.unmasked_tail}")


@dataclass(frozen=True)
class Config:
    """Everything a run depends on; what the checkpoint stores and `--resume` compares."""

    model: ModelConfig = field(default_factory=ModelConfig)
    input: InputConfig = field(default_factory=InputConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def check_runnable(self) -> None:
        """What a run needs beyond each section's own rules."""
        check(bool(self.train.data), "no training data: give --data SPEC (or a config with train.data)")
        check(bool(self.train.steps or self.train.time_budget), "give --steps N, --time-budget MINUTES, or both")

    def to_json(self) -> str:
        return json.dumps(to_dict(self), indent=2, ensure_ascii=False) + "\n"


# Fields that may differ when a run is resumed: they change how long it runs, where or how often
# it reports, not which batches it sees or how it learns from them.
RESUMABLE = frozenset(
    {
        "train.steps",
        "train.time_budget",
        "train.val",
        "train.val_langs",
        "train.val_every",
        "train.checkpoint_every",
        "train.keep_every",
        "train.log_every",
        "train.workers",
        "train.device",
        "train.precision",
        "train.vocab",
        "input.tokenizer",
    }
)


def load(name_or_path: str) -> Config:
    """A named recipe (`engine configs` lists them), a JSON config file, or a checkpoint/run directory."""
    from engine import configs

    if name_or_path in configs.RECIPES:
        return configs.recipe(name_or_path)
    path = Path(name_or_path)
    if path.is_dir():
        from engine.model.checkpoint import CONFIG, find_checkpoint

        path = find_checkpoint(path) / CONFIG
    if not path.is_file():
        raise EngineError(f"--config {name_or_path}: neither a recipe ({', '.join(configs.RECIPES)}) nor a config file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise EngineError(f"--config {path}: cannot read it as JSON: {error}") from None
    return from_json(data, str(path))


def from_json(data: dict, where: str) -> Config:
    """A Config from parsed JSON; a checkpoint's facts (format, step, ...) are allowed beside it."""
    from engine.model.checkpoint import FACTS

    if not isinstance(data, dict):
        raise EngineError(f"{where}: expected a JSON object with model, input and train")
    if data.get("format", 2) == 1:
        raise EngineError(f"{where}: a format-1 checkpoint config (before typed configs) holds no training config")
    if "train" not in data:
        raise EngineError(f"{where}: no train section (a checkpoint saved outside `engine train`?)")
    return from_dict(Config, {k: v for k, v in data.items() if k not in FACTS}, where)


def override(config: Config, key: str, value: Any) -> Config:
    """`config` with one field replaced: `train.lr`, `train.vocab.size`, or a field name found in one section only.

    A string value is read as JSON where the field is not text (`100`, `true`, `null`, `["a", "b"]`);
    lists of words also take `en,de`, weights `en=2,de=1`, data sources their spec.
    """
    parts = key.split(".")
    if len(parts) == 3:  # section.field.subfield, e.g. train.vocab.size
        section, name = _locate(config, ".".join(parts[:2]))
        nested = getattr(getattr(config, section), name)
        if not dataclasses.is_dataclass(nested):
            raise EngineError(f"--set {key}: {section}.{name} has no fields")
        value, key = override_field(nested, parts[2], value, key), f"{section}.{name}"
    section, name = _locate(config, key)
    part = getattr(config, section)
    return replace(config, **{section: override_field(part, name, value, f"{section}.{name}")})


def override_field(part: Any, name: str, value: Any, where: str) -> Any:
    """The dataclass `part` with field `name` set from `value` (a --set string or a typed value)."""
    kind = typing.get_type_hints(type(part))[_field(part, where, name)]
    if isinstance(value, str) and (value == "null" or not _takes_text(kind)):
        value = parse_value(value)
    return replace(part, **{name: convert(kind, value, where)})


def _field(part: Any, where: str, name: str) -> str:
    if name not in {f.name for f in dataclasses.fields(part)}:
        raise EngineError(f"--set {where}: no such field; {type(part).__name__} has {', '.join(f.name for f in dataclasses.fields(part))}")
    return name


def apply_sets(config: Config, assignments: list[str]) -> Config:
    """`--set key=value` (repeatable), applied in order."""
    for assignment in assignments:
        key, eq, value = assignment.partition("=")
        if not eq:
            raise EngineError(f"--set {assignment!r}: expected KEY=VALUE, e.g. train.steps=100")
        config = override(config, key.strip(), value.strip())
    return config


def differences(saved: Config, current: Config) -> list[str]:
    """`section.field (saved X, now Y)` for every field that differs and may not differ on resume."""
    found = []
    for section in ("model", "input", "train"):
        a, b = to_dict(getattr(saved, section)), to_dict(getattr(current, section))
        for key in a:
            name = f"{section}.{key}"
            if name not in RESUMABLE and a[key] != b.get(key):
                found.append(f"{name} (saved {a[key]!r}, now {b.get(key)!r})")
    return found


def _locate(config: Config, key: str) -> tuple[str, str]:
    sections = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    if "." in key:
        section, _, name = key.partition(".")
        if section in sections and name in {f.name for f in dataclasses.fields(sections[section])}:
            return section, name
        raise EngineError(f"--set {key}: no such field; fields are {', '.join(_all_keys(config))}")
    owners = [s for s, part in sections.items() if key in {f.name for f in dataclasses.fields(part)}]
    if len(owners) != 1:
        what = "no such field" if not owners else f"ambiguous, write {' or '.join(f'{o}.{key}' for o in owners)}"
        raise EngineError(f"--set {key}: {what}; fields are {', '.join(_all_keys(config))}")
    return owners[0], key


def _all_keys(config: Config) -> list[str]:
    return [f"{s.name}.{f.name}" for s in dataclasses.fields(config) for f in dataclasses.fields(getattr(config, s.name))]


def _takes_text(kind: Any) -> bool:
    """A field of type str or str | None: its --set value is taken as written."""
    return kind is str or (typing.get_origin(kind) in (typing.Union, types.UnionType) and set(typing.get_args(kind)) == {str, type(None)})
