"""The engine's in-memory cache of token statistics: least recently used first out, bounded by
bytes, so a long-lived process (`ovid serve`) holds at most `max_bytes` however many texts pass.

A batch job (a study, `ovid score`) keeps its statistics here so that several detectors share
one forward pass; at 28 bytes a token (an int64 id and five float32 statistics) the default
1 GiB holds ~38M tokens, more than any study ovid runs.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from .features import TokenStats

DEFAULT_MAX_BYTES = 1 << 30
ENTRY_OVERHEAD = 600  # bytes per entry besides the arrays: the key, the dataclass, numpy headers


def stats_bytes(stats: TokenStats) -> int:
    """What one cached text costs: its arrays plus a fixed overhead."""
    return ENTRY_OVERHEAD + sum(getattr(stats, f).nbytes for f in TokenStats.__dataclass_fields__
                                if getattr(stats, f) is not None)


@dataclass(frozen=True)
class CacheInfo:
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int
    evictions: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class MemoryCache:
    """{text key: TokenStats}, least recently used evicted once the total passes `max_bytes`.
    Thread-safe; an entry larger than the whole budget is not kept."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[str, tuple[TokenStats, int]] = OrderedDict()
        self._bytes = self._hits = self._misses = self._evictions = 0
        self._lock = threading.Lock()

    def get_many(self, keys: list[str]) -> dict[str, TokenStats]:
        """The cached entries among `keys` (each counted as a hit or a miss, and marked used)."""
        out = {}
        with self._lock:
            for k in keys:
                item = self._items.get(k)
                if item is None:
                    self._misses += 1
                else:
                    self._hits += 1
                    self._items.move_to_end(k)
                    out[k] = item[0]
        return out

    def put_many(self, items: dict[str, TokenStats]) -> None:
        with self._lock:
            for k, stats in items.items():
                size = stats_bytes(stats)
                old = self._items.pop(k, None)
                if old is not None:
                    self._bytes -= old[1]
                if size > self.max_bytes:
                    continue
                self._items[k] = (stats, size)
                self._bytes += size
            self._shrink()

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = int(max_bytes)
            self._shrink()

    def _shrink(self) -> None:
        while self._bytes > self.max_bytes and self._items:
            _, (_, size) = self._items.popitem(last=False)
            self._bytes -= size
            self._evictions += 1

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(len(self._items), self._bytes, self.max_bytes, self._hits, self._misses, self._evictions)
