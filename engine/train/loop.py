"""The training loop, readable in one sitting: data -> model -> contrastive loss -> Muon (or AdamW).

`train(config, out)` runs in one process or under torchrun (one rank per process, gloo or NCCL). Every
rank builds the same model from the same seed and computes the loss over the global batch
(features gathered with gradients); gradients are then averaged across ranks, so all ranks stay
identical without DistributedDataParallel.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from engine.errors import EngineError
from engine.eval.tatoeba import guard_training_pairs
from engine.model.checkpoint import TOKENIZER, find_checkpoint, load_model, load_train_state, read_config, save_checkpoint
from engine.model.dual import DualEncoder
from engine.model.inputs import TextInputs
from engine.model.precision import autocast_dtype
from engine.model.tokenizer import Tokenizer, train_tokenizer
from engine.train.average import keep_weights
from engine.train.augment import mirror_half, random_crops, stored_size
from engine.train.batches import Sampler, StepBatches, merge_pools
from engine.train.config import Config, differences, from_json
from engine.train.data import ImageCaptions, load_source, texts_of
from engine.train.distill import Distiller
from engine.train.image_cache import cached_images
from engine.train.loss import contrastive_loss
from engine.train.optim import Optimizer
from engine.train.streaming import split_streams, stream_dataset
from engine.train.validate import Validation
from engine.typed import to_dict

WARM_UP_STEPS = 2  # steps not timed: the first ones also start the data workers
CALIBRATION_STEPS = 8  # steps timed before the first estimate of how many steps fit the time budget
RE_ESTIMATE_EVERY = 10  # steps between later estimates (the first steps are slower than the rest)
WORKER_NICENESS = 19  # data workers run at lower priority than the training step (see _worker_init)


def train(config: Config, out: Path, resume: bool = False, cache_dir: Path | None = None) -> dict:
    """Run (or continue) a training run in `out`; returns the final validation metrics."""
    config.check_runnable()
    run = config.train
    rank, world = _init_distributed(run.device)
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if run.device == "cuda" else "cpu")
    started = time.monotonic()
    out = Path(out)
    resume_from = _resume_source(config, out, resume)

    streams, pools = split_streams([load_source(source) for source in run.data])  # streams: docs/streaming.md
    images, pairs = merge_pools(pools)
    guard_training_pairs(pairs.left, pairs.right)  # the held-out Tatoeba pairs never enter training
    if streams and run.teacher.active:
        raise EngineError("train.teacher needs in-memory sources: the teacher's targets are not computed for streamed shards yet")
    fitting = time.monotonic()
    tokenizer_path = _tokenizer_path(config, out, resume_from, images, pairs, rank)
    distiller, targets = _distiller(config, images, pairs, cache_dir, rank)
    fitting = time.monotonic() - fitting  # a baseline's vocabulary and the teacher's targets are made outside the time budget
    tokenizer = Tokenizer(tokenizer_path) if tokenizer_path else None
    text_inputs = TextInputs(config.model, config.input, tokenizer)
    if not streams:
        pixels, usable = _shared_image_cache(images.images, stored_size(config.model.image_size, config.input), cache_dir, rank)
        sampler = Sampler(images, pairs, run.batch_size, run.pair_share, run.caption_langs, run.seed, world, usable, run.captions_per_photo, run.pair_mix)

    torch.manual_seed(run.seed)
    model = DualEncoder(config.model, config.input, tokenizer.vocab_size if tokenizer else None).to(device)
    trained = nn.ModuleList([model, distiller.to(device)]) if distiller else model  # the teacher's projection learns too
    precision = autocast_dtype(run.precision, device)
    optimizer = Optimizer(trained, run.optimizer, run.lr, run.weight_decay, matmul_dtype=precision)
    schedule = WarmupCosine(run.warmup, run.steps)
    # The averaged weights (Polyak averaging, as an EMA) are what the run validates and saves; the trained ones go on.
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(run.ema), use_buffers=True) if run.ema else None
    state = _restore(resume_from, model, optimizer, schedule, distiller, ema) if resume_from else {}
    step = state.get("step", 0)

    validation = validation_for(config, text_inputs, cache_dir, rank)
    extra = _checkpoint_facts(config)
    log = MetricsLog(out / "metrics.jsonl", enabled=rank == 0)
    if validation and step == 0:
        val_started = time.monotonic()
        log.write({"step": 0, **_validate(validation, model, ema, precision)})
        schedule.val_seconds = time.monotonic() - val_started

    deadline = started + fitting + 60 * run.time_budget if run.time_budget else math.inf
    stop = schedule.total or step + 10**9  # fixed after calibration when only a time budget is given
    if streams:
        dataset, progress, n_images = stream_dataset(config, streams, images, pairs, text_inputs, step, stop, rank, world, state.get("streams"))
    else:
        dataset, progress, n_images = StepBatches(sampler, images, pairs, pixels, text_inputs, step, stop, rank, world, targets), None, sampler.n_images
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        num_workers=run.workers,
        worker_init_fn=_worker_init,
        prefetch_factor=4 if run.workers else None,
        persistent_workers=False,
    )
    bar = tqdm(total=schedule.total, initial=step, desc=f"training {model.kind} {config.model.name}", unit="step", disable=rank != 0, dynamic_ncols=True)
    pairs_per_s = 0.0
    # Only a time budget: the step count is estimated from the measured speed, and re-estimated as it changes.
    # A resumed run keeps the step count it saved, so it continues on the same learning-rate curve.
    estimate = run.time_budget and not run.steps and schedule.total is None
    clock = StepClock(deadline, step, run.val_every if validation else 0) if estimate else None
    for batch in loader:
        step_started = time.monotonic()
        optimizer.set_lr_scale(schedule(step))
        mask = photo_mask_at(step, schedule.total, config.input.photo_mask, run.unmasked_tail)
        loss = _train_step(model, optimizer, batch, n_images // world, config, device, precision, world, mask, distiller)
        if ema:
            ema.update_parameters(model)
        if progress:
            progress.update(batch)
        step += 1
        elapsed = time.monotonic() - step_started
        pairs_per_s = run.batch_size / elapsed if not pairs_per_s else 0.9 * pairs_per_s + 0.1 * run.batch_size / elapsed
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", pairs_s=f"{pairs_per_s:.0f}", T=f"{model.temperature.item():.1f}")
        if step % run.log_every == 0 or step == 1:
            log.write(
                {
                    "step": step,
                    "loss": loss,
                    "lr": optimizer.lr,
                    "temperature": model.temperature.item(),
                    "pairs_per_s": pairs_per_s,
                    **(distiller.last if distiller else {}),
                    "elapsed_s": time.monotonic() - started,
                    **(progress.counts() if progress else {}),
                }
            )
        if clock and clock.estimate(step, schedule, rank, world):
            bar.total = schedule.total
        paused = time.monotonic()
        if validation and step % run.val_every == 0 and step != schedule.total:
            log.write({"step": step, **_validate(validation, model, ema, precision)})
        streamed = progress.state() if progress and step % run.checkpoint_every == 0 else None  # all ranks: a gather
        if step % run.checkpoint_every == 0 and rank == 0:
            _save(out, model, extra, optimizer, schedule, step, tokenizer_path, streamed, distiller, ema)
        if run.keep_every and step % run.keep_every == 0 and rank == 0:
            keep_weights(out, model, step)  # the trained weights, for averages chosen after the run
        if clock:
            clock.paused += time.monotonic() - paused
        out_of_time = _agree(rank, world, int(time.monotonic() > deadline))
        if step == schedule.total or out_of_time:
            break
    bar.close()
    streamed = progress.state() if progress else None
    if rank == 0:
        _save(out, model, extra, optimizer, schedule, step, tokenizer_path, streamed, distiller, ema)
    measured = _validate(validation, model, ema, precision) if validation else {"val": {}}
    final = measured["val"]
    log.write({"step": step, **measured, "final": True, "elapsed_s": time.monotonic() - started})
    if rank == 0 and final:
        print(format_metrics(step, final))
    if world > 1:
        dist.barrier()  # tear gloo down together: a rank that leaves while rank 0 still saves can abort at exit
        dist.destroy_process_group()
    return final


def _validate(validation: Validation, model: DualEncoder, ema: AveragedModel | None, precision) -> dict:
    """{"val": metrics of the weights the checkpoint holds} and, with an average, {"val_raw": the trained weights'}."""
    if ema is None:
        return {"val": validation.run(model, precision)}
    return {"val": validation.run(ema.module, precision), "val_raw": validation.run(model, precision)}


def photo_mask_at(step: int, total: int | None, photo_mask: float, unmasked_tail: float) -> float:
    """The share of photo patches left out at `step`: `photo_mask`, then none over the last `unmasked_tail` of
    the steps. FLIP (Li et al., CVPR 2023) trains on half the patches for speed, then briefly on all of them so
    that training ends on the photos that inference sees. Masked throughout while the step count is unknown."""
    if total is None or step < total - round(unmasked_tail * total):
        return photo_mask
    return 0.0


def _train_step(
    model: DualEncoder,
    optimizer: Optimizer,
    batch: dict,
    n_images: int,
    config: Config,
    device,
    precision,
    world: int,
    photo_mask: float,
    distiller: Distiller | None = None,
) -> float:
    """One optimisation step on this rank's rows; returns the global-batch loss (the teacher's parts: `distiller.last`)."""
    run, inputs = config.train, config.input
    images, texts = batch["images"].to(device, non_blocking=True), batch["texts"].to(device, non_blocking=True)
    n_captions = n_images * run.captions_per_photo
    n_pairs = (len(texts) - n_captions) // 2
    rng = step_generator(run.seed, int(batch["step"]), device)
    if inputs.photo_flip:
        images = mirror_half(images, rng)
    images = random_crops(images, config.model.image_size, inputs.photo_crop, rng)
    # The model's own randomness (stochastic depth) draws from the global generator, seeded per step as `rng` is.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(rng.initial_seed())
        with torch.autocast(device.type, dtype=precision, enabled=precision is not None):
            image_emb = model.encode_images(images, photo_mask, rng) if n_images else None
            text_emb = model.encode_texts(texts)
    captions, pair_left, pair_right = text_emb.split([n_captions, n_pairs, n_pairs])
    left = torch.cat([image_emb, pair_left]) if image_emb is not None else pair_left
    right = torch.cat([captions, pair_right])
    owner = torch.cat([torch.arange(n_images).repeat_interleave(run.captions_per_photo), n_images + torch.arange(n_pairs)]).to(device)
    loss = contrastive_loss(run.loss, left, right, model.temperature, model.logit_bias, owner)
    trained = model
    if distiller is not None:
        parts = distiller(image_emb, text_emb, batch["target_ids"].to(device), batch["photo_target_ids"].to(device))
        loss = loss + parts["total"]
        trained = nn.ModuleList([model, distiller])  # the projection's gradient is averaged and clipped with the model's
    optimizer.zero_grad()
    loss.backward()
    if world > 1:
        _average_gradients(trained, world)
    torch.nn.utils.clip_grad_norm_(trained.parameters(), run.clip)
    optimizer.step()
    return loss.item()


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """Randomness of one step (photo flips, crops and masks) as a pure function of (seed, step), like its batch:
    a resumed run draws what the uninterrupted run drew, whatever else used the global RNG."""
    return torch.Generator(device=device).manual_seed(seed * 1_000_003 + step)


class WarmupCosine:
    """Linear warm-up then cosine decay to zero over `total` steps (a learning-rate multiplier).

    With only a time budget, `total` is None during the first steps (all inside the warm-up) and
    is then set from the measured speed; it is saved with the run so a resume keeps the curve.
    """

    def __init__(self, warmup: int, total: int | None) -> None:
        self.warmup, self.total, self.val_seconds = warmup, total, 0.0

    def __call__(self, step: int) -> float:
        warm = min(1.0, (step + 1) / max(1, self.warmup))
        if self.total is None or step < self.warmup:
            return warm
        progress = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def steps_that_fit(self, step: int, seconds_left: float, seconds_per_step: float, val_every: int) -> int:
        """The step count whose training and validations end within `seconds_left` (one final validation and checkpoint kept aside)."""
        per_step = seconds_per_step + (self.val_seconds / val_every if val_every else 0.0)
        usable = seconds_left - self.val_seconds - 5.0
        return max(step + 1, step + int(usable / per_step))


class StepClock:
    """Turns train.time_budget into the step count that ends the cosine schedule on time.

    A first estimate after CALIBRATION_STEPS timed steps, then a fresh one every RE_ESTIMATE_EVERY
    steps from the average speed so far: the first steps run slower (caches fill, workers start),
    so an early estimate alone would leave much of the budget unused. Time spent validating and
    checkpointing (`paused`) is counted separately through the schedule's val_seconds.
    """

    def __init__(self, deadline: float, first_step: int, val_every: int) -> None:
        self.deadline, self.first_step, self.val_every = deadline, first_step, val_every
        self.started: tuple[float, int] | None = None
        self.paused = 0.0

    def estimate(self, step: int, schedule: "WarmupCosine", rank: int, world: int) -> bool:
        """Set schedule.total when an estimate is due; True if it was set."""
        now = time.monotonic()
        if step < self.first_step + WARM_UP_STEPS:
            return False
        if self.started is None:
            self.started, self.paused = (now, step), 0.0
            return False
        timed = step - self.started[1]
        if timed < CALIBRATION_STEPS or (timed - CALIBRATION_STEPS) % RE_ESTIMATE_EVERY:
            return False
        seconds_per_step = (now - self.started[0] - self.paused) / timed
        total = schedule.steps_that_fit(step, self.deadline - now, seconds_per_step, self.val_every)
        schedule.total = _agree(rank, world, total)
        return True


class MetricsLog:
    """Append-only JSONL log (rank 0 only), flushed per line so a kill -9 loses nothing written."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path, self.enabled = path, enabled
        if enabled:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict) -> None:
        if self.enabled:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")


def format_metrics(step: int, metrics: dict[str, float]) -> str:
    langs = sorted({key.split("/")[0] for key in metrics})
    rows = [f"validation at step {step}:", "lang   i2t@1  i2t@5 i2t@10  t2i@1  t2i@5 t2i@10 mean@10"]
    for lang in langs:
        values = [metrics[f"{lang}/{k}"] * 100 for k in ("i2t@1", "i2t@5", "i2t@10", "t2i@1", "t2i@5", "t2i@10", "mean@10")]
        rows.append(f"{lang:<6}" + "".join(f"{v:7.1f}" for v in values))
    return "\n".join(rows)


def _average_gradients(model: nn.Module, world: int) -> None:
    """Each rank holds world x its share of the global gradient (see loss.py): sum and divide."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world
    for grad, chunk in zip(grads, flat.split([g.numel() for g in grads])):
        grad.copy_(chunk.view_as(grad))


def _agree(rank: int, world: int, value: int) -> int:
    """Rank 0's value, on every rank (the step count and the stop decision must match)."""
    if world == 1:
        return value
    tensor = torch.tensor([value if rank == 0 else 0], dtype=torch.int64)
    dist.broadcast(tensor, src=0)
    return int(tensor.item())


def _init_distributed(device: str) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # workers render and copy; the main process owns the cores for the model
    # and has them first: workers fill the gaps of its step (prefetching 4 batches each) instead of
    # taking turns with its threads, which made decoding streamed photos cost ~5 % of the step
    os.nice(WORKER_NICENESS)


def _shared_image_cache(paths: list[Path], size: int, cache_dir: str | None, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank 0 decodes the photos once; the other ranks wait for its cache file."""
    if rank == 0:
        result = cached_images(paths, size, cache_dir)
    if dist.is_initialized():
        dist.barrier()
    return result if rank == 0 else cached_images(paths, size, cache_dir)


def validation_for(config: Config, text_inputs: TextInputs, cache_dir: Path | None, rank: int = 0) -> Validation | None:
    """The run's held-out retrieval check (`train.val`), or None; also what `engine average` reports."""
    run = config.train
    if run.val is None:
        return None
    pool, _ = merge_pools([load_source(run.val)])
    if not pool.images:
        raise EngineError(f"validation source {run.val.spec!r} has no photos with captions")
    pixels, usable = _shared_image_cache(pool.images, config.model.image_size, cache_dir, rank)
    return Validation(pool, pixels, usable, text_inputs, list(run.val_langs))


def _distiller(config: Config, images: ImageCaptions, pairs, cache_dir: Path | None, rank: int):
    """The teacher's targets and projection (None without a teacher); rank 0 embeds what the cache lacks, the others wait."""
    run = config.train
    if not run.teacher.active:
        return None, None
    teacher_cache = Path(cache_dir) / "teacher" if cache_dir else None
    torch.manual_seed(run.seed + 1)  # the projection's initial draw (the model's is seeded afresh after)
    if rank == 0:
        made = Distiller.prepare(run.teacher, images, pairs, run.caption_langs, config.model.embed_dim, teacher_cache)
    if dist.is_initialized():
        dist.barrier()
    if rank != 0:
        made = Distiller.prepare(run.teacher, images, pairs, run.caption_langs, config.model.embed_dim, teacher_cache)
    return made


def _tokenizer_path(config: Config, out: Path, resume_from: Path | None, images: ImageCaptions, pairs, rank: int) -> Path | None:
    """The baselines' vocabulary: the resumed run's, `input.tokenizer`, or one fitted now per `train.vocab`."""
    if config.model.kind == "clippo":
        return None
    if resume_from and (resume_from / TOKENIZER).exists():
        return resume_from / TOKENIZER
    if config.input.tokenizer:
        if not Path(config.input.tokenizer).is_file():
            raise EngineError(f"input.tokenizer {config.input.tokenizer}: no such file")
        return Path(config.input.tokenizer)
    path = out / TOKENIZER
    if rank == 0:
        vocab = config.train.vocab
        if vocab.data:
            images, pairs = merge_pools([load_source(source) for source in vocab.data])
        texts = texts_of(images, pairs, set(vocab.langs))
        if not texts:
            raise EngineError(
                f"train.vocab: no texts in languages {', '.join(vocab.langs)} to fit a vocabulary on (streamed shards are not read for it: "
                "give input.tokenizer or train.vocab.data)"
            )
        print(f"fitting a {vocab.size}-piece vocabulary on {len(texts):,} texts -> {path}")
        train_tokenizer(texts, path, vocab.size)
    if dist.is_initialized():
        dist.barrier()
    return path


def _checkpoint_facts(config: Config) -> dict:
    """What the checkpoint records besides the model: the resolved train config and the fonts' fingerprint."""
    fingerprint = None
    if config.model.kind == "clippo":
        from engine.render import font_fingerprint

        fingerprint = font_fingerprint()
    return {"train": to_dict(config.train), "font_fingerprint": fingerprint}


def _resume_source(config: Config, out: Path, resume: bool) -> Path | None:
    """The checkpoint to continue from, after checking field by field that it belongs to the same run."""
    if not resume:
        if (out / "checkpoint").exists():
            raise EngineError(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
        return None
    try:
        directory = find_checkpoint(out)
    except EngineError:
        raise EngineError(f"--resume: no checkpoint in {out} to continue from") from None
    saved = read_config(directory)
    if "train" not in saved:
        raise EngineError(f"--resume: {directory} was written before typed configs (or outside engine train) and holds no train config")
    mismatched = differences(from_json(saved, str(directory)), config)
    if mismatched:
        raise EngineError(f"--resume: the run in {out} used different settings: " + "; ".join(mismatched))
    return directory


def _restore(directory: Path, model: DualEncoder, optimizer: Optimizer, schedule: WarmupCosine, distiller: Distiller | None, ema: AveragedModel | None) -> dict:
    saved_model, _ = load_model(directory)
    state = load_train_state(directory)
    if state is None:
        raise EngineError(f"{directory} has weights but no train_state.pt: it cannot be resumed")
    if ema is not None:  # the checkpoint holds the averaged weights, train_state the trained ones
        ema.module.load_state_dict(saved_model.state_dict())
        ema.n_averaged.fill_(state["ema_updates"])
    model.load_state_dict(state["trained_weights"] if ema is not None else saved_model.state_dict())
    if distiller is not None:
        distiller.load_state_dict(state["teacher_head"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.total, schedule.val_seconds = state["total_steps"], state["val_seconds"]
    torch.set_rng_state(state["torch_rng"])
    np.random.set_state(state["numpy_rng"])
    return state


def _save(
    out: Path,
    model,
    extra: dict,
    optimizer: Optimizer,
    schedule: WarmupCosine,
    step: int,
    tokenizer: Path | None,
    streams: dict | None,
    distiller: Distiller | None,
    ema: AveragedModel | None,
) -> None:
    state = {
        "step": step,
        "optimizer": optimizer.state_dict(),
        "total_steps": schedule.total,
        "val_seconds": schedule.val_seconds,
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),
        "streams": streams,  # streamed runs: every reader's shard position (engine.train.streaming)
        **({"teacher_head": distiller.state_dict()} if distiller is not None else {}),
        **({"trained_weights": model.state_dict(), "ema_updates": int(ema.n_averaged)} if ema is not None else {}),
    }
    save_checkpoint(out / "checkpoint", ema.module if ema is not None else model, {**extra, "step": step}, state, tokenizer)
