"""The benchmark harnesses' outputs: long CSV, Markdown tables, a per-language bar chart, JSON.

Every harness produces the same kind of row (`Score`: model, language, direction, k, recall), so
one set of writers serves XM3600, Flickr8k-in-XM3600-layout and Tatoeba alike. Files are written
under a temporary name and renamed, so an interrupted run never leaves a half-written table.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import write_atomic

CSV_COLUMNS = ("model", "language", "direction", "k", "recall")


@dataclass(frozen=True)
class Score:
    model: str
    language: str
    direction: str  # e.g. i2t / t2i, xx2en / en2xx
    k: int
    recall: float  # fraction in [0, 1]; NaN where the language had no query


def _ordered(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def models_of(scores: Sequence[Score]) -> list[str]:
    return _ordered([s.model for s in scores])


def languages_of(scores: Sequence[Score]) -> list[str]:
    return _ordered([s.language for s in scores])


def lookup(scores: Sequence[Score]) -> dict[tuple[str, str, str, int], float]:
    return {(s.model, s.language, s.direction, s.k): s.recall for s in scores}


def means(scores: Sequence[Score]) -> dict[tuple[str, str, int], float]:
    """Mean recall over languages per (model, direction, k); languages without queries skipped."""
    groups: dict[tuple[str, str, int], list[float]] = {}
    for s in scores:
        groups.setdefault((s.model, s.direction, s.k), []).append(s.recall)
    return {key: float(np.nanmean(v)) if not np.all(np.isnan(v)) else math.nan for key, v in groups.items()}


def largest_differences(scores: Sequence[Score], model_a: str, model_b: str, k: int = 1, n: int = 5) -> list[tuple[str, float]]:
    """The `n` languages where a's and b's R@k (averaged over directions) differ most: (language, a - b)."""
    per_language: dict[tuple[str, str], list[float]] = {}
    for s in scores:
        if s.k == k and s.model in (model_a, model_b) and not math.isnan(s.recall):
            per_language.setdefault((s.model, s.language), []).append(s.recall)
    differences = [
        (lang, float(np.mean(per_language[(model_a, lang)]) - np.mean(per_language[(model_b, lang)])))
        for lang in languages_of(scores)
        if (model_a, lang) in per_language and (model_b, lang) in per_language
    ]
    return sorted(differences, key=lambda item: -abs(item[1]))[:n]


def percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.1f}"


def results_csv(scores: Sequence[Score]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in scores:
        writer.writerow([s.model, s.language, s.direction, s.k, "" if math.isnan(s.recall) else f"{s.recall:.6f}"])
    return buffer.getvalue()


def read_results_csv(path: Path) -> list[Score]:
    """The rows of a results.csv written by `results_csv` (empty recall = no query = NaN)."""
    with path.open(encoding="utf-8", newline="") as f:
        return [Score(r["model"], r["language"], r["direction"], int(r["k"]), float(r["recall"] or "nan")) for r in csv.DictReader(f)]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def language_table(scores: Sequence[Score], directions: Sequence[str], k: int = 1) -> str:
    """Languages as rows, one column per (model, direction) at R@k, in percent; a mean row last."""
    table = lookup(scores)
    mean = means(scores)
    models = models_of(scores)
    header = ["language"] + [f"{m} {d} R@{k}" for m in models for d in directions]
    rows = [[lang] + [percent(table.get((m, lang, d, k), math.nan)) for m in models for d in directions] for lang in languages_of(scores)]
    rows.append(["**mean**"] + [f"**{percent(mean[(m, d, k)])}**" for m in models for d in directions])
    return _table(header, rows)


def model_table(
    scores: Sequence[Score],
    directions: Sequence[str],
    ks: Sequence[int],
    extra: dict[str, dict[str, str]] | None = None,
) -> str:
    """One row per model: mean recall over languages for each direction and k, plus extra columns."""
    mean = means(scores)
    extra = extra or {}
    extra_columns = _ordered([c for per_model in extra.values() for c in per_model])
    header = ["model"] + [f"mean {d} R@{k}" for d in directions for k in ks] + extra_columns
    rows = [
        [m] + [percent(mean.get((m, d, k), math.nan)) for d in directions for k in ks] + [extra.get(m, {}).get(c, "") for c in extra_columns]
        for m in models_of(scores)
    ]
    return _table(header, rows)


def summary(scores: Sequence[Score], per_language_extra: dict[tuple[str, str], dict] | None = None) -> dict:
    """Nested JSON-ready summary: model -> {"mean": {...}, "languages": {lang: {"i2t@1": ...}}}."""
    per_language_extra = per_language_extra or {}
    out: dict[str, dict] = {}
    for m in models_of(scores):
        out[m] = {"mean": {}, "languages": {}}
    for (m, d, k), value in means(scores).items():
        out[m]["mean"][f"{d}@{k}"] = _json_number(value)
    for s in scores:
        entry = out[s.model]["languages"].setdefault(s.language, dict(per_language_extra.get((s.model, s.language), {})))
        entry[f"{s.direction}@{s.k}"] = _json_number(s.recall)
    return out


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def bar_chart_png(scores: Sequence[Score], directions: Sequence[str], title: str, k: int = 1) -> bytes:
    """Grouped bars: one group per language, one bar per model, one panel per direction (R@k)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = lookup(scores)
    models, languages = models_of(scores), languages_of(scores)
    width = min(60.0, max(6.0, 0.25 * len(languages) * max(1, len(models)) + 2))
    figure, axes = plt.subplots(len(directions), 1, figsize=(width, 3.2 * len(directions)), squeeze=False)
    x = np.arange(len(languages))
    bar = 0.8 / max(1, len(models))
    for axis, direction in zip(axes[:, 0], directions):
        for i, m in enumerate(models):
            values = [100 * table.get((m, lang, direction, k), math.nan) for lang in languages]
            axis.bar(x + (i - (len(models) - 1) / 2) * bar, np.nan_to_num(values), bar, label=m)
        axis.set_xticks(x, languages, rotation=90 if len(languages) > 20 else 0, fontsize=8)
        axis.set_ylabel(f"{direction} R@{k} (%)")
        axis.set_xlim(-0.6, len(languages) - 0.4)
        axis.grid(axis="y", alpha=0.3)
    axes[0, 0].set_title(title)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def write_outputs(out_dir: Path, scores: Sequence[Score], markdown: str, summary_json: dict, chart: bytes) -> dict[str, Path]:
    """results.csv, results.md, results.png, summary.json under `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / name for name in ("results.csv", "results.md", "results.png", "summary.json")}
    write_atomic(paths["results.csv"], results_csv(scores))
    write_atomic(paths["results.md"], markdown)
    write_atomic(paths["results.png"], chart)
    write_atomic(paths["summary.json"], json.dumps(summary_json, indent=2, ensure_ascii=False) + "\n")
    return paths
