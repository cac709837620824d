"""Training data sources: a small registry of builders, each turning a `--data` spec into a pool.

A spec is `KIND` or `KIND:key=value,key=value` (lists inside a value use `+`), for example
`flickr8k:split=train,langs=en+de`, `multi30k`, `tatoeba:langs=deu+jpn`,
`table:path=pairs.parquet,images=photos/`, `pairs:left=a.de.gz,right=a.en.gz,lang=de`.
Image/caption sources yield `ImageCaptions`, text/text sources yield `TextPairs`. Another module
adds a source with `@register_source("name")` (the scene collection does).
"""

from __future__ import annotations

import gzip
import importlib
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import EngineError
from engine.paths import shared_data_dir
from engine.tables import read_table
from engine.typed import convert


@dataclass
class ImageCaptions:
    """Photos and their captions; `caption_image[i]` indexes `images`."""

    images: list[Path]
    caption_image: list[int] = field(default_factory=list)
    caption_text: list[str] = field(default_factory=list)
    caption_lang: list[str] = field(default_factory=list)


@dataclass
class TextPairs:
    """Translations: `left[i]` (in `lang[i]`) means the same as `right[i]` (in `right_lang[i]`)."""

    left: list[str] = field(default_factory=list)
    right: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    right_lang: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)  # the --data kind each pair came from (train.pair_mix); set by load_source


Source = ImageCaptions | TextPairs
SOURCES: dict[str, Callable[..., Source]] = {}
# Sources defined in other packages, imported on first use (their import registers them).
PLUGIN_SOURCES = {
    "scenes": "engine.scenes.source",
    "scene-pairs": "engine.scenes.source",
    "shards": "engine.train.shards",  # streamed: no pool, read a shard at a time (engine.train.streaming)
    "pair-shards": "engine.train.shards",
}


def register_source(name: str):
    """Decorator: make a builder available as `--data NAME:...`."""

    def add(builder: Callable[..., Source]) -> Callable[..., Source]:
        SOURCES[name] = builder
        return builder

    return add


def texts_of(images: ImageCaptions, pairs: TextPairs, langs: set[str]) -> list[str]:
    """Caption and pair texts in `langs` (all when empty), in source order: what a vocabulary is fitted on."""
    keep = (lambda lang: lang in langs) if langs else (lambda lang: True)
    texts = [t for t, lang in zip(images.caption_text, images.caption_lang) if keep(lang)]
    texts += [t for t, lang in zip(pairs.left, pairs.lang) if keep(lang)]
    return texts + [t for t, lang in zip(pairs.right, pairs.right_lang) if keep(lang)]


def builder(kind: str) -> Callable[..., Source]:
    """The registered builder of a source kind (plugins imported on first use)."""
    if kind not in SOURCES and kind in PLUGIN_SOURCES:
        importlib.import_module(PLUGIN_SOURCES[kind])
    if kind not in SOURCES:
        raise EngineError(f"unknown data source {kind!r}; known: {', '.join(known_sources())}")
    return SOURCES[kind]


def known_sources() -> list[str]:
    return sorted({*SOURCES, *PLUGIN_SOURCES})


@dataclass(frozen=True)
class DataSource:
    """One training or validation source: a kind and its options, typed by the builder's signature.

    Written as a spec on the command line (`scenes:count=10000,seed=0`; lists inside a value use
    `+`) and as {"kind": ..., "options": {...}} in a config file, where numbers are numbers.
    """

    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", typed_options(self.kind, self.options))

    @classmethod
    def parse(cls, spec: str) -> DataSource:
        kind, _, rest = spec.partition(":")
        options: dict[str, str] = {}
        for item in filter(None, rest.split(",")):
            key, eq, value = item.partition("=")
            if not eq:
                raise EngineError(f"bad data spec {spec!r}: {item!r} is not key=value")
            options[key.strip()] = value.strip()
        return cls(kind.strip(), options)

    @property
    def spec(self) -> str:
        options = ",".join(f"{key}={value}" for key, value in self.options.items())
        return f"{self.kind}:{options}" if options else self.kind


def typed_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """Options checked against the builder's parameters and converted to their types ("10000" -> 10000)."""
    make = builder(kind)
    hints = typing.get_type_hints(make)
    parameters = inspect.signature(make).parameters
    unknown = [key for key in options if key not in parameters]
    if unknown:
        raise EngineError(f"data source {kind}: unknown option(s) {', '.join(unknown)}; options: {', '.join(parameters)}")
    missing = [name for name, p in parameters.items() if p.default is inspect.Parameter.empty and name not in options]
    if missing:
        raise EngineError(f"data source {kind}: needs {', '.join(f'{m}=...' for m in missing)}")
    return {key: _typed(hints.get(key, str), value, f"data source {kind}: {key}") for key, value in options.items()}


