"""The shared ViT: shapes, unit norms, weight sharing per kind, and dropping empty patches."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from engine.model import DualEncoder, architecture, inputs_for
from engine.model.vit import GROUP_ROWS, Layout, attention, random_patches

TINY = architecture("cpu-tiny")


def tiny(kind: str = "clippo", vocab_size: int | None = None, pool: str = "map", **inputs) -> DualEncoder:
    """A cpu-tiny model; empty patches are kept unless `drop_blank`/`drop_flat` say otherwise."""
    return DualEncoder(replace(TINY, kind=kind, pool=pool), inputs_for("cpu-tiny", **{"drop_blank": False, **inputs}), vocab_size)


def _text_page(rows: list[tuple[int, int]], size: int = 64) -> torch.Tensor:
    """A white page with a black bar on each (row, length) — stands in for rendered lines."""
    page = torch.full((size, size), 255, dtype=torch.uint8)
    for row, length in rows:
        page[row : row + 4, 2 : 2 + length] = 0
    return page


@pytest.mark.parametrize("kind", ["clippo", "1t-clip", "2t-clip"])
def test_embeddings_are_unit_vectors_of_the_preset_size(kind):
    torch.manual_seed(0)
    model = tiny(kind=kind, vocab_size=50)
    images = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)
    texts = torch.stack([_text_page([(5, 30)])] * 2) if kind == "clippo" else torch.tensor([[5, 7, 0, 0], [3, 0, 0, 0]])
    for emb, n in ((model.encode_images(images), 3), (model.encode_texts(texts), 2)):
        assert emb.shape == (n, TINY.embed_dim) and emb.dtype == torch.float32
        torch.testing.assert_close(emb.norm(dim=-1), torch.ones(n))


def _trained_parameters(model: DualEncoder, loss: torch.Tensor) -> set[str]:
    model.zero_grad()
    loss.backward()
    return {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}


def test_clippo_reads_photos_and_text_with_the_same_weights():
    torch.manual_seed(0)
    model = tiny()
    image_params = _trained_parameters(model, model.encode_images(torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)).sum())
    text_params = _trained_parameters(model, model.encode_texts(torch.stack([_text_page([(3, 40)]), _text_page([(20, 10)])])).sum())
    assert image_params == text_params
    assert image_params == {name for name, _ in model.named_parameters()} - {"log_temperature", "logit_bias"}


def test_baselines_share_the_trunk_only_in_1t_clip():
    ids = torch.tensor([[4, 5, 6, 0]])
    one_tower = tiny(kind="1t-clip", vocab_size=10)
    assert any(name.startswith("trunk.") for name in _trained_parameters(one_tower, one_tower.encode_texts(ids).sum()))
    two_tower = tiny(kind="2t-clip", vocab_size=10)
    used = _trained_parameters(two_tower, two_tower.encode_texts(ids).sum())
    assert used and not any(name.startswith(("trunk.", "patches.")) for name in used)


def test_gray_text_equals_the_same_page_replicated_to_rgb():
    torch.manual_seed(0)
    model = tiny()
    page = torch.randint(0, 256, (2, 64, 64), dtype=torch.uint8)
    rgb = page[:, None].expand(-1, 3, -1, -1).contiguous()
    torch.testing.assert_close(model.encode_texts(page), model.encode_images(rgb), rtol=1e-5, atol=1e-5)


def test_dropping_blank_patches_changes_nothing_when_no_patch_is_blank():
    torch.manual_seed(0)
    full, dropping = tiny(), tiny(drop_blank=True)
    dropping.load_state_dict(full.state_dict())
    pages = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)  # every pixel has some ink
    torch.testing.assert_close(dropping.encode_texts(pages), full.encode_texts(pages), rtol=1e-5, atol=1e-5)


def test_padding_in_a_dropped_batch_does_not_leak_into_shorter_rows():
    torch.manual_seed(0)
    model = tiny(drop_blank=True)
    pages = torch.stack([_text_page([(2, 60), (20, 60), (40, 60)]), _text_page([(32, 9)]), torch.full((64, 64), 255, dtype=torch.uint8)])
    together = model.encode_texts(pages)
    alone = torch.cat([model.encode_texts(page[None]) for page in pages])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)
    tokens, mask = model.patches(pages, drop=True)
    assert mask.sum(dim=1).tolist() == [24, 2, 1]  # three 4-px bars over 8-px patches; 9 px span 2 patches; blank keeps 1


@pytest.mark.parametrize("pool", ["gap", "map"])
def test_rows_attend_in_length_groups_without_changing_any_output(pool):
    """More rows than one attention group (GROUP_ROWS), lengths in no order: the batch gives each
    row exactly what encoding it alone gives, in the input's order."""
    torch.manual_seed(0)
    model = tiny(pool=pool, drop_blank=True)
    generator = torch.Generator().manual_seed(1)
    lines = torch.randint(1, 8, (GROUP_ROWS * 2 + 5,), generator=generator).tolist()
    pages = torch.stack([_text_page([(2 + 8 * k, 60) for k in range(n)]) for n in lines])
    _, mask = model.patches(pages, drop=True)
    assert len(set(mask.sum(dim=1).tolist())) == len(set(lines)) > 1  # unequal lengths, so groups differ
    together = model.encode_texts(pages)
    alone = torch.cat([model.encode_texts(page[None]) for page in pages])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rows,heads,length", [(32, 4, 24), (5, 2, 1), (3, 4, 40)])
