"""Atomic writes: every file or folder the engine writes appears complete or not at all.

Write to a temporary name beside the target, then rename it into place; a kill at any moment
leaves either the previous version or the new one. A folder that replaces another moves the
old one to `<name>.old` first and deletes it once the new one is in place, so a crash between
the two renames still leaves one complete copy (readers such as `find_checkpoint` fall back to
`.old`).
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_beside(path: Path) -> Path:
    """`<name>.tmp-<pid><suffix>`: same folder (so the rename is atomic), same suffix (writers that pick a format by it)."""
    return path.with_name(f"{path.name}.tmp-{os.getpid()}{path.suffix}")


@contextmanager
def atomic_path(path: str | Path, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write a file or a folder at; it replaces `path` when the block ends.

    `durable` flushes the written file(s) to disk before the rename (checkpoints, indexes). On an
    exception the temporary is removed and `path` is left as it was.
    """
    path = Path(path)
    tmp = temporary_beside(path)
    _remove(tmp)
    _remove_stale_temporaries(path)
    try:
        yield tmp
        if durable:
            _fsync(tmp)
        if tmp.is_dir():
            _replace_folder(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def write_atomic(path: str | Path, data: str | bytes, durable: bool = False) -> None:
    """Write text (UTF-8) or bytes to `path` atomically."""
    with atomic_path(path, durable) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def _replace_folder(tmp: Path, path: Path) -> None:
    old = path.with_name(f"{path.name}.old")
    if path.exists():
        _remove(old)
        path.rename(old)
    tmp.rename(path)
    _remove(old)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries that killed writers left beside `path` (a live writer's stay)."""
    for stale in path.parent.glob(f"{glob.escape(path.name)}.tmp-*"):
        pid = stale.name[len(path.name) + len(".tmp-") :].split(".")[0]
        if not _process_alive(pid):
            _remove(stale)


def _process_alive(pid: str) -> bool:
    """Whether the process that named a temporary still runs (and may still be writing it)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    for file in (p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]:
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())
