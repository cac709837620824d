"""Where things live: the pinned fonts, the shared research data, the shipped assets."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def fonts_dir() -> Path:
    """The pinned fonts: inside an installed wheel (`engine/_fonts`), else the checkout's `fonts/`."""
    override = os.environ.get("ENGINE_FONTS_DIR")
    if override:
        return Path(override)
    packaged = PACKAGE_DIR / "_fonts"
    return packaged if packaged.is_dir() else REPO_DIR / "fonts"


def shared_data_dir() -> Path | None:
    """The read-only research data (`$ENGINE_DATA`, else `../shared/data` beside the checkout).

    Returns None where it is absent; callers skip or explain. The data's licences forbid shipping
    it, so nothing in the package may need it.
    """
    override = os.environ.get("ENGINE_DATA")
    candidate = Path(override) if override else REPO_DIR.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None
