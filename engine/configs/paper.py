"""Paper scale (CLIPPO B/16: 224x224 input, 16x16 patches, text rendered at 16 px, MAP pooling), for a GPU.

The architecture and input follow Tschannen et al. (2023); the data are the sources this engine
has (Flickr8k + Multi30k pairs, a quarter of each batch pairs, as in the paper's mixing), with
the optimisation of the Flickr8k recipe scaled to a GPU's batch. Never trained here: no figure
comes from it yet.
"""

from __future__ import annotations

from engine.configs.flickr8k import TRAIN_DATA, VAL_DATA
from engine.model.config import architecture, inputs_for
from engine.train.config import Config, TrainConfig


def get_config(arg: str = "b16") -> Config:
    train = TrainConfig(
        data=TRAIN_DATA,
        val=VAL_DATA,
        val_langs=("en", "de"),
        val_every=1000,
        pair_share=0.25,
        loss="sigmoid",
        optimizer="muon",
        lr=1e-3,
        warmup=1000,
        batch_size=1024,
        steps=20000,
        seed=0,
        precision="auto",
        device="cuda",
        workers=8,
        checkpoint_every=1000,
        log_every=50,
    )
    inputs = inputs_for(arg, text_grid=True, photo_mask=0.5, photo_flip=True)
    return Config(model=architecture(arg, kind="clippo", pool="map"), input=inputs, train=train)
