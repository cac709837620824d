"""Text -> pixels: the engine's tokenizer. HarfBuzz-shaped, bidi-aware rendering of any Unicode
text with the pinned fonts (see docs/architecture.md for the contract)."""
from engine.render.fonts import font_fingerprint
from engine.render.renderer import Rendered, RenderConfig, Renderer, render

__all__ = ["RenderConfig", "Rendered", "Renderer", "render", "font_fingerprint"]
