"""The shared ViT (CLIPPO) and its tokenizer baselines; architectures and input settings live in `config`.

`engine.model.config` imports no torch, so the command line can name architectures cheaply;
`DualEncoder` (torch) is imported on first use.
"""

from engine.model.config import ARCHITECTURES, KINDS, InputConfig, ModelConfig, architecture, inputs_for

__all__ = ["ARCHITECTURES", "KINDS", "DualEncoder", "InputConfig", "ModelConfig", "architecture", "inputs_for"]


def __getattr__(name: str):
    if name == "DualEncoder":
        from engine.model.dual import DualEncoder

        return DualEncoder
    raise AttributeError(f"module 'engine.model' has no attribute {name!r}")
