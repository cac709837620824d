"""What a model is (`ModelConfig`: architecture only) and how its inputs become tokens (`InputConfig`).

The named architectures are small Python data (big_vision style): `cpu-tiny` and `cpu-small`
are sized for a 2-core machine; `ti16`, `s16` and `b16` follow the paper (224x224 input, 16x16
patches, text rendered at 16 px). A checkpoint stores both configs, so `engine.load` rebuilds
the model and its preprocessing from the file, never from a name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.errors import EngineError
from engine.typed import check

KINDS = ("clippo", "1t-clip", "2t-clip")
POOLS = ("map", "gap")
PRECISIONS = ("auto", "bf16", "fp32")  # autocast: bf16 where native (engine.model.precision), fp32 elsewhere


@dataclass(frozen=True)
class ModelConfig:
    """The network: which kind, how wide and deep, what it sees, how it pools."""

    name: str = "cpu-small"  # the named architecture these sizes are ("custom" once any size differs from it)
    kind: str = "clippo"  # clippo: one ViT reads photos and rendered text; 1t-/2t-clip: tokenizer baselines
    width: int = 192  # transformer width (token size)
    depth: int = 6  # number of pre-LN blocks
    heads: int = 3
    image_size: int = 112  # square input, pixels
    patch: int = 16  # square patch side, pixels
    embed_dim: int = 192  # size of the shared, L2-normalised embedding
    mlp_ratio: int = 4
    pool: str = "map"  # "map" (attention pooling, as CLIPPO) or "gap" (mean of tokens)
    drop_path: float = 0.0  # training only: chance that a block's residual branches skip a row (stochastic depth)

    def __post_init__(self) -> None:
        check(self.kind in KINDS, f"model.kind {self.kind!r}: choose one of {', '.join(KINDS)}")
        check(self.pool in POOLS, f"model.pool {self.pool!r}: choose one of {', '.join(POOLS)}")
        for name in ("width", "depth", "heads", "image_size", "patch", "embed_dim", "mlp_ratio"):
            check(getattr(self, name) >= 1, f"model.{name} must be at least 1, got {getattr(self, name)}")
        check(0.0 <= self.drop_path < 1.0, f"model.drop_path must be in [0, 1), got {self.drop_path}")
        check(self.width % self.heads == 0, f"model.width {self.width} must be a multiple of model.heads {self.heads}")
        check(self.image_size % self.patch == 0, f"model.image_size {self.image_size} must be a multiple of model.patch {self.patch}")
        named = globals().get("ARCHITECTURES", {}).get(self.name)
        if named is not None and self.sizes != named.sizes:  # a resized model no longer carries the size's name
            object.__setattr__(self, "name", "custom")

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.width, self.depth, self.heads, self.image_size, self.patch, self.embed_dim, self.mlp_ratio

    @property
    def grid(self) -> int:
        return self.image_size // self.patch


@dataclass(frozen=True)
class InputConfig:
    """How photos and texts become the model's tokens, at training and at inference time."""

    text_px: int = 10  # font size at which captions are rendered
    text_grid: bool = True  # lay text out on the patch grid (docs/text-layout.md)
    drop_blank: bool = True  # drop rendered-text patches without ink from the sequence
    drop_flat: bool = False  # drop picture patches of one flat colour from the sequence
    photo_mask: float = 0.5  # training only: share of each photo's patches left out (FLIP)
    photo_flip: bool = True  # training only: mirror a random half of the photos at each step
    photo_crop: float = 1.0  # training only: random crops cover at least this share of a photo's area (1: none)
    context_length: int = 48  # tokens, for the tokenizer baselines only
    tokenizer: str | None = None  # baselines: a SentencePiece .model; None: `engine train` fits one

    def __post_init__(self) -> None:
        check(self.text_px >= 4, f"input.text_px must be at least 4, got {self.text_px}")
        check(0.0 <= self.photo_mask < 1.0, f"input.photo_mask must be in [0, 1), got {self.photo_mask}")
        check(0.0 < self.photo_crop <= 1.0, f"input.photo_crop must be in (0, 1], got {self.photo_crop}")
        check(self.context_length >= 1, f"input.context_length must be at least 1, got {self.context_length}")


ARCHITECTURES: dict[str, ModelConfig] = {
    m.name: m
    for m in (
        ModelConfig("cpu-tiny", width=128, depth=4, heads=4, image_size=64, patch=8, embed_dim=128),
        ModelConfig("cpu-small", width=192, depth=6, heads=3, image_size=112, patch=16, embed_dim=192),
        ModelConfig("ti16", width=192, depth=12, heads=3, image_size=224, patch=16, embed_dim=192),
        ModelConfig("s16", width=384, depth=12, heads=6, image_size=224, patch=16, embed_dim=384),
        ModelConfig("b16", width=768, depth=12, heads=12, image_size=224, patch=16, embed_dim=768),
    )
}
# The input sizes that go with each architecture: text about a patch row high, a context that fits a caption.
TEXT_SIZES = {"cpu-tiny": (8, 32), "cpu-small": (10, 48), "ti16": (16, 64), "s16": (16, 64), "b16": (16, 64)}


def architecture(name: str, **overrides) -> ModelConfig:
    """The named architecture with optional field overrides (e.g. kind="1t-clip", pool="gap")."""
    if name not in ARCHITECTURES:
        raise EngineError(f"unknown model {name!r}; choose one of: {', '.join(ARCHITECTURES)}")
    return replace(ARCHITECTURES[name], **overrides)


def inputs_for(name: str, **overrides) -> InputConfig:
    """The input settings that suit architecture `name` (text size, context length), with overrides."""
    architecture(name)
    text_px, context = TEXT_SIZES[name]
    return replace(InputConfig(text_px=text_px, context_length=context), **overrides)
