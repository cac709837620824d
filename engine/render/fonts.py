"""The pinned fonts: checked against the manifest, loaded for shaping and rasterizing, and ranked
per script so that every grapheme cluster finds a font that covers it.

The fonts are the model's vocabulary: a different file means different pixels, so a missing or
altered file is refused (never silently replaced by a system font).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import mmap
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import freetype
import numpy as np
import uharfbuzz as hb

from engine.errors import EngineError
from engine.paths import fonts_dir
from engine.render.segment import ICU_VERSION

MANIFEST_NAME = "manifest.json"
CHOICE_CACHE_LIMIT = 50_000  # memoised cluster -> font choices per FontSet (emptied when full)
CHOICE_CLUSTER_MAX = 16  # longer clusters (mark runs, joiner chains) are chosen afresh, not memoised

# Noto Sans CJK collection face per language: ja -> JP, ko -> KR, zh-Hant/TW/MO -> TC, zh-HK -> HK,
# any other Chinese (and no hint) -> SC.
CJK_FILE = "NotoSansCJK-Regular.ttc"
CJK_FACE_JP, CJK_FACE_KR, CJK_FACE_SC, CJK_FACE_TC, CJK_FACE_HK = 0, 1, 2, 3, 4


def cjk_face_for_lang(lang: str | None) -> int:
    """Which face of the CJK collection a BCP-47 language tag asks for (SC when unknown)."""
    if not lang:
        return CJK_FACE_SC
    parts = lang.replace("_", "-").lower().split("-")
    if parts[0] == "ja":
        return CJK_FACE_JP
    if parts[0] == "ko":
        return CJK_FACE_KR
    if parts[0] in ("zh", "yue", "cmn"):
        if "hk" in parts[1:]:
            return CJK_FACE_HK
        if "hant" in parts[1:] or "tw" in parts[1:] or "mo" in parts[1:] or parts[0] == "yue":
            return CJK_FACE_TC
    return CJK_FACE_SC


def font_fingerprint() -> str:
    """The render fingerprint: sha256 of the font manifest and of the ICU version (whose
    segmentation decides where lines break). Checkpoints and indexes record it, so that they
    refuse text drawn with other fonts or broken by another ICU."""
    path = fonts_dir() / MANIFEST_NAME
    if not path.is_file():
        raise EngineError(f"font manifest {path} is missing; the pinned fonts are not installed")
    return hashlib.sha256(path.read_bytes() + f"\nICU {ICU_VERSION}\n".encode()).hexdigest()


@lru_cache(maxsize=4)
def _verified_manifest(directory: Path) -> tuple[dict, ...]:
    """Read the manifest and check every file's sha256 once per process and directory."""
    path = directory / MANIFEST_NAME
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["fonts"]
    except FileNotFoundError:
        raise EngineError(f"font manifest {path} is missing; the pinned fonts are not installed") from None
    except (ValueError, KeyError) as error:
        raise EngineError(f"font manifest {path} is unreadable: {error}") from None
    checked: dict[str, str] = {}
    for entry in entries:
        name = entry["file"]
        if name not in checked:
            file = directory / name
            if not file.is_file():
                raise EngineError(f"pinned font {file} is missing (listed in {path})")
            checked[name] = hashlib.sha256(file.read_bytes()).hexdigest()
        if checked[name] != entry["sha256"]:
            raise EngineError(
                f"pinned font {directory / name} differs from the manifest (sha256 {checked[name]}, expected {entry['sha256']}); restore the committed file"
            )
    return tuple(entries)


@dataclass(frozen=True)
class GlyphBitmap:
    """A rasterized glyph: coverage (0 = none, 255 = full ink) and its offset from the pen origin.

    Not cached here: the renderer keeps glyph strips within its byte budget.
    """

    coverage: np.ndarray | None  # uint8 (rows, cols); None for glyphs without ink (spaces)
    left: int  # columns right of the pen
    top: int  # rows above the baseline


class Face:
    """One face of a font file, shared by every size in the process: its FreeType face (reading
    the file's one mapping in place) and its cmap. Sharing matters for memory: the CJK collection
    is 19 MB and five faces, which three sizes used to map eighteen times (FreeType and HarfBuzz
    each), every mapping counting the pages it touched."""

    def __init__(self, data: ctypes.Array, face_index: int, hb_face: hb.Face) -> None:
        self.ft_face = freetype.Face(_Mapped(data), face_index)
        self.hb_face = hb_face
        self.lock = threading.Lock()  # one glyph slot and one current size: threads take turns
        self._cmap: dict[int, None] | None = None

    @property
    def cmap(self) -> dict[int, None]:
        """The code points this face maps (loaded lazily: the CJK faces hold ~65k). A dict of
        ints, not a set: the garbage collector skips it, where it walks every element of a set."""
        if self._cmap is None:
            self._cmap = dict.fromkeys(self.hb_face.unicodes)
        return self._cmap

    def glyph(self, glyph_id: int, size: int) -> GlyphBitmap:
        """The anti-aliased bitmap of a glyph id at `size` pixels per em."""
        with self.lock:
            self.ft_face.set_pixel_sizes(0, size)
            self.ft_face.load_glyph(glyph_id, freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING)
            slot = self.ft_face.glyph
            bitmap = slot.bitmap
            coverage = None
            if bitmap.rows and bitmap.width:
                rows, pitch = bitmap.rows, bitmap.pitch
                # Read FreeType's buffer in place (freetype-py's `.buffer` builds a Python list).
                raw = np.ctypeslib.as_array(bitmap._FT_Bitmap.buffer, shape=(rows * abs(pitch),))
                coverage = raw.reshape(rows, abs(pitch)) if pitch > 0 else raw.reshape(rows, -pitch)[::-1]
                coverage = coverage[:, : bitmap.width].copy()
                if not coverage.any():
                    coverage = None
            return GlyphBitmap(coverage, slot.bitmap_left, slot.bitmap_top)


