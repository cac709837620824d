"""One module per language, each with CODE, NAME, SCRIPT and `caption(spec) -> str`.

Every module words the same `CaptionSpec`, so a spec's captions are translations of each other.
"""

from __future__ import annotations

from types import ModuleType

from engine.errors import EngineError
from engine.scenes.languages import ar, bn, de, el, en, es, fr, he, hi, ja, ko, pt, ru, th, tr, uk, vi, zh
from engine.scenes.spec import CaptionSpec

LANGUAGES: dict[str, ModuleType] = {m.CODE: m for m in (en, de, fr, es, pt, tr, vi, ru, uk, el, ar, he, hi, bn, th, zh, ja, ko)}


def caption(spec: CaptionSpec, lang: str) -> str:
    """The spec as a sentence in `lang` (a code from LANGUAGES)."""
    if lang not in LANGUAGES:
        raise EngineError(f"no scene captions in {lang!r}; choose from: {', '.join(LANGUAGES)}")
    return LANGUAGES[lang].caption(spec)
