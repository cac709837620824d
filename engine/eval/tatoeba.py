"""Tatoeba translation retrieval (LASER's test sets): find each sentence's translation among its pairs.

`tatoeba.<xxx>-eng.<xxx>.gz` and `tatoeba.<xxx>-eng.eng.gz` are line-aligned (line i of one
translates line i of the other), up to 1,000 pairs per language. Accuracy is top-1 retrieval
within one language's pairs, in both directions. It is Recall@1 with one correct candidate, so it
reuses `recall_at_k` (ties count against the model): English sentences play the gallery, the
other language the queries.

The split: the first `HELD_OUT` (500) pairs of every language are the test set and never enter
training; the rest may be trained on (`--data tatoeba` reads only them). `check_not_held_out`
is the guard the trainer runs over every text pair it is given, whatever its source.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.eval.report import Score
from engine.eval.retrieval import recall_at_k

DIRECTIONS = ("xx2en", "en2xx")
HELD_OUT = 500  # the first pairs of every language: evaluation only
_PAIR_FILE = re.compile(r"tatoeba\.([a-z]+)-eng\.\1\.gz")


def languages(data_dir: Path) -> list[str]:
    """The ISO 639-3 codes that have both sides of a pair file in `data_dir`."""
    if not data_dir.is_dir():
        raise EngineError(f"Tatoeba folder not found: {data_dir}")
    found = sorted(
        match.group(1)
        for path in data_dir.iterdir()
        if (match := _PAIR_FILE.fullmatch(path.name)) and (data_dir / f"tatoeba.{match.group(1)}-eng.eng.gz").is_file()
    )
    if not found:
        raise EngineError(f"no tatoeba.<xxx>-eng.<xxx>.gz pair files in {data_dir}")
    return found


def _lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as f:
        text = f.read()
    return text.removesuffix("\n").split("\n") if text else []


def load_pairs(data_dir: Path, lang: str, limit: int | None = None) -> tuple[list[str], list[str]]:
    """(sentences in `lang`, their English translations), the first `limit` pairs if given."""
    xx_path = data_dir / f"tatoeba.{lang}-eng.{lang}.gz"
    en_path = data_dir / f"tatoeba.{lang}-eng.eng.gz"
    for path in (xx_path, en_path):
        if not path.is_file():
            raise EngineError(f"missing Tatoeba file {path}")
    xx, en = _lines(xx_path), _lines(en_path)
    if len(xx) != len(en):
        raise EngineError(f"{xx_path.name} has {len(xx)} lines but {en_path.name} has {len(en)}: not line-aligned")
    return xx[:limit], en[:limit]


def evaluate_pairs(model: str, lang: str, xx_emb: np.ndarray, en_emb: np.ndarray) -> list[Score]:
    """Top-1 accuracy xx->en (each sentence finds its English line) and en->xx."""
    recalls = recall_at_k(en_emb, xx_emb, np.arange(len(xx_emb)), ks=(1,))
    return [Score(model, lang, "xx2en", 1, recalls["t2i@1"]), Score(model, lang, "en2xx", 1, recalls["i2t@1"])]


def held_out_pairs(data_dir: Path) -> set[tuple[str, str]]:
    """Every (xx sentence, English sentence) among the first HELD_OUT pairs of every language."""
    held: set[tuple[str, str]] = set()
    for lang in languages(data_dir):
        xx, en = load_pairs(data_dir, lang, HELD_OUT)
        held.update(zip(xx, en))
    return held


def check_not_held_out(left: list[str], right: list[str], data_dir: Path) -> None:
    """Refuse training pairs that are held-out Tatoeba test pairs (in either order)."""
    held = held_out_pairs(data_dir)
    leaked = sum((a, b) in held or (b, a) in held for a, b in zip(left, right))
    if leaked:
        raise EngineError(
            f"{leaked:,} training pair(s) are held-out Tatoeba test pairs (the first {HELD_OUT} of a language): "
            "train on `--data tatoeba`, which reads only the pairs after them"
        )


def guard_training_pairs(left: list[str], right: list[str]) -> None:
    """`check_not_held_out` against the shared data's Tatoeba sets; nothing to check where they are absent."""
    from engine.paths import shared_data_dir

    shared = shared_data_dir()
    directory = shared / "translation/tatoeba_laser_v1" if shared else None
    if left and directory and directory.is_dir():
        check_not_held_out(left, right, directory)


def beats(scores: list[Score], model: str, reference: str, direction: str = "xx2en") -> list[str]:
    """The languages where `model`'s R@1 in `direction` is above `reference`'s."""
    table = {(s.model, s.language, s.direction): s.recall for s in scores}
    langs = dict.fromkeys(s.language for s in scores if s.model == model)
    return [lang for lang in langs if table.get((model, lang, direction), 0.0) > table.get((reference, lang, direction), 1.0)]
