"""The engine's in-memory statistics cache: bounded by bytes, least recently used out, and the
scores unchanged by eviction."""
from __future__ import annotations

import numpy as np

from ovid.detect.engine import get_engine
from ovid.detect.features import TokenStats
from ovid.detect.memory_cache import ENTRY_OVERHEAD, MemoryCache, stats_bytes
from ovid.detect.params import EngineConfig

from conftest import TRAIN_TEXT


def stats(n: int, fill: float = 0.0) -> TokenStats:
    f = np.full(n, fill, dtype=np.float32)
    return TokenStats(token_ids=np.arange(n, dtype=np.int64), log_prob=f, rank=f + 1, entropy=f, ref_mean=f, ref_var=f)


def test_size_counts_every_array():
    assert stats_bytes(stats(10)) == ENTRY_OVERHEAD + 10 * 8 + 5 * 10 * 4


def test_least_recently_used_goes_first_and_bytes_stay_under_the_limit():
    one = stats_bytes(stats(100))
    cache = MemoryCache(max_bytes=3 * one)
    cache.put_many({"a": stats(100), "b": stats(100), "c": stats(100)})
    assert cache.get_many(["a"]).keys() == {"a"}  # a is now the most recently used
    cache.put_many({"d": stats(100)})
    assert "b" not in cache and {"a", "c", "d"} <= set(cache._items)
    info = cache.info()
    assert (info.entries, info.bytes, info.evictions, info.hits, info.misses) == (3, 3 * one, 1, 1, 0)
    cache.get_many(["b", "a"])
    assert (cache.info().hits, cache.info().misses) == (2, 1)
    cache.put_many({"huge": stats(10_000)})  # larger than the whole budget: not kept, nothing evicted
    assert "huge" not in cache and len(cache) == 3
    cache.resize(one)
    assert len(cache) == 1 and cache.info().bytes <= one


def test_engine_scores_are_the_same_when_the_cache_holds_almost_nothing(tiny_lm):
    eng = get_engine(EngineConfig(model=tiny_lm, dtype="float32"))
    texts = TRAIN_TEXT[:5]
    eng.memory.clear()
    full = [s.log_prob.copy() for s in eng.token_stats(texts)]
    eng.memory.resize(stats_bytes(eng.token_stats(texts[:1])[0]))  # room for one text
    try:
        eng.memory.clear()
        again = eng.token_stats(texts)  # the call computes five and keeps one
        assert len(eng.memory) == 1
        for a, b in zip(full, again):
            np.testing.assert_allclose(a, b.log_prob, rtol=1e-5, atol=1e-5)
        assert eng.memory.info().bytes <= eng.memory.max_bytes
    finally:
        eng.memory.resize(1 << 30)


def test_calibration_keeps_the_score_distributions_it_was_set_on():
    from ovid.detect.calibration import calibrate_scores
    from ovid.detect.persistence import distributions_ok

    rng = np.random.default_rng(0)
    scores = np.r_[rng.normal(0, 1, 200), rng.normal(3, 1, 100)]
    labels = np.r_[np.zeros(200, int), np.ones(100, int)]
    d = calibrate_scores(scores, labels, 0.01, "platt")["distributions"]
    assert sum(d["human"]) == 200 and sum(d["machine"]) == 100 and len(d["edges"]) == 31
    assert np.argmax(d["human"]) < np.argmax(d["machine"])  # machine scores sit higher
    assert distributions_ok(d)
    assert not distributions_ok({**d, "edges": d["edges"][::-1]})
    assert not distributions_ok({**d, "human": d["human"][:-1]})
    assert not distributions_ok({**d, "extra": 1})
