"""What this machine offers: cores, CPU bf16 support, a GPU; the dtype, device and thread count
the heavy work should use."""
from __future__ import annotations

import atexit
import functools
import math
import os
import platform
import tempfile
from pathlib import Path


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


def cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs the cgroup's CPU quota allows (cgroup v2 cpu.max, or v1 cfs_quota/period), None if none."""
    try:
        with open(f"{root}/cpu.max", encoding="utf-8") as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(f"{root}/cpu/cpu.cfs_quota_us", encoding="utf-8") as f:
            quota = int(f.read())
        with open(f"{root}/cpu/cpu.cfs_period_us", encoding="utf-8") as f:
            period = int(f.read())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def cores() -> int:
    """CPUs this process may run on: its affinity, capped by a container's CPU quota (not the
    host's count)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    quota = cpu_quota()
    return max(1, min(n, math.ceil(quota))) if quota else n


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


THREADS_ENV = "OVID_THREADS"  # a fixed thread count; OMP_NUM_THREADS is honoured as well
_threads_given: int | None = None  # --threads


def set_threads(n: int | None) -> None:
    """Fix this process's intra-op threads (--threads); None: the shared budget."""
    global _threads_given
    _threads_given = n


def jobs_dir() -> Path:
    """Where running ovid processes leave a file named by their pid, so each can see how many
    share the machine's cores."""
    return Path(tempfile.gettempdir()) / f"ovid-jobs-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def live_jobs(folder: Path | None = None) -> int:
    """Running ovid processes that score or generate on this machine (this one included), the
    files of ended ones cleared on the way."""
    folder = folder or jobs_dir()
    n = 0
    for f in folder.glob("*") if folder.is_dir() else []:
        if f.name.isdigit() and _alive(int(f.name)):
            n += 1
        else:
            f.unlink(missing_ok=True)
    return max(1, n)


_registered = False


def register_job(folder: Path | None = None) -> None:
    """Count this process among the machine's ovid jobs until it exits."""
    global _registered
    if _registered:
        return
    folder = folder or jobs_dir()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        mine = not hasattr(os, "getuid") or folder.stat().st_uid == os.getuid()
        if folder.is_symlink() or not folder.is_dir() or not mine:
            raise OSError("not ovid's own folder")
        mark = folder / str(os.getpid())
        mark.touch()
        atexit.register(mark.unlink, missing_ok=True)
    except OSError:  # an unwritable temp folder: this process just is not counted
        pass
    _registered = True


def thread_budget(jobs: int | None = None) -> int:
    """Intra-op threads for this process: --threads (OVID_THREADS) or OMP_NUM_THREADS when given,
    else its cores shared evenly among the ovid jobs running now, so two jobs on one machine do
    not each start a thread per core and fight over them."""
    if _threads_given:
        return _threads_given
    for env in (THREADS_ENV, "OMP_NUM_THREADS"):
        value = os.environ.get(env, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return max(1, cores() // (jobs if jobs is not None else live_jobs()))


def balance_threads() -> int:
    """Set torch's thread count to this process's budget now (cheap; called before each batch of
    forward passes, so a job that outlives another takes its cores back). Returns the count."""
    import torch

    register_job()
    n = thread_budget()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def use_all_cores() -> None:
    """Kept for callers that load a model: the thread budget, set once at load."""
    balance_threads()
