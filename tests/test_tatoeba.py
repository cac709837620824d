"""Tatoeba pair loading and top-1 translation accuracy on tiny hand-built embeddings."""

import gzip
import math

import numpy as np
import pytest

from engine.errors import EngineError
from engine.eval import tatoeba

E = np.eye(3, dtype=np.float32)


def write_gz(path, lines, final_newline=True):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + ("\n" if final_newline else ""))


def test_languages_and_pairs(tmp_path):
    write_gz(tmp_path / "tatoeba.deu-eng.deu.gz", ["Hallo", "Danke"])
    write_gz(tmp_path / "tatoeba.deu-eng.eng.gz", ["Hello", "Thanks"], final_newline=False)
    write_gz(tmp_path / "tatoeba.cmn-eng.cmn.gz", ["你好"])  # English side missing: not listed
    assert tatoeba.languages(tmp_path) == ["deu"]
    assert tatoeba.load_pairs(tmp_path, "deu") == (["Hallo", "Danke"], ["Hello", "Thanks"])
    assert tatoeba.load_pairs(tmp_path, "deu", limit=1) == (["Hallo"], ["Hello"])


def test_misaligned_and_missing_files_are_clear_errors(tmp_path):
    write_gz(tmp_path / "tatoeba.fra-eng.fra.gz", ["a", "b", "c"])
    write_gz(tmp_path / "tatoeba.fra-eng.eng.gz", ["a", "b"])
    with pytest.raises(EngineError, match="has 3 lines but tatoeba.fra-eng.eng.gz has 2"):
        tatoeba.load_pairs(tmp_path, "fra")
    with pytest.raises(EngineError, match="missing Tatoeba file"):
        tatoeba.load_pairs(tmp_path, "deu")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineError, match="no tatoeba"):
        tatoeba.languages(tmp_path / "empty")
    with pytest.raises(EngineError, match="Tatoeba folder not found"):
        tatoeba.languages(tmp_path / "absent")


def test_accuracy_both_directions_by_hand():
    xx = E[[0, 1, 1]]  # sentence 2 looks like English line 1
    en = E[[0, 1, 2]]
    scores = {s.direction: s.recall for s in tatoeba.evaluate_pairs("m", "xxx", xx, en)}
    # xx->en: 0 -> 0 hit, 1 -> 1 hit, 2 -> 1 miss.
    assert math.isclose(scores["xx2en"], 2 / 3)
    # en->xx: line 0 -> 0 hit; line 1 ties between xx 1 and xx 2 -> miss; line 2 scores 0 everywhere -> miss.
    assert math.isclose(scores["en2xx"], 1 / 3)
