"""One contrastive model class for CLIPPO and its two tokenizer baselines.

- `clippo`: one ViT (patch embedding + trunk) reads photos and rendered text: no layer belongs to
  one modality.
- `1t-clip`: the same trunk for both, but text enters through a token embedding table.
- `2t-clip`: a separate text trunk of the same size (classic two-tower CLIP).

Both `encode_*` methods return L2-normalised fp32 embeddings (normalised outside autocast).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import EngineError
from engine.model.config import InputConfig, ModelConfig
from engine.model.vit import LOG_TEMPERATURE_INIT, PatchEmbed, TokenEmbed, Trunk, init_linear_layers, random_patches

__all__ = ["DualEncoder"]
MAX_TEMPERATURE = 100.0


class DualEncoder(nn.Module):
    def __init__(self, config: ModelConfig, inputs: InputConfig | None = None, vocab_size: int | None = None) -> None:
        super().__init__()
        inputs = inputs or InputConfig()
        if config.kind != "clippo" and not vocab_size:
            raise EngineError(f"{config.kind} needs a tokenizer (vocab_size); train one with `engine tokenizer train`")
        self.config, self.inputs, self.kind, self.vocab_size = config, inputs, config.kind, vocab_size
        self.drop_blank, self.drop_flat = inputs.drop_blank, inputs.drop_flat  # which inputs lose empty patches
        self.patches = PatchEmbed(config)
        self.trunk = Trunk(config)
        self.tokens = TokenEmbed(vocab_size, config.width, inputs.context_length) if self.kind != "clippo" else None
        self.text_trunk = Trunk(config) if self.kind == "2t-clip" else None
        init_linear_layers(self)
        self.log_temperature = nn.Parameter(torch.tensor(LOG_TEMPERATURE_INIT))
        self.logit_bias = nn.Parameter(torch.tensor(-10.0))  # used by the sigmoid loss only

    @property
    def temperature(self) -> torch.Tensor:
        return self.log_temperature.exp().clamp(max=MAX_TEMPERATURE)

    def encode_images(self, pixels: torch.Tensor, mask_ratio: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """uint8 (B, 3, H, W) photos -> (B, embed_dim) unit vectors.

        `mask_ratio` > 0 (training only) leaves that share of each photo's patches out at random
        (drawn from `generator`), as FLIP does (Li et al., "Scaling Language-Image Pre-training via
        Masking", CVPR 2023).
        """
        tokens, mask = self.patches(pixels, drop=self.drop_flat)
        if mask_ratio:
            tokens, mask = random_patches(tokens, mask, 1.0 - mask_ratio, generator)
        return F.normalize(self.trunk(tokens, mask).float(), dim=-1)

    def encode_texts(self, texts: torch.Tensor) -> torch.Tensor:
        """Rendered text, uint8 (B, H, W), for CLIPPO; token ids (B, L) for the baselines."""
        if self.tokens is None:
            tokens, mask = self.patches(texts, drop=self.drop_blank)
            embedded = self.trunk(tokens, mask)
        else:
            tokens, mask = self.tokens(texts)
            embedded = (self.text_trunk or self.trunk)(tokens, mask)
        return F.normalize(embedded.float(), dim=-1)
