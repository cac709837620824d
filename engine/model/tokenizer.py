"""SentencePiece vocabularies for the tokenizer baselines (1T-CLIP, 2T-CLIP).

Id 0 is padding (the model masks it), 1 is unknown; no BOS/EOS. Text longer than the context is
truncated, as CLIP does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import sentencepiece as spm

from engine.atomic import atomic_path
from engine.errors import EngineError


class Tokenizer:
    def __init__(self, path: str | Path) -> None:
        try:
            self.processor = spm.SentencePieceProcessor(model_file=str(path))
        except (OSError, RuntimeError) as error:
            raise EngineError(f"cannot load tokenizer {path}: {error}") from None

    @property
    def vocab_size(self) -> int:
        return self.processor.get_piece_size()

    def encode(self, texts: Sequence[str], context_length: int) -> np.ndarray:
        """(len(texts), context_length) int64 ids, zero-padded, cut at the context length."""
        ids = np.zeros((len(texts), context_length), dtype=np.int64)
        for row, pieces in enumerate(self.processor.encode(list(texts))):
            pieces = pieces[:context_length]
            ids[row, : len(pieces)] = pieces
        return ids


def train_tokenizer(texts: Iterable[str], out: Path, vocab_size: int, max_sentences: int = 2_000_000) -> Path:
    """Train a unigram SentencePiece model on `texts`, written atomically to `out` (a .model file)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp, atomic_path(out) as written:
        prefix = os.path.join(tmp, "spm")
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts),
                model_prefix=prefix,
                vocab_size=vocab_size,
                model_type="unigram",
                character_coverage=0.9995,
                pad_id=0,
                unk_id=1,
                bos_id=-1,
                eos_id=-1,
                input_sentence_size=max_sentences,
                shuffle_input_sentence=True,
                minloglevel=2,
            )
        except RuntimeError as error:  # e.g. vocab_size larger than the text allows
            raise EngineError(f"tokenizer training failed: {error}") from None
        os.replace(prefix + ".model", written)
    return out
