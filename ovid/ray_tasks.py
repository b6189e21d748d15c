"""Ray as an engine for ovid's parallel jobs: the same calls that `map_in_processes` runs on one
machine, run as Ray tasks on a laptop or a cluster (`ray start --head`, then `--ray-address`).

Ray is an optional extra (`pip install 'ovid[ray]'`); it is imported only when asked for.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .errors import OvidError

ENGINES = ("local", "ray")


def import_ray():
    try:
        import ray
    except ImportError:
        raise OvidError("--engine ray needs Ray: pip install 'ovid[ray]'") from None
    return ray


def init_ray(address: str | None = None, num_cpus: int | None = None):
    """Connect to the cluster at `address` (None: start a local Ray with `num_cpus`), once per
    process; returns the ray module."""
    ray = import_ray()
    if not ray.is_initialized():
        kwargs = {"address": address} if address else {"num_cpus": num_cpus}
        try:
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        except ConnectionError as e:
            raise OvidError(f"--ray-address {address}: no Ray cluster answers there ({e})") from None
    return ray


def map_in_ray(fn: Callable, calls: Sequence[tuple], num_cpus: float = 1, address: str | None = None,
               local_cpus: int | None = None) -> list[Any]:
    """[fn(*args) for args in calls] as Ray tasks of `num_cpus` each, results in the calls' order;
    the first failure is raised here as the task raised it."""
    ray = init_ray(address, local_cpus)
    task = ray.remote(num_cpus=num_cpus)(fn)
    refs = [task.remote(*args) for args in calls]
    try:
        return ray.get(refs)
    except ray.exceptions.RayTaskError as e:
        cause = e.as_instanceof_cause()
        raise (cause if isinstance(cause, OvidError) else OvidError(f"a Ray task failed: {e}")) from None
