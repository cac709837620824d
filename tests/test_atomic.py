"""engine.atomic: a write appears complete or not at all, for files and folders."""

import pytest

from engine.atomic import atomic_path, write_atomic


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    write_atomic(target, "first\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half of the secon")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "first\n" and sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
    write_atomic(target, b"second\n")
    assert target.read_bytes() == b"second\n"


def test_a_folder_replaces_the_previous_one_whole(tmp_path):
    target = tmp_path / "pictures"
    for generation in ("old", "new"):
        with atomic_path(target, durable=True) as tmp:
            tmp.mkdir()
            (tmp / f"{generation}.png").write_bytes(b"x")
            assert tmp.parent == tmp_path  # beside the target: the rename stays on one file system
    assert [p.name for p in target.iterdir()] == ["new.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pictures"]  # neither the temporary nor pictures.old left


def test_the_temporary_keeps_the_suffix_that_writers_choose_formats_by(tmp_path):
    with atomic_path(tmp_path / "cache.npy") as tmp:
        assert tmp.suffix == ".npy"
        tmp.write_bytes(b"")
