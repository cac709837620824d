"""engine.load: a saved checkpoint embeds photos and texts as unit float32 rows, for every kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import engine
from engine.errors import EngineError
from engine.model import DualEncoder, architecture, inputs_for
from engine.model.tokenizer import Tokenizer, train_tokenizer
from engine.model.checkpoint import save_checkpoint

TINY = architecture("cpu-tiny")
SENTENCES = [
    "a dog runs on the grass",
    "two children play in the water",
    "ein Hund läuft über die Wiese",
    "un chien court dans l'herbe",
    "一只狗在草地上奔跑",
    "a man rides a red bicycle",
] * 20


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory):
    return train_tokenizer(SENTENCES, tmp_path_factory.mktemp("tok") / "spm.model", vocab_size=40)


def _images(tmp_path) -> list:
    """One of each awkward kind: RGBA with transparency, palette, 16-bit grey, CMYK (as a file path)."""
    rgba = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    cmyk_path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (50, 50), (0, 255, 255, 0)).save(cmyk_path)
    return [rgba, Image.new("P", (64, 64)), Image.fromarray(np.full((20, 20), 40000, dtype=np.uint16)), cmyk_path]


def test_tokenizer_pads_with_zero_and_truncates_to_the_context(tokenizer_file):
    ids = Tokenizer(tokenizer_file).encode(["a dog", "a dog runs on the grass " * 10], context_length=8)
    assert ids.shape == (2, 8) and ids[0, -1] == 0 and (ids[1] > 0).all()


@pytest.mark.parametrize("kind", ["1t-clip", "2t-clip", "clippo"])
def test_load_encodes_images_and_texts_to_unit_rows(kind, tmp_path, tokenizer_file):
    vocab = Tokenizer(tokenizer_file).vocab_size if kind != "clippo" else None
    model = DualEncoder(architecture("cpu-tiny", kind=kind), inputs_for("cpu-tiny"), vocab_size=vocab)
    save_checkpoint(tmp_path / "ckpt", model, {"font_fingerprint": None}, tokenizer=tokenizer_file if vocab else None)
    encoder = engine.load(tmp_path / "ckpt")
    images = encoder.encode_images(_images(tmp_path), batch_size=3)
    texts = encoder.encode_texts(["a dog runs", "一只狗", ""], batch_size=2)
    for emb, n in ((images, 4), (texts, 3)):
        assert emb.shape == (n, encoder.dim) and emb.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert len(encoder.checkpoint_hash) == 64 and encoder.config["model"]["kind"] == kind
    with torch.inference_mode():
        direct = model.encode_texts(torch.from_numpy(encoder._text_inputs(["a dog runs"]))).numpy()
    np.testing.assert_allclose(texts[:1], direct, atol=1e-6)


def test_load_refuses_a_directory_without_a_checkpoint(tmp_path):
    with pytest.raises(EngineError, match="not a checkpoint"):
        engine.load(tmp_path)
