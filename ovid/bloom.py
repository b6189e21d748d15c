"""A Bloom filter as a numpy bit array: vectorised adds and queries, saved as safetensors, and
merged by bitwise OR so shards built in separate processes (or machines) combine.

Sizing for n items at false-positive rate p: m = -n ln p / (ln 2)^2 bits, k = (m / n) ln 2
hashes. Positions come from double hashing of the item's uint64 hash: h1 + i * h2 (mod m), with
h2 a second scramble of the hash, forced odd.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import OvidError
from .ngrams import mix64

_SEED2 = np.uint64(0xD6E8FEB86659FD93)
FORMAT = "ovid-bloom-v1"


@dataclass
class BloomFilter:
    m: int  # bits
    k: int  # hash functions
    bits: np.ndarray  # (ceil(m / 64),) uint64
    n_added: int = 0  # items added (with repeats), for the reported load

    @classmethod
    def for_capacity(cls, n_items: int, fpr: float) -> "BloomFilter":
        n = max(1, n_items)
        m = max(64, math.ceil(-n * math.log(fpr) / math.log(2) ** 2))
        k = max(1, round(m / n * math.log(2)))
        return cls(m, k, np.zeros((m + 63) // 64, dtype=np.uint64))

    def _positions(self, hashes: np.ndarray) -> np.ndarray:
        """(k, N) bit positions."""
        h1 = hashes.astype(np.uint64)
        h2 = mix64(h1 ^ _SEED2) | np.uint64(1)
        i = np.arange(self.k, dtype=np.uint64)[:, None]
        with np.errstate(over="ignore"):
            return (h1[None, :] + i * h2[None, :]) % np.uint64(self.m)

    def add(self, hashes: np.ndarray) -> None:
        if len(hashes) == 0:
            return
        pos = self._positions(hashes).ravel()
        np.bitwise_or.at(self.bits, (pos >> np.uint64(6)).astype(np.intp),
                         np.left_shift(np.uint64(1), pos & np.uint64(63)))
        self.n_added += len(hashes)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """bool per hash: True = possibly present, False = certainly absent."""
        if len(hashes) == 0:
            return np.zeros(0, dtype=bool)
        pos = self._positions(hashes)
        words = self.bits[(pos >> np.uint64(6)).astype(np.intp)]
        return np.all((words >> (pos & np.uint64(63))) & np.uint64(1), axis=0).astype(bool)

    def merge(self, other: "BloomFilter") -> "BloomFilter":
        """Union (bitwise OR) of two filters of the same size and hash count, in place."""
        if (self.m, self.k) != (other.m, other.k):
            raise OvidError(f"cannot merge Bloom filters of different shapes: m={self.m}, k={self.k} "
                            f"vs m={other.m}, k={other.k}; build shards with the same --capacity and --fpr")
        self.bits |= other.bits
        self.n_added += other.n_added
        return self

    def fill_ratio(self) -> float:
        return float(np.unpackbits(self.bits.view(np.uint8)).sum()) / self.m

    def estimated_fpr(self) -> float:
        """False-positive rate implied by the share of bits set: fill^k."""
        return self.fill_ratio() ** self.k

    def save(self, path: str | Path, **meta: str) -> None:
        from safetensors.numpy import save_file

        info = {"format": FORMAT, "m": str(self.m), "k": str(self.k), "n_added": str(self.n_added),
                **{k: json.dumps(v) for k, v in meta.items()}}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(path) + ".tmp")  # written whole, then renamed over the target
        save_file({"bits": self.bits}, str(tmp), metadata=info)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "BloomFilter":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
                if meta.get("format") != FORMAT:
                    raise OvidError(f"{path}: not an ovid Bloom filter (format {meta.get('format')!r})")
                bits = f.get_tensor("bits")
        except OvidError:
            raise
        except Exception as e:  # safetensors raises its own error types for foreign files
            raise OvidError(f"{path}: cannot read Bloom filter ({e})") from None
        bf = cls(int(meta["m"]), int(meta["k"]), bits.astype(np.uint64), int(meta["n_added"]))
        if len(bf.bits) != (bf.m + 63) // 64:
            raise OvidError(f"{path}: bit array length does not match m={bf.m}")
        return bf
