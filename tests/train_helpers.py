"""Shared by the training tests: tiny generated photos and pairs, and the flags of a tiny run."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (30, 60, 220), "yellow": (230, 210, 40)}
SHAPES = ("circle", "square", "bar")

# The recipe's other choices, set back to the plain baseline these tests were written for.
PLAIN = (
    "--optimizer",
    "adamw",
    "--lr",
    "1e-3",
    "--pool",
    "map",
    "--no-text-grid",
    "--photo-mask",
    "0",
    "--no-photo-flip",
    "--set",
    "caption_langs=null",
    "--set",
    "time_budget=null",
)


def draw_shape(colour: str, shape: str, size: tuple[int, int] = (48, 48)) -> Image.Image:
    """A coloured circle, square or bar on white: photos a tiny model can tell apart in a few steps."""
    picture = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(picture)
    bottom = size[1] - 8 if shape != "bar" else 16
    {"circle": draw.ellipse, "square": draw.rectangle, "bar": draw.rectangle}[shape]((8, 8, 40, bottom), fill=COLOURS[colour])
    return picture


def write_tiny_data(root: Path) -> Path:
    """12 photos of coloured shapes with English/German captions (captions.tsv), and German-English pairs (pairs.de, pairs.en)."""
    rows, de, en = ["image\tcaption\tlang"], [], []
    for colour in COLOURS:
        for shape in SHAPES:
            draw_shape(colour, shape).save(root / f"{colour}-{shape}.png")
            rows += [f"{colour}-{shape}.png\ta {colour} {shape}\ten", f"{colour}-{shape}.png\tein {colour} {shape}\tde"]
            de.append(f"ein {colour} {shape}")
            en.append(f"a {colour} {shape}")
    (root / "captions.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "pairs.de").write_text("\n".join(de) + "\n", encoding="utf-8")
    (root / "pairs.en").write_text("\n".join(en) + "\n", encoding="utf-8")
    return root


def train_args(out: Path, steps: int, *sources: str, workers: int = 0) -> list[str]:
    """`engine train` flags of a tiny cpu-tiny run over the --data `sources`, with the plain baseline's choices."""
    return [
        *("--preset", "cpu-tiny", *(arg for spec in sources for arg in ("--data", spec)), "--pair-share", "0.25", "--batch-size", "8"),
        *("--steps", str(steps), "--warmup", "2", "--log-every", "1", "--workers", str(workers), "--precision", "fp32"),
        *PLAIN,
        *("--out", str(out)),
    ]


def tiny_run_args(data: Path, out: Path, steps: int, *extra: str, photos: bool = True) -> list[str]:
    """A tiny run over write_tiny_data's photos (unless `photos` is False) and pairs, its caches in data/cache."""
    pairs = f"pairs:left={data / 'pairs.de'},right={data / 'pairs.en'},lang=de"
    table = f"table:path={data / 'captions.tsv'},images={data},lang_col=lang"
    return [*train_args(out, steps, *((table, pairs) if photos else (pairs,))), "--cache-dir", str(data / "cache"), *extra]
