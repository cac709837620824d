"""`engine train`, `engine average`, `engine configs` and `engine tokenizer train`: the command-line faces of the trainer.

A run is a named recipe or a config file (`--config`), then `--set key=value`, then the flags
below; every flag defaults to "what the config says". Nothing heavy is imported here, so
`engine --help` stays quick.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from engine.errors import EngineError
from engine.model.config import ARCHITECTURES, KINDS, POOLS, PRECISIONS, architecture, inputs_for

DEFAULT_RECIPE = "clippo-flickr8k-cpu-small"  # the best measured recipe: `engine train --out DIR` runs it
TRAIN_DESCRIPTION = (
    "Train a contrastive photo/text model: CLIPPO (one ViT reads photos and text rendered as pixels) or a "
    "tokenizer baseline, on photo/caption sources plus text/text translation pairs. A run is a recipe or a "
    f"config file (--config, default {DEFAULT_RECIPE}), then --set KEY=VALUE, then the flags below (each "
    "defaults to the config's value). Writes metrics.jsonl and checkpoint/ (load it with engine.load; its "
    "config.json is itself a valid --config) under --out."
)
EXAMPLE = """examples:
  engine configs                                                     # the named recipes
  engine train --config clippo-flickr8k-cpu-small --out runs/clippo-small
  engine train --config clippo-scenes-cpu-tiny --set train.steps=871 --set train.time_budget=null --out runs/demo
  engine train --config clippo-scenes-cpu-tiny --print-config
  engine train --config runs/demo/checkpoint/config.json --seed 1 --out runs/demo-seed1
  engine train --config clippo-scenes-cpu-tiny --resume --out runs/demo
  engine train --config clippo-teacher-cpu-small-2h --time-budget 30 --out runs/t2h   # then again with --resume (docs/teacher.md)
  engine train --preset cpu-tiny --data scenes:count=2000,seed=0 --data scene-pairs:count=2000,seed=0 --steps 50 --out runs/quick
  torchrun --nproc_per_node 2 -m engine.train --config clippo-scenes-cpu-tiny --out runs/demo-2p

data specs (repeat --data): KIND or KIND:key=value,key=value (lists inside a value use '+')
  flickr8k[:split=train,langs=en+de,kinds=human,per_image=1]  Flickr8k caption table (11 languages)
  xm3600:captions=FILE.jsonl,images=DIR[,langs=..] XM3600-schema captions
  table:path=FILE,images=DIR[,image_col=,caption_col=,lang_col=,lang=]  CSV/TSV/JSON/JSONL/Parquet
  pairs:left=FILE,right=FILE,lang=de  or  pairs:path=TABLE[,left_col=,right_col=]  text/text pairs
  multi30k[:split=train,langs=de+zh,exclude=val]   Multi30k translations (drops Flickr8k val photos)
  tatoeba[:langs=deu+jpn,per_lang=200]             Tatoeba xxx-English pairs after the first 500 per language (held out for evaluation)
  scenes[:count=20000,seed=0,size=64,langs=en+ja]  the built-in scene collection (pictures + captions)
  scene-pairs[:count=20000,seed=0,langs=..,pivot=en]  its translation pairs
  shards:urls=DIR|FILE.tar|PATTERN[,lang=und]     WebDataset photo/caption shards, streamed (docs/streaming.md)
  pair-shards:path=FILE.tsv|.parquet|PATTERN      text pairs streamed from tables (engine shards write makes both)
