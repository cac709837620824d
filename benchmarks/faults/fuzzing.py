"""Probe 5: fuzzed strings through the whole path: as HTTP queries, as Python API and CLI queries, and
as the items of an index build. No crash, no hang, an answer for every one."""

from __future__ import annotations

import http.client
import itertools
import json
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from benchmarks.faults.common import MODEL, Server, engine_cmd, quiet_env, serving, table
from benchmarks.faults.fuzz import fuzz_strings
from benchmarks.faults.load import Client
from engine.index.embed import is_utf8
from engine.index.web import MAX_QUERY_CHARS

K = 5


def expected_status(text: str) -> set[int]:
    if not is_utf8(text):
        return {400}
    if not 1 <= len(text) <= MAX_QUERY_CHARS:
        return {414, 422}  # 414 from the HTTP parser when a head over 256 KiB arrives in pieces
    return {200}


def through_http(server: Server, strings: list[tuple[str, str]], count: int, concurrency: int, bound_s: float) -> dict:
    wrong: Counter = Counter()
    done, examples = 0, []
    lock, cursor = threading.Lock(), itertools.count()
    deadline = time.monotonic() + bound_s

    def worker() -> None:
        nonlocal done
        client = Client(server.port)
        while time.monotonic() < deadline:
            i = next(cursor)
            if i >= len(strings):
                return
            kind, text = strings[i]
            target = "/search?k=%d&q=" % K + quote(text.encode("utf-8", "surrogatepass"), safe="")
            try:
                status, body = client.send("GET", target)
                parsed = json.loads(body)
                ok = status in expected_status(text) and (len(parsed["results"]) == min(K, count) if status == 200 else bool(parsed.get("detail")))
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                status, ok = None, False
            with lock:
                done += 1
                if not ok:
                    wrong[kind] += 1
                    if len(examples) < 5:
                        examples.append({"kind": kind, "status": status, "chars": len(text), "text": text[:40]})

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "done": done,
        "wrong": sum(wrong.values()),
        "wrong_by_kind": dict(wrong),
        "examples": examples,
        "seconds": round(time.monotonic() - started, 1),
        "alive": server.alive(),
    }


def through_api(index_dir: Path, strings: list[tuple[str, str]], bound_s: float) -> dict:
    import engine

    index = engine.open_index(index_dir)
    wrong: Counter = Counter()
    done, started = 0, time.monotonic()
    for kind, text in strings:
        if time.monotonic() - started > bound_s:
            break
        try:
            ok = len(index.search_text(text, K)) == min(K, len(index))
        except Exception:  # a crash on any string is what this probe looks for
            ok = False
        done += 1
        wrong[kind] += not ok
    return {"done": done, "wrong": sum(wrong.values()), "wrong_by_kind": {k: v for k, v in wrong.items() if v}, "seconds": round(time.monotonic() - started, 1)}


def through_cli(index_dir: Path, strings: list[tuple[str, str]], count: int) -> dict:
    """A few through `engine query --json` (argv cannot carry NUL, lone surrogates or 128 KB in one argument; a leading "-" reads as an option)."""
    chosen = [s for s in strings if "\x00" not in s[1] and is_utf8(s[1]) and s[1].strip() and len(s[1]) < 10_000 and not s[1].startswith("-")][:count]
    wrong = 0
    for _, text in chosen:
        result = subprocess.run(engine_cmd("query", index_dir, text, "-k", K, "--json"), capture_output=True, timeout=120, env=quiet_env())
        try:
            wrong += result.returncode != 0 or len(json.loads(result.stdout)) != K
        except ValueError:
            wrong += 1
    return {"done": len(chosen), "wrong": wrong}


