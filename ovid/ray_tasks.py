"""Ray as an engine for ovid's parallel jobs: the same calls that `map_in_processes` runs on one
machine, run as Ray tasks on a laptop or a cluster (`ray start --head`, then `--ray-address`).

Ray is an optional extra (`pip install 'ovid[ray]'`); it is imported only when asked for.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, fields
from typing import Any, Callable, Sequence

from .errors import OvidError
from .hardware import cores
from .settings import at_least, check_settings, one_of, setting

ENGINES = ("local", "ray")


@dataclass(frozen=True, kw_only=True)
class RaySettings:
    """Where a job runs: in this process, or on Ray (a local Ray on this machine's cores, or the
    cluster at `ray_address`) with `workers` actors that each load the model once."""
    engine: str = setting("local", "Where the work runs: local (this process) or ray (Ray actors, each loading "
                          "the model once; on a cluster with --ray-address).", check=one_of(*ENGINES))
    ray_address: str | None = setting(None, "A Ray cluster's address (ray start --head prints it); default: a "
                                      "local Ray on this machine's cores.")
    workers: int = setting(1, "Ray: actors working in parallel, each with its own copy of the model.",
                           check=at_least(1))
    gpus_per_worker: float = setting(0.0, "Ray: GPUs per actor (0: CPU only).", check=at_least(0))

    def __post_init__(self) -> None:
        check_settings(self)
        check_ray_only(self, [f.name for f in fields(RaySettings) if f.name != "engine"])


def check_ray_only(obj: Any, names: Sequence[str]) -> None:
    """Options that mean something only on Ray are refused with the local engine, not ignored."""
    if obj.engine == "local":
        for name in names:
            if getattr(obj, name) != type(obj).__dataclass_fields__[name].default:
                raise OvidError(f"--{name.replace('_', '-')} applies to --engine ray only")


def import_ray():
    try:
        import ray
    except ImportError:
        raise OvidError("--engine ray needs Ray: pip install 'ovid[ray]'") from None
    return ray


def init_ray(address: str | None = None, num_cpus: int | None = None):
    """Connect to the cluster at `address` (or at $RAY_ADDRESS; neither: start a local Ray with
    `num_cpus`), once per process; returns the ray module."""
    ray = import_ray()
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        kwargs = {"address": address} if address else {"num_cpus": num_cpus}
        try:
            ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR, **kwargs)
        except (ConnectionError, ValueError) as e:
            where = f"--ray-address {address}" if address else "a local Ray"
            raise OvidError(f"{where}: cannot start or reach Ray ({' '.join(str(e).split())[:200]})") from None
    return ray


def quiet_ray_data() -> None:
    """ovid shows its own progress: no Ray Data bars or per-run log lines on stderr."""
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def actor_pool(workers: int):
    from ray.data import ActorPoolStrategy

    return ActorPoolStrategy(size=workers)


def start_ray(settings: RaySettings):
    """The ray module, connected to `settings.ray_address` or to a local Ray on this machine's
    cores, with Ray Data quiet."""
    ray = init_ray(settings.ray_address, cores() if not settings.ray_address else None)
    quiet_ray_data()
    return ray


def actor_options(settings: RaySettings, tasks: int) -> dict:
    """map_batches keywords for a pool of up to `workers` actors (no more than there are
    `tasks`). On a local Ray its CPUs are shared out among them (torch then runs that many
    threads in each); on a cluster each takes one CPU and its GPUs. A pool the Ray it runs on
    cannot hold is refused here: Ray would wait for it forever."""
    import ray

    workers = max(1, min(settings.workers, tasks))
    have = ray.cluster_resources()
    local = not (settings.ray_address or os.environ.get("RAY_ADDRESS"))
    cpus = have.get("CPU", 1) / workers if local else 1
    gpus = settings.gpus_per_worker
    if not local and workers * cpus > have.get("CPU", 0):
        raise OvidError(f"--workers {workers}: the Ray cluster has {have.get('CPU', 0):g} CPUs, "
                        f"one per worker is needed")
    if gpus and workers * gpus > have.get("GPU", 0):
        raise OvidError(f"--workers {workers} x --gpus-per-worker {gpus:g}: the Ray cluster has "
                        f"{have.get('GPU', 0):g} GPUs")
    return {"compute": actor_pool(workers), "num_cpus": cpus, "num_gpus": gpus or None}


def map_with_actors(ds, cls: type, kwargs: dict, settings: RaySettings, tasks: int):
    """ds.map_batches(cls, one row a call) on a pool of actors made with `kwargs`. An actor that
    dies (out of memory, a crash) is restarted and its call retried twice, not forever as Ray
    Data's default would (passed as Ray remote arguments, which Ray Data marks deprecated)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ds.map_batches(cls, fn_constructor_kwargs=kwargs, batch_size=1, batch_format="numpy",
                              max_restarts=2, max_task_retries=2, **actor_options(settings, tasks))


def error_fields(e: OvidError) -> dict:
    """An OvidError an actor caught, as columns of its output (Ray Data drops the original
    exception on the way to the driver, keeping only a traceback's text)."""
    return {"error": type(e).__name__, "message": str(e)}


def raise_error_fields(row: dict) -> None:
    """The driver's side of `error_fields`: raise the actor's error as itself."""
    if row.get("error"):
        from . import errors

        cls = getattr(errors, row["error"], OvidError)
        raise (cls if isinstance(cls, type) and issubclass(cls, OvidError) else OvidError)(row["message"])


def use_assigned_cpus() -> None:
    """In an actor: torch threads = the CPUs Ray gave it (Ray sets OMP_NUM_THREADS only for
    whole CPUs)."""
    import ray
    import torch

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))


def map_in_ray(fn: Callable, calls: Sequence[tuple], num_cpus: float = 1, address: str | None = None,
               local_cpus: int | None = None) -> list[Any]:
    """[fn(*args) for args in calls] as Ray tasks of `num_cpus` each, results in the calls' order;
    the first failure is raised here as the task raised it."""
    ray = init_ray(address, local_cpus)
    task = ray.remote(num_cpus=num_cpus)(fn)
    refs = [task.remote(*args) for args in calls]
    try:
        return ray.get(refs)
    except ray.exceptions.RayError as e:
        raise ray_failure(e) from None


def ray_failure(e: BaseException) -> OvidError:
    """The OvidError a task or actor raised (Ray wraps it, once per layer), else a one-line
    OvidError saying that Ray failed and why."""
    first, seen = e, set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OvidError):
            return e
        as_cause = getattr(e, "as_instanceof_cause", None)
        cause = as_cause() if as_cause else None
        if isinstance(cause, OvidError):
            return cause
        e = getattr(e, "cause", None) or e.__cause__ or e.__context__
    lines = [ln for ln in str(first).splitlines() if ln.strip()]
    return OvidError(f"a Ray worker failed: {lines[-1][:300] if lines else type(first).__name__}")