def _typed(kind: Any, value: Any, where: str) -> Any:
    """A spec's string as the parameter's type ("10000" -> 10000; for `int | str`, a number where it is one)."""
    wanted = [t for t in typing.get_args(kind) if t is not type(None)] or [kind]
    if isinstance(value, str):
        for number in (t for t in wanted if t in (int, float)):
            try:
                return number(value)
            except ValueError:
                pass
        if str not in wanted:
            raise EngineError(f"{where}: expected {' or '.join(t.__name__ for t in wanted)}, got {value!r}")
    return convert(kind, value, where)


def load_source(source: str | DataSource) -> Source:
    """Build the pool a source names, with a clear error for unknown kinds, options and paths."""
    source = DataSource.parse(source) if isinstance(source, str) else source
    try:
        pool = builder(source.kind)(**source.options)
    except TypeError as error:
        raise EngineError(f"bad options in data source {source.spec!r}: {error}") from None
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
        raise EngineError(f"cannot read data source {source.spec!r}: {error}") from None
    if isinstance(pool, TextPairs):
        pool.source = [source.kind] * len(pool.left)
    return pool


def _list(value: str | None) -> set[str] | None:
    return set(value.split("+")) if value else None


def _shared(sub: str, root: str | None) -> Path:
    if root:
        return Path(root)
    base = shared_data_dir()
    if base is None:
        raise EngineError(f"no shared data directory (set ENGINE_DATA or pass root=...) to find {sub}/")
    return base / sub


def _read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def image_captions_from_rows(images: list[str], texts: list[str], langs: list[str], image_dir: Path) -> ImageCaptions:
    """Group caption rows by image file; an image listed twice is one image."""
    index: dict[str, int] = {}
    pool = ImageCaptions(images=[])
    for image, text, lang in zip(images, texts, langs):
        if image not in index:
            index[image] = len(pool.images)
            pool.images.append(image_dir / image)
        pool.caption_image.append(index[image])
        pool.caption_text.append(text)
        pool.caption_lang.append(lang)
    return pool


@register_source("flickr8k")
def flickr8k(root: str | None = None, split: str = "train", langs: str | None = None, kinds: str | None = None, per_image: int | None = None) -> ImageCaptions:
    """The Flickr8k caption table (11 languages); `kinds` filters human / human_translation / machine_translation;
    `per_image` keeps each photo's first N captions per language (a smaller set for a teacher to embed)."""
    root_dir = _shared("flickr8k", root)
    table = read_table(root_dir / "captions.tsv.gz")
    table = table[table["split"].isin(_list(split))]
    if langs:
        table = table[table["lang"].isin(_list(langs))]
    if kinds:
        table = table[table["kind"].isin(_list(kinds))]
    if per_image:
        table = table[table.groupby(["image", "lang"]).cumcount() < per_image]
    if table.empty:
        raise EngineError(f"flickr8k: no captions for split={split} langs={langs} kinds={kinds}")
    return image_captions_from_rows(table["image"].tolist(), table["caption"].tolist(), table["lang"].tolist(), root_dir / "images")


@register_source("xm3600")
def xm3600(captions: str, images: str, langs: str | None = None) -> ImageCaptions:
    """A captions.jsonl in the XM3600 schema (`image/key`, one {caption: [...]} per language)."""
    wanted = _list(langs)
    names, texts, codes = [], [], []
    for line in _read_lines(Path(captions)):
        row = json.loads(line)
        for lang, value in row.items():
            if lang.startswith("image/") or (wanted and lang not in wanted):
                continue
            for text in value["caption"]:
                names.append(f"{row['image/key']}.jpg")
                texts.append(text)
                codes.append(lang)
    return image_captions_from_rows(names, texts, codes, Path(images))


@register_source("table")
def table(
    path: str, images: str = ".", image_col: str = "image", caption_col: str = "caption", lang_col: str | None = None, lang: str = "und"
) -> ImageCaptions:
    """Any image/caption table; image paths are relative to `images`."""
    frame = read_table(path)
    missing = [c for c in (image_col, caption_col, lang_col) if c and c not in frame.columns]
    if missing:
        raise EngineError(f"{path}: no column(s) {missing}; columns are {list(frame.columns)}")
    langs = frame[lang_col].astype(str).tolist() if lang_col else [lang] * len(frame)
    return image_captions_from_rows(frame[image_col].astype(str).tolist(), frame[caption_col].astype(str).tolist(), langs, Path(images))


@register_source("pairs")
def pairs(
    left: str | None = None,
    right: str | None = None,
    lang: str = "und",
    right_lang: str = "en",
    path: str | None = None,
    left_col: str | None = None,
    right_col: str | None = None,
) -> TextPairs:
    """Line-aligned files (`left=`, `right=`) or a two-column table (`path=`, first two columns by default)."""
    if path:
        frame = read_table(path)
        left_col, right_col = left_col or frame.columns[0], right_col or frame.columns[1]
        a, b = frame[left_col].astype(str).tolist(), frame[right_col].astype(str).tolist()
    elif left and right:
        a, b = _read_lines(Path(left)), _read_lines(Path(right))
        if len(a) != len(b):
            raise EngineError(f"pairs: {left} has {len(a)} lines but {right} has {len(b)}; they must be line-aligned")
    else:
        raise EngineError("pairs: give left=FILE,right=FILE (line-aligned) or path=TABLE")
    return _nonempty_pairs(a, b, [lang] * len(a), right_lang)