"""
# flag destination -> config field it overrides
FLAG_FIELDS = {
    "kind": "model.kind",
    "pool": "model.pool",
    "tokenizer": "input.tokenizer",
    "text_grid": "input.text_grid",
    "drop_blank": "input.drop_blank",
    "drop_flat": "input.drop_flat",
    "photo_mask": "input.photo_mask",
    "photo_flip": "input.photo_flip",
    "photo_crop": "input.photo_crop",
    "unmasked_tail": "train.unmasked_tail",
    "drop_path": "model.drop_path",
    "ema": "train.ema",
    "pair_share": "train.pair_share",
    "captions_per_photo": "train.captions_per_photo",
    "caption_langs": "train.caption_langs",
    "pair_mix": "train.pair_mix",
    "val_langs": "train.val_langs",
    "val_every": "train.val_every",
    "workers": "train.workers",
    "batch_size": "train.batch_size",
    "steps": "train.steps",
    "time_budget": "train.time_budget",
    "lr": "train.lr",
    "warmup": "train.warmup",
    "weight_decay": "train.weight_decay",
    "optimizer": "train.optimizer",
    "clip": "train.clip",
    "loss": "train.loss",
    "precision": "train.precision",
    "device": "train.device",
    "seed": "train.seed",
    "checkpoint_every": "train.checkpoint_every",
    "keep_every": "train.keep_every",
    "log_every": "train.log_every",
}


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from engine.train.config import LOSSES, OPTIMIZERS

    on_off = argparse.BooleanOptionalAction
    config = parser.add_argument_group("configuration")
    config.add_argument(
        "--config",
        default=DEFAULT_RECIPE,
        metavar="NAME|PATH",
        help=f"a recipe (see `engine configs`), a JSON config, or a checkpoint/run directory whose config to reuse (default: {DEFAULT_RECIPE})",
    )
    config.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="assignments",
        help="override one config field, e.g. train.steps=100, model.pool=map, input.photo_flip=false, "
        "train.time_budget=null (repeatable; a field name found in one section needs no prefix)",
    )
    config.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    model = parser.add_argument_group("model and inputs")
    model.add_argument("--preset", choices=sorted(ARCHITECTURES), help="model size: the architecture and its text size and context length")
    model.add_argument(
        "--kind",
        choices=KINDS,
        help="clippo: one ViT for photos and rendered text; 1t-clip / 2t-clip: tokenizer baselines (shared / separate text transformer)",
    )
    model.add_argument("--tokenizer", help="SentencePiece .model for the baselines (default: fit one per train.vocab)")
    model.add_argument("--pool", choices=POOLS, help="pooling head: map (attention) or gap (mean of tokens)")
    model.add_argument(
        "--text-grid",
        action=on_off,
        help="lay rendered text out on the patch grid: every word starts on a patch boundary, one line per patch row (docs/text-layout.md)",
    )
    model.add_argument(
        "--drop-blank",
        action=on_off,
        help="drop rendered-text patches without ink from the sequence "
        "(with every blank patch kept, softmax training stalls at loss = ln(batch): docs/training-notes.md)",
    )
    model.add_argument(
        "--drop-flat",
        action=on_off,
        help="drop picture patches of one flat colour from the sequence (drawings and the built-in scenes are mostly flat background, photos almost never)",
    )
    model.add_argument(
        "--photo-mask",
        type=float,
        metavar="RATIO",
        help="leave this share of each training photo's patches out at random (FLIP): cheaper steps; validation and encoding see every patch",
    )
    model.add_argument("--photo-flip", action=on_off, help="mirror a random half of the training photos left-right at each step")
    model.add_argument(
        "--photo-crop",
        type=float,
        metavar="AREA",
        help="cut each training photo to a random crop covering at least this share of its area (1: no crops, the default; "
        "docs/teacher.md measures 0.5); the photos are then cached at twice the input size",
    )
    model.add_argument(
        "--unmasked-tail",
        type=float,
        metavar="SHARE",
        help="train the last SHARE of the steps on every patch of each photo (FLIP's unmasked tuning: --photo-mask holds before; "
        "those steps cost more); 0: masked to the end, the default",
    )
    model.add_argument(
        "--drop-path",
        type=float,
        metavar="RATE",
        help="stochastic depth: while training, the last block's residual branches skip a row with this chance, earlier blocks "
        "proportionally less (0: none, the default)",
    )
    model.add_argument(
        "--ema",
        type=float,
        metavar="DECAY",
        help="keep an exponential moving average of the weights (e.g. 0.999: about the last 1,000 steps); validation and the "
        "checkpoint use it, metrics.jsonl's val_raw reports the trained weights (0: none, the default)",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        action="append",
        metavar="SPEC",
        help="a training source (repeatable; see below); replaces "
        "the config's sources, its validation source, caption languages and pair mix (give --val, --caption-langs, --pair-mix again)",
    )
    data.add_argument("--val", metavar="SPEC", help="held-out photo/caption source for R@1/5/10, e.g. flickr8k:split=val; 'none' for no validation")
    data.add_argument("--pair-share", type=float, help="share of each batch drawn from text pairs (paper: 0.25-0.5)")
    data.add_argument(
        "--captions-per-photo",
        type=int,
        metavar="K",
        help="draw K different captions of each photo into a batch, all positives of it in the loss: K times fewer photos per batch",
    )
    data.add_argument("--caption-langs", metavar="LANG=W,...", help="caption languages and weights, e.g. en=2,de=1,zh=1 (unlisted languages are not drawn)")
    data.add_argument(
        "--pair-mix",
        metavar="KIND=W,...",
        help="share of the pair rows per source kind, e.g. tatoeba=1,multi30k=1 (default: in proportion to size; unlisted sources are not drawn)",
    )
    data.add_argument("--val-langs", help="comma-separated languages to validate, e.g. en,de")
    data.add_argument("--val-every", type=int, metavar="N", help="validate every N steps")
    data.add_argument("--workers", type=int, help="DataLoader worker processes that render text")
    data.add_argument("--cache-dir", type=Path, help="where decoded photos are cached (default: ~/.cache/engine/images)")
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, help="global batch (all processes together)")
    opt.add_argument("--steps", type=int, help="total steps (sets the cosine schedule)")
    opt.add_argument(
        "--time-budget", type=float, metavar="MINUTES", help="stop after this wall time; without --steps the step count is estimated from the measured speed"
    )
    opt.add_argument("--lr", type=float, help="peak learning rate")
    opt.add_argument("--warmup", type=int, metavar="STEPS", help="linear warm-up steps")
    opt.add_argument("--weight-decay", type=float, help="decoupled weight decay of AdamW (and of Muon's AdamW part)")
    opt.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        help="muon: Muon for the weights of every linear layer and AdamW for the rest, at the same --lr (engine/train/optim.py); or adamw",
    )
    opt.add_argument("--clip", type=float, help="gradient-norm clipping")
    opt.add_argument("--loss", choices=LOSSES, help="sigmoid (SigLIP) or softmax (CLIP; small-batch runs collapse with it, docs/training-notes.md)")
    opt.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="autocast dtype; auto: bf16 on CUDA and on CPUs with native bf16 (AVX512-BF16/AMX), fp32 elsewhere (the loss is always fp32)",
    )
    opt.add_argument("--device", choices=["cpu", "cuda"], help="where the model trains (cuda: one GPU per process)")
    opt.add_argument("--seed", type=int, help="seed of the initial weights, the batches and the photo masks and flips")
    run = parser.add_argument_group("run")
    run.add_argument("--out", type=Path, help="run directory: metrics.jsonl and checkpoint/ (required to train)")
    run.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint (refused, naming the field, if the config differs)"
    )
    run.add_argument("--checkpoint-every", type=int, metavar="N", help="save every N steps")
    run.add_argument(
        "--keep-every",
        type=int,
        metavar="N",
        help="keep the trained weights every N steps too (snapshots/), to average a window after the run (engine average)",
    )
    run.add_argument("--log-every", type=int, metavar="N", help="write a metrics line every N steps")


def resolve(args: argparse.Namespace):
    """The config a command line asks for: --config, then the flags, then --set."""
    from engine.train import config as configs
    from engine.train.data import DataSource

    config = configs.load(args.config)
    if args.preset:
        sized = inputs_for(args.preset)
        config = replace(
            config,
            model=architecture(args.preset, kind=config.model.kind, pool=config.model.pool),
            input=replace(config.input, text_px=sized.text_px, context_length=sized.context_length),
        )
    if args.data:
        sources = tuple(DataSource.parse(spec) for spec in args.data)  # the recipe's validation and languages went with its data
        config = replace(config, train=replace(config.train, data=sources, val=None, caption_langs=None, pair_mix=None))
    if args.val:
        val = None if args.val == "none" else DataSource.parse(args.val)
        config = replace(config, train=replace(config.train, val=val))
    for flag, key in FLAG_FIELDS.items():
        value = getattr(args, flag)
        if value is not None:
            config = configs.override(config, key, value)
    return configs.apply_sets(config, args.assignments)


def run_train(args: argparse.Namespace) -> int:
    config = resolve(args)
    if args.print_config:
        print(config.to_json(), end="")
        return 0
    if args.out is None:
        raise EngineError("give --out DIR: the run directory (or --print-config to see the config)")
    config.check_runnable()
    if config.train.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise EngineError("train.device cuda: no CUDA GPU is visible to torch")
    from engine.train.loop import train

    train(config, args.out, args.resume, args.cache_dir)
    return 0


def run_average(args: argparse.Namespace) -> int:
    """Average a window of a run's kept weights into a checkpoint, then validate it as the run validated."""
    import torch

    from engine.model.checkpoint import TOKENIZER, find_checkpoint, read_config
    from engine.model.inputs import TextInputs
    from engine.model.precision import autocast_dtype
    from engine.model.tokenizer import Tokenizer
    from engine.train.average import average_run
    from engine.train.config import from_json
    from engine.train.loop import format_metrics, validation_for

    if args.first < 0 or (args.last is not None and args.last < args.first):
        raise EngineError(f"--from {args.first} --to {args.last}: give 0 <= FROM <= TO")
    model, window = average_run(args.run, args.first, args.last, args.out)
    print(f"averaged the weights kept at {len(window)} steps ({window[0]}..{window[-1]}) -> {args.out}")
    checkpoint = find_checkpoint(args.out)
    config = from_json(read_config(checkpoint), str(checkpoint))
    if args.no_val or config.train.val is None:
        return 0
    tokenizer = Tokenizer(checkpoint / TOKENIZER) if (checkpoint / TOKENIZER).is_file() else None
    validation = validation_for(config, TextInputs(config.model, config.input, tokenizer), args.cache_dir)
    print(format_metrics(window[-1], validation.run(model, autocast_dtype(config.train.precision, torch.device("cpu")))))
    return 0


