"""The n-gram Bloom filter of a Ray Dataset's texts, on Ray: bit-identical to `ovid bloom` over the
same texts, because a filter is the OR of what was added, whoever added it.

    ds = ray.data.read_json("webtext/*.jsonl")
    bloom = bloom_from_dataset(ds, fpr=1e-3, workers=16)
    bloom.save("webtext.bloom")

Counting (for the size) is a Ray Data map and sum; the build gives each of `workers` tasks a
streaming split of the dataset and a filter of the final size, then ORs their filters on the
driver as each arrives (the driver holds about two filters at once; the CLI's build, `ovid bloom
--engine ray`, keeps its shards on disk instead).
"""
from __future__ import annotations

import numpy as np

from ovid.errors import CorpusError
from ovid.ray_tasks import import_ray, ray_failure

from .bloom import BloomFilter
from .ngrams import BATCH_BYTES, N, batch_ngram_hashes, byte_batches, count_ngrams


def _texts(batch: dict, text_column: str) -> list[str]:
    if text_column not in batch:
        raise CorpusError(f"the dataset has no {text_column!r} column (columns: {', '.join(batch)})")
    return [str(t) for t in batch[text_column]]


def _fill(split, m: int, k: int, n: int, text_column: str, batch_bytes: int) -> BloomFilter:
    bloom = BloomFilter.empty(m, k)
    for batch in split.iter_batches(batch_format="numpy"):
        for texts in byte_batches(_texts(batch, text_column), batch_bytes):
            bloom.add(batch_ngram_hashes(texts, n)[0])
    return bloom


def count_dataset_ngrams(ds, n: int = N, text_column: str = "text") -> int:
    """The n-grams of the dataset's texts (none crossing texts), counted by Ray Data tasks."""
    counted = ds.map_batches(lambda b: {"ngrams": np.asarray([count_ngrams(_texts(b, text_column), n)])},
                             batch_format="numpy")
    return int(counted.sum("ngrams") or 0)


def bloom_from_dataset(ds, *, capacity: int | None = None, fpr: float = 1e-3, n: int = N,
                       text_column: str = "text", workers: int = 1, batch_bytes: int = BATCH_BYTES) -> BloomFilter:
    """The Bloom filter of the n-grams of `ds`'s `text_column`, sized for `capacity` n-grams at
    `fpr` (default: counted first, one more pass over the data)."""
    ray = import_ray()
    try:
        if capacity is None:
            capacity = count_dataset_ngrams(ds, n, text_column)
            if capacity == 0:
                raise CorpusError(f"the dataset has no {n}-grams (no text of {n} words or more)")
        m, k = BloomFilter.shape_for(capacity, fpr)
        # the fills take no CPU from Ray's count: the read tasks that feed their splits must still
        # be scheduled (with every CPU held by a fill, a streaming split waits forever)
        fill = ray.remote(num_cpus=0, scheduling_strategy="SPREAD")(_fill)
        pending = [fill.remote(split, m, k, n, text_column, batch_bytes)
                   for split in ds.streaming_split(workers, equal=False)]
        merged = BloomFilter.empty(m, k)
        while pending:  # merge each part as it comes and let it go: the driver holds at most two
            [done], pending = ray.wait(pending, num_returns=1)
            merged.merge(ray.get(done))
            del done
    except ray.exceptions.RayError as e:
        raise ray_failure(e) from None
    return merged
