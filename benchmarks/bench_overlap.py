"""Overlap-study throughput: ovid's Bloom filter against a plain Python set, same run, real text.

    python benchmarks/bench_overlap.py --runs 3

Texts: every distinct human original and machine continuation in ../shared/data/fastdetectgpt
(10 files; `--repeat` reuses them for a bigger reference). The reference (build side) is the
first half of the texts; queries are the second half.
Both sides start from raw text, normalisation (lower-case, alphanumeric words) included:

- set: 8-gram strings " ".join(words[i:i+8]) into a Python set; queries are `in` tests;
- bloom: ovid.overlap.ngrams.batch_ngram_hashes (numpy over the text bytes) into ovid.overlap.bloom.BloomFilter,
  one process (the per-core figure);
- sharded: `ovid bloom` (ovid.overlap.bloom_build) on the reference written as JSONL, one process per
  core, counting pass skipped (capacity given), JSON parsing and the merge included.

Memory: the filter's bytes vs the set's traced allocations, per million 8-grams. FPR: the share
of query 8-grams absent from the reference (by exact set lookup) that the filter reports present,
against the configured rate. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ovid.overlap.bloom import BloomFilter  # noqa: E402
from ovid.overlap.bloom_build import BloomBuildConfig, build_bloom  # noqa: E402
from ovid.overlap.measure import build_filter  # noqa: E402
from ovid.overlap.ngrams import batch_ngram_hashes, byte_batches, count_ngrams, words  # noqa: E402

from _machine import describe  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fastdetectgpt"


def load_texts() -> list[str]:
    texts = []
    for f in sorted(DATA.glob("*.raw_data.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        texts += d["original"] + d["sampled"]
    return list(dict.fromkeys(texts))  # each XSum/WritingPrompts original appears in five files


def set_build(texts: list[str]) -> set[str]:
    grams = set()
    for t in texts:
        ws = words(t)
        grams.update(" ".join(ws[i:i + 8]) for i in range(len(ws) - 7))
    return grams


def set_query(grams: set[str], texts: list[str]) -> np.ndarray:
    hits = []
    for t in texts:
        ws = words(t)
        hits.extend(" ".join(ws[i:i + 8]) in grams for i in range(len(ws) - 7))
    return np.array(hits, dtype=bool)


def bloom_query(bf: BloomFilter, texts: list[str]) -> np.ndarray:
    return np.concatenate([bf.contains(batch_ngram_hashes(b)[0]) for b in byte_batches(texts)])


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fpr", type=float, default=1e-3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1, help="use the texts this many times (bigger reference)")
    args = ap.parse_args(argv)

    texts = load_texts() * args.repeat
    ref, queries = texts[:len(texts) // 2], texts[len(texts) // 2:]
    n_ref, n_query = count_ngrams(ref), count_ngrams(queries)
    # the filter is sized for the distinct 8-grams, so its measured FPR can be held against the
    # configured one (sizing by count_ngrams, as `ovid bloom` does, over-provisions for repeats)
    capacity = len(set_build(ref))
    machine = describe()
    print(machine, f"reference {len(ref)} texts / {n_ref:,} 8-grams, queries {n_query:,} 8-grams", flush=True)

    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "ref.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": t}) + "\n" for t in ref)

    rounds = []
    for r in range(args.runs):
        grams, t_set_build = timed(set_build, ref)
        set_hits, t_set_query = timed(set_query, grams, queries)
        bf, t_bloom_build = timed(build_filter, ref, capacity, args.fpr)
        bloom_hits, t_bloom_query = timed(bloom_query, bf, queries)
        _, t_sharded = timed(build_bloom, BloomBuildConfig(sources=[str(corpus)], out=str(tmp / "ref.bloom"), capacity=capacity, fpr=args.fpr,
                                                      workers=0),
                             False)
        assert len(set_hits) == len(bloom_hits) == n_query and not (set_hits & ~bloom_hits).any()
        rounds.append({"set_build": n_ref / t_set_build, "set_query": n_query / t_set_query,
                       "bloom_build": n_ref / t_bloom_build, "bloom_query": n_query / t_bloom_query,
                       "sharded_build": n_ref / t_sharded})
        print(f"round {r + 1}: 8-grams/s " + ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in rounds[-1].items()),
              flush=True)

    tracemalloc.start()
    grams = set_build(ref)
    set_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    absent = ~set_hits
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    result = {
        "build_8grams_per_s": {"set": round(med["set_build"]), "bloom": round(med["bloom_build"]),
                               f"bloom_{machine['cores']}_processes": round(med["sharded_build"])},
        "query_8grams_per_s": {"set": round(med["set_query"]), "bloom": round(med["bloom_query"])},
        "build_speedup_vs_set": round(med["bloom_build"] / med["set_build"], 2),
        "query_speedup_vs_set": round(med["bloom_query"] / med["set_query"], 2),
        "bytes_per_million_8grams": {"set": round(set_bytes / n_ref * 1e6), "bloom": round(bf.bits.nbytes / n_ref * 1e6)},
        "fpr": {"configured": args.fpr, "measured": round(float(bloom_hits[absent].mean()), 5),
                "absent_query_8grams": int(absent.sum()), "estimated_from_fill": round(bf.estimated_fpr(), 5)},
        "reference_8grams": n_ref, "distinct_reference_8grams": len(grams), "query_8grams": n_query,
        "k": bf.k, "runs": args.runs,
        "rounds": [{k: round(v) for k, v in r.items()} for r in rounds],
        "machine": f"{machine['cpu']}, {machine['cores']} cores",
        "command": "python benchmarks/bench_overlap.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
