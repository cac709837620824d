"""Distillation from a pretrained teacher: the target cache, the target table, the losses, the Tatoeba
split, and a run that trains with a teacher and resumes on the uninterrupted loss curve.

Tests that embed need the optional `teacher` extra and skip without it; the rest run on the core
install (scripts/test runs this file once before installing the extra).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.configs import recipe
from engine.errors import EngineError
from engine.eval import tatoeba as tatoeba_eval
from engine.paths import shared_data_dir
from engine.train.config import apply_sets, differences
from engine.train.data import ImageCaptions, TextPairs, load_source, tatoeba
from engine.train.loss import distillation_loss
from harness_helpers import run_main
from train_helpers import tiny_run_args, write_tiny_data

from engine.train.teacher import TargetCache, installed, target_table, teacher_targets, text_key, with_photo_means

needs_minilm = pytest.mark.skipif(not installed("minilm"), reason="the optional teacher extra is not installed (bash scripts/install_extras teacher)")
needs_e5 = pytest.mark.skipif(not installed("e5-small"), reason="the optional teacher extra is not installed (bash scripts/install_extras teacher)")
TATOEBA = shared_data_dir() / "translation/tatoeba_laser_v1" if shared_data_dir() else None
needs_tatoeba = pytest.mark.skipif(TATOEBA is None or not TATOEBA.is_dir(), reason="needs ../shared/data (Tatoeba); set ENGINE_DATA")


def test_targets_aim_pairs_at_their_english_side_and_captions_at_themselves():
    images = ImageCaptions(
        images=[Path("a.jpg"), Path("b.jpg")], caption_image=[0, 1, 1], caption_text=["a dog", "ein Hund", "a cat"], caption_lang=["en", "de", "en"]
    )
    pairs = TextPairs(left=["Hallo", "Bonjour"], right=["Hello", "Hello"], lang=["de", "fr"], right_lang=["en", "en"])
    e5 = target_table("e5-small", images, pairs, None)
    assert e5.texts == ["a dog", "ein Hund", "a cat", "Hello"]  # each text once; e5 reads German captions
    assert e5.rows(np.array([1, 2]), np.array([1])).tolist() == [1, 2, 3, 3]  # captions, pair lefts, pair rights
    minilm = target_table("minilm", images, pairs, {"en": 1.0, "de": 1.0})
    assert minilm.caption_row.tolist() == [0, -1, 1]  # MiniLM reads English only
    undrawn = target_table("e5-small", images, pairs, {"en": 1.0})
    assert undrawn.caption_row.tolist() == [0, -1, 1]  # captions the run never draws need no target


def test_a_photo_can_aim_at_the_mean_of_its_captions_targets():
    images = ImageCaptions(
        images=[Path("a.jpg"), Path("b.jpg"), Path("c.jpg")],
        caption_image=[0, 0, 1, 1, 2],
        caption_text=["a dog", "a brown dog", "a cat", "ein Hund", "eine Katze"],
        caption_lang=["en", "en", "en", "de", "de"],
    )
    table = target_table("e5-small", images, TextPairs(), {"en": 1.0})  # German captions never drawn: no target
    targets = np.eye(3, 4, dtype=np.float32)  # "a dog", "a brown dog", "a cat"
    # without means, a photo aims at its first caption in the batch (two captions per photo here)
    assert table.photo_rows(np.array([1, 0]), np.array([2, 3, 1, 0])).tolist() == [2, 1]
    table, extended = with_photo_means(table, targets, images.caption_image, len(images.images))
    assert extended.shape == (6, 4) and np.allclose(extended[:3], targets)
    assert np.allclose(extended[3], [2**-0.5, 2**-0.5, 0, 0])  # photo 0: the unit mean of its two captions' targets
    assert np.allclose(extended[4], [0, 0, 1, 0])  # photo 1: its one English caption's
    assert table.photo_row.tolist() == [3, 4, -1]  # photo 2 has no caption the run draws
    assert table.photo_rows(np.array([1, 2]), np.array([2, 3])).tolist() == [4, -1]


def test_distillation_losses():
    targets = torch.nn.functional.normalize(torch.randn(6, 16), dim=-1)
    ids = torch.arange(6)
    assert distillation_loss("mse", targets, targets, ids).item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss("mse", -targets, targets, ids).item() == pytest.approx(4.0, abs=1e-5)
    matched = distillation_loss("contrastive", targets, targets, ids)
    shuffled = distillation_loss("contrastive", targets.roll(1, dims=0), targets, ids)
    assert matched < shuffled
    # two rows with one target (a pair's two texts): that target is their positive, counted once
    shared = torch.tensor([0, 0, 1, 2, 3, 4])
    twice = targets[shared]
    assert distillation_loss("contrastive", twice, twice, shared) < distillation_loss("contrastive", twice.roll(1, dims=0), twice, shared)


def test_teacher_config_is_checked_and_recipes_name_their_teacher():
    config = recipe("clippo-teacher-cpu-small")
    assert config.train.teacher.name == "e5-small" and config.train.teacher.active
    ablation = apply_sets(config, ["train.teacher.text_weight=0", "train.teacher.image_weight=0"])
    assert not ablation.train.teacher.active
    with pytest.raises(EngineError, match="train.teacher.name"):
        apply_sets(config, ["train.teacher.name=bert"])
    with pytest.raises(EngineError, match="train.teacher.loss"):
        apply_sets(config, ["train.teacher.loss=cosine"])
    assert recipe("clippo-teacher-cpu-small-2h").train.steps and recipe("1t-clip-en-teacher-cpu-small").model.kind == "1t-clip"
    flickr8k = recipe("1t-clip-en-flickr8k-cpu-small").train  # its vocabulary is fitted on its training data
    for name in ("1t-clip-en-teacher-cpu-small", "1t-clip-en-teacher-cpu-small-2h"):  # the same vocabulary, whatever the pool
        vocab = recipe(name).train.vocab
        assert (vocab.size, vocab.langs, vocab.data) == (flickr8k.vocab.size, flickr8k.vocab.langs, flickr8k.data)


def test_a_crop_recipe_is_its_recipe_with_random_photo_crops_and_nothing_else():
    for plain in ("clippo-teacher-cpu-small-2h", "clippo-teacher-cpu-small-2h-11lang", "1t-clip-en-teacher-cpu-small-2h-11lang"):
        uncropped, cropped = recipe(plain), recipe(plain + "-crop")
        assert (uncropped.input.photo_crop, cropped.input.photo_crop) == (1.0, 0.5)
        assert differences(uncropped, cropped) == ["input.photo_crop (saved 1.0, now 0.5)"]


def test_the_mean_photo_recipe_is_the_regularised_recipe_with_the_measured_run_settings():
    regularised, mean = recipe("clippo-teacher-cpu-small-2h-crop-sd-ema"), recipe("clippo-teacher-cpu-small-2h-crop-sd-ema-mean")
    assert [change.split(" ")[0] for change in differences(regularised, mean)] == ["model.drop_path", "train.ema", "train.teacher"]
    assert (mean.model.drop_path, mean.train.ema, mean.train.teacher.photo_target) == (0.2, 0.9995, "mean")
    assert (regularised.train.steps, mean.train.steps) == (7000, 5800)  # steps may change on resume, so `differences` skips them
    assert replace(mean.train.teacher, photo_target="caption") == regularised.train.teacher


def test_the_two_caption_recipe_is_the_mean_recipe_with_two_captions_smaller_crops_and_fewer_validations():
    mean, two = recipe("clippo-teacher-cpu-small-2h-crop-sd-ema-mean"), recipe("clippo-teacher-cpu-small-2h-crop-sd-ema-mean-2cap")
    assert [change.split(" ")[0] for change in differences(mean, two)] == ["input.photo_crop", "train.captions_per_photo"]
    assert (two.input.photo_crop, two.train.captions_per_photo, two.train.val_every, two.train.steps) == (0.3, 2, 1000, 6200)
    assert replace(two, input=mean.input, train=replace(two.train, captions_per_photo=1, val_every=500, steps=5800)) == mean


def test_the_110_minute_recipe_is_the_two_caption_recipe_with_a_time_budget_for_its_step_count():
    two, timed = recipe("clippo-teacher-cpu-small-2h-crop-sd-ema-mean-2cap"), recipe("clippo-teacher-cpu-small-2h-crop-sd-ema-mean-2cap-110m")
    assert (timed.train.steps, timed.train.time_budget) == (None, 110.0)
    assert replace(timed, train=replace(timed.train, steps=two.train.steps, time_budget=two.train.time_budget)) == two


FLICKR8K = shared_data_dir() / "flickr8k" if shared_data_dir() else None


@pytest.mark.skipif(FLICKR8K is None or not FLICKR8K.is_dir(), reason="needs ../shared/data (Flickr8k); set ENGINE_DATA")
def test_the_11_language_recipe_weighs_exactly_the_languages_of_flickr8k_train():
    train = recipe("clippo-teacher-cpu-small-2h-11lang").train
    photos = load_source(train.data[0])
    assert set(train.caption_langs) == set(photos.caption_lang) and len(train.caption_langs) == 11
    assert train.caption_langs["en"] > train.caption_langs["qu"] and train.pair_mix == {"tatoeba": 2.0, "multi30k": 1.0}


@needs_minilm
def test_target_cache_keeps_every_finished_batch_and_embeds_only_what_is_missing(tmp_path, monkeypatch):
    import engine.train.teacher as teacher

    monkeypatch.setattr(teacher, "BATCH", 2)
    first = teacher_targets("minilm", ["a dog runs", "a cat sleeps", "a red car"], tmp_path)
    assert first.shape == (3, 384) and np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-2)
    directory = next(tmp_path.iterdir())
    assert len(list(directory.glob("chunk-*.npz"))) == 2  # one chunk per batch, each written whole
    (directory / "chunk-dead.npz.tmp-999999.npz").write_bytes(b"half a batch")  # a killed writer's leftover
    again = teacher_targets("minilm", ["a red car", "a dog runs", "a new text"], tmp_path)
    assert len([p for p in directory.glob("chunk-*.npz") if ".tmp-" not in p.name]) == 3  # only "a new text" was embedded
    assert np.allclose(again[:2], first[[2, 0]], atol=1e-3)
    assert set(TargetCache(directory.name, tmp_path).load()) == {text_key(t) for t in ("a dog runs", "a cat sleeps", "a red car", "a new text")}


@needs_e5
def test_e5_aligns_a_translation_with_its_english_side(tmp_path):
    vectors = teacher_targets("e5-small", ["A dog runs on the grass.", "Ein Hund läuft über das Gras.", "The stock market fell sharply."], tmp_path)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@needs_tatoeba
def test_tatoeba_training_pairs_never_include_a_held_out_pair():
    held = tatoeba_eval.held_out_pairs(TATOEBA)
    xx, en = tatoeba_eval.load_pairs(TATOEBA, "deu", tatoeba_eval.HELD_OUT)
    assert len(xx) == tatoeba_eval.HELD_OUT and (xx[0], en[0]) in held
    training = tatoeba(langs="deu+jpn")
    assert training.left and not {(a, b) for a, b in zip(training.left, training.right)} & held
    assert not set(training.left) & set(xx)  # nor a sentence of the test pairs
    assert not set(training.right) & {english for _, english in held}  # nor any language's English test sentence
    assert len(tatoeba(langs="deu", per_lang=10).left) == 10


@needs_tatoeba
def test_training_refuses_a_source_that_holds_held_out_pairs(tmp_path, capsys):
    data = TATOEBA
    spec = f"pairs:left={data / 'tatoeba.deu-eng.deu.gz'},right={data / 'tatoeba.deu-eng.eng.gz'},lang=deu"
    assert main(["train", "--preset", "cpu-tiny", "--data", spec, "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    assert "held-out Tatoeba test pairs" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    return write_tiny_data(tmp_path_factory.mktemp("tiny"))


TEACHER = ("--set", "train.teacher.name=minilm")


def _records(run: Path) -> dict[int, dict]:
    return {r["step"]: r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "loss" in r}


@needs_minilm
@pytest.mark.parametrize("photo_target", ["caption", "mean"])
def test_a_run_with_a_teacher_logs_its_losses_and_resumes_on_the_same_curve(tiny_data, tmp_path, photo_target):
    whole, split = tmp_path / "whole", tmp_path / "split"
    teacher = (*TEACHER, "--set", "train.teacher.loss=contrastive", "--set", f"train.teacher.photo_target={photo_target}")
    assert main(["train", *tiny_run_args(tiny_data, whole, 6, *teacher)]) == 0
    # two sittings: the first stops at its (tiny) time budget and saves; the second resumes to the end
    assert main(["train", *tiny_run_args(tiny_data, split, 6, *teacher, "--set", "time_budget=0.001")]) == 0
    assert json.loads((split / "checkpoint" / "config.json").read_text())["step"] < 6
    assert main(["train", *tiny_run_args(tiny_data, split, 6, *teacher, "--resume")]) == 0
    a, b = _records(whole), _records(split)
    assert a[1]["distill_text"] > 0 and a[1]["distill_image"] > 0
    for step in range(1, 7):
        assert b[step]["loss"] == pytest.approx(a[step]["loss"], abs=1e-4), step
    state = torch.load(split / "checkpoint" / "train_state.pt", weights_only=False)
    assert state["teacher_head"]["project.weight"].shape == (384, 128)
    config = json.loads((split / "checkpoint" / "config.json").read_text())
    assert config["train"]["teacher"]["name"] == "minilm" and config["train"]["teacher"]["photo_target"] == photo_target


@needs_minilm
def test_a_text_only_run_learns_from_pairs_and_the_teacher_alone(tiny_data, tmp_path):
    """The shippable text model's shape (recipe clippo-text-teacher-cpu-small): no photos, no validation."""
    out = tmp_path / "text"
    args = tiny_run_args(tiny_data, out, 4, *TEACHER, "--set", "train.val=null", "--set", "train.teacher.loss=contrastive", photos=False)
    assert main(["train", *args]) == 0
    records = _records(out)
    assert all(r["distill_text"] > 0 and r["distill_image"] == 0 for r in records.values())  # every row a text, none a photo
    assert records[4]["loss"] < records[1]["loss"]
    assert recipe("clippo-text-teacher-cpu-small").train.data[0].kind == "tatoeba"


