"""The training loop, readable in one sitting: data -> model -> contrastive loss -> AdamW (or Muon).

`train(args)` runs in one process or under torchrun (one rank per process, gloo or NCCL). Every
rank builds the same model from the same seed and computes the loss over the global batch
(features gathered with gradients); gradients are then averaged across ranks, so all ranks stay
identical without DistributedDataParallel.
"""
from __future__ import annotations

import json
import math
import os
import time
from argparse import Namespace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from engine.errors import EngineError
from engine.model import DualEncoder, get_preset
from engine.model.inputs import TextInputs
from engine.model.tokenizer import Tokenizer
from engine.train.batches import Sampler, StepBatches, merge_pools
from engine.train.checkpoint import find_checkpoint, load_model, load_train_state, read_config, save_checkpoint
from engine.train.data import load_source
from engine.train.image_cache import cached_images
from engine.train.loss import contrastive_loss
from engine.train.optim import Optimizer
from engine.train.validate import Validation

# Settings a resumed run must share with the run it continues (the batches depend on them).
RESUME_KEYS = ("preset", "kind", "data", "batch_size", "pair_share", "captions_per_photo", "caption_langs", "seed", "drop_blank", "drop_flat", "pool", "text_grid",
               "loss", "optimizer")
WARM_UP_STEPS = 2        # steps not timed: the first ones also start the data workers
CALIBRATION_STEPS = 8    # steps timed before the first estimate of how many steps fit the time budget
RE_ESTIMATE_EVERY = 10   # steps between later estimates (the first steps are slower than the rest)


