"""The Vision Transformer pieces: patch and token embeddings, pre-LN blocks, pooling heads.

Inputs stay uint8 until the model: pixels are mapped to [-1, 1] here, so data loaders ship
4x less data between processes. Embeddings return an optional boolean `mask` (B, N), True for a
real token, so that sequences of different lengths (empty patches dropped, padded tokens) share
one batch; the trunk turns it into a `Layout` and computes on the real tokens only.
"""

from __future__ import annotations

import functools

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.model.config import ModelConfig

PAPER_WHITE = 255


# Rows per attention group: small enough that a group's rows have similar lengths, large enough
# that the per-call overhead stays negligible (see Layout).
GROUP_ROWS = 32


class Layout:
    """Where the real tokens of a padded batch are, so that no layer computes on padding.

    Inputs of different lengths (text with its blank patches dropped, flat picture patches dropped,
    padded token ids) share a batch padded to the longest one. Linear layers, LayerNorm and the MLP
    act on each token alone, so they run on the real tokens only, packed as (T, width): about half
    the work when lengths vary as much as captions do. Attention needs a padded layout, and padded
    to the batch's longest row it costs rows x longest^2 (captions: 19 tokens on average, up to
    40). So the rows are sorted by length and attend in groups of GROUP_ROWS, each group padded to
    its own longest row with a key mask (the saving: docs/training-notes.md, sixth round). Packed
    tokens follow the sorted row order; `unpack` restores the input's order. Without a mask every
    token is real and nothing is moved.
    """

    def __init__(self, mask: torch.Tensor | None) -> None:
        if mask is not None and bool(mask.all()):
            mask = None  # equal lengths: nothing to skip, so move nothing
        self.mask = mask
        self.attention_mask = None if mask is None else mask[:, None, None, :]  # broadcast over heads, queries
        if mask is None:
            return
        lengths = mask.sum(dim=1)
        self.order = torch.argsort(lengths, stable=True)
        self.restore = torch.argsort(self.order)
        self.sorted_mask = mask[self.order]
        ends = [0, *torch.cumsum(lengths[self.order], dim=0).tolist()]
        # (first token, end token, the group's rows trimmed to its longest, key mask or None when all equal)
        self.groups = []
        for first in range(0, len(mask), GROUP_ROWS):
            last = min(first + GROUP_ROWS, len(mask))
            rows = self.sorted_mask[first:last]
            rows = rows[:, : int(rows.any(dim=0).nonzero().max()) + 1]
            self.groups.append((ends[first], ends[last], rows, None if bool(rows.all()) else rows[:, None, None, :]))

    def per_row(self, values: torch.Tensor) -> torch.Tensor:
        """(B,) one value per input row -> a factor that broadcasts over the tokens (packed or not) of each row."""
        if self.mask is None:
            return values[:, None, None]
        return values[self._token_rows][:, None]

    @functools.cached_property
    def _token_rows(self) -> torch.Tensor:
        """The input row of each packed token: computed once per batch, read by every block."""
        return self.order.repeat_interleave(self.sorted_mask.sum(dim=1))

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (T, C) real tokens only, rows in length order."""
        return x if self.mask is None else x[self.order][self.sorted_mask]

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """(T, C) -> (B, N, C) in the input's row order, zeros where padding is."""
        return x if self.mask is None else _scatter(x, self.sorted_mask)[self.restore]

    def attend(self, x: torch.Tensor, per_group) -> torch.Tensor:
        """Apply `per_group(padded (b, n, C), key mask or None) -> (b, n, C')` group by group to the
        packed tokens x; returns packed tokens."""
        if self.mask is None:
            return per_group(x, None)
        outputs = []
        for start, end, rows, key_mask in self.groups:
            if key_mask is None:  # equal lengths within the group: a plain reshape
                outputs.append(per_group(x[start:end].view(*rows.shape, -1), None).flatten(0, 1))
            else:
                outputs.append(per_group(_scatter(x[start:end], rows), key_mask)[rows])
        return torch.cat(outputs)


def _scatter(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Packed tokens (T, C) -> (B, N, C) laid out where `mask` (B, N) is True, zeros elsewhere."""
    padded = tokens.new_zeros(*mask.shape, tokens.shape[-1])
    padded[mask] = tokens
    return padded


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over (B, heads, N, d), keys masked where `key_mask` (B, 1, 1, N) is False.

    On CUDA: F.scaled_dot_product_attention and its fused kernels. On CPU the same product written
    out is faster for the short sequences these models attend over, forward and backward
    (docs/training-notes.md, seventh round).
    Every row keeps at least one real key, so no softmax row is all -inf.
    """
    if q.is_cuda:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)
    scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    if key_mask is not None:
        scores = scores + torch.zeros(key_mask.shape, dtype=scores.dtype).masked_fill_(~key_mask, float("-inf"))
    return scores.softmax(dim=-1) @ v


