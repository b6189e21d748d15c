"""What machine a figure came from: CPU model, cores, bf16/AMX support, torch threads."""
from __future__ import annotations

from ovid.hardware import cores, cpu_flags, cpu_model


def describe() -> dict:
    import torch

    flags = cpu_flags()
    return {"cpu": cpu_model(), "cores": cores(), "avx512_bf16": "avx512_bf16" in flags,
            "amx_bf16": "amx_bf16" in flags, "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "kind": cpu_kind()}


def cpu_kind() -> str:
    """The CPU kind a figure belongs to (figures of different kinds are never set side by side):
    amx, avx512-bf16, avx512 or avx2, by the best bf16/SIMD units the CPU has."""
    flags = cpu_flags()
    return "amx" if "amx_bf16" in flags else "avx512-bf16" if "avx512_bf16" in flags else \
        "avx512" if "avx512f" in flags else "avx2"