def train(args: Namespace) -> dict:
    """Run (or continue) a training run; returns the final validation metrics."""
    rank, world = _init_distributed(args.device)
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if args.device == "cuda" else "cpu")
    started = time.monotonic()
    out = Path(args.out)
    resume_from = _resume_source(args, out)

    overrides = {"pool": args.pool, "text_grid": args.text_grid}
    preset = get_preset(args.preset, **{k: v for k, v in overrides.items() if v is not None})
    tokenizer_path = _tokenizer_path(args, resume_from)
    tokenizer = Tokenizer(tokenizer_path) if tokenizer_path else None
    text_inputs = TextInputs(preset, tokenizer)

    images, pairs = merge_pools([load_source(spec) for spec in args.data])
    pixels, usable = _shared_image_cache(images.images, preset.image_size, args.cache_dir, rank)
    sampler = Sampler(images, pairs, args.batch_size, args.pair_share, _weights(args.caption_langs), args.seed, world, usable,
                      args.captions_per_photo)

    torch.manual_seed(args.seed)
    model = DualEncoder(preset, args.kind, tokenizer.vocab_size if tokenizer else None, args.drop_blank, args.drop_flat).to(device)
    optimizer = Optimizer(model, args.optimizer, args.lr, args.weight_decay)
    schedule = WarmupCosine(args.warmup, args.steps)
    step = 0
    if resume_from:
        step = _restore(resume_from, model, optimizer, schedule)

    validation = _validation(args, preset, text_inputs, rank)
    config = _checkpoint_config(args, preset, tokenizer)
    log = MetricsLog(out / "metrics.jsonl", enabled=rank == 0)
    precision = autocast_dtype(args.precision, device)
    if validation and step == 0:
        val_started = time.monotonic()
        log.write({"step": 0, "val": validation.run(model, precision)})
        schedule.val_seconds = time.monotonic() - val_started

    deadline = started + 60 * args.time_budget if args.time_budget else math.inf
    stop = schedule.total or step + 10**9  # fixed after calibration when only a time budget is given
    loader = torch.utils.data.DataLoader(
        StepBatches(sampler, images, pairs, pixels, text_inputs, step, stop, rank, world),
        batch_size=None, num_workers=args.workers, worker_init_fn=_worker_init, prefetch_factor=4 if args.workers else None,
        persistent_workers=False,
    )
    bar = tqdm(total=schedule.total, initial=step, desc=f"training {args.kind} {preset.name}", unit="step", disable=rank != 0, dynamic_ncols=True)
    pairs_per_s = 0.0
    # Only a time budget: the step count is estimated from the measured speed, and re-estimated as it changes.
    # A resumed run keeps the step count it saved, so it continues on the same learning-rate curve.
    estimate = args.time_budget and not args.steps and schedule.total is None
    clock = StepClock(deadline, step, args.val_every if validation else 0) if estimate else None
    for batch in loader:
        step_started = time.monotonic()
        optimizer.set_lr_scale(schedule(step))
        loss = _train_step(model, optimizer, batch, sampler.n_images // world, args, device, precision, world)
        step += 1
        elapsed = time.monotonic() - step_started
        pairs_per_s = args.batch_size / elapsed if not pairs_per_s else 0.9 * pairs_per_s + 0.1 * args.batch_size / elapsed
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", pairs_s=f"{pairs_per_s:.0f}", T=f"{model.temperature.item():.1f}")
        if step % args.log_every == 0 or step == 1:
            log.write({"step": step, "loss": loss, "lr": optimizer.lr, "temperature": model.temperature.item(),
                       "pairs_per_s": pairs_per_s, "elapsed_s": time.monotonic() - started})
        if clock and clock.estimate(step, schedule, rank, world):
            bar.total = schedule.total
        paused = time.monotonic()
        if validation and step % args.val_every == 0 and step != schedule.total:
            log.write({"step": step, "val": validation.run(model, precision)})
        if step % args.checkpoint_every == 0 and rank == 0:
            _save(out, model, config, optimizer, schedule, step, tokenizer_path)
        if clock:
            clock.paused += time.monotonic() - paused
        out_of_time = _agree(rank, world, int(time.monotonic() > deadline))
        if step == schedule.total or out_of_time:
            break
    bar.close()
    if rank == 0:
        _save(out, model, config, optimizer, schedule, step, tokenizer_path)
    final = validation.run(model, precision) if validation else {}
    log.write({"step": step, "val": final, "final": True, "elapsed_s": time.monotonic() - started})
    if rank == 0 and final:
        print(format_metrics(step, final))
    if world > 1:
        dist.barrier()  # tear gloo down together: a rank that left while rank 0 still saved aborted at exit in 3 runs of 40
        dist.destroy_process_group()
    return final


def _train_step(model: DualEncoder, optimizer: Optimizer, batch: dict, n_images: int, args: Namespace, device, precision, world: int) -> float:
    """One optimisation step on this rank's rows; returns the global-batch loss."""
    images, texts = batch["images"].to(device, non_blocking=True), batch["texts"].to(device, non_blocking=True)
    n_captions = n_images * args.captions_per_photo
    n_pairs = (len(texts) - n_captions) // 2
    rng = step_generator(args.seed, int(batch["step"]), device)
    if args.photo_flip:
        images = mirror_half(images, rng)
    with torch.autocast(device.type, dtype=precision, enabled=precision is not None):
        image_emb = model.encode_images(images, args.photo_mask, rng) if n_images else None
        text_emb = model.encode_texts(texts)
    captions, pair_left, pair_right = text_emb.split([n_captions, n_pairs, n_pairs])
    left = torch.cat([image_emb, pair_left]) if image_emb is not None else pair_left
    right = torch.cat([captions, pair_right])
    owner = torch.cat([torch.arange(n_images).repeat_interleave(args.captions_per_photo), n_images + torch.arange(n_pairs)]).to(device)
    loss = contrastive_loss(args.loss, left, right, model.temperature, model.logit_bias, owner)
    optimizer.zero_grad()
    loss.backward()
    if world > 1:
        _average_gradients(model, world)
    torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
    optimizer.step()
    return loss.item()


def mirror_half(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each (B, C, H, W) photo mirrored left-right with probability 1/2: more distinct views in a many-epoch run."""
    flip = torch.rand(len(images), generator=generator, device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """Randomness of one step (photo flips and masks) as a pure function of (seed, step), like its batch:
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
    """Turns --time-budget into the step count that ends the cosine schedule on time.

    A first estimate after CALIBRATION_STEPS timed steps, then a fresh one every RE_ESTIMATE_EVERY
    steps from the average speed so far: the first steps run slower (caches fill, workers start),
    and one early estimate left a third of an 11-minute budget unused. Time spent validating and
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


def autocast_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """bf16 where the hardware computes it natively (CUDA, CPUs with AVX512-BF16/AMX), else fp32.

    On a CPU without bf16 instructions (AVX2 only), oneDNN emulates bf16 matmuls about 10x slower
    than fp32 (measured here), so `auto` must not pick it there.
    """
    if choice == "auto":
        return torch.bfloat16 if device.type == "cuda" or cpu_has_native_bf16() else None
    return torch.bfloat16 if choice == "bf16" else None


def cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _average_gradients(model: DualEncoder, world: int) -> None:
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


def _weights(spec: str | None) -> dict[str, float] | None:
    """`en=1,de=0.5` -> {"en": 1.0, "de": 0.5}; None means every language weighs the same."""
    if not spec:
        return None
    weights = {}
    for item in spec.split(","):
        lang, _, value = item.partition("=")
        try:
            weights[lang.strip()] = float(value) if value else 1.0
        except ValueError:
            raise EngineError(f"--caption-langs: {item!r} is not LANG=WEIGHT") from None
    return weights


def _shared_image_cache(paths: list[Path], size: int, cache_dir: str | None, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank 0 decodes the photos once; the other ranks wait for its cache file."""
    if rank == 0:
        result = cached_images(paths, size, cache_dir)
    if dist.is_initialized():
        dist.barrier()
    return result if rank == 0 else cached_images(paths, size, cache_dir)


def _validation(args: Namespace, preset, text_inputs: TextInputs, rank: int) -> Validation | None:
    if not args.val:
        return None
    pool, _ = merge_pools([load_source(args.val)])
    if not pool.images:
        raise EngineError(f"--val {args.val!r} has no photos with captions")
    pixels, usable = _shared_image_cache(pool.images, preset.image_size, args.cache_dir, rank)
    return Validation(pool, pixels, usable, text_inputs, args.val_langs.split(","))


def _tokenizer_path(args: Namespace, resume_from: Path | None) -> Path | None:
    if args.kind == "clippo":
        return None
    if resume_from and (resume_from / "tokenizer.model").exists():
        return resume_from / "tokenizer.model"
    if not args.tokenizer:
        raise EngineError(f"--kind {args.kind} needs --tokenizer FILE.model (make one with `engine tokenizer train`)")
    if not Path(args.tokenizer).is_file():
        raise EngineError(f"--tokenizer {args.tokenizer}: no such file")
    return Path(args.tokenizer)


def _checkpoint_config(args: Namespace, preset, tokenizer: Tokenizer | None) -> dict:
    fingerprint = None
    if args.kind == "clippo":
        from engine.render import font_fingerprint

        fingerprint = font_fingerprint()
    return {
        "preset": preset.to_dict(), "kind": args.kind, "drop_blank": args.drop_blank, "drop_flat": args.drop_flat,
        "vocab_size": tokenizer.vocab_size if tokenizer else None, "font_fingerprint": fingerprint,
        "data": args.data, "val": args.val, "train_args": {k: v for k, v in vars(args).items() if k != "func"},
    }


def _resume_source(args: Namespace, out: Path) -> Path | None:
    """The checkpoint to continue from, after checking it belongs to the same run settings."""
    if not args.resume:
        if (out / "checkpoint").exists():
            raise EngineError(f"{out} already holds a run: pass --resume to continue it, or choose another --out")
        return None
    try:
        directory = find_checkpoint(out)
    except EngineError:
        raise EngineError(f"--resume: no checkpoint in {out} to continue from") from None
    saved = read_config(directory).get("train_args", {})
    mismatched = [key for key in RESUME_KEYS if key in saved and saved[key] != getattr(args, key)]
    if mismatched:
        raise EngineError(f"--resume: the run in {out} used different " + ", ".join(f"--{k.replace('_', '-')} ({saved[k]!r})" for k in mismatched))
    return directory


def _restore(directory: Path, model: DualEncoder, optimizer: Optimizer, schedule: WarmupCosine) -> int:
    saved_model, _ = load_model(directory)
    model.load_state_dict(saved_model.state_dict())
    state = load_train_state(directory)
    if state is None:
        raise EngineError(f"{directory} has weights but no train_state.pt: it cannot be resumed")
    optimizer.load_state_dict(state["optimizer"])
    schedule.total, schedule.val_seconds = state["total_steps"], state["val_seconds"]
    torch.set_rng_state(state["torch_rng"])
    np.random.set_state(state["numpy_rng"])
    return state["step"]


def _save(out: Path, model, config: dict, optimizer: Optimizer, schedule: WarmupCosine, step: int, tokenizer: Path | None) -> None:
    state = {"step": step, "optimizer": optimizer.state_dict(),
             "total_steps": schedule.total, "val_seconds": schedule.val_seconds,
             "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state()}
    save_checkpoint(out / "checkpoint", model, {**config, "step": step}, state, tokenizer)
