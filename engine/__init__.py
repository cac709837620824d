"""engine: tokenizer-free multilingual retrieval. Text is rendered to pixels and read by the same
Vision Transformer that reads photos (CLIPPO, arXiv 2212.08045).

Entry points for Python users:
    engine.render(text)            -> Rendered (pixels + metadata)
    engine.load(checkpoint_dir)    -> Encoder with encode_images / encode_texts
    engine.open_index(index_dir)   -> Index with search(query, k)
"""

from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str):
    """Import heavy entry points (torch, fonts) only when first used, so `import engine` stays light."""
    if name == "render":  # the subpackage, which is callable: engine.render(text)
        import importlib

        return importlib.import_module("engine.render")
    if name == "load":
        from engine.encoder import load

        return load
    if name == "open_index":
        from engine.index.search import open_index

        return open_index
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
