"""Benchmark outputs (CSV, Markdown, JSON, PNG) and the on-disk embedding cache."""

import csv
import io
import json
import math
import os

import numpy as np

from engine.eval import report
from engine.eval.embedding_cache import embed_cached
from engine.eval.report import Score

SCORES = [
    Score("clippo", "en", "i2t", 1, 0.5),
    Score("clippo", "en", "t2i", 1, 0.25),
    Score("clippo", "zh", "i2t", 1, 0.3),
    Score("clippo", "zh", "t2i", 1, math.nan),
    Score("1t-clip", "en", "i2t", 1, 0.6),
    Score("1t-clip", "en", "t2i", 1, 0.4),
    Score("1t-clip", "zh", "i2t", 1, 0.0),
    Score("1t-clip", "zh", "t2i", 1, 0.1),
]


def test_csv_is_long_format():
    rows = list(csv.reader(io.StringIO(report.results_csv(SCORES))))
    assert rows[0] == ["model", "language", "direction", "k", "recall"]
    assert rows[1] == ["clippo", "en", "i2t", "1", "0.500000"]
    assert rows[4] == ["clippo", "zh", "t2i", "1", ""]  # no query: empty, not a made-up number
    assert len(rows) == 1 + len(SCORES)


def test_means_skip_languages_without_queries():
    mean = report.means(SCORES)
    assert math.isclose(mean[("clippo", "i2t", 1)], 0.4)
    assert mean[("clippo", "t2i", 1)] == 0.25
    assert math.isclose(mean[("1t-clip", "t2i", 1)], 0.25)


def test_language_table_rows_and_columns():
    lines = report.language_table(SCORES, ("i2t", "t2i")).splitlines()
    assert lines[0] == "| language | clippo i2t R@1 | clippo t2i R@1 | 1t-clip i2t R@1 | 1t-clip t2i R@1 |"
    assert lines[2] == "| en | 50.0 | 25.0 | 60.0 | 40.0 |"
    assert lines[3] == "| zh | 30.0 | – | 0.0 | 10.0 |"
    assert lines[4] == "| **mean** | **40.0** | **25.0** | **30.0** | **25.0** |"


def test_model_table_with_extra_column():
    table = report.model_table(SCORES, ("i2t", "t2i"), (1,), {"clippo": {"modality gap": "0.812"}})
    lines = table.splitlines()
    assert lines[0] == "| model | mean i2t R@1 | mean t2i R@1 | modality gap |"
    assert lines[2] == "| clippo | 40.0 | 25.0 | 0.812 |"
    assert lines[3] == "| 1t-clip | 30.0 | 25.0 |  |"


def test_summary_nests_means_and_languages():
    s = report.summary(SCORES, {("clippo", "en"): {"texts": 4}})
    assert s["clippo"]["mean"] == {"i2t@1": 0.4, "t2i@1": 0.25}
    assert s["clippo"]["languages"]["en"] == {"texts": 4, "i2t@1": 0.5, "t2i@1": 0.25}
    assert s["clippo"]["languages"]["zh"]["t2i@1"] is None


def test_write_outputs(tmp_path):
    chart = report.bar_chart_png(SCORES, ("i2t", "t2i"), "test")
    assert chart.startswith(b"\x89PNG\r\n\x1a\n")
    paths = report.write_outputs(tmp_path / "out", SCORES, "# table\n", {"models": {}}, chart)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["results.csv", "results.md", "results.png", "summary.json"]
    assert json.loads(paths["summary.json"].read_text()) == {"models": {}}
    assert paths["results.md"].read_text() == "# table\n"


def test_embedding_cache_computes_once_per_checkpoint_and_inputs(tmp_path):
    calls = []

    def encode(items):
        calls.append(list(items))
        return np.array([[len(str(i)), 1.0] for i in items], dtype=np.float32)

    first = embed_cached(tmp_path, "hash1", "texts", ["a", "bb"], encode, "t")
    again = embed_cached(tmp_path, "hash1", "texts", ["a", "bb"], encode, "t")
    assert calls == [["a", "bb"]] and np.array_equal(first, again)
    embed_cached(tmp_path, "hash2", "texts", ["a", "bb"], encode, "t")  # another checkpoint
    embed_cached(tmp_path, "hash1", "texts", ["a", "b"], encode, "t")  # other inputs
    assert len(calls) == 3

    image = tmp_path / "x.jpg"
    image.write_bytes(b"1")
    embed_cached(tmp_path, "hash1", "images", [image], encode, "i")
    embed_cached(tmp_path, "hash1", "images", [image], encode, "i")
    os.utime(image, ns=(0, 0))  # the file changed: its vectors must be recomputed
    embed_cached(tmp_path, "hash1", "images", [image], encode, "i")
    assert len(calls) == 5


def test_csv_round_trip(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(report.results_csv(SCORES))
    back = report.read_results_csv(path)
    assert back[:3] == SCORES[:3] and math.isnan(back[3].recall) and back[4:] == SCORES[4:]


def test_largest_differences_average_directions_and_skip_missing():
    # en: clippo (0.5+0.25)/2 - 1t-clip (0.6+0.4)/2 = -0.125; zh: clippo 0.3 (t2i has no query) - 0.05 = 0.25
    assert report.largest_differences(SCORES, "clippo", "1t-clip") == [("zh", 0.25), ("en", -0.125)]
    assert report.largest_differences(SCORES, "clippo", "1t-clip", n=1) == [("zh", 0.25)]
