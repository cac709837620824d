"""Probe 1: SIGKILL `engine index build`, `index add` and `engine train` at seeded moments, and a full disk.

After every kill the index on disk must be exactly the previous generation (or, if the kill came
after the commit, exactly the new one), open and answer; the next run must succeed, leave no
temporary file, and hold every item once. A killed and resumed training run must log the same
losses, step for step, as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from benchmarks.faults.common import (
    MODEL,
    captions,
    engine_cmd,
    index_state,
    kill_at,
    leftovers,
    one_line_error,
    quiet_env,
    run_engine,
    moments,
    run_length,
    table,
    write_texts,
)
from benchmarks.faults.corpus import good_photos


class Collection:
    """A set of texts (one file) and photos (one folder), and the metadata rows it must become."""

    def __init__(self, root: Path, name: str, texts: int, photos: int, start: int) -> None:
        self.texts = captions(name, texts)
        self.text_file = write_texts(root / f"{name}.txt", self.texts)
        self.folder = root / f"{name}-photos"
        self.photos = good_photos(self.folder, photos, start)

    def args(self) -> list[object]:
        return ["--texts", self.text_file, "--images", self.folder, "--workers", 0]

    def rows(self) -> Counter:
        return Counter([("image", str(p.resolve()), "") for p in self.photos] + [("text", "", t) for t in self.texts])


def timed(*args: object) -> tuple[subprocess.CompletedProcess, float]:
    """Run `engine ARGS` to the end (bounded generously: a shared machine can stall a run for minutes);
    its result and its length in seconds."""
    started = time.monotonic()
    result = run_engine(*args, timeout=1800)
    return result, time.monotonic() - started


def _lengths(outcome: dict, rerun: subprocess.CompletedProcess | None, seconds: float) -> list[float]:
    """Whole-run lengths an iteration measured: the killed run's, if it ended first, and the rerun's."""
    return [outcome["lived_s"]] * (not outcome["killed"]) + [seconds] * (rerun is not None and rerun.returncode == 0)


def _whole_run(*args: object) -> float:
    """The length of an uninterrupted `engine ARGS`, which must succeed."""
    result, seconds = timed(*args)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    return seconds


def _check(directory: Path, expected: dict[str, Counter]) -> tuple[str | None, dict]:
    """Which expected state (by name) the index is in, if any."""
    state = index_state(directory)
    for name, rows in expected.items():
        if state["rows"] == rows and state["ids_ok"] and state["answers"] and state["count"] == sum(rows.values()):
            return name, state
    return None, state


def _record(kind: str, outcome: dict, after_kill: str | None, rerun: subprocess.CompletedProcess | None, final: str | None, left: list[str]) -> dict:
    return {
        **outcome,
        "kind": kind,
        "state_after_kill": after_kill,
        "rerun_rc": rerun.returncode if rerun else None,
        "state_after_rerun": final,
        "leftovers": left,
    }


def probe_build(work: Path, kills: int, seed: int) -> dict:
    """Kill a build that replaces an index; the old index must survive and the next build succeed."""
    a, b = Collection(work, "build-a", 200, 8, 0), Collection(work, "build-b", 200, 8, 100)
    index = work / "build-index"
    assert run_engine("index", "build", "--model", MODEL, "--out", index, *a.args()).returncode == 0
    lengths = [_whole_run("index", "build", "--model", MODEL, "--out", index, *b.args())]
    rng, current, records = random.Random(seed), b, []
    for fraction in moments(kills, rng, records):
        target = a if current is b else b
        outcome = kill_at(engine_cmd("index", "build", "--model", MODEL, "--out", index, *target.args()), fraction * run_length(lengths))
        after, _ = _check(index, {"previous": current.rows(), "new": target.rows()})
        rerun, seconds = timed("index", "build", "--model", MODEL, "--out", index, *target.args())
        lengths += _lengths(outcome, rerun, seconds)
        final, _ = _check(index, {"new": target.rows()})
        records.append({**_record("build", outcome, after, rerun, final, leftovers(index)), "run_s": round(seconds, 2)})
        current = target
    return {"duration_s": round(lengths[0], 2), "runs": records}


def probe_add(work: Path, kills: int, seed: int) -> dict:
    """Kill `index add` of a new chunk (overlapping the last one); the next add must add each new item once."""
    base = Collection(work, "add-base", 300, 8, 200)
    index = work / "add-index"
    assert run_engine("index", "build", "--model", MODEL, "--out", index, *base.args()).returncode == 0
    expected = base.rows()
    chunks = [Collection(work, f"add-{i}", 20, 2, 300 + 2 * i) for i in range(2 * kills + 1)]

    def add_args(i: int) -> list[object]:  # chunk i plus the texts of chunk i-1 again: they must not be added twice
        texts = chunks[i].texts + (chunks[i - 1].texts if i else [])
        return ["index", "add", index, "--texts", write_texts(work / f"add-{i}-all.txt", texts), "--images", chunks[i].folder, "--workers", 0]

    lengths = [_whole_run(*add_args(0))]
    expected += chunks[0].rows()
    rng, records = random.Random(seed + 1), []
    for i, fraction in enumerate(moments(kills, rng, records), start=1):
        grown = expected + chunks[i].rows()
        outcome = kill_at(engine_cmd(*add_args(i)), fraction * run_length(lengths))
        after, _ = _check(index, {"previous": expected, "new": grown})
        rerun, seconds = timed(*add_args(i))
        lengths += _lengths(outcome, rerun, seconds)
        final, _ = _check(index, {"new": grown})
        records.append({**_record("add", outcome, after, rerun, final, leftovers(index)), "run_s": round(seconds, 2)})
        expected = grown
    return {"duration_s": round(lengths[0], 2), "runs": records}


TRAIN_STEPS = 24


def _train_args(out: Path, cache: Path, resume: bool) -> list[object]:
    return [
        "train",
        "--preset",
        "cpu-tiny",
        "--data",
        "scenes:count=200,seed=0",
        "--steps",
        TRAIN_STEPS,
        "--batch-size",
        16,
        "--warmup",
        2,
        "--checkpoint-every",
        3,
        "--log-every",
        1,
        "--workers",
        0,
        "--seed",
        0,
        "--cache-dir",
        cache,
        "--out",
        out,
        *(["--resume"] if resume else []),
    ]


def _losses(out: Path) -> dict[int, float]:
    """Step -> loss as the run logged it last (a resumed run logs again the steps after its checkpoint)."""
    losses = {}
    for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "loss" in record:
            losses[record["step"]] = record["loss"]
    return losses


def _max_diff(losses: dict[int, float], expected: dict[int, float]) -> float | None:
    diffs = [abs(losses[s] - expected[s]) for s in expected if s in losses]
    return max(diffs) if diffs else None


def _checkpoint_step(out: Path) -> int | None:
    """The step of the checkpoint a resume would continue from, after loading it as engine.load does."""
    import engine
    from engine.errors import EngineError
    from engine.model.checkpoint import find_checkpoint, read_config

    try:
        directory = find_checkpoint(out)
    except EngineError:
        return None
    engine.load(directory)
    return int(read_config(directory)["step"])


def _train_leftovers(out: Path, cache: Path) -> list[str]:
    allowed = {"metrics.jsonl", "checkpoint"}
    names = [p.name for p in out.iterdir() if p.name not in allowed]
    names += [f"cache/{p.name}" for p in cache.glob("*") if ".tmp" in p.name]
    return sorted(names)


def probe_train(work: Path, kills: int, seed: int) -> dict:
    """Kill `engine train` at seeded moments, resume it, and compare its losses with an uninterrupted run.

    The first uninterrupted run fills the photo cache that every later run shares (a cold cache
    would make each run several times longer); the second, warm, is the reference whose length
    the kill moments spread over. The two must log the same losses too: training is reproducible
    on the default thread count (see engine/model/vit.py, PatchEmbed)."""
    cache = work / "train-cache"
    cold, reference = work / "train-cold", work / "train-reference"
    assert run_engine(*_train_args(cold, cache, False)).returncode == 0
    lengths = [_whole_run(*_train_args(reference, cache, False))]
    expected = _losses(reference)
    rng, records = random.Random(seed + 2), []
    for i, fraction in enumerate(moments(kills, rng, records)):
        out = work / f"train-{i}"
        outcome = kill_at(engine_cmd(*_train_args(out, cache, False)), fraction * run_length(lengths))
        lengths += _lengths(outcome, None, 0.0)
        try:
            step = _checkpoint_step(out) if out.exists() else None
            opened = True
        except Exception:  # the checkpoint a kill left must load; anything else is a finding
            step, opened = None, False
        rerun, _ = timed(*_train_args(out, cache, step is not None))
        losses = _losses(out) if rerun.returncode == 0 else {}
        records.append(
            {
                **outcome,
                "kind": "train",
                "checkpoint_step": step,
                "checkpoint_opens": opened,
                "rerun_rc": rerun.returncode,
                "resumed": step is not None,
                "steps_match": sorted(losses) == sorted(expected),
                "max_loss_diff": _max_diff(losses, expected),
                "leftovers": _train_leftovers(out, cache),
            }
        )
        shutil.rmtree(out)
    return {
        "duration_s": round(lengths[0], 2),
        "steps": TRAIN_STEPS,
        "threads": os.environ.get("OMP_NUM_THREADS") or f"default ({os.cpu_count()} cores)",
        "uninterrupted_diff": _max_diff(_losses(cold), expected),
        "runs": records,
    }


def probe_full_disk(work: Path) -> dict:
    """A build that runs out of disk space: a one-line error, and the old index intact."""
    small, big = Collection(work, "disk-a", 200, 4, 400), Collection(work, "disk-b", 6000, 4, 410)
    mount = work / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    how = "tmpfs of 3 MB" if mounted.returncode == 0 else None
    index = mount / "index"
    try:
        first = run_engine("index", "build", "--model", MODEL, "--out", index, *small.args())
        before = index_state(index)
        if how:
            result = run_engine("index", "build", "--model", MODEL, "--out", index, *big.args())
        else:  # no mount allowed: a file-size limit makes the writes fail the same way (EFBIG instead of ENOSPC)
            how = f"RLIMIT_FSIZE of 1 MB (mount refused: {mounted.stderr.decode(errors='replace').strip()})"
            result = subprocess.run(
                engine_cmd("index", "build", "--model", MODEL, "--out", index, *big.args()),
                capture_output=True,
                env=quiet_env(),
                timeout=600,
                preexec_fn=_limit_file_size,
            )
        after = index_state(index)
        return {
            "how": how,
            "first_rc": first.returncode,
            "rc": result.returncode,
            "one_line_error": one_line_error(result),
            "error": result.stderr.decode("utf-8", "replace").strip()[-300:],
            "old_intact": after["rows"] == before["rows"] == small.rows(),
            "leftovers": leftovers(index),
        }
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(mount)], check=False)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))


COMMANDS = ("build", "add", "train", "disk")


def run(work: Path, kills: int, seed: int, commands: tuple[str, ...] = COMMANDS) -> dict:
    """The chosen probes (the whole set takes long on a small machine: it can run in parts)."""
    probes = {"build": probe_build, "add": probe_add, "train": probe_train}
    result = {name: probes[name](work, kills, seed) for name in commands if name in probes}
    if "disk" in commands:
        result["full_disk"] = probe_full_disk(work)
    return result


def summarise(result: dict) -> dict:
    rows = {}
    for name in ("build", "add"):
        if name not in result:
            continue
        runs = result[name]["runs"]
        rows[name] = {
            "kills": sum(r["killed"] for r in runs),
            "runs": len(runs),
            "previous_after_kill": sum(r["state_after_kill"] == "previous" for r in runs),
            "new_after_kill": sum(r["state_after_kill"] == "new" for r in runs),
            "bad_after_kill": sum(r["state_after_kill"] is None for r in runs),
            "rerun_failed": sum(r["rerun_rc"] != 0 or r["state_after_rerun"] != "new" for r in runs),
            "leftovers": sum(bool(r["leftovers"]) for r in runs),
            "duration_s": result[name]["duration_s"],
        }
    if "train" in result:
        train = result["train"]
        runs = train["runs"]
        diffs = [r["max_loss_diff"] for r in runs if r["max_loss_diff"] is not None]
        rows["train"] = {
            "kills": sum(r["killed"] for r in runs),
            "runs": len(runs),
            "resumed": sum(r["resumed"] for r in runs),
            "checkpoint_unreadable": sum(not r["checkpoint_opens"] for r in runs),
            "rerun_failed": sum(r["rerun_rc"] != 0 or not r["steps_match"] for r in runs),
            "leftovers": sum(bool(r["leftovers"]) for r in runs),
            "max_loss_diff": max(diffs) if diffs else None,
            "uninterrupted_diff": train["uninterrupted_diff"],
            "threads": train["threads"],
            "steps": train["steps"],
            "duration_s": train["duration_s"],
        }
    if "full_disk" in result:
        rows["full_disk"] = result["full_disk"]
    return rows


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def report(summary: dict) -> str:
    header = [
        "command",
        "run (s)",
        "kills / moments",
        "after kill: previous / new / broken",
        "next run failed",
        "runs with leftovers",
        "largest loss difference",
    ]
    rows = []
    for name in ("build", "add"):
        if name not in summary:
            continue
        s = summary[name]
        rows.append(
            [
                f"engine index {name}",
                s["duration_s"],
                f"{s['kills']} / {s['runs']}",
                f"{s['previous_after_kill']} / {s['new_after_kill']} / {s['bad_after_kill']}",
                s["rerun_failed"],
                s["leftovers"],
                "-",
            ]
        )
    if "train" in summary:
        s = summary["train"]
        rows.append(
            [
                f"engine train, {s['steps']} steps, threads {s['threads']} (then --resume)",
                s["duration_s"],
                f"{s['kills']} / {s['runs']}",
                f"{s['resumed']} resumed from a checkpoint, {s['checkpoint_unreadable']} unreadable",
                s["rerun_failed"],
                s["leftovers"],
                f"{_number(s['max_loss_diff'])} (two uninterrupted runs: {_number(s['uninterrupted_diff'])})",
            ]
        )
    text = table("Interrupted writes (SIGKILL at seeded moments)", header, rows) if rows else ""
    if "full_disk" in summary:
        disk = summary["full_disk"]
        text += "\n" + table(
            "Full disk during a build",
            ["filesystem", "exit", "one-line error", "old index intact", "leftovers", "message"],
            [[disk["how"], disk["rc"], disk["one_line_error"], disk["old_intact"], len(disk["leftovers"]), disk["error"]]],
        )
    return text
