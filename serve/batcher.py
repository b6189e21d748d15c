"""Micro-batching: the requests that arrive within a few milliseconds of each other (or while a
batch is running) are scored in one call, so concurrent clients share forward passes.

One worker thread runs every batch, so the models are only ever used from one thread. Each
request is a `Job` of items for one group (a detector, or a detector's token view); the worker
takes the first job waiting, then every job that arrives before `wait_s` has passed or the
batch holds `max_tokens` tokens, runs each group's items in one call of `run(group, items)`,
and hands each job its own slice of the results. Switched off, it runs one job at a time.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

Run = Callable[[str, list[Any]], Sequence[Any]]


@dataclass
class Job:
    group: str
    items: list[Any]
    tokens: int
    future: Future = field(default_factory=Future)


class BatcherClosed(RuntimeError):
    """The service stopped before this request's turn came."""


@dataclass
class BatchStats:
    failed: int = 0  # batches whose run() raised
    batches: int = 0
    jobs: int = 0
    items: int = 0
    largest: int = 0  # most jobs in one batch

    def as_dict(self) -> dict:
        return {"batches": self.batches, "failed_batches": self.failed, "requests": self.jobs, "texts": self.items, "largest_batch": self.largest,
                "mean_requests_per_batch": round(self.jobs / self.batches, 3) if self.batches else 0.0}


class MicroBatcher:
    def __init__(self, run: Run, *, enabled: bool = True, wait_s: float = 0.005, max_tokens: int = 16_384):
        self.run, self.enabled, self.wait_s, self.max_tokens = run, enabled, wait_s, max_tokens
        self.stats = BatchStats()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ovid-batcher", daemon=True)
        self._thread.start()

    def submit(self, group: str, items: list[Any], tokens: int) -> Future:
        """A future of `run(group, items)`'s results for these items (same order)."""
        job = Job(group, list(items), tokens)
        self._queue.put(job)
        return job.future

    def close(self) -> None:
        """Stop after the batch in flight; requests still waiting get BatcherClosed."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout=30)
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(BatcherClosed("the service is shutting down"))

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _collect(self, first: Job) -> tuple[list[Job], bool]:
        """The jobs of one batch, and whether the batcher was closed meanwhile."""
        batch, tokens = [first], first.tokens
        if not self.enabled:
            return batch, False
        deadline = time.monotonic() + self.wait_s
        while tokens < self.max_tokens:
            try:  # what already waits joins at once; then wait out the rest of wait_s
                job = self._queue.get(timeout=max(0.0, deadline - time.monotonic())) \
                    if time.monotonic() < deadline else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return batch, True
            batch.append(job)
            tokens += job.tokens
        return batch, False

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, closing = self._collect(first)
            live = [j for j in batch if j.future.set_running_or_notify_cancel()]  # timed-out requests drop out
            if self._closing.is_set():
                for j in live:
                    j.future.set_exception(BatcherClosed("the service is shutting down"))
                live = []
            for group in dict.fromkeys(j.group for j in live):
                jobs = [j for j in live if j.group == group]
                items = [it for j in jobs for it in j.items]
                try:
                    results = list(self.run(group, items))
                    if len(results) != len(items):
                        raise RuntimeError(f"{len(items)} items gave {len(results)} results")
                except Exception as e:  # run() isolates each item's failure: this is a bug; the worker goes on
                    self.stats.failed += 1
                    for j in jobs:
                        j.future.set_exception(e)
                    continue
                start = 0
                for j in jobs:
                    j.future.set_result(results[start:start + len(j.items)])
                    start += len(j.items)
                self.stats.batches += 1
                self.stats.jobs += len(jobs)
                self.stats.items += len(items)
                self.stats.largest = max(self.stats.largest, len(jobs))
            if closing:
                return
