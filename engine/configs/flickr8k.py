"""Flickr8k recipes: CLIPPO and its tokenizer baselines, trained alike for the comparison.

cpu-small, English captions of Flickr8k train plus a tenth of each batch Multi30k translation
pairs (the Flickr8k val photos dropped from them), validated on the 1,000 Flickr8k val photos;
sigmoid loss, mean pooling, text on the patch grid, half of each photo's patches masked (FLIP),
half of the photos mirrored, Muon at 5e-3, 15 minutes (docs/training-notes.md, ninth and tenth
rounds). The baselines differ in `model.kind` and their vocabulary only.
"""

from __future__ import annotations

from dataclasses import replace

from engine.model.config import architecture, inputs_for
from engine.train.config import Config, TrainConfig, VocabConfig
from engine.train.data import DataSource

TRAIN_DATA = (DataSource("flickr8k", {"split": "train"}), DataSource("multi30k", {"split": "train", "exclude": "val"}))
VAL_DATA = DataSource("flickr8k", {"split": "val"})
CONTENDERS = {
    "clippo": ("clippo", ()),
    "1t-clip-en": ("1t-clip", ("en",)),
    "1t-clip-all": ("1t-clip", ()),
    "2t-clip-en": ("2t-clip", ("en",)),
    "2t-clip-all": ("2t-clip", ()),
}


def get_config(arg: str = "clippo") -> Config:
    kind, vocab_langs = CONTENDERS[arg]
    train = TrainConfig(
        data=TRAIN_DATA,
        val=VAL_DATA,
        val_langs=("en",),
        val_every=500,
        caption_langs={"en": 1.0},
        pair_share=0.1,
        loss="sigmoid",
        optimizer="muon",
        lr=5e-3,
        batch_size=128,
        time_budget=15.0,
        seed=0,
        vocab=VocabConfig(size=8000, langs=vocab_langs),
    )
    inputs = inputs_for("cpu-small", text_grid=True, photo_mask=0.5, photo_flip=True)
    if kind != "clippo":
        inputs = replace(inputs, text_grid=False)  # no rendered text: the layout does not apply
    return Config(model=architecture("cpu-small", kind=kind, pool="gap"), input=inputs, train=train)
