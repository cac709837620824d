"""Streamed training from WebDataset shards, on a few tiny shards written here: the shard writer, the
split by rank and worker, order from (seed, epoch), resume after kill -9, corrupt data skipped and
counted, text pairs streamed from TSV and Parquet, and streamed photos mixed with in-memory pairs."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("webdataset", reason="the streaming extra is not installed (bash scripts/install_extras streaming)")

from engine.cli import main  # noqa: E402
from train_helpers import COLOURS, SHAPES, draw_shape, train_args  # noqa: E402
from engine.model.inputs import image_pixels  # noqa: E402
from engine.train.batches import Sampler  # noqa: E402
from engine.train.data import load_source  # noqa: E402
from engine.train.shards import PhotoShards  # noqa: E402
from engine.train.streaming import Position, StreamBatches, stream_samples  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """12 JPEG photos with English and German captions, German-English pairs, and their shards (3 per shard)."""
    root = tmp_path_factory.mktemp("stream")
    rows, pairs = ["image\tcaption\tlang"], ["left\tright"]
    for colour in COLOURS:
        for shape in SHAPES:
            draw_shape(colour, shape, (48, 40)).save(root / f"{colour}-{shape}.jpg")
            rows += [f"{colour}-{shape}.jpg\ta {colour} {shape}\ten", f"{colour}-{shape}.jpg\tein {colour} {shape}\tde"]
            pairs.append(f"ein {colour} {shape}\ta {colour} {shape}")
    (root / "captions.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "pairs.tsv").write_text("\n".join(pairs) + "\n", encoding="utf-8")
    table = f"table:path={root / 'captions.tsv'},images={root},lang_col=lang"
    assert (
        main(["shards", "write", "--data", table, "--data", f"pairs:path={root / 'pairs.tsv'},lang=de", "--per-shard", "3", "--out", str(root / "shards")]) == 0
    )
    return root


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _losses(run: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in _records(run) if "loss" in r}


def _keys(stream, slot: int, slots: int, count: int, position: Position | None = None, seed: int = 0) -> list[str]:
    samples = stream_samples(stream, position or Position(), seed, slot, slots)
    return [next(samples)[0]["__key__"] for _ in range(count)]


def test_shards_hold_the_img2dataset_layout_and_a_rerun_keeps_them(tiny, capsys):
    shards = sorted((tiny / "shards").glob("*.tar"))
    assert [p.name for p in shards] == ["00000.tar", "00001.tar", "00002.tar", "00003.tar"]
    with tarfile.open(shards[0]) as tar:
        names = tar.getnames()
        assert sorted(names[:3]) == ["000000000.jpg", "000000000.json", "000000000.txt"]
        meta = json.loads(tar.extractfile("000000000.json").read())
    assert meta["caption"] == "a red circle" and meta["language"] == "en"
    assert meta["captions"] == [{"caption": "a red circle", "language": "en"}, {"caption": "ein red circle", "language": "de"}]
    assert len(list((tiny / "shards").glob("pairs-*.parquet"))) == 4
    assert not [p for p in (tiny / "shards").iterdir() if ".tmp-" in p.name]
    table = f"table:path={tiny / 'captions.tsv'},images={tiny},lang_col=lang"
    assert main(["shards", "write", "--data", table, "--per-shard", "3", "--out", str(tiny / "shards")]) == 0
    assert "4 existing shard(s) kept" in capsys.readouterr().out


def test_a_streamed_photo_decodes_to_the_in_memory_pixels(tiny):
    stream = load_source(f"shards:urls={tiny / 'shards'}")
    raw = next(iter(stream.read(stream.shards[0])))
    pixels, captions = stream.decode(raw, 32)
    assert np.array_equal(pixels, image_pixels(tiny / "red-circle.jpg", 32))
    assert captions == [("a red circle", "en"), ("ein red circle", "de")]


def test_ranks_and_workers_split_each_epoch_and_the_order_follows_seed_and_epoch(tiny):
    stream = load_source(f"shards:urls={tiny / 'shards'}/{{00000..00003}}.tar")
    assert len(stream.shards) == 4
    # 2 ranks x 2 workers: each reader takes one shard (3 samples) per epoch; together they see every photo once.
    epoch0 = [_keys(stream, slot, 4, 3) for slot in range(4)]
    assert sorted(k for keys in epoch0 for k in keys) == sorted(f"{s:05d}{i:04d}" for s in range(4) for i in range(3))
    assert all(len({k[:5] for k in keys}) == 1 for keys in epoch0)  # a reader walks whole shards
    assert [_keys(stream, slot, 4, 3) for slot in range(4)] == epoch0  # same seed, same order
    epochs = [[_keys(stream, slot, 4, 3, Position(epoch=e), seed)[0][:5] for slot in range(4)] for seed in (0, 1) for e in range(4)]
    assert len({tuple(e) for e in epochs}) > 1  # the shard order changes with the epoch and the seed


def test_a_stream_resumed_from_its_position_continues_with_the_unseen_samples(tiny):
    stream = load_source(f"shards:urls={tiny / 'shards'}")
    whole = _keys(stream, 0, 2, 14)
    samples = stream_samples(stream, Position(), 0, 0, 2)
    for _ in range(5):
        _, position, _ = next(samples)
    saved = Position(**asdict(position))
    assert _keys(stream, 0, 2, 9, saved) == whole[5:]


def _corrupt_shards(tiny: Path, out: Path) -> None:
    """The four shards with a damaged photo and a caption-less sample in one, and the last one truncated."""
    out.mkdir()
    for index, source in enumerate(sorted((tiny / "shards").glob("*.tar"))):
        data = source.read_bytes()
        if index == 1:
            buffer = io.BytesIO()
            with tarfile.open(source) as old, tarfile.open(fileobj=buffer, mode="w") as new:
                for member in old.getmembers():
                    content = old.extractfile(member).read()
                    if member.name == "000010000.jpg":
                        content = b"\xff\xd8 not really a jpeg"
                    if member.name.startswith("000010001.") and not member.name.endswith(".jpg"):
                        continue
                    member.size = len(content)
                    new.addfile(member, io.BytesIO(content))
            data = buffer.getvalue()
        if index == 3:
            data = data[: len(data) // 2]
        (out / source.name).write_bytes(data)


def test_corrupt_samples_and_a_truncated_shard_are_skipped_and_counted_never_fatal(tiny, tmp_path):
    _corrupt_shards(tiny, tmp_path / "bad")
    out = tmp_path / "run"
    args = train_args(out, 8, f"shards:urls={tmp_path / 'bad'}", f"pairs:path={tiny / 'pairs.tsv'},lang=de", workers=0)
    assert main(["train", *args]) == 0
    last = [r for r in _records(out) if "loss" in r][-1]
    # 8 steps x 6 photos = 48 photos used, at most 8 good ones per pass over the 4 shards: each pass meets the two bad samples and the truncated shard
    assert last["corrupt_samples"] >= 2 * 5 and last["corrupt_samples"] % 2 == 0
    assert last["broken_shards"] >= 5
    assert all(np.isfinite(r["loss"]) for r in _records(out) if "loss" in r)


def test_resume_after_kill_9_continues_with_the_samples_not_yet_seen(tiny, tmp_path):
    steps, data = 12, (f"shards:urls={tiny / 'shards'}", f"pair-shards:path={tiny / 'shards'}/pairs-{{00000..00003}}.parquet")
    assert main(["train", *train_args(tmp_path / "whole", steps, *data, workers=2), "--checkpoint-every", "100"]) == 0
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.train", *train_args(killed, steps, *data, workers=2), "--checkpoint-every", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while process.poll() is None and not ((killed / "metrics.jsonl").exists() and max(_losses(killed), default=0) >= 5):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved_step = json.loads((killed / "checkpoint" / "config.json").read_text())["step"]
    assert 2 <= saved_step < steps
    assert main(["train", *train_args(killed, steps, *data, workers=2), "--checkpoint-every", "2", "--resume"]) == 0
    whole, resumed = _losses(tmp_path / "whole"), _losses(killed)
    assert sorted(resumed) == sorted(whole) == list(range(1, steps + 1))
    for step in whole:
        assert resumed[step] == pytest.approx(whole[step], abs=1e-4), step


def test_two_torchrun_processes_read_disjoint_shards_and_the_checkpoint_keeps_both_positions(tiny, tmp_path):
    out, torchrun = tmp_path / "double", Path(sys.executable).with_name("torchrun")
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "engine.train", *train_args(out, 3, f"shards:urls={tiny / 'shards'}", workers=1)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    assert sorted(_losses(out)) == [1, 2, 3]
    import torch

    streams = torch.load(out / "checkpoint" / "train_state.pt", weights_only=False)["streams"]
    assert (streams["world"], streams["slots"]) == (2, 1) and sorted(streams["positions"]) == ["0/0", "1/0"]
    # 3 steps x 4 photos per rank = 12 photos each: a whole epoch of each rank's 2 shards (6 photos), twice
    assert [streams["positions"][key]["photos"]["epoch"] for key in ("0/0", "1/0")] == [1, 1]


def test_a_resume_with_another_worker_count_is_refused(tiny, tmp_path, capsys):
    out, data = tmp_path / "run", f"shards:urls={tiny / 'shards'}"
    assert main(["train", *train_args(out, 2, data, workers=2)]) == 0
    capsys.readouterr()
    assert main(["train", *train_args(out, 4, data, workers=1), "--resume"]) == 2
    assert "same" in capsys.readouterr().err


def test_streamed_photos_mix_with_in_memory_pairs_as_the_sampler_draws_them(tiny):
    photos = load_source(f"shards:urls={tiny / 'shards'}")
    pairs = load_source(f"pairs:path={tiny / 'pairs.tsv'},lang=de")
    sampler = Sampler(load_source(f"table:path={tiny / 'captions.tsv'},images={tiny},lang_col=lang"), pairs, 8, 0.25, None, 0)
    texts: list[list[str]] = []
    batches = StreamBatches(photos, None, pairs, lambda t, _: np.zeros((len(t), 1)), 32, (6, 2), None, None, 1, 0, 0, 5, 0, 1, 1, None)
    for batch in batches:
        texts.append(batch)
    assert [len(b["images"]) for b in texts] == [6] * 5 and [len(b["texts"]) for b in texts] == [10] * 5  # 6 captions + 2 pairs x 2
    drawn = [sampler.plan(step).pairs.tolist() for step in range(5)]
    recorded = []
    batches.text_inputs = lambda t, _: recorded.append(t) or np.zeros((len(t), 1))
    list(batches)
    assert [t[6:8] for t in recorded] == [[pairs.left[i] for i in rows] for rows in drawn]


def test_text_pairs_stream_from_tsv_and_parquet_row_groups(tiny, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pa.table({"de": [f"satz {i}" for i in range(10)], "en": [f"sentence {i}" for i in range(10)]})
    pq.write_table(frame, tmp_path / "big.parquet", row_group_size=4)
    stream = load_source(f"pair-shards:path={tmp_path / 'big.parquet'}+{tiny / 'pairs.tsv'},lang=de")
    assert stream.shards == (
        (str(tmp_path / "big.parquet"), 0),
        (str(tmp_path / "big.parquet"), 1),
        (str(tmp_path / "big.parquet"), 2),
        (str(tiny / "pairs.tsv"), 0),
    )
    seen = [stream.decode(raw) for slot in range(2) for raw in _first_epoch(stream, slot, 2)]
    assert ("satz 9", "sentence 9", "de", "en") in seen and ("ein red circle", "a red circle", "de", "en") in seen
    assert len(seen) == len(set(seen)) == 22  # one epoch: every row once across the two readers


def _first_epoch(stream, slot: int, slots: int) -> list:
    found = []
    for raw, _, (epoch, _) in stream_samples(stream, Position(), 0, slot, slots):
        if epoch:
            return found
        found.append(raw)


def test_user_mistakes_are_one_line_errors(tiny, tmp_path, capsys):
    missing = f"shards:urls={tmp_path}/{{000..002}}.tar"
    assert main(["train", *train_args(tmp_path / "a", 2, missing, workers=2)]) == 2
    assert "not found" in capsys.readouterr().err
    one = f"shards:urls={tiny / 'shards'}/00000.tar"
    assert main(["train", *train_args(tmp_path / "b", 2, one, workers=2)]) == 2
    assert "1 shard(s) for 1 process(es) x 2 worker(s)" in capsys.readouterr().err
    assert main(["shards", "write", "--data", f"pairs:path={tiny / 'pairs.tsv'}", "--per-shard", "0", "--out", str(tmp_path / "c")]) == 2
    assert "--per-shard" in capsys.readouterr().err
    assert main(["tokenizer", "train", "--data", f"shards:urls={tiny / 'shards'}", "--vocab-size", "8", "--out", str(tmp_path / "t.model")]) == 2
    assert "streamed source" in capsys.readouterr().err


def test_photo_shards_without_json_take_the_txt_caption_and_the_sources_language(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, "JPEG")
    with tarfile.open(tmp_path / "00000.tar", "w") as tar:
        for name, content in (("a.jpg", buffer.getvalue()), ("a.txt", "ein rotes Quadrat".encode())):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    stream = load_source(f"shards:urls={tmp_path / '00000.tar'},lang=de")
    assert isinstance(stream, PhotoShards)
    raw = next(iter(stream.read(stream.shards[0])))
    assert stream.decode(raw, 16)[1] == [("ein rotes Quadrat", "de")]