class _Mapped:
    """What freetype-py reads a face from ("a stream"): hands over the file's mapping itself, which
    FreeType then reads in place (freetype-py keeps a reference; nothing is copied)."""

    def __init__(self, data: ctypes.Array) -> None:
        self.data = data

    def read(self) -> ctypes.Array:
        return self.data


def _mapped(path: Path) -> ctypes.Array:
    """The file mapped into memory (copy-on-write, never written: its pages stay the page
    cache's, shared with every process that renders)."""
    with path.open("rb") as file:
        mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
    return (ctypes.c_char * len(mapping)).from_buffer(mapping)  # keeps `mapping` alive


_FILES: dict[str, tuple[ctypes.Array, hb.Blob]] = {}  # per font file: one mapping each for FreeType and HarfBuzz
_FACES: dict[tuple[str, int], Face] = {}
_SHARED_LOCK = threading.Lock()


def shared_face(path: Path, face_index: int) -> Face:
    """The process' one `Face` for a face of a font file (each file read and mapped once)."""
    name = str(path)
    with _SHARED_LOCK:
        face = _FACES.get((name, face_index))
        if face is None:
            if name not in _FILES:
                _FILES[name] = _mapped(path), hb.Blob.from_file_path(name)
            data, blob = _FILES[name]
            face = _FACES[name, face_index] = Face(data, face_index, hb.Face(blob, face_index))
        return face


@dataclass
class Font:
    """One face at one pixel size: HarfBuzz for shaping, FreeType (the shared `face`) for bitmaps."""

    index: int  # position in the manifest (the fallback order)
    file: str
    face_index: int
    scripts: tuple[str, ...]
    size: int
    face: Face
    hb_font: hb.Font = field(init=False)

    def __post_init__(self) -> None:
        self.hb_font = hb.Font(self.face.hb_face)
        self.hb_font.scale = (self.size * 64, self.size * 64)  # 26.6 fixed point, as FreeType

    @property
    def cmap(self) -> dict[int, None]:
        return self.face.cmap

    def glyph(self, glyph_id: int) -> GlyphBitmap:
        """The anti-aliased bitmap of a glyph id."""
        return self.face.glyph(glyph_id, self.size)


class FontSet:
    """All pinned faces at one pixel size, with the per-script preference order for fallback."""

    def __init__(self, font_size: int, directory: Path | None = None) -> None:
        directory = directory or fonts_dir()
        entries = _verified_manifest(directory)
        self.fonts: list[Font] = [
            Font(index, entry["file"], entry["face"], tuple(entry["scripts"]), font_size, shared_face(directory / entry["file"], entry["face"]))
            for index, entry in enumerate(entries)
        ]
        self._preferences: dict[tuple[str, int], tuple[Font, ...]] = {}
        self._choices: dict[tuple[str, str, int], int] = {}

    def preference(self, script: str, cjk_face: int) -> tuple[Font, ...]:
        """Fonts to try for a run of `script`: its own fonts first (the CJK face by language),
        then the rest in manifest order, ending with the Unifont last resorts."""
        key = (script, cjk_face)
        cached = self._preferences.get(key)
        if cached is not None:
            return cached
        own = [f for f in self.fonts if script in f.scripts]
        own.sort(key=lambda f: (f.file == CJK_FILE and f.face_index != cjk_face, f.index))
        if not own and script in ("Zyyy", "Zinh", "Zzzz"):
            own = [f for f in self.fonts if "Zyyy" in f.scripts]
        rest = [f for f in self.fonts if f not in own and "*" not in f.scripts]
        rest.sort(key=lambda f: (f.file == CJK_FILE and f.face_index != cjk_face, f.index))
        last = [f for f in self.fonts if "*" in f.scripts and f not in own]
        ranked = tuple(own + rest + last)
        self._preferences[key] = ranked
        return ranked

    def covering(self, cluster: str, visible: list[int], script: str, cjk_face: int) -> int:
        """The index of the font for one grapheme cluster (`visible`: its code points that need a
        glyph).

        The first font in the script's preference that maps every visible code point, so marks
        stay with their base; failing that, the first that maps the base; failing that, the
        script's own font (whose .notdef is then counted). Memoised per cluster (as an index:
        a dict of str keys and int values is one object the garbage collector skips).
        """
        key = (cluster, script, cjk_face)
        index = self._choices.get(key)
        if index is None:
            ranked = self.preference(script, cjk_face)
            font = ranked[0]
            if visible:
                font = next(
                    (f for f in ranked if all(cp in f.cmap for cp in visible)),
                    next((f for f in ranked if visible[0] in f.cmap), ranked[0]),
                )
            index = font.index
            if len(cluster) <= CHOICE_CLUSTER_MAX:
                if len(self._choices) >= CHOICE_CACHE_LIMIT:
                    self._choices.clear()
                self._choices[key] = index
        return index
