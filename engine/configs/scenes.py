"""The demo's recipes: CLIPPO and an English-vocabulary 1T-CLIP on the built-in scenes, trained alike.

cpu-tiny on 10,000 scenes (training seed 0; the demo draws from other seeds), half of each batch
scene captions paired with their English translation; text on the patch grid (CLIPPO), blank
text patches and flat picture patches dropped, batch 128, Muon at 5e-3, 9.5 minutes
(docs/training-notes.md, third to eighth rounds). `scripts/train_demo_models` runs both.
"""

from __future__ import annotations

from engine.model.config import architecture, inputs_for
from engine.train.config import Config, TrainConfig, VocabConfig
from engine.train.data import DataSource

SCENES = DataSource("scenes", {"count": 10000, "seed": 0})
PAIRS = DataSource("scene-pairs", {"count": 10000, "seed": 0, "pivot": "en"})


def get_config(arg: str = "clippo") -> Config:
    kind = {"clippo": "clippo", "1t-clip-en": "1t-clip"}[arg]
    train = TrainConfig(
        data=(SCENES, PAIRS),
        pair_share=0.5,
        loss="sigmoid",
        optimizer="muon",
        lr=5e-3,
        batch_size=128,
        time_budget=9.5,
        seed=0,
        workers=1,
        vocab=VocabConfig(size=48, langs=("en",), data=(SCENES,)),
    )
    inputs = inputs_for("cpu-tiny", text_grid=kind == "clippo", drop_blank=True, drop_flat=True, photo_mask=0.0, photo_flip=False)
    return Config(model=architecture("cpu-tiny", kind=kind, pool="gap"), input=inputs, train=train)
