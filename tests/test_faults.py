"""The fault suite (benchmarks/faults), reduced: each defect it found keeps its case here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.faults import badfiles, fuzzing, hostile, kills  # noqa: E402
from benchmarks.faults.common import MODEL, Server, index_state  # noqa: E402
from benchmarks.faults.corpus import bad_file_corpus  # noqa: E402
from benchmarks.faults.fuzz import KINDS, fuzz_strings  # noqa: E402

pytest.importorskip("engine.render", reason="the renderer (engine.render) is not available")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from benchmarks.faults.__main__ import serve_index

    work = tmp_path_factory.mktemp("serve")
    index = serve_index(work, texts=200, photos=8)
    server = Server(index, "--timeout", 2)
    yield server, index
    server.stop()


def test_bad_files_are_skipped_with_reasons_and_odd_ones_indexed(tmp_path):
    import engine
    from engine.index import build as builder
    from engine.index.collect import images_in, printable

    entries = bad_file_corpus(tmp_path / "corpus", good=6)
    assert len({e.kind for e in entries}) >= 30
    report = builder.build(tmp_path / "index", MODEL, images_in(tmp_path / "corpus"), [])  # a FIFO would block here for ever
    indexed = set(engine.open_index(tmp_path / "index").metadata["path"])
    skipped = {s["item"]: s["reason"] for s in report.manifest["skipped"]}
    wrong = [(e.kind, badfiles._outcome(e, indexed, skipped, printable(os.path.abspath(e.path)))[0]) for e in entries]
    assert [(kind, got) for (kind, got), e in zip(wrong, entries) if got != e.expect] == []


def test_a_kill_during_build_leaves_the_previous_index(tmp_path):
    result = kills.probe_build(tmp_path, kills=2, seed=0)
    for run in result["runs"]:
        assert run["state_after_kill"] in ("previous", "new") and run["rerun_rc"] == 0
        assert run["state_after_rerun"] == "new" and run["leftovers"] == []


def test_a_full_disk_is_a_one_line_error_and_the_old_index_survives(tmp_path):
    result = kills.probe_full_disk(tmp_path)
    assert result["first_rc"] == 0 and result["rc"] == 2 and result["one_line_error"], result
    assert result["old_intact"] and result["leftovers"] == []


def test_a_checkpoint_save_removes_what_a_killed_save_left(tmp_path):
    from index_helpers import make_checkpoint

    stale = tmp_path / "checkpoint.tmp-999999999"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    make_checkpoint(tmp_path / "checkpoint")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_hostile_requests_get_json_answers_and_the_server_stays_up(served):
    server, index = served
    result = hostile.probe(server, index, MODEL)
    assert [c["case"] for c in result["cases"] if not c["ok"]] == [] and result["alive_after"]


def test_fuzzed_strings_get_an_answer_and_become_items_once(served, tmp_path):
    import engine

    _, index_dir = served
    strings = fuzz_strings(len(KINDS) * 8, seed=1)
    index = engine.open_index(index_dir)
    assert all(len(index.search_text(text, 5)) == 5 for _, text in strings)
    items = fuzzing.as_items(tmp_path, strings)
    assert items["rc"] == 0 and items["lost"] == 0 and items["duplicated"] == 0 and items["unexpected"] == 0
    assert items["invalid_skipped_by_api_build"] == items["invalid_unicode"] > 0


def test_index_state_reads_counts(served):
    _, index = served
    state = index_state(index)
    assert state["count"] == 208 and state["ids_ok"] and state["answers"]


def test_position_embedding_gradients_are_the_same_on_every_run():
    """Training on 2 threads was not reproducible: the position lookup's backward added rows with atomics."""
    import torch

    from engine.model.config import architecture
    from engine.model.vit import PatchEmbed

    torch.manual_seed(0)
    embed = PatchEmbed(architecture("cpu-small"))
    pages = torch.full((64, 112, 112), 255, dtype=torch.uint8)  # rendered text: ink in some patches, blank paper elsewhere
    for row in range(64):
        ink = torch.randint(0, 2, (7, 7), dtype=torch.bool)
        pages[row] = torch.where(ink.repeat_interleave(16, 0).repeat_interleave(16, 1), torch.randint(0, 200, (112, 112), dtype=torch.uint8), pages[row])
    weights = torch.randn(64, 49, 192)

    def gradient() -> torch.Tensor:
        embed.zero_grad()
        tokens, _ = embed(pages, drop=True)
        (tokens * weights[:, : tokens.shape[1]]).sum().backward()
        return embed.pos.grad.clone()

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first = gradient()
        assert all(torch.equal(first, gradient()) for _ in range(10))
    finally:
        torch.set_num_threads(threads)