def run_configs(args: argparse.Namespace) -> int:
    from engine.configs import RECIPES

    width = max(map(len, RECIPES))
    for name, recipe in RECIPES.items():
        print(f"{name:<{width}}  {recipe.summary}")
    return 0


def run_tokenizer_train(args: argparse.Namespace) -> int:
    """Collect caption and pair texts of the chosen languages and train a SentencePiece model on them."""
    from engine.model.tokenizer import train_tokenizer
    from engine.train.batches import merge_pools
    from engine.train.data import load_source, texts_of

    images, pairs = merge_pools([load_source(spec) for spec in args.data])
    texts = texts_of(images, pairs, set(args.langs.split(",")) if args.langs else set())
    if not texts:
        raise EngineError(f"no texts in languages {args.langs} in the given --data")
    path = train_tokenizer(texts, args.out, args.vocab_size)
    print(f"trained a {args.vocab_size}-piece tokenizer on {len(texts):,} texts -> {path}")
    return 0


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train",
        help="train CLIPPO or a tokenizer baseline from a recipe",
        description=TRAIN_DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(train)
    train.set_defaults(func=run_train)

    average = subparsers.add_parser(
        "average",
        help="average the weights a run kept (--keep-every) over a window of steps",
        description="Average, with equal weights, the trained weights a run kept every N steps (engine train --keep-every N) "
        "over steps FROM..TO, into a checkpoint beside the run, and validate it on the run's train.val. This is the tail "
        "average of SWA/LAWA, chosen after the run instead of an EMA decay chosen before it (docs/teacher.md).",
        epilog="examples:\n"
        "  engine train --config clippo-teacher-cpu-small-2h-crop-sd-ema --keep-every 100 --out runs/t2h\n"
        "  engine average runs/t2h --from 3000 --out runs/t2h-avg3000\n"
        "  engine index build idx --model runs/t2h-avg3000 --images photos/   # it reads like any checkpoint",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    average.add_argument("run", type=Path, help="the run directory (holding checkpoint/ and snapshots/)")
    average.add_argument("--from", dest="first", type=int, default=0, metavar="STEP", help="first kept step to average (default: the first kept)")
    average.add_argument("--to", dest="last", type=int, metavar="STEP", help="last kept step to average (default: the last kept)")
    average.add_argument("--out", type=Path, required=True, help="checkpoint directory to write (not the run's own)")
    average.add_argument("--no-val", action="store_true", help="skip the validation on the run's train.val")
    average.add_argument("--cache-dir", type=Path, help="where decoded photos are cached (default: ~/.cache/engine/images)")
    average.set_defaults(func=run_average)

    listing = subparsers.add_parser(
        "configs",
        help="list the named training recipes, one line each",
        description="The recipes `engine train --config NAME` runs (engine/configs/); `engine train --config NAME --print-config` shows one in full.",
    )
    listing.set_defaults(func=run_configs)

    tokenizer = subparsers.add_parser(
        "tokenizer",
        help="vocabularies for the tokenizer baselines",
        description="SentencePiece vocabularies for 1T-/2T-CLIP (engine train fits one itself when a baseline's config names none).",
    )
    actions = tokenizer.add_subparsers(dest="action", metavar="ACTION", required=True)
    fit = actions.add_parser(
        "train",
        help="train a SentencePiece vocabulary on the captions/pairs of --data",
        epilog="examples:\n"
        "  engine tokenizer train --data flickr8k:split=train --langs en --vocab-size 8000 --out runs/tok-en.model\n"
        "  engine tokenizer train --data scenes:count=10000,seed=0 --langs en --vocab-size 48 --out runs/tok-scenes.model\n"
        "data sources: as for engine train (see `engine train --help`)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("--data", action="append", required=True, metavar="SPEC", help="text source(s), as for engine train")
    fit.add_argument("--langs", help="comma-separated languages to keep (default: all), e.g. en")
    fit.add_argument("--vocab-size", type=int, default=8000, help="number of pieces, padding and unknown included (default: 8000)")
    fit.add_argument("--out", required=True, type=Path, help="the .model file to write")
    fit.set_defaults(func=run_tokenizer_train)
