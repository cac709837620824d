"""`engine render`: one text to a PNG, many texts to a contact sheet, clear errors otherwise."""

import numpy as np
from PIL import Image

from engine.cli import main


def test_renders_one_text_to_png(tmp_path, capsys):
    out = tmp_path / "hello.png"
    assert main(["render", "Hello, мир, مرحبا, 你好", "-o", str(out), "--size", "112", "--font-size", "10"]) == 0
    pixels = np.asarray(Image.open(out))
    assert pixels.shape == (112, 112) and pixels.min() < 100 and pixels.max() == 255
    assert "hello.png" in capsys.readouterr().out


def test_default_output_name_is_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["render", "Straße 42"]) == 0
    written = capsys.readouterr().out
    assert "render-Stra-e-42.png" in written and (tmp_path / "render-Stra-e-42.png").is_file()


def test_contact_sheet_of_a_file(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("one\nдва\n\nثلاثة\n四\nห้า\n", encoding="utf-8")
    sheet = tmp_path / "sheet.png"
    assert main(["render", "--file", str(texts), "--sheet", str(sheet), "--size", "64", "--font-size", "8"]) == 0
    image = np.asarray(Image.open(sheet))
    assert image.shape == (2 * 68 + 4, 3 * 68 + 4)  # 5 texts: 3 columns, 2 rows, 4 px gaps
    tiles = [image[4 + r * 68 : 68 + r * 68, 4 + c * 68 : 68 + c * 68] for r in range(2) for c in range(3)]
    assert [bool((tile < 128).any()) for tile in tiles] == [True] * 5 + [False]


def test_user_mistakes_exit_2_with_a_message(tmp_path, capsys):
    assert main(["render"]) == 2
    assert main(["render", "x", "--size", "0"]) == 2
    assert main(["render", "x", "--font-size", "500"]) == 2
    assert main(["render", "--file", str(tmp_path / "absent.txt"), "--sheet", str(tmp_path / "s.png")]) == 2
    assert main(["render", "--file", str(tmp_path / "absent.txt")]) == 2
    assert main(["render", "x", "-o", str(tmp_path / "no" / "such" / "dir.png")]) == 2
    errors = capsys.readouterr().err
    assert errors.count("engine: error:") == 6 and "Traceback" not in errors
