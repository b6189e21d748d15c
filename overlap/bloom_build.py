"""Build the memorization study's Bloom filter from a corpus too big for memory, in parallel.

The corpus is cut into shards: byte ranges of each JSONL file (a line belongs to the shard its
first byte falls in), or, for other formats, every W-th record. Each shard is built in its own
process, streaming its texts in batches of about `batch_bytes`, into a filter of the final size,
and saved (safetensors, atomically) under `<out>.shards/`; the parent then ORs the shards into
the output. Memory per worker: the filter plus one batch; in the parent: two filters.
A killed build resumes: finished shards are reused (their metadata must match this build).
Without `capacity`, a first parallel pass counts the n-grams to size the filter.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ovid.corpus import check_sources
from ovid.corpus_units import Unit, read_unit
from ovid.errors import CorpusError, OvidError
from ovid.hardware import cores
from ovid.log import logger
from ovid.paths import check_output_dir, check_output_file
from ovid.processes import map_in_processes
from ovid.ray_tasks import ENGINES, map_in_ray
from ovid.settings import at_least, check_settings, fraction, one_of, setting

from .bloom import BloomFilter
from .ngrams import BATCH_BYTES, N, batch_ngram_hashes, byte_batches, count_ngrams


@dataclass(kw_only=True)
class BloomBuildConfig:
    sources: list[str] = setting(factory=list, help="Reference corpora (JSONL files stream in byte ranges; "
                                 "any corpus format).")
    out: str = setting("reference.bloom", "The filter file (safetensors).")
    overwrite: bool = setting(False, "Replace an existing --out that is not an ovid Bloom filter.")
    capacity: int | None = setting(None, "N-grams to size the filter for (default: count them first, one more pass).",
                                   check=at_least(1, optional=True))
    fpr: float = setting(1e-3, "Configured false-positive rate.", check=fraction())
    n: int = setting(N, "N-gram length (the GPT-2 paper: 8).", check=at_least(1))
    # 1, as --workers is everywhere: each shard holds a whole filter, so more workers is more memory
    workers: int = setting(1, "Processes, one shard each (0 = one per core).", check=at_least(0))
    batch_bytes: int = setting(BATCH_BYTES, "Text per hashing batch (bounds a worker's memory).", check=at_least(1))
    engine: str = setting("local", "Where the shards are built: local (processes) or ray (Ray tasks, on a cluster "
                          "with --ray-address; every worker must see the corpus files).", check=one_of(*ENGINES))
    ray_address: str | None = setting(None, "A Ray cluster's address (ray start --head prints it); default: a "
                                      "local Ray with --workers CPUs.")

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class Shard:
    source: str
    start: int = 0  # byte range of a JSONL file
    end: int = 0
    stripe: int = 0  # or: records i with i % stripes == stripe, for other formats
    stripes: int = 1


def plan_shards(sources: list[str], workers: int) -> list[Shard]:
    shards = []
    for src in sources:
        if src.endswith(".jsonl") and Path(src).is_file():
            size = Path(src).stat().st_size
            cuts = np.linspace(0, size, workers + 1).astype(int)
            shards += [Shard(src, int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
        else:
            shards += [Shard(src, stripe=i, stripes=workers) for i in range(workers)]
    return shards


def _jsonl_range(shard: Shard) -> Iterator[str]:
    with open(shard.source, "rb") as f:
        if shard.start > 0:
            f.seek(shard.start - 1)
            f.readline()  # finish the line that began before this shard
        while f.tell() < shard.end:
            at = f.tell()
            line = f.readline()
            if not line:
                break
            if not line.strip():
                continue
            if at == 0 and line.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark
                line = line[3:]
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as e:
                raise CorpusError(f"{shard.source}: not UTF-8 text (byte {at + e.start})") from None
            try:
                text = json.loads(line)["text"]
            except (ValueError, KeyError, TypeError):
                raise CorpusError(f"{shard.source} (line at byte {at}): expected a JSON object with a "
                                  f"string 'text' field: {line[:60]!r}") from None
            if not isinstance(text, str):
                raise CorpusError(f"{shard.source} (line at byte {at}): 'text' is not a string")
            yield text


def shard_texts(shard: Shard) -> Iterator[str]:
    if shard.stripes == 1 and shard.source.endswith(".jsonl"):
        yield from _jsonl_range(shard)
        return
    for rec in read_unit(Unit(shard.source, stripe=shard.stripe, stripes=shard.stripes)):
        yield rec.text


def count_shard(shard: Shard, n: int) -> int:
    return count_ngrams(shard_texts(shard), n)


def build_shard(shard: Shard, m: int, k: int, n: int, batch_bytes: int, path: str) -> str:
    bloom = BloomFilter.empty(m, k)
    for batch in byte_batches(shard_texts(shard), batch_bytes):
        bloom.add(batch_ngram_hashes(batch, n)[0])
    bloom.save(path, shard=asdict(shard), n=n)
    return path


def _shard_is_done(path: Path, shard: Shard, m: int, k: int, n: int) -> bool:
    if not path.exists():
        return False
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
    except Exception:
        return False
    return (meta.get("m"), meta.get("k"), meta.get("n"), meta.get("shard")) == \
        (str(m), str(k), json.dumps(n), json.dumps(asdict(shard)))


def _holds_only_shards(folder: Path) -> bool:
    return all(re.fullmatch(r"\.?shard-\d{4}-of-\d{4}\.bloom(\..*\.tmp)?", p.name) for p in folder.iterdir())


def build_bloom(cfg: BloomBuildConfig, progress: bool = True) -> BloomFilter:
    """Build (or resume) the filter of cfg.sources into cfg.out; returns it."""
    if not cfg.sources:
        raise OvidError("no corpus given to build a Bloom filter from")
    check_sources(cfg.sources)
    check_output_file(cfg.out, inputs=cfg.sources, overwrite=cfg.overwrite, ours=BloomFilter.is_bloom_file,
                      what="an ovid Bloom filter")
    folder = Path(str(cfg.out) + ".shards")
    check_output_dir(folder, inputs=cfg.sources, option="--out", ours=_holds_only_shards,
                     what="of shards of an interrupted ovid bloom")
    workers = cfg.workers or cores()
    shards = plan_shards(cfg.sources, workers)
    if not shards:
        raise CorpusError(f"{', '.join(cfg.sources)}: no texts")
    say = logger("ovid bloom") if progress else (lambda msg: None)
    processes = min(workers, len(shards))
    if cfg.engine == "ray":  # the same calls as Ray tasks; the OR of the shards does not depend on who built them
        def run(fn, calls, _processes):
            return map_in_ray(fn, calls, address=cfg.ray_address, local_cpus=workers)
    else:
        run = map_in_processes
    capacity = cfg.capacity
    if capacity is None:
        capacity = sum(run(count_shard, [(s, cfg.n) for s in shards], processes))
        if capacity == 0:
            raise CorpusError(f"{', '.join(cfg.sources)}: no {cfg.n}-grams (no text of {cfg.n} words or more)")
        say(f"counted {capacity:,} {cfg.n}-grams")
    m, k = BloomFilter.shape_for(capacity, cfg.fpr)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"shard-{i:04d}-of-{len(shards):04d}.bloom" for i in range(len(shards))]
    todo = [i for i, p in enumerate(paths) if not _shard_is_done(p, shards[i], m, k, cfg.n)]
    say(f"building {len(todo)} of {len(shards)} shards in {processes} {'Ray tasks' if cfg.engine == 'ray' else 'processes'} "
        f"({m / 8 / 2**20:.1f} MiB filter, k={k})")
    run(build_shard, [(shards[i], m, k, cfg.n, cfg.batch_bytes, str(paths[i])) for i in todo], processes)
    merged = BloomFilter.load(paths[0])
    for p in paths[1:]:
        merged.merge(BloomFilter.load(p))
    merged.save(cfg.out, n=cfg.n, fpr=cfg.fpr, capacity=capacity, sources=cfg.sources)
    for p in folder.glob("shard-*.bloom"):  # only what this build wrote, then the folder if empty
        p.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()
    say(f"wrote {cfg.out}: {merged.n_added:,} {cfg.n}-grams added, estimated fpr {merged.estimated_fpr():.2e}")
    return merged