# --- the harnesses' reference rows and text-to-text mode ---


def _captions(tmp_path: Path) -> Path:
    rows = [
        {"image/key": "a", "en": {"caption": ["a dog runs on the beach", "a dog"]}, "de": {"caption": ["ein Hund rennt am Strand"]}},
        {"image/key": "b", "en": {"caption": ["a man rides a bicycle"]}, "de": {"caption": ["ein Mann fährt Fahrrad"]}},
        {"image/key": "c", "en": {"caption": ["two children eat ice cream"]}, "de": {"caption": ["zwei Kinder essen Eis"]}},
        {"image/key": "d", "de": {"caption": ["ein Bild ohne englische Beschreibung"]}},
    ]
    path = tmp_path / "captions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "images").mkdir()
    return path


def test_text_to_text_mode_scores_captions_against_the_english_gallery(tiny_checkpoint, tmp_path, capsys):
    captions = _captions(tmp_path)
    out = tmp_path / "out"
    summary = json.loads(
        run_main("run_xm3600.py", "--text-to-text", "--captions", captions, "--models", tiny_checkpoint, "--out", out, "--json", capsys=capsys)
    )
    assert summary["gallery"] == 3 and set(summary["models"]["tiny"]["languages"]) == {"de"}  # image d has no English caption
    assert "xx2en@10" in json.dumps(summary)
    with pytest.raises(EngineError, match="--text-to-text"):
        run_main("run_xm3600.py", "--captions", captions, "--models", tiny_checkpoint, "--references", "minilm", "--out", out, capsys=capsys)


