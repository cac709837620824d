"""Fuzz the renderer as a hostile user would: generated strings of seven kinds, each rendered
through `engine.render` at 224/16, 112/10 and 64/8 in one process on one core.

Prints crashes, wrong-shaped outputs, p50/p99/p99.9/max ms per kind and size (wall clock, and
the p99.9/max of the thread's CPU time, which a busy shared machine does not inflate), the calls
over 1 s, the garbage collector's full passes (count, longest) and the process' peak RSS; writes
the slowest inputs to a JSON file (the regression cases of tests/test_render_fuzz_cases.py come
from it). The strings depend only on --seed.

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/fuzz_render.py
    .venv/bin/python benchmarks/fuzz_render.py --count 2000 --slowest /tmp/slow.json
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core: set before numpy loads

import argparse  # noqa: E402
import gc  # noqa: E402
import heapq  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import engine.render  # noqa: E402
from engine.cli import run_reporting_errors  # noqa: E402
from engine.errors import EngineError  # noqa: E402
from engine.render import RenderConfig  # noqa: E402

SIZES = {"224/16": RenderConfig(224, 224, 16, 4), "112/10": RenderConfig(112, 112, 10, 4), "64/8": RenderConfig(64, 64, 8, 4)}
# Planes 0-3 hold every assigned character; 14 has tags and selectors, 15-16 private use.
PLANES = (0, 0, 0, 0, 1, 1, 2, 3, 14, 15, 16)
LETTERS = "abcxyzABCéßøДжпαβγअकषमাকতதமกขคไเลาພາສາកខគမြန်ጀሐሰ日本語中文한국어שלוםمرحبا"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
BIDI_OTHERS = "abcאבגعمن123٣٤٥۱۲ ()[]{}<>«»-+,.:/$%#!\u0301\u064b\n"
MARKS = [chr(cp) for cp in range(0x0300, 0x0370)] + list(
    "\u0483\u0591\u05b0\u064b\u0651\u0901\u093c\u094d\u0e31\u0e48\u0e4c\u17d2\u1039\u20d0\u20e3\ufe0f\u3099"
)
EMOJI_BASES = "😀😂🥲👍👋🏃🧑👩👨👧👦💻🚀🌈🏳🏴❤🔥⭐☕⚽🎉"
SKIN = "🏻🏼🏽🏾🏿"
FLAG_LETTERS = [chr(cp) for cp in range(0x1F1E6, 0x1F200)]
TAGS = [chr(cp) for cp in range(0xE0061, 0xE007B)]
WORD_ALPHABETS = (
    "abcdefghijklmnopqrstuvwxyz",
    "กขคงจฉชซญดตถทนบปผพฟภมยรลวศสหอฮะาิีึืุูเแโใไ่้๊๋ั็์",
    "日本語中文字漢東京都大学生先",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "ကခဂငစဆဇညဋဌဍဏတထဒဓနပဖဗဘမယရလဝသဟဠအ်ြျွှ",
    "ሀለሐመሠረሰሸቀበቨተቸኀነኘአከኸወዐዘዠየደጀገጠጨጰጸፀፈፐ",
    "अआइईउऊकखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह्ािीुू",
)
CONTROLS = [chr(cp) for cp in range(0x00, 0x20)] + [chr(cp) for cp in range(0x7F, 0xA0)] + ["\u2028", "\u2029", "\ud800", "\udfff"]


def random_code_points(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 200)):
        plane = rng.choice(PLANES)
        out.append(chr((plane << 16) | rng.randrange(0x10000)))
    return "".join(out)


def bidi_soup(rng: random.Random) -> str:
    pool = BIDI_CONTROLS * 2 + BIDI_OTHERS
    return "".join(rng.choice(pool) for _ in range(rng.randint(1, 300)))


def joiner_chains(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 400)):
        out.append(rng.choice(LETTERS + EMOJI_BASES))
        out.append(rng.choice("\u200d\u200d\u200c"))
        if rng.random() < 0.05:
            out.append(" ")
    return "".join(out)


def mark_runs(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 20)):
        if rng.random() < 0.9:
            out.append(rng.choice(LETTERS))
        out.extend(rng.choice(MARKS) for _ in range(int(rng.expovariate(1 / 30))))
        out.append(rng.choice(["", " ", ""]))
    return "".join(out)


def emoji_sequences(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 60)):
        kind = rng.randrange(6)
        if kind == 0:
            out.append(rng.choice(EMOJI_BASES) + rng.choice(SKIN))
        elif kind == 1:
            out.append("\u200d".join(rng.choice(EMOJI_BASES) for _ in range(rng.randint(2, 8))))
        elif kind == 2:
            out.append("".join(rng.choice(FLAG_LETTERS) for _ in range(rng.randint(1, 7))))
        elif kind == 3:
            out.append(rng.choice("#*0123456789") + "\ufe0f\u20e3")
        elif kind == 4:
            out.append("🏴" + "".join(rng.choice(TAGS) for _ in range(rng.randint(1, 10))) + "\U000e007f")
        else:
            out.append(rng.choice(EMOJI_BASES) + rng.choice(["\ufe0f", "\ufe0e", ""]))
        out.append(rng.choice(["", " ", "", "\u200d"]))
    return "".join(out)


def long_words(rng: random.Random) -> str:
    alphabet = rng.choice(WORD_ALPHABETS)
    words = ["".join(rng.choice(alphabet) for _ in range(int(rng.expovariate(1 / 400)) + 30)) for _ in range(rng.randint(1, 3))]
    return " ".join(words)


def control_characters(rng: random.Random) -> str:
    pool = CONTROLS + list(LETTERS) + [" "] * 5
    return "".join(rng.choice(pool) for _ in range(rng.randint(1, 300)))


KINDS: dict[str, Callable[[random.Random], str]] = {
    "random code points": random_code_points,
    "bidi controls": bidi_soup,
    "ZWJ/ZWNJ chains": joiner_chains,
    "combining marks": mark_runs,
    "emoji sequences": emoji_sequences,
    "long words": long_words,
    "control chars": control_characters,
}


def corpus(count: int, seed: int) -> Iterator[tuple[str, str]]:
    """`count` (kind, text) pairs, the kinds in turn, made one at a time (they are not held)."""
    rng = random.Random(seed)
    names = list(KINDS)
    for i in range(count):
        yield names[i % len(names)], KINDS[names[i % len(names)]](rng)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


class FullCollections:
    """Counts the garbage collector's full (generation 2) passes and their longest duration."""

    def __init__(self) -> None:
        self.count, self.longest_ms, self._started = 0, 0.0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._started) * 1000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Run under flock /tmp/engine-cpu.lock on the shared machine.")
    parser.add_argument("--count", type=int, default=100_000, help="generated strings (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--slowest", type=Path, default=Path("fuzz_slowest.json"), help="where the slowest inputs go (default fuzz_slowest.json)")
    parser.add_argument("--keep", type=int, default=40, help="how many slowest calls to keep (default 40)")
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.count < 1 or args.keep < 0:
        raise EngineError("--count must be at least 1 and --keep not negative")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    for config in SIZES.values():
        engine.render("warm up", config)  # fonts load outside the timings
    rss_before = peak_rss_mb()
    times = {(kind, size): [] for kind in KINDS for size in SIZES}
    cpu_times = {(kind, size): [] for kind in KINDS for size in SIZES}
    full_collections = FullCollections()
    gc.callbacks.append(full_collections)
    crashes: list[dict] = []
    misshapen = 0
    slowest: list[tuple[float, int, str, str, str]] = []
    started = time.perf_counter()
    for number, (kind, text) in enumerate(corpus(args.count, args.seed)):
        for size, config in SIZES.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                out = engine.render(text, config)
            except Exception as error:  # noqa: BLE001 - a crash is what we count
                crashes.append({"kind": kind, "size": size, "text": text, "error": repr(error)})
                continue
            ms = (time.perf_counter() - t0) * 1000
            times[kind, size].append(ms)
            cpu_times[kind, size].append((time.thread_time() - c0) * 1000)
            if out.pixels.shape != (config.height, config.width) or out.pixels.dtype != np.uint8:
                misshapen += 1
            entry = (ms, number, size, kind, text)
            if len(slowest) < args.keep:
                heapq.heappush(slowest, entry)
            elif ms > slowest[0][0]:
                heapq.heapreplace(slowest, entry)
        if (number + 1) % 10_000 == 0:
            print(f"... {number + 1} strings, {time.perf_counter() - started:.0f} s, peak RSS {peak_rss_mb():.0f} MB", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    gc.callbacks.remove(full_collections)
    rows = []
    for size in SIZES:
        for kind in [*KINDS, "all"]:
            chosen = list(KINDS) if kind == "all" else [kind]
            values = np.concatenate([np.asarray(times[k, size]) for k in chosen])
            cpu = np.concatenate([np.asarray(cpu_times[k, size]) for k in chosen])
            rows.append(
                {
                    "size": size,
                    "kind": kind,
                    "calls": len(values),
                    "p50": percentile(values, 50),
                    "p99": percentile(values, 99),
                    "p99.9": percentile(values, 99.9),
                    "max": float(values.max()) if len(values) else float("nan"),
                    "over_1s": int((values > 1000).sum()),
                    "cpu_p99.9": percentile(cpu, 99.9),
                    "cpu_max": float(cpu.max()) if len(cpu) else float("nan"),
                }
            )
    print(f"{args.count} strings x {len(SIZES)} sizes, seed {args.seed}, one core, {elapsed:.0f} s")
    print(f"crashes: {len(crashes)}; wrong-shaped outputs: {misshapen}; peak RSS {peak_rss_mb():.0f} MB (after loading fonts: {rss_before:.0f} MB)")
    print(f"full garbage collections: {full_collections.count}, longest {full_collections.longest_ms:.0f} ms")
    print("| size | kind | calls | p50 ms | p99 ms | p99.9 ms | max ms | > 1 s | CPU p99.9 ms | CPU max ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['size']} | {row['kind']} | {row['calls']} | {row['p50']:.2f} | {row['p99']:.2f} | "
            f"{row['p99.9']:.2f} | {row['max']:.1f} | {row['over_1s']} | {row['cpu_p99.9']:.2f} | {row['cpu_max']:.1f} |"
        )
    for crash in crashes[:10]:
        print(f"crash: {crash['kind']} {crash['size']}: {crash['error']} on {crash['text'][:60]!r}")
    cases = [{"ms": round(ms, 1), "index": number, "size": size, "kind": kind, "text": text} for ms, number, size, kind, text in sorted(slowest, reverse=True)]
    args.slowest.write_text(json.dumps(cases, ensure_ascii=True, indent=1) + "\n", encoding="utf-8")
    print(f"slowest {len(cases)} calls written to {args.slowest} (slowest {cases[0]['ms'] if cases else 0} ms)")
    if args.json:
        summary = {
            "count": args.count,
            "seed": args.seed,
            "seconds": elapsed,
            "crashes": len(crashes),
            "misshapen": misshapen,
            "peak_rss_mb": peak_rss_mb(),
            "full_collections": full_collections.count,
            "longest_full_collection_ms": full_collections.longest_ms,
            "rows": rows,
        }
        args.json.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
