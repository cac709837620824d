"""Model sizes as small Python data (big_vision style): one frozen dataclass per preset.

`cpu-tiny` and `cpu-small` are sized for the 2-core development machine; `ti16`, `s16` and `b16`
follow the paper (224x224 input, 16x16 patches, text rendered at 16 px).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from engine.errors import EngineError


@dataclass(frozen=True)
class Preset:
    name: str
    width: int                 # transformer width (token size)
    depth: int                 # number of pre-LN blocks
    heads: int
    image_size: int            # square input, pixels
    patch: int                 # square patch side, pixels
    text_px: int               # font size at which captions are rendered
    embed_dim: int             # size of the shared, L2-normalised embedding
    mlp_ratio: int = 4
    pool: str = "map"          # "map" (attention pooling, as CLIPPO) or "gap" (mean of tokens)
    context_length: int = 64   # tokens, for the tokenizer baselines only
    text_grid: bool = False    # lay text out on the patch grid (RenderConfig.grid), see docs/text-layout.md

    @property
    def grid(self) -> int:
        return self.image_size // self.patch

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("cpu-tiny", width=128, depth=4, heads=4, image_size=64, patch=8, text_px=8, embed_dim=128, context_length=32),
        Preset("cpu-small", width=192, depth=6, heads=3, image_size=112, patch=16, text_px=10, embed_dim=192, context_length=48),
        Preset("ti16", width=192, depth=12, heads=3, image_size=224, patch=16, text_px=16, embed_dim=192),
        Preset("s16", width=384, depth=12, heads=6, image_size=224, patch=16, text_px=16, embed_dim=384),
        Preset("b16", width=768, depth=12, heads=12, image_size=224, patch=16, text_px=16, embed_dim=768),
    )
}


def get_preset(name: str, **overrides) -> Preset:
    """The named preset, with optional field overrides (e.g. pool="gap"); a clear error if unknown."""
    if name not in PRESETS:
        raise EngineError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def preset_from_dict(fields: dict) -> Preset:
    """Rebuild a preset saved in a checkpoint's config.json (sizes are stored, not looked up)."""
    return Preset(**fields)
