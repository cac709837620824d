"""`engine train` and `engine tokenizer train`: the command-line faces of the trainer."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import EngineError
from engine.model import KINDS, PRESETS
from engine.train.data import ImageCaptions, SOURCES, load_source
from engine.train.loss import LOSSES
from engine.train.optim import OPTIMIZERS

TRAIN_DESCRIPTION = (
    "Train a contrastive photo/text model: CLIPPO (one ViT reads photos and text rendered as pixels) or a "
    "tokenizer baseline, on photo/caption sources plus text/text translation pairs. Writes metrics.jsonl and "
    "checkpoint/ (load it with engine.load) under --out."
)
EXAMPLE = """examples:
  engine train --preset cpu-small --data flickr8k --data multi30k --data tatoeba \\
      --val flickr8k:split=val --time-budget 12 --out runs/clippo-small
  engine train --resume --out runs/clippo-small ...same flags...       # continue after a crash
  torchrun --nproc_per_node 2 -m engine.train --preset cpu-tiny ...    # several processes (gloo on CPU)

data specs (repeat --data): KIND or KIND:key=value,key=value (lists inside a value use '+')
  flickr8k[:split=train,langs=en+de,kinds=human]   Flickr8k caption table (11 languages)
  xm3600:captions=FILE.jsonl,images=DIR[,langs=..] XM3600-schema captions
  table:path=FILE,images=DIR[,image_col=,caption_col=,lang_col=,lang=]  CSV/TSV/JSONL/Parquet
  pairs:left=FILE,right=FILE,lang=de  or  pairs:path=TABLE[,left_col=,right_col=]  text/text pairs
  multi30k[:split=train,langs=de+zh,exclude=val]   Multi30k translations (drops Flickr8k val photos)
  tatoeba[:langs=deu+jpn]                          Tatoeba xxx-English pairs (112 languages)
