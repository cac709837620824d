"""The shared ViT (CLIPPO) and its tokenizer baselines; sizes live in `presets`."""
from engine.model.dual import KINDS, DualEncoder, build_model
from engine.model.presets import PRESETS, Preset, get_preset

__all__ = ["KINDS", "PRESETS", "DualEncoder", "Preset", "build_model", "get_preset"]
