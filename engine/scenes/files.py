"""Scenes as PNG files in a folder: what the index, the trainer's photo cache and the HTML report
all read. The folder appears complete or not at all (written aside, then renamed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from engine.atomic import atomic_path
from engine.scenes.draw import draw_scene
from engine.scenes.scene import Scene


def picture_name(index: int) -> str:
    return f"scene-{index:06d}.png"


def picture_index(path: str | Path) -> int:
    """The scene number in a picture's file name (scene-000123.png -> 123)."""
    return int(Path(path).stem.rsplit("-", 1)[1])


def write_pictures(scenes: Sequence[Scene], directory: Path, size: int) -> list[Path]:
    """Draw every scene at `size` px into `directory` (replacing it); returns the files in scene order."""
    directory = Path(directory)
    with atomic_path(directory) as tmp:
        tmp.mkdir(parents=True)
        for index, scene in enumerate(tqdm(scenes, desc=f"drawing scenes at {size}px", unit="img", leave=False)):
            draw_scene(scene, size).save(tmp / picture_name(index), compress_level=1)
    return [directory / picture_name(i) for i in range(len(scenes))]
