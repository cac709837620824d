"""Text -> pixels: the engine's tokenizer. HarfBuzz-shaped, bidi-aware rendering of any Unicode
text with the pinned fonts (see docs/architecture.md for the contract)."""

import sys
import types

from engine.render.fonts import font_fingerprint
from engine.render.renderer import Rendered, RenderConfig, Renderer, render

__all__ = ["RenderConfig", "Rendered", "Renderer", "render", "font_fingerprint"]


class _CallablePackage(types.ModuleType):
    """`engine.render` names this package once it is imported, so the package itself renders:
    `engine.render(text)` is `engine.render.render(text)`, whatever was imported first."""

    def __call__(self, text: str, config: RenderConfig = RenderConfig()) -> Rendered:
        return render(text, config)


sys.modules[__name__].__class__ = _CallablePackage
