"""Run a function over a list of calls in child processes, without a thread in the parent.

ProcessPoolExecutor feeds its workers from a thread; where that thread cannot start (an
address-space cap such as `ulimit -v`, which counts every thread's stack), the pool waits
forever. Here each call gets its own process and a one-way pipe back, and the parent only
waits on pipes, so a worker that dies or cannot start is an error, never a hang.
"""
from __future__ import annotations

import multiprocessing as mp
from multiprocessing.connection import wait
from typing import Any, Callable, Sequence

from ovid.errors import OvidError


def _call(fn: Callable, args: tuple, conn) -> None:
    try:
        conn.send((True, fn(*args)))
    except BaseException as exc:  # the parent re-raises it, so nothing is lost here
        try:
            conn.send((False, exc))
        except Exception:  # an exception that does not pickle still reaches the parent as text
            conn.send((False, OvidError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def map_in_processes(fn: Callable, calls: Sequence[tuple], processes: int) -> list[Any]:
    """[fn(*args) for args in calls], at most `processes` at once, results in the calls' order.
    The first failure is raised in the parent after the running workers are stopped."""
    ctx = mp.get_context()
    results: list[Any] = [None] * len(calls)
    pending = list(enumerate(calls))[::-1]
    running: dict = {}  # the read end of each worker's pipe -> (call index, process)
    try:
        while pending or running:
            while pending and len(running) < max(1, processes):
                i, args = pending.pop()
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_call, args=(fn, tuple(args), send), daemon=True)
                proc.start()
                send.close()  # so the read end sees EOF when the worker dies
                running[recv] = (i, proc)
            for conn in wait(list(running)):
                i, proc = running.pop(conn)
                try:
                    ok, value = conn.recv()
                except EOFError:
                    ok, value = False, None
                conn.close()
                proc.join()
                if not ok:
                    if value is None:
                        raise OvidError(f"a worker process died without an answer (exit code {proc.exitcode}); "
                                        "if it ran out of memory, use fewer workers")
                    raise value
                results[i] = value
    finally:
        for conn, (_, proc) in running.items():
            proc.terminate()
            proc.join()
            conn.close()
    return results
