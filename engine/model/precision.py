"""The one answer to "compute in bf16 here?", for the trainer and for inference alike.

bf16 pays where the hardware computes it natively: CUDA, and CPUs with AVX512-BF16 or AMX. On a
CPU without those instructions (AVX2 only) oneDNN emulates bf16 matmuls at a fraction of fp32's
speed (docs/training-notes.md), so `auto` must not pick it there. The loss is always fp32.
"""

from __future__ import annotations

from functools import cache

import torch


@cache
def cpu_has_native_bf16() -> bool:
    """True on CPUs with AVX512-BF16 or AMX (torch's own CPU feature probes)."""
    probes = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return any(probe is not None and probe() for probe in probes)


def autocast_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `choice` ("auto", "bf16", "fp32") on `device`; None means fp32."""
    if choice == "auto":
        return torch.bfloat16 if device.type == "cuda" or cpu_has_native_bf16() else None
    return torch.bfloat16 if choice == "bf16" else None