class Attention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, layout: Layout) -> torch.Tensor:
        return self.out(layout.attend(self.qkv(x), self._attend))

    def _attend(self, qkv: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        b, n, three_d = qkv.shape
        d = three_d // 3
        q, k, v = qkv.view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        return attention(q, k, v, key_mask).transpose(1, 2).reshape(b, n, d)


class MLP(nn.Sequential):
    def __init__(self, width: int, ratio: int) -> None:
        super().__init__(nn.Linear(width, ratio * width), nn.GELU(approximate="tanh"), nn.Linear(ratio * width, width))


class Block(nn.Module):
    """Pre-LN transformer block: x + Attn(LN(x)), then x + MLP(LN(x)).

    In training each residual branch skips a row with chance `drop_path` (stochastic depth, Huang et al.
    2016, as DeiT regularises ViTs trained on little data); kept rows are scaled by 1 / (1 - drop_path).
    """

    def __init__(self, width: int, heads: int, mlp_ratio: int, drop_path: float = 0.0) -> None:
        super().__init__()
        self.drop_path = drop_path
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = MLP(width, mlp_ratio)

    def forward(self, x: torch.Tensor, layout: Layout) -> torch.Tensor:
        x = x + self._some_rows(self.attn(self.norm1(x), layout), layout)
        return x + self._some_rows(self.mlp(self.norm2(x)), layout)

    def _some_rows(self, branch: torch.Tensor, layout: Layout) -> torch.Tensor:
        if not self.training or self.drop_path == 0.0:
            return branch
        keep = 1.0 - self.drop_path
        rows = layout.mask.shape[0] if layout.mask is not None else branch.shape[0]
        kept = (torch.rand(rows, device=branch.device) < keep).to(branch.dtype) / keep
        return branch * layout.per_row(kept)


class MAPHead(nn.Module):
    """Multihead attention pooling (as in big_vision/CLIPPO): a learned probe attends to the tokens."""

    def __init__(self, width: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.probe = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.mlp = MLP(width, mlp_ratio)

    def forward(self, x: torch.Tensor, layout: Layout) -> torch.Tensor:
        """x: (B, N, width) padded tokens."""
        b, n, d = x.shape
        h = self.heads
        q = self.q(self.probe).view(1, 1, h, d // h).transpose(1, 2).expand(b, -1, -1, -1)
        k, v = self.kv(x).view(b, n, 2, h, d // h).permute(2, 0, 3, 1, 4)
        y = attention(q, k, v, layout.attention_mask)
        y = self.out(y.transpose(1, 2).reshape(b, 1, d))
        return (y + self.mlp(self.norm(y)))[:, 0]


def mean_pool(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """GAP over the real tokens only."""
    if mask is None:
        return x.mean(dim=1)
    weights = mask.to(x.dtype).unsqueeze(-1)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


class Trunk(nn.Module):
    """Tokens -> embedding: pre-LN blocks, final LayerNorm, MAP or GAP pooling, linear projection.

    The part CLIPPO shares between photos and rendered text (and 1T-CLIP between photos and tokens).
    Returns unnormalised embeddings; the caller L2-normalises in fp32.
    """

    def __init__(self, model: ModelConfig) -> None:
        super().__init__()
        # The drop rate grows linearly with depth to model.drop_path at the last block (Huang et al.'s rule).
        rates = [model.drop_path * i / max(1, model.depth - 1) for i in range(model.depth)]
        self.blocks = nn.ModuleList(Block(model.width, model.heads, model.mlp_ratio, rate) for rate in rates)
        self.norm = nn.LayerNorm(model.width, eps=1e-6)
        self.head = MAPHead(model.width, model.heads, model.mlp_ratio) if model.pool == "map" else None
        self.proj = nn.Linear(model.width, model.embed_dim)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        layout = Layout(mask)
        x = layout.pack(tokens)
        for block in self.blocks:
            x = block(x, layout)
        x = layout.unpack(self.norm(x))
        pooled = self.head(x, layout) if self.head is not None else mean_pool(x, layout.mask)
        return self.proj(pooled)


def patchify(pixels: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, N, C*patch*patch), patches in row-major order, values per (C, y, x)."""
    b, c, h, w = pixels.shape
    x = pixels.view(b, c, h // patch, patch, w // patch, patch)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // patch) * (w // patch), c * patch * patch)


def standardise(raw: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """uint8 patches (B, N, P) -> zero mean, unit variance per input (TF's per-image standardisation).

    A rendered page is mostly paper: scaled to [-1, 1] every caption looks almost the same to a
    freshly initialised ViT (cosine ~0.998 between different captions), and contrastive training
    collapses before it can tell them apart. Standardised per input, the few ink pixels carry the
    signal. Photos get the same treatment: one rule for every input, as CLIPPO requires.
    """
    values = raw.to(dtype)
    mean = values.mean(dim=(1, 2), keepdim=True)
    std = values.std(dim=(1, 2), keepdim=True, correction=0).clamp_min(1.0)  # a blank page stays finite
    return (values - mean) / std


class PatchEmbed(nn.Module):
    """uint8 pixels -> patch tokens plus learned position embeddings.

    Colour photos come as (B, 3, H, W). Rendered text comes as grayscale (B, H, W): feeding it
    through the RGB projection with its three channel weights summed is exactly the same as
    replicating the gray channel three times (every channel is normalised alike), at a third of
    the cost. With `drop_blank`, patches without ink leave the sequence; kept patches keep their
    own position embeddings and the batch is padded to its longest row with a mask.
    """

    def __init__(self, model: ModelConfig) -> None:
        super().__init__()
        self.patch = model.patch
        self.proj = nn.Linear(3 * model.patch * model.patch, model.width)
        self.pos = nn.Parameter(torch.randn(1, model.grid * model.grid, model.width) * 0.02)

    def forward(self, pixels: torch.Tensor, drop: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """With `drop`, patches that carry nothing leave the sequence: for text (gray) the blank ones,
        for photos the flat ones (see `informative_patches`)."""
        gray = pixels.dim() == 3
        raw = patchify(pixels.unsqueeze(1) if gray else pixels, self.patch)  # still uint8
        weight = self.proj.weight
        if gray:
            weight = weight.view(weight.shape[0], 3, -1).sum(dim=1)
        values = standardise(raw, weight.dtype)  # over the whole input, dropped patches included
        if not drop:
            return F.linear(values, weight, self.proj.bias) + self.pos, None
        keep = informative_patches(raw, channels=1 if gray else 3)
        keep[:, 0] |= ~keep.any(dim=1)  # an input with nothing to show still needs one token
        counts = keep.sum(dim=1)
        order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, : int(counts.max())]
        mask = torch.arange(order.shape[1], device=pixels.device)[None, :] < counts[:, None]
        values = torch.gather(values, 1, order[..., None].expand(-1, -1, raw.shape[-1]))
        # An embedding lookup, not `self.pos[0][order]`: indexing's backward adds the rows that share
        # a position with atomics across threads, so 2-thread training was not run-to-run reproducible.
        pos = F.embedding(order, self.pos[0])
        return F.linear(values, weight, self.proj.bias) + pos, mask


def informative_patches(raw: torch.Tensor, channels: int) -> torch.Tensor:
    """(B, N) True for the patches worth a token.

    Rendered text (one channel): patches with ink; blank paper says nothing. Pictures: patches
    that are not one flat colour. A flat patch of a drawing or a screenshot repeats the colour its
    neighbours' edges already show, so dropping it loses (almost) nothing; photos, whose pixels
    always vary a little, keep every patch. Standardisation happens before the drop, so the
    input's overall brightness and contrast still reach the model.
    """
    if channels == 1:
        return raw.amin(dim=-1) < PAPER_WHITE
    per_channel = raw.view(*raw.shape[:2], channels, -1)
    return (per_channel.amax(dim=-1) != per_channel.amin(dim=-1)).any(dim=-1)


def random_patches(
    tokens: torch.Tensor, mask: torch.Tensor | None, keep: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A random `keep` share of each row's tokens (padding, where `mask` is False, goes first)."""
    scores = torch.rand(tokens.shape[:2], device=tokens.device, generator=generator)
    if mask is not None:
        scores = scores.masked_fill(~mask, 2.0)
    order = scores.argsort(dim=1)[:, : max(1, math.ceil(tokens.shape[1] * keep))]
    tokens = torch.gather(tokens, 1, order[..., None].expand(-1, -1, tokens.shape[-1]))
    if mask is not None:  # real tokens sort first, so a row with any keeps at least one
        mask = torch.gather(mask, 1, order)
    return tokens, mask


class TokenEmbed(nn.Module):
    """Token ids (B, L), 0 = padding -> token embeddings plus learned positions (tokenizer baselines)."""

    def __init__(self, vocab_size: int, width: int, context_length: int) -> None:
        super().__init__()
        self.table = nn.Embedding(vocab_size, width)
        self.pos = nn.Parameter(torch.randn(1, context_length, width) * 0.02)
        nn.init.normal_(self.table.weight, std=0.02)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = ids != 0
        mask[:, 0] |= ~mask.any(dim=1)  # an empty text still needs one token
        return self.table(ids) + self.pos[:, : ids.shape[1]], mask


def init_linear_layers(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases for every Linear, as big_vision's ViT does."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


LOG_TEMPERATURE_INIT = math.log(10.0)  # CLIPPO starts the temperature at 10
