"""The Ray executor: Ray Data prepares units in CPU actors and encodes them in model actors.

`engine index build --executor ray` starts a local Ray cluster of `workers` processes per stage
(or joins the one at `--address`, where every node needs this engine and the checkpoint at the
same path). Each stage is an actor pool, so every actor loads the checkpoint once: the CPU stage
(decoding photos, rendering texts: `units.prepare`) and the model stage (`map_batches`
with one unit a batch: `units.encode`). One unit is one model batch, the same batch the
local executor encodes, so both give the same vectors. The driver receives the vectors as they
come and writes each partition once it is complete.

A local cluster is kept small: this machine is shared, so the object store gets OBJECT_STORE
bytes (Ray spills to disk beyond that), there is no dashboard, and each actor asks for half a
CPU, so that both stages fit on `workers` CPUs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine.errors import EngineError

OBJECT_STORE = 256 * 2**20  # bytes: a unit of 64 decoded photos is ~10 MB; Ray spills beyond this
CPUS_PER_ACTOR = 0.5  # both stages' actors share the workers' CPUs


def embed_on_ray(model: Path, units: list[dict], workers: int | None, address: str | None) -> Iterator[dict]:
    """Encoded units (as `units.encode` returns them), in whatever order they finish."""
    try:
        import ray
    except ImportError:
        raise EngineError("--executor ray needs Ray: bash scripts/install_extras ray (or pip install 'engine[ray]')") from None
    if not units:
        return
    workers = workers or 2
    _start(ray, address, workers)
    try:
        checkpoint = str(Path(model).resolve())
        rows = [{"unit": json.dumps(unit)} for unit in units]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
        pool = ray.data.ActorPoolStrategy(size=min(workers, len(units)))
        dataset = dataset.map(_Prepare, fn_constructor_args=(checkpoint,), compute=pool, num_cpus=CPUS_PER_ACTOR)
        dataset = dataset.map_batches(_Encode, fn_constructor_args=(checkpoint,), batch_size=1, compute=pool, num_cpus=CPUS_PER_ACTOR)
        for row in dataset.iter_rows():
            yield {**json.loads(row["unit"]), "vectors": np.asarray(row["vectors"], dtype=np.float32)}
    finally:
        ray.shutdown()


def _start(ray, address: str | None, workers: int) -> None:
    context = ray.data.DataContext.get_current()  # importing ray.data configures its loggers: quiet them after
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    context.execution_options.preserve_order = False  # partitions are reassembled by (partition, seq)
    context.enable_progress_bars = False  # our own bar counts items
    env = {"env_vars": {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}}
    try:
        if address:
            ray.init(address=address, runtime_env=env, log_to_driver=False, logging_level=logging.WARNING)
        else:
            os.environ.setdefault("RAY_DEDUP_LOGS", "0")
            ray.init(
                num_cpus=workers,
                object_store_memory=OBJECT_STORE,
                include_dashboard=False,
                runtime_env=env,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise EngineError(f"cannot start or join the Ray cluster{' at ' + address if address else ''}: {str(error).splitlines()[0]}") from None


class _Prepare:
    """CPU stage actor: decodes photos / renders texts of one unit."""

    def __init__(self, checkpoint: str) -> None:
        import engine
        import torch

        torch.set_num_threads(1)
        self.encoder = engine.load(checkpoint)

    def __call__(self, row: dict) -> dict:
        from engine.index.units import prepare

        prepared = prepare(json.loads(row["unit"]), self.encoder)
        pixels = prepared.pop("pixels")
        return {"unit": json.dumps(prepared), "pixels": pixels}


class _Encode:
    """Model stage actor: encodes one prepared unit a call (map_batches with batch_size=1)."""

    def __init__(self, checkpoint: str) -> None:
        import engine
        import torch

        torch.set_num_threads(1)
        self.encoder = engine.load(checkpoint)

    def __call__(self, batch: dict) -> dict:
        from engine.index.units import encode

        unit = json.loads(batch["unit"][0])
        vectors = encode({**unit, "pixels": np.asarray(batch["pixels"][0])}, self.encoder)["vectors"]
        return {"unit": batch["unit"], "vectors": vectors[None]}
