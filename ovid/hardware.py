"""What this machine offers: cores, CPU bf16 support, a GPU; the dtype, device and thread count
the heavy work should use."""
from __future__ import annotations

import functools
import os
import platform


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cores() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def device() -> str:
    """cuda when a GPU is visible, else cpu; OVID_DEVICE overrides."""
    import torch

    return os.environ.get("OVID_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")


def bf16_fast() -> bool:
    """Whether bfloat16 matmuls run natively: any recent GPU, or a CPU with AVX512-BF16 or AMX."""
    import torch

    if device().startswith("cuda"):
        return torch.cuda.is_bf16_supported()
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def resolve_dtype(dtype: str) -> str:
    """'auto' -> bfloat16 where it runs natively, float32 elsewhere; other names unchanged."""
    return ("bfloat16" if bf16_fast() else "float32") if dtype == "auto" else dtype


_threads_set = False


def use_all_cores() -> None:
    """One intra-op thread per available core (torch's default counts the host's physical
    cores, which a container may not have); OMP_NUM_THREADS, when set, wins. Done once."""
    global _threads_set
    if _threads_set or os.environ.get("OMP_NUM_THREADS"):
        return
    import torch

    torch.set_num_threads(cores())
    _threads_set = True
