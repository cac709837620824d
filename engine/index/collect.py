"""What goes into an index: photos from a folder, texts from a file, or both from a table.

Everything becomes an `Item` (one row of the index's metadata). Items carry a `key` (image: path
and modification time; text: the text itself) so that `engine index add` can skip what is
already there, and a re-run over a grown folder only embeds the new files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import EngineError
from engine.tables import read_table

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
COLUMNS = ["id", "modality", "path", "text", "language", "size", "mtime"]


@dataclass(frozen=True)
class Item:
    """One thing to embed. Images: absolute path, file size in bytes, mtime. Texts: the text, its length."""

    modality: str  # "image" | "text"
    path: str | None = None
    text: str | None = None
    language: str | None = None
    size: int | None = None
    mtime: float | None = None

    @property
    def key(self) -> tuple:
        return ("image", self.path, self.mtime) if self.modality == "image" else ("text", self.text)

    @property
    def label(self) -> str:
        """How the item is shown to people: its path or its text."""
        return self.path if self.modality == "image" else self.text


@dataclass
class Skipped:
    """An item left out of the index, and why (listed in the manifest and the build report)."""

    item: str
    reason: str

    def __post_init__(self) -> None:
        self.item = printable(self.item)


def printable(text: str) -> str:
    """`text` with what UTF-8 cannot carry (non-UTF-8 file-name bytes, lone surrogates) as escapes."""
    return text.encode("utf-8", "surrogateescape" if _only_escaped_bytes(text) else "surrogatepass").decode("utf-8", "backslashreplace")


def _only_escaped_bytes(text: str) -> bool:
    return all(0xDC80 <= ord(c) <= 0xDCFF for c in text if 0xD800 <= ord(c) <= 0xDFFF)


def image_item(path: Path) -> Item:
    """An image file as an item. One that cannot even be looked at (a dangling link, a symlink
    loop) still becomes one, so that decoding skips it with its reason instead of the walk failing."""
    try:
        stat = path.stat()
        resolved = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's resolve() on a symlink loop
        return Item("image", path=str(path.absolute()))
    return Item("image", path=str(resolved), size=stat.st_size, mtime=stat.st_mtime)


def text_item(text: str, language: str | None = None) -> Item:
    return Item("text", text=text, language=language, size=len(text))


def images_in(folder: Path) -> list[Item]:
    """Every image file under `folder` (recursively, by suffix, in a stable sorted order)."""
    if not folder.is_dir():
        raise EngineError(f"--images {folder}: not a directory")
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        paths += [Path(root) / name for name in sorted(files) if Path(name).suffix.lower() in IMAGE_SUFFIXES]
    return [image_item(path) for path in paths]


def texts_in(path: Path, language: str | None = None) -> list[Item]:
    """One text per line of a UTF-8 file; blank lines are ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EngineError(f"--texts {path}: no such file") from None
    except UnicodeDecodeError as error:
        raise EngineError(f"--texts {path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return [text_item(line, language) for line in lines if line.strip()]


def table_items(
    path: Path, image_col: str | None, text_col: str | None, lang_col: str | None = None, image_root: Path | None = None
) -> tuple[list[Item], list[Skipped]]:
    """Images and/or texts named by columns of a table; relative image paths are resolved against
    `image_root` (default: the table's folder).

    A row with both columns gives two items (CLIPPO puts photos and texts in one space). Image
    paths that do not exist are reported as skipped rather than failing the build.
    """
    if not image_col and not text_col:
        raise EngineError("--table needs --image-col and/or --text-col")
    table = read_table(path, "--table")
    for flag, column in (("--image-col", image_col), ("--text-col", text_col), ("--lang-col", lang_col)):
        if column and column not in table.columns:
            raise EngineError(f"{flag} {column!r}: no such column in {path} (columns: {', '.join(map(str, table.columns))})")
    root = image_root or path.parent
    items: list[Item] = []
    skipped: list[Skipped] = []
    for values in table.to_dict("records"):
        language = _cell(values, lang_col)
        image = _cell(values, image_col)
        if image:
            file = root / image  # an absolute `image` stays as it is
            if file.is_file():
                items.append(image_item(file))
            else:
                skipped.append(Skipped(str(file), "no such file"))
        text = _cell(values, text_col)
        if text and text.strip():
            items.append(text_item(text, language))
        elif text:
            skipped.append(Skipped(repr(text), "blank text"))
    return items, skipped


def _cell(values: dict, column: str | None) -> str | None:
    """A table cell as a string, or None where the column is absent or the cell empty/NaN."""
    if not column:
        return None
    value = values[column]
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    return str(value)


def unique_new(items: list[Item], known: set[tuple]) -> list[Item]:
    """Items whose key is neither in `known` nor earlier in `items` (first occurrence wins)."""
    seen = set(known)
    fresh = []
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            fresh.append(item)
    return fresh