def _nonempty_pairs(left: list[str], right: list[str], langs: list[str], right_lang: str = "en") -> TextPairs:
    pool = TextPairs()
    for a, b, code in zip(left, right, langs):
        if a.strip() and b.strip():
            pool.left.append(a)
            pool.right.append(b)
            pool.lang.append(code)
            pool.right_lang.append(right_lang)
    return pool


@register_source("tatoeba")
def tatoeba(root: str | None = None, langs: str | None = None, per_lang: int | None = None) -> TextPairs:
    """LASER's Tatoeba sets, training part: pairs after the first 500 of each language (ISO 639-3 codes),
    at most `per_lang` of them per language if given.

    The first 500 pairs of every language are the held-out test set (engine.eval.tatoeba.HELD_OUT);
    a later pair that repeats one of their sentences, whose English side is the English side of any
    language's test pairs (13 % of them recur across languages), or a test pair of another language,
    is dropped too.
    """
    from engine.eval.tatoeba import HELD_OUT, held_out_pairs, load_pairs

    directory = _shared("translation/tatoeba_laser_v1", root)
    wanted, held = _list(langs), held_out_pairs(directory)
    held_english = {english for _, english in held}
    left, right, codes = [], [], []
    for path in sorted(directory.glob("tatoeba.*-eng.eng.gz")):
        code = path.name.split(".")[1].removesuffix("-eng")
        if wanted and code not in wanted:
            continue
        xx, en = load_pairs(directory, code)
        test = set(xx[:HELD_OUT]) | set(en[:HELD_OUT])
        kept = [(a, b) for a, b in zip(xx[HELD_OUT:], en[HELD_OUT:]) if a not in test and b not in held_english and (a, b) not in held][:per_lang]
        left += [a for a, _ in kept]
        right += [b for _, b in kept]
        codes += [code] * len(kept)
    if not left:
        raise EngineError(f"tatoeba: no training pairs (after the {HELD_OUT} held out per language) for langs={langs} in {directory}")
    return _nonempty_pairs(left, right, codes)


# Multi30k line-aligned translations of the English task1 captions: (language code, file under translation/).
MULTI30K_FILES = {
    "de": "multi30k/task1/raw/{split}.de.gz",
    "fr": "multi30k/task1/raw/{split}.fr.gz",
    "cs": "multi30k/task1/raw/{split}.cs.gz",
    "pt": "multi30k/fm30k_pt/task1/raw/{split}.pt.gz",
    "ar": "multiscript30k_mt/en-ar_arab/{split}.ar_arab.gz",
    "uk": "multiscript30k_mt/en-uk/{split}.uk.gz",
    "zh": "multiscript30k_mt/en-zh_hans/{split}.zh_hans.gz",
    "zh-Hant": "multiscript30k_mt/en-zh_hant/{split}.zh_hant.gz",
    "es": "multiscript30k_mt/en-es/{split}.es.gz",
    "qu": "multiscript30k_mt/en-qu/{split}.qu.gz",
}


@register_source("multi30k")
def multi30k(root: str | None = None, split: str = "train", langs: str | None = None, exclude: str = "val") -> TextPairs:
    """Multi30k / Framed-Multi30K / MultiScript30k translations paired with their English line.

    Lines whose photo is a Flickr8k image of the `exclude` split(s) are dropped (many Flickr8k
    val photos are in Multi30k train), matched by image name through `flickr8k/multi30k_map.tsv`
    and `image_splits/` (the staged files are line-aligned with image_splits, not with the map's
    line numbers, which count lines since removed).
    """
    base = _shared("translation", root)
    excluded = _flickr8k_multi30k_images(base.parent / "flickr8k", _list(exclude) or set())
    images = _read_lines(base / f"multi30k/task1/image_splits/{split}.txt")
    english = _read_lines(base / f"multi30k/task1/raw/{split}.en.gz")
    keep = [i for i, name in enumerate(images) if name not in excluded]
    left, right, codes = [], [], []
    for code, pattern in MULTI30K_FILES.items():
        path = base / pattern.format(split=split)
        if (langs and code not in _list(langs)) or not path.exists():
            continue
        lines = _read_lines(path)
        if len(lines) != len(english):
            raise EngineError(f"{path} has {len(lines)} lines, {split}.en has {len(english)}: not line-aligned")
        left += [lines[i] for i in keep]
        right += [english[i] for i in keep]
        codes += [code] * len(keep)
    return _nonempty_pairs(left, right, codes)


def _flickr8k_multi30k_images(flickr_dir: Path, splits: set[str]) -> set[str]:
    """Multi30k image names of the Flickr8k images in `splits`."""
    if not splits:
        return set()
    members = set().union(*(_read_lines(flickr_dir / "splits" / f"{s}.txt") for s in splits))
    mapping = read_table(flickr_dir / "multi30k_map.tsv")
    return set(mapping.loc[mapping["image"].isin(members), "multi30k_image"])
