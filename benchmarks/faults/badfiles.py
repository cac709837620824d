"""Probe 2: a build over good photos mixed with >= 30 kinds of bad or odd files, then the same files
as a training caption table. Every good photo must be indexed, every bad file skipped with a reason."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import subprocess

from benchmarks.faults.common import MODEL, engine_cmd, one_line_error, quiet_env, table
from benchmarks.faults.corpus import Entry, bad_file_corpus
from engine.index.embed import is_utf8

BUILD_BOUND_S = 300  # a FIFO read would block for ever: the build must end long before this


def probe(work: Path, good: int = 20) -> dict:
    from engine.index.collect import printable

    folder = work / "bad-files"
    entries = bad_file_corpus(folder, good)
    index = work / "bad-files-index"
    started = time.monotonic()
    try:
        result = subprocess.run(
            engine_cmd("index", "build", "--model", MODEL, "--images", folder, "--out", index), capture_output=True, timeout=BUILD_BOUND_S, env=quiet_env()
        )
        hung = False
    except subprocess.TimeoutExpired:
        result, hung = None, True
    seconds = time.monotonic() - started
    rows = []
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8")) if result and result.returncode == 0 else None
    if manifest:
        import engine

        indexed = set(engine.open_index(index).metadata["path"].dropna())
        skipped = {entry["item"]: entry["reason"] for entry in manifest["skipped"]}
        for entry in entries:
            shown = printable(os.path.abspath(entry.path))
            got, reason = _outcome(entry, indexed, skipped, shown)
            rows.append({"kind": entry.kind, "expect": entry.expect, "got": got, "reason": reason, "ok": got == entry.expect})
    return {
        "build_rc": result.returncode if result else None,
        "hung": hung,
        "build_s": round(seconds, 2),
        "stderr": result.stderr.decode("utf-8", "replace")[-500:] if result and result.returncode else "",
        "entries": rows,
        "train": _train(work, entries),
    }


def _outcome(entry: Entry, indexed: set[str], skipped: dict[str, str], shown: str) -> tuple[str, str]:
    if entry.expect == "alias":
        return ("alias", "indexed once, as its target") if os.path.realpath(entry.path) in indexed and shown not in indexed else ("indexed", "")
    if shown in indexed or _resolved(entry.path) in indexed:
        return "indexed", ""
    if shown in skipped:
        return "skipped", skipped[shown]
    if entry.path.is_dir() and not entry.path.is_symlink():
        return "folder", "walked as a folder"
    return "missing", "neither indexed nor listed as skipped"


def _resolved(path: Path) -> str:
    try:
        return str(path.resolve(strict=True))
    except (OSError, RuntimeError):
        return ""


def _train(work: Path, entries: list[Entry]) -> dict:
    """The same files as a caption table: training runs, reads the good ones and reports the bad ones."""
    folder = work / "bad-files"
    # A UTF-8 table cannot name a non-UTF-8 file: that row goes to a table of its own, which must be refused in one line.
    named = [entry for entry in entries if entry.expect != "folder" and is_utf8(str(entry.path))]
    unnamed = [entry for entry in entries if not is_utf8(str(entry.path))]
    started = time.monotonic()
    result = _train_on(work, "bad-files", named, folder)
    if result is None:
        return {"rc": None, "hung": True, "seconds": round(time.monotonic() - started, 2)}
    seconds = time.monotonic() - started
    err = (result.stdout + result.stderr).decode("utf-8", "replace")  # tqdm.write reports on stdout
    refused = _train_on(work, "non-utf8-name", unnamed, folder)
    return {
        "rc": result.returncode,
        "hung": False,
        "seconds": round(seconds, 2),
        "rows": len(named),
        "reported_unreadable": err.count("skipping unreadable photo"),
        "expected_unreadable": sum(entry.expect == "skipped" for entry in named),
        "traceback": "Traceback" in err,
        "stderr": err[-400:] if result.returncode else "",
        "non_utf8_table_one_line_error": bool(refused) and one_line_error(refused),
    }


def _train_on(work: Path, name: str, entries: list[Entry], folder: Path) -> subprocess.CompletedProcess | None:
    """Three training steps on a caption table of `entries` (None if it did not end in time)."""
    rows = [{"image": os.path.relpath(entry.path, folder), "caption": f"picture {i}"} for i, entry in enumerate(entries)]
    table_path = work / f"{name}-captions.jsonl"
    table_path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    args = [
        "train",
        "--preset",
        "cpu-tiny",
        "--data",
        f"table:path={table_path},images={folder}",
        "--steps",
        3,
        "--batch-size",
        8,
        "--warmup",
        1,
        "--workers",
        0,
        "--pair-share",
        0,
        "--cache-dir",
        work / f"{name}-cache",
        "--out",
        work / f"{name}-train",
    ]
    try:
        return subprocess.run(engine_cmd(*args), capture_output=True, timeout=BUILD_BOUND_S, env=quiet_env())
    except subprocess.TimeoutExpired:
        return None


def summarise(result: dict) -> dict:
    entries = result["entries"]
    return {
        "kinds": len({e["kind"] for e in entries}),
        "files": len(entries),
        "wrong": [e["kind"] for e in entries if not e["ok"]],
        "good_indexed": sum(e["got"] == "indexed" for e in entries if e["kind"] == "good photo"),
        "good": sum(e["kind"] == "good photo" for e in entries),
        "build_s": result["build_s"],
        "hung": result["hung"],
        "train": result["train"],
    }


def report(result: dict) -> str:
    s = summarise(result)
    rows = [[e["kind"], e["expect"], e["got"], (e["reason"] or "-")[:90], "yes" if e["ok"] else "NO"] for e in result["entries"] if e["kind"] != "good photo"]
    rows.append([f"{s['good']} good photos", "indexed", f"{s['good_indexed']} indexed", "-", "yes" if s["good_indexed"] == s["good"] else "NO"])
    title = f"Bad files ({s['kinds']} kinds, {s['files']} entries; build {s['build_s']} s, rc {result['build_rc']})"
    text = table(title, ["file", "expected", "got", "reason in the manifest", "right"], rows)
    t = s["train"]
    text += "\n" + table(
        "The same files as a training caption table (3 steps)",
        ["rows", "exit", "unreadable photos reported / expected", "traceback", "seconds", "non-UTF-8 name in a table: one-line error"],
        [
            [
                t.get("rows", "-"),
                t["rc"],
                f"{t.get('reported_unreadable', '-')} / {t.get('expected_unreadable', '-')}",
                t.get("traceback", "-"),
                t["seconds"],
                t.get("non_utf8_table_one_line_error", "-"),
            ]
        ],
    )
    return text
