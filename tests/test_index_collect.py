"""What `engine index build` collects from folders, text files and tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from engine.errors import EngineError
from engine.index.collect import images_in, table_items, texts_in, unique_new
from index_helpers import make_photos


def test_images_are_found_recursively_by_suffix(tmp_path):
    made = make_photos(tmp_path, count=6)
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "UPPER.JPG").write_bytes((tmp_path / "p0.png").read_bytes())
    found = images_in(tmp_path)
    assert sorted(i.path for i in found) == sorted(str(p.resolve()) for p in made + [tmp_path / "UPPER.JPG"])
    assert all(i.modality == "image" and i.size > 0 and i.mtime > 0 for i in found)
    with pytest.raises(EngineError, match="not a directory"):
        images_in(tmp_path / "missing")


def test_texts_file_skips_blank_lines_and_needs_utf8(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("один\n\n  \nदो\r\n", encoding="utf-8")
    assert [(i.text, i.language, i.size) for i in texts_in(path, "mul")] == [("один", "mul", 4), ("दो", "mul", 2)]
    path.write_bytes(b"\xff\xfe broken")
    with pytest.raises(EngineError, match="not UTF-8"):
        texts_in(path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet", ".csv.gz"])
def test_tables_give_images_and_texts_with_languages(tmp_path, suffix):
    make_photos(tmp_path / "img", count=2)
    rows = pd.DataFrame({"file": ["img/p0.png", "img/gone.png", ""], "caption": ["ein Kreis", "a square", "только текст"], "lang": ["de", "en", "ru"]})
    path = tmp_path / f"table{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows.to_dict("records")), encoding="utf-8")
    elif suffix == ".parquet":
        rows.to_parquet(path)
    else:
        rows.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    items, skipped = table_items(path, "file", "caption", "lang")
    assert [(i.modality, i.text, i.language) for i in items] == [
        ("image", None, None),
        ("text", "ein Kreis", "de"),
        ("text", "a square", "en"),
        ("text", "только текст", "ru"),
    ]
    assert items[0].path == str((tmp_path / "img" / "p0.png").resolve())
    assert [(s.item, s.reason) for s in skipped] == [(str(tmp_path / "img" / "gone.png"), "no such file")]


def test_table_mistakes_are_clear(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(EngineError, match="no such column.*columns: a, b"):
        table_items(path, None, "caption")
    with pytest.raises(EngineError, match="needs --image-col"):
        table_items(path, None, None)
    with pytest.raises(EngineError, match="unknown table type"):
        table_items(tmp_path / "t.xlsx", None, "a")


def test_unique_new_drops_known_and_repeated_items(tmp_path):
    items = texts_in_list(tmp_path, ["a", "b", "a", "c"])
    assert [i.text for i in unique_new(items, {("text", "b")})] == ["a", "c"]


def texts_in_list(tmp_path, lines):
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return texts_in(path)


def test_table_image_paths_can_start_from_another_folder(tmp_path):
    make_photos(tmp_path / "photos", count=1)
    path = tmp_path / "tables" / "t.tsv"
    path.parent.mkdir()
    path.write_text("image\tcaption\np0.png\tein Kreis\n", encoding="utf-8")
    items, skipped = table_items(path, "image", None, image_root=tmp_path / "photos")
    assert [i.path for i in items] == [str((tmp_path / "photos" / "p0.png").resolve())] and not skipped
