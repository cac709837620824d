"""What every probe shares: the model, running the CLI, a server on 127.0.0.1, tables, RSS."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "engine" / "assets" / "clippo-cpu-tiny-scenes"  # the shipped cpu-tiny CLIPPO: small and fast
ENGINE = [sys.executable, "-m", "engine.cli"]
HOST = "127.0.0.1"


def engine_cmd(*args: object) -> list[str]:
    return ENGINE + [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args]


def run_engine(*args: object, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `engine ARGS` to the end (bounded), capturing its output."""
    return subprocess.run(engine_cmd(*args), capture_output=True, timeout=timeout, env=quiet_env())


def quiet_env() -> dict[str, str]:
    return {**os.environ, "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}


def one_line_error(result: subprocess.CompletedProcess) -> bool:
    """A user-facing failure: exit 2, one `engine: error:` line on stderr, no traceback."""
    err = result.stderr.decode("utf-8", "replace").strip()
    return result.returncode == 2 and err.startswith("engine: error:") and "\n" not in err and "Traceback" not in err


def kill_at(cmd: list[str], moment: float, timeout: float = 600) -> dict:
    """Start `cmd`, SIGKILL it `moment` seconds later (unless it ended first); what happened."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=quiet_env())
    try:
        process.wait(timeout=moment)
        finished = True
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        finished = False
    process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):  # orphaned worker processes of the killed run
        os.killpg(process.pid, signal.SIGKILL)
    return {"moment_s": round(moment, 3), "killed": not finished, "rc": process.returncode, "lived_s": round(time.monotonic() - started, 3)}


def moments(count: int, rng, runs: list[dict]) -> Iterator[float]:
    """Kill moments as fractions of a run's length: `count` spread over (0, 1), one at a random point
    of each equal slice, then random ones until `count` of `runs` were killed (at most `count` more).
    On a shared machine a run's length drifts, and a moment past the end of a run kills nothing."""
    yield from ((i + rng.random()) / count for i in range(count))
    while sum(r["killed"] for r in runs) < count and len(runs) < 2 * count:
        yield rng.random()


def run_length(samples: list[float]) -> float:
    """What the next run will likely take: the shortest of the latest three whole runs (a moment
    too early still kills; one too late does not)."""
    return min(samples[-3:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """`engine serve INDEX` on 127.0.0.1, started and stopped by the probe."""

    def __init__(self, index: Path, *options: object) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            engine_cmd("serve", index, "--host", HOST, "--port", self.port, *options), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=quiet_env()
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"engine serve exited: {self.process.stderr.read().decode(errors='replace')[-2000:]}")
            with contextlib.suppress(OSError):
                if self.get("/health")[0] == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("engine serve did not answer /health within 120 s")

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def get(self, target: str, timeout: float = 30) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def stop(self) -> str:
        """Stop the server; its stderr (tracebacks would show there)."""
        self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err.decode("utf-8", "replace")


@contextlib.contextmanager
def serving(index: Path, *options: object) -> Iterator[Server]:
    server = Server(index, *options)
    try:
        yield server
    finally:
        server.stop()


def index_state(directory: Path) -> dict:
    """What an index holds, read back through engine.open_index and a query: for comparisons."""
    import engine

    index = engine.open_index(directory)
    meta = index.metadata
    rows = Counter(zip(meta["modality"], meta["path"].fillna(""), meta["text"].fillna("")))
    hits = index.search_text("a red circle", k=5)
    return {
        "count": len(index),
        "ids_ok": meta["id"].tolist() == list(range(len(meta))),
        "rows": rows,
        "answers": len(hits) == min(5, len(index)),
        "generation": index.manifest["generation"],
    }


def leftovers(directory: Path) -> list[str]:
    """Files in an index folder that the live manifest does not name (temporary or stale)."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    live = set(manifest["files"].values()) | {"manifest.json", ".lock"}
    return sorted(p.name for p in directory.iterdir() if p.name not in live)


def table(title: str, header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table (what docs/faults.md holds), titled."""
    cells = [[str(c) for c in row] for row in rows]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", "\\n") for c in row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def write_texts(path: Path, texts: list[str]) -> Path:
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


def captions(prefix: str, count: int) -> list[str]:
    """Distinct short captions in several scripts, numbered so none repeats."""
    words = ["red circle", "blue square", "ein grüner Kreis", "黄色的正方形", "красный круг", "دائرة زرقاء", "नीला वर्ग", "สีแดง"]
    return [f"{prefix} {words[i % len(words)]} {i}" for i in range(count)]