@needs_e5
def test_text_to_text_reference_row_reads_german(tiny_checkpoint, tmp_path, capsys):
    captions = _captions(tmp_path)
    printed = run_main(
        "run_xm3600.py",
        "--text-to-text",
        "--captions",
        captions,
        "--models",
        tiny_checkpoint,
        "--references",
        "e5-small",
        "--out",
        tmp_path / "o",
        capsys=capsys,
    )
    assert "e5-small (pretrained, tokenizer, for reference)" in printed
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["models"]["e5-small (pretrained, tokenizer, for reference)"]["languages"]["de"]["xx2en@1"] == 1.0


@needs_tatoeba
def test_tatoeba_script_scores_only_held_out_pairs_and_lists_languages_ahead_of_a_reference(tiny_checkpoint, tmp_path, capsys):
    with pytest.raises(EngineError, match="--limit must be 2 to 500"):
        run_main("run_tatoeba.py", "--models", tiny_checkpoint, "--limit", "501", "--out", tmp_path / "o", capsys=capsys)
    if not installed("minilm"):
        pytest.skip("the optional teacher extra is not installed (bash scripts/install_extras teacher)")
    printed = run_main(
        "run_tatoeba.py", "--models", tiny_checkpoint, "--references", "minilm", "--langs", "deu", "--limit", "8", "--out", tmp_path / "o", capsys=capsys
    )
    assert "minilm (pretrained, tokenizer, for reference)" in printed and "tiny ahead of minilm" in printed