def test_cpu_attention_equals_scaled_dot_product_attention(rows, heads, length):
    """The written-out CPU product must agree with PyTorch's fused kernel, values and gradients,
    with and without masked keys (every row keeps at least its first key)."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(rows, heads, length, 32, dtype=torch.float64, requires_grad=True) for _ in range(3))
    mask = torch.rand(rows, 1, 1, length) < 0.6
    mask[..., 0] = True
    for key_mask in (None, mask):
        ours = attention(q, k, v, key_mask)
        reference = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)
        torch.testing.assert_close(ours, reference)
        grads = torch.autograd.grad(ours.square().sum(), (q, k, v))
        reference_grads = torch.autograd.grad(reference.square().sum(), (q, k, v))
        for got, want in zip(grads, reference_grads):
            torch.testing.assert_close(got, want)


def test_kept_patches_keep_their_position_embeddings():
    model = tiny(drop_blank=True)
    page = _text_page([(40, 5)])  # ink only in patch row 5, column 0
    tokens, mask = model.patches(page[None], drop=True)
    full, _ = model.patches(page[None])
    torch.testing.assert_close(tokens[0, 0], full[0, 5 * TINY.grid])


def _drawing(box: tuple[int, int, int, int], size: int = 64) -> torch.Tensor:
    """A flat gray picture with one flat red rectangle (top, left, bottom, right), as a drawing is."""
    picture = torch.empty(3, size, size, dtype=torch.uint8)
    picture[:] = torch.tensor([128, 128, 128], dtype=torch.uint8)[:, None, None]
    top, left, bottom, right = box
    picture[:, top:bottom, left:right] = torch.tensor([220, 40, 40], dtype=torch.uint8)[:, None, None]
    return picture


def test_flat_picture_patches_leave_the_sequence_but_edges_and_photos_stay():
    model = tiny(drop_flat=True)
    # Rows 12..35 and columns 12..35 cross patch rows/columns 1..4; the inside patches (2..3)^2 are all red.
    drawing, photo = _drawing((12, 12, 36, 36)), torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
    _, mask = model.patches(torch.stack([drawing, photo]), drop=True)
    assert mask.sum(dim=1).tolist() == [16 - 4, 64]  # the ring of 12 edge patches; every photo patch


def test_padding_in_a_batch_of_drawings_does_not_leak_into_smaller_ones():
    torch.manual_seed(0)
    model = tiny(pool="gap", drop_flat=True)
    pictures = torch.stack([_drawing((3, 3, 60, 50)), _drawing((20, 20, 30, 30)), _drawing((0, 0, 0, 0))])
    together = model.encode_images(pictures)
    alone = torch.cat([model.encode_images(picture[None]) for picture in pictures])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)


def test_photo_masking_keeps_a_random_share_of_real_tokens_and_never_padding():
    torch.manual_seed(0)
    tokens = torch.arange(16.0).view(2, 8, 1)
    mask = torch.tensor([[True] * 3 + [False] * 5, [True] * 8])
    kept, kept_mask = random_patches(tokens, mask, keep=0.5)
    assert kept.shape == (2, 4, 1)
    assert set(kept[0, :3, 0].tolist()) == {0.0, 1.0, 2.0} and kept_mask[0].tolist() == [True, True, True, False]
    assert kept_mask[1].all() and len(set(kept[1, :, 0].tolist())) == 4 and kept[1].min() >= 8
    draws = {tuple(random_patches(tokens, None, keep=0.5)[0][1, :, 0].tolist()) for _ in range(10)}
    assert len(draws) > 1  # a new subset each call


def test_masked_photos_are_encoded_from_fewer_patches_only_when_asked():
    torch.manual_seed(0)
    model = tiny(pool="gap")
    photos = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    torch.testing.assert_close(model.encode_images(photos), model.encode_images(photos))
    masked = model.encode_images(photos, mask_ratio=0.75)
    assert masked.shape == (2, TINY.embed_dim) and not torch.allclose(masked, model.encode_images(photos))


def test_stochastic_depth_drops_whole_rows_in_training_only():
    """drop_path skips residual branches row by row while training (copies of one page come out different),
    and inference reads every block (the same weights give what a model without drop_path gives)."""
    torch.manual_seed(0)
    dropping = DualEncoder(replace(TINY, drop_path=0.5), inputs_for("cpu-tiny", drop_blank=True), None)
    plain = DualEncoder(TINY, inputs_for("cpu-tiny", drop_blank=True), None)
    plain.load_state_dict(dropping.state_dict())
    pages = torch.stack([_text_page([(2, 60), (20, 30)])] * 8 + [_text_page([(32, 9)])])  # unequal lengths: packed tokens
    dropping.eval(), plain.eval()
    torch.testing.assert_close(dropping.encode_texts(pages), plain.encode_texts(pages))
    dropping.train()
    torch.manual_seed(1)
    first = dropping.encode_texts(pages)
    torch.manual_seed(1)
    assert torch.equal(first, dropping.encode_texts(pages))  # the draws follow the seed
    assert len({tuple(row.tolist()) for row in first[:8].round(decimals=5)}) > 1  # identical pages, other rows dropped


@pytest.mark.parametrize("lengths", [[3, 1, 5, 5, 2], [4, 4, 4]])
def test_per_row_values_reach_every_token_of_their_row(lengths):
    """Layout.per_row maps one value per input row onto that row's tokens, packed (unequal lengths) or not."""
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    layout = Layout(mask)
    rows = torch.arange(len(lengths), dtype=torch.float32)
    owner = rows[:, None, None].expand(len(lengths), max(lengths), 1)  # each token holds its row's index
    assert torch.equal(layout.per_row(rows).expand_as(layout.pack(owner)), layout.pack(owner))