"""


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group("model")
    model.add_argument("--preset", default="cpu-small", choices=sorted(PRESETS), help="model size (default: cpu-small)")
    model.add_argument("--kind", default="clippo", choices=KINDS, help="clippo: one ViT for photos and rendered text; "
                       "1t-clip / 2t-clip: tokenizer baselines (shared / separate text transformer)")
    model.add_argument("--tokenizer", help="SentencePiece .model for the baselines (engine tokenizer train)")
    model.add_argument("--pool", choices=["map", "gap"], help="pooling head (default: the preset's, MAP)")
    model.add_argument("--text-grid", action=argparse.BooleanOptionalAction,
                       help="lay rendered text out on the patch grid: every word starts on a patch boundary, one "
                       "line per patch row (default: the preset's; see docs/text-layout.md)")
    model.add_argument("--drop-blank", action=argparse.BooleanOptionalAction, default=True,
                       help="drop rendered-text patches without ink from the sequence (default: on; with every "
                       "blank patch kept, captions look alike at initialisation and softmax training stalls at "
                       "loss = ln(batch), see docs/training-notes.md)")
    model.add_argument("--drop-flat", action=argparse.BooleanOptionalAction, default=False,
                       help="drop picture patches of one flat colour from the sequence (default: off; drawings and "
                       "the built-in scenes are mostly flat background, photos almost never: see docs/training-notes.md)")
    data = parser.add_argument_group("data")
    data.add_argument("--data", action="append", required=True, metavar="SPEC", help="a training source (repeatable; see below)")
    data.add_argument("--pair-share", type=float, default=0.25, help="share of each batch drawn from text pairs (paper: 0.25-0.5)")
    data.add_argument("--captions-per-photo", type=int, default=1, metavar="K",
                      help="draw K different captions of each photo into a batch, all positives of it in the loss: "
                           "K times fewer photos per batch, more captions read per second (default: 1)")
    data.add_argument("--photo-mask", type=float, default=0.0, metavar="RATIO",
                      help="leave this share of each training photo's patches out at random (FLIP): cheaper steps, "
                           "so more of them in a time budget; validation and encoding see every patch (default: 0)")
    data.add_argument("--photo-flip", action="store_true",
                      help="mirror a random half of the training photos left-right at each step (default: off)")
    data.add_argument("--caption-langs", metavar="LANG=W,...", help="caption languages and weights, e.g. en=2,de=1,zh=1 "
                      "(unlisted languages are not drawn; default: all languages, equal weight)")
    data.add_argument("--val", metavar="SPEC", help="held-out photo/caption source for R@1/5/10, e.g. flickr8k:split=val")
    data.add_argument("--val-langs", default="en", help="comma-separated languages to validate (default: en)")
    data.add_argument("--val-every", type=int, default=200, help="validate every N steps (default: 200)")
    data.add_argument("--workers", type=int, default=2, help="DataLoader worker processes that render text (default: 2)")
    data.add_argument("--cache-dir", help="where decoded photos are cached (default: ~/.cache/engine/images)")
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=128, help="global batch (all processes together; default: 128)")
    opt.add_argument("--steps", type=int, help="total steps (sets the cosine schedule)")
    opt.add_argument("--time-budget", type=float, metavar="MINUTES", help="stop after this wall time; without --steps the "
                     "step count is estimated from the measured speed")
    opt.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default: 1e-3)")
    opt.add_argument("--warmup", type=int, default=50, help="linear warm-up steps (default: 50)")
    opt.add_argument("--weight-decay", type=float, default=0.1)
    opt.add_argument("--optimizer", default="adamw", choices=OPTIMIZERS, help="adamw (default), or muon: Muon for the "
                     "weights of every linear layer and AdamW for the rest, at the same --lr (engine/train/optim.py)")
    opt.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping (default: 1.0)")
    opt.add_argument("--loss", default="sigmoid", choices=LOSSES, help="sigmoid (SigLIP, default) or softmax (CLIP). With "
                     "softmax, small-batch runs collapse to one point for every embedding (docs/training-notes.md)")
    opt.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"], help="autocast dtype; auto: bf16 on CUDA "
                     "and on CPUs with native bf16 (AVX512-BF16/AMX), fp32 elsewhere (the loss is always fp32)")
    opt.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    opt.add_argument("--seed", type=int, default=0)
    run = parser.add_argument_group("run")
    run.add_argument("--out", required=True, help="run directory: metrics.jsonl and checkpoint/")
    run.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    run.add_argument("--checkpoint-every", type=int, default=100, help="save every N steps (default: 100)")
    run.add_argument("--log-every", type=int, default=10, help="write a metrics line every N steps (default: 10)")


def check_train_arguments(args: argparse.Namespace) -> None:
    if not args.steps and not args.time_budget:
        raise EngineError("give --steps N, --time-budget MINUTES, or both")
    for name in ("steps", "batch_size", "captions_per_photo", "val_every", "checkpoint_every", "log_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise EngineError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0.0 <= args.photo_mask < 1.0:
        raise EngineError("--photo-mask must be in [0, 1)")
    if not 0.0 <= args.pair_share < 1.0:
        raise EngineError("--pair-share must be in [0, 1)")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise EngineError("--device cuda: no CUDA GPU is visible to torch")


def run_train(args: argparse.Namespace) -> int:
    from engine.train.loop import train

    check_train_arguments(args)
    train(args)
    return 0


def run_tokenizer_train(args: argparse.Namespace) -> int:
    """Collect caption and pair texts of the chosen languages and train a SentencePiece model on them."""
    from engine.model.tokenizer import train_tokenizer

    wanted = set(args.langs.split(",")) if args.langs else None
    texts: list[str] = []
    for spec in args.data:
        pool = load_source(spec)
        if isinstance(pool, ImageCaptions):
            texts += [t for t, lang in zip(pool.caption_text, pool.caption_lang) if not wanted or lang in wanted]
        else:
            texts += [t for t, lang in zip(pool.left, pool.lang) if not wanted or lang in wanted]
            texts += [t for t, lang in zip(pool.right, pool.right_lang) if not wanted or lang in wanted]
    if not texts:
        raise EngineError(f"no texts in languages {args.langs} in the given --data")
    path = train_tokenizer(texts, Path(args.out), args.vocab_size)
    print(f"trained a {args.vocab_size}-piece tokenizer on {len(texts):,} texts -> {path}")
    return 0


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train CLIPPO or a tokenizer baseline", description=TRAIN_DESCRIPTION,
                                  epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(train)
    train.set_defaults(func=run_train)

    tokenizer = subparsers.add_parser("tokenizer", help="vocabularies for the tokenizer baselines")
    actions = tokenizer.add_subparsers(dest="action", metavar="ACTION", required=True)
    fit = actions.add_parser("train", help="train a SentencePiece vocabulary on the captions/pairs of --data",
                             epilog="example: engine tokenizer train --data flickr8k --langs en --vocab-size 8000 --out runs/tok-en.model\n"
                             f"data sources: {', '.join(sorted(SOURCES))} (see `engine train --help`)")
    fit.add_argument("--data", action="append", required=True, metavar="SPEC", help="text source(s), as for engine train")
    fit.add_argument("--langs", help="comma-separated languages to keep (default: all), e.g. en")
    fit.add_argument("--vocab-size", type=int, default=8000)
    fit.add_argument("--out", required=True, help="the .model file to write")
    fit.set_defaults(func=run_tokenizer_train)