def as_items(work: Path, strings: list[tuple[str, str]]) -> dict:
    """Every fuzzed string as an item: a JSONL table through `engine index build` (the UTF-8 ones) and
    engine.index.build (the ones no UTF-8 file can hold); each indexed once, or skipped with a reason."""
    from engine.index import build as builder
    from engine.index.collect import text_item

    texts = [text for _, text in strings]
    valid = [t for t in texts if is_utf8(t)]
    invalid = [t for t in texts if not is_utf8(t)]
    table_path = work / "fuzz.jsonl"
    table_path.write_text("".join(json.dumps({"text": t}) + "\n" for t in valid), encoding="utf-8")
    index_dir = work / "fuzz-index"
    started = time.monotonic()
    try:
        result = subprocess.run(
            engine_cmd("index", "build", "--model", MODEL, "--table", table_path, "--text-col", "text", "--out", index_dir),
            capture_output=True,
            timeout=900,
            env=quiet_env(),
        )
    except subprocess.TimeoutExpired:
        return {"hung": True}
    seconds = time.monotonic() - started
    out = {
        "hung": False,
        "rc": result.returncode,
        "seconds": round(seconds, 1),
        "strings": len(texts),
        "stderr": result.stderr.decode("utf-8", "replace")[-300:] if result.returncode else "",
    }
    if result.returncode == 0:
        import engine

        index = engine.open_index(index_dir)
        stored = Counter(index.metadata["text"])
        manifest = index.manifest
        wanted = {t for t in valid if t.strip()}
        blank = {t for t in valid if not t.strip()}
        out.update(
            {
                "indexed": sum(stored.values()),
                "unique_wanted": len(wanted),
                "lost": len(set(wanted) - set(stored)),
                "duplicated": sum(c - 1 for c in stored.values() if c > 1),
                "unexpected": len(set(stored) - set(wanted)),
                "blank_skipped": sum(entry["reason"] == "blank text" for entry in manifest["skipped"]),
                "blank": len(blank),
            }
        )
    other = work / "fuzz-index-api"
    report = builder.build(other, MODEL, [text_item(t) for t in invalid + valid[:50]], [])
    out["invalid_unicode"] = len(invalid)
    out["invalid_skipped_by_api_build"] = sum("lone surrogate" in s.reason for s in report.skipped)
    return out


def run(work: Path, server_index: Path, count: int, concurrency: int, bound_s: float, seed: int, cli_count: int = 10) -> dict:
    strings = fuzz_strings(count, seed)
    items = as_items(work, strings)
    import engine

    indexed = len(engine.open_index(server_index))
    with serving(server_index) as server:
        http = through_http(server, strings, indexed, concurrency, bound_s)
        http["alive_after"] = server.alive() and server.get("/health")[0] == 200
        stderr = server.stop()
    http["server_tracebacks"] = stderr.count("Traceback")
    return {
        "count": count,
        "kinds": len({k for k, _ in strings}),
        "http": http,
        "api": through_api(server_index, strings, bound_s),
        "cli": through_cli(server_index, strings, cli_count),
        "items": items,
    }


def report(result: dict) -> str:
    h, a, c, i = result["http"], result["api"], result["cli"], result["items"]
    rows = [
        [
            "HTTP GET /search",
            f"{h['done']:,} / {result['count']:,}",
            h["wrong"],
            f"{h['seconds']} s; server up after: {h['alive_after']}; tracebacks in its log: {h['server_tracebacks']}",
        ],
        ["engine.open_index().search_text", f"{a['done']:,} / {result['count']:,}", a["wrong"], f"{a['seconds']} s"],
        ["engine query --json (CLI)", f"{c['done']:,}", c["wrong"], "strings argv can carry"],
    ]
    text = table(f"Fuzzed strings as queries ({result['count']:,} strings of {result['kinds']} kinds)", ["path", "answered / sent", "wrong", "notes"], rows)
    if i.get("rc") == 0:
        text += "\n" + table(
            "Fuzzed strings as index items",
            ["strings", "build", "indexed (unique non-blank)", "lost", "duplicated", "blank: skipped with reason", "invalid Unicode: skipped by the API build"],
            [
                [
                    f"{i['strings']:,}",
                    f"rc 0 in {i['seconds']} s",
                    f"{i['indexed']:,} ({i['unique_wanted']:,})",
                    i["lost"],
                    i["duplicated"],
                    f"{i['blank_skipped']} / {i['blank']}",
                    f"{i['invalid_skipped_by_api_build']} / {i['invalid_unicode']}",
                ]
            ],
        )
    else:
        text += f"\nFuzzed strings as index items: build failed ({i})\n"
    return text
