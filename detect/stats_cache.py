"""On-disk cache of per-token statistics: Parquet shards in one folder per engine configuration.

Each `put` writes one new shard atomically (temp file + rename), so a killed run loses at most
the batch in flight and concurrent readers never see half a file.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .features import TokenStats
from .stats import STAT_NAMES


class StatsCache:
    def __init__(self, root: Path, config_key: str):
        self.dir = Path(root) / "token-stats" / hashlib.sha256(config_key.encode()).hexdigest()[:16]
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "config.txt").write_text(config_key + "\n", encoding="utf-8")
        self._index: dict[str, TokenStats] | None = None

    def _load(self) -> dict[str, TokenStats]:
        if self._index is None:
            self._index = {}
            for shard in sorted(self.dir.glob("*.parquet")):
                t = pq.read_table(shard).to_pydict()
                for j, key in enumerate(t["key"]):
                    pooled = None
                    if t.get("pooled") is not None:
                        pooled = np.asarray(t["pooled"][j], dtype=np.float32).reshape(t["pooled_shape"][j])
                    self._index[key] = TokenStats(
                        token_ids=np.asarray(t["token_ids"][j], dtype=np.int64), pooled=pooled,
                        **{k: np.asarray(t[k][j], dtype=np.float32) for k in STAT_NAMES})
        return self._index

    def get(self, keys: list[str]) -> dict[str, TokenStats]:
        index = self._load()
        return {k: index[k] for k in keys if k in index}

    def put(self, items: dict[str, TokenStats]) -> None:
        if not items:
            return
        cols = {"key": list(items), "token_ids": [s.token_ids.astype(np.int32) for s in items.values()]}
        for k in STAT_NAMES:
            cols[k] = [getattr(s, k).astype(np.float32) for s in items.values()]
        if all(s.pooled is not None for s in items.values()):
            cols["pooled"] = [s.pooled.astype(np.float32).ravel() for s in items.values()]
            cols["pooled_shape"] = [np.asarray(s.pooled.shape) for s in items.values()]
        table = pa.table({k: pa.array(v if k == "key" else [x.tolist() for x in v]) for k, v in cols.items()})
        tmp = self.dir / f".{uuid.uuid4().hex}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.dir / f"{uuid.uuid4().hex}.parquet")
        self._load().update(items)
