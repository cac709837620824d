"""Probe 4: sustained load on `engine serve`: text and image queries at a fixed concurrency, bounded in
time; throughput, latency percentiles, errors, the server's RSS at the start and the end, /health."""

from __future__ import annotations

import http.client
import itertools
import json
import random
import threading
import time
from urllib.parse import quote

import numpy as np

from benchmarks.faults.common import HOST, Server, table
from benchmarks.faults.corpus import encoded, photo
from benchmarks.faults.hostile import BOUNDARY, multipart

WARM_UP = 500  # queries of the same mix before RSS at the start is read


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, port: int) -> None:
        self.port, self.connection = port, None

    def send(self, method: str, target: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            self.connection.request(method, target, body=body, headers=headers or {})
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise


def text_queries(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["red", "blue", "green", "circle", "square", "Kreis", "grün", "круг", "красный", "正方形", "黄色", "دائرة", "नीला", "สีแดง"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) + f" {rng.randint(0, 999)}" for _ in range(count)]


def _drive(server: Server, jobs: list[tuple[str, object]], concurrency: int, deadline: float) -> list[tuple[str, float, bool]]:
    """Send `jobs` over `concurrency` keep-alive connections until done or `deadline`; (kind, seconds, ok) each."""
    results: list[tuple[str, float, bool]] = []
    lock, cursor = threading.Lock(), itertools.count()

    def worker() -> None:
        client = Client(server.port)
        while time.monotonic() < deadline:
            i = next(cursor)
            if i >= len(jobs):
                return
            kind, query = jobs[i]
            started = time.monotonic()
            try:
                if kind == "text":
                    status, body = client.send("GET", "/search?q=" + quote(query) + "&k=10")
                else:
                    status, body = client.send("POST", "/search/image?k=10", multipart(query), {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
                ok = status == 200 and len(json.loads(body)["results"]) == 10
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                ok = False
            with lock:
                results.append((kind, time.monotonic() - started, ok))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _jobs(texts: int, images: int, seed: int) -> list[tuple[str, object]]:
    uploads = [encoded(photo(i, (96 + i, 72 + i)), "PNG") for i in range(50)]
    jobs = [("text", q) for q in text_queries(texts, seed)] + [("image", uploads[i % len(uploads)]) for i in range(images)]
    random.Random(seed).shuffle(jobs)
    return jobs


def run(server: Server, texts: int, images: int, concurrency: int, bound_s: float, seed: int = 0) -> dict:
    """The load, after a warm-up of the same mix at the same concurrency: the server's thread pool and
    memory arenas fill during the first few hundred queries, and "RSS at the start" means after that."""
    jobs = _jobs(texts, images, seed)
    warm_share = WARM_UP / max(1, texts + images)
    _drive(server, _jobs(round(texts * warm_share), round(images * warm_share), seed + 1), concurrency, time.monotonic() + bound_s)
    rss_start = server.rss_mb()
    health: list[int | None] = []
    rss: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                health.append(server.get("/health", timeout=10)[0])
            except OSError:
                health.append(None)
            rss.append(round(server.rss_mb(), 1))
            stop.wait(2)

    poller = threading.Thread(target=poll)
    poller.start()
    started = time.monotonic()
    results = _drive(server, jobs, concurrency, started + bound_s)
    wall = time.monotonic() - started
    stop.set()
    poller.join()
    rss_end = server.rss_mb()
    after = server.get("/health")[0]
    out = {
        "concurrency": concurrency,
        "bound_s": bound_s,
        "wall_s": round(wall, 1),
        "planned": {"text": texts, "image": images},
        "warm_up": WARM_UP,
        "rss_start_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_end, 1),
        "rss_peak_mb": round(max([rss_end, *rss]), 1),
        "rss_growth": round(rss_end / rss_start - 1, 4),
        "rss_every_2s_mb": rss,
        "health_during": f"{health.count(200)}/{len(health)}",
        "health_after": after,
        "alive": server.alive(),
    }
    for kind in ("text", "image"):
        mine = [(seconds, ok) for k, seconds, ok in results if k == kind]
        latencies = np.array([seconds for seconds, _ in mine]) * 1000
        out[kind] = {
            "done": len(mine),
            "errors": sum(not ok for _, ok in mine),
            "p50_ms": round(float(np.percentile(latencies, 50)), 1) if len(mine) else None,
            "p99_ms": round(float(np.percentile(latencies, 99)), 1) if len(mine) else None,
        }
    out["throughput_qps"] = round(len(results) / wall, 1)
    return out


def report(result: dict) -> str:
    rows = [
        [kind, f"{result[kind]['done']:,} / {result['planned'][kind]:,}", result[kind]["errors"], result[kind]["p50_ms"], result[kind]["p99_ms"]]
        for kind in ("text", "image")
    ]
    title = (
        f"Sustained load (concurrency {result['concurrency']}, {result['wall_s']} s, {result['throughput_qps']} queries/s; "
        f"RSS after {result['warm_up']} warm-up queries {result['rss_start_mb']} -> end {result['rss_end_mb']} MB "
        f"({100 * result['rss_growth']:+.1f} %, peak {result['rss_peak_mb']}); "
        f"/health during {result['health_during']}, after {result['health_after']})"
    )
    return table(title, ["queries", "done / planned", "errors", "p50 ms", "p99 ms"], rows)
