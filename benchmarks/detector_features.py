"""The one-pass features of every text the default detector is chosen, trained and measured on,
computed once into the statistics cache (resumable: each chunk is written as it finishes).

    python benchmarks/detector_features.py [--models smollm2-135m] [--pairs 0] [--gpt2-pairs 100]

Texts, in this order (so a partial run still serves the first ones): the modern files (first
`--pairs` pairs each; 0: all), the fairness essays, the 15 GPT-2-era files (first `--gpt2-pairs` pairs),
and the short-text rows (held-out texts cut to 50-100 words). Each is scored as the detector sees
it (through its `fold` normalisation) by an engine that also pools the hidden states of
`POOL_LAYERS[model]`, so every candidate's features come from this one pass.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import default_data  # noqa: E402
import modern_data  # noqa: E402

from ovid.normalize import DEFAULT_RECIPE, normalize_texts  # noqa: E402

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("OVID_BENCH_CACHE", HERE / ".cache"))
DTYPE = "float32"  # native on every CPU: the features (and a threshold set on them) are the same everywhere
POOL_LAYERS = {"smollm2-135m": (4, 8, 12, 16, 20, 24, 28, 30), "gemma3-270m": (3, 6, 9, 12, 15, 18)}
SHORT_PER_SIDE = 30  # held-out texts per file and side cut short


def short_cut(text: str, key: str) -> str:
    """The text's first 50-100 words (the count fixed per text by a hash of its key)."""
    n = 50 + hash_words(key) % 51
    return " ".join(text.split()[:n])


def hash_words(key: str) -> int:
    import hashlib
    return int.from_bytes(hashlib.sha256(f"short:{key}".encode()).digest()[:4], "big")


def short_texts(texts: list) -> list:
    """Per file and side, the first SHORT_PER_SIDE held-out texts cut to 50-100 words."""
    out, seen = [], {}
    for t in texts:
        k = (t.file if hasattr(t, "file") else (t.domain, t.generator), t.label)
        if t.test and seen.get(k, 0) < SHORT_PER_SIDE:
            seen[k] = seen.get(k, 0) + 1
            out.append(t)
    return out


def gpt2_texts(pairs: int) -> list:
    files = default_data.all_files(pairs)
    return [t for tr, te in files.values() for t in tr + te]


def all_texts(pairs: int, gpt2_pairs: int) -> list[str]:
    modern = modern_data.modern_texts(pairs or None)
    fair = modern_data.fairness_texts()
    gpt2 = gpt2_texts(gpt2_pairs)
    short = [short_cut(t.text, t.key) for t in short_texts(modern)]
    texts = [t.text for t in modern] + [t.text for t in fair] + [t.text for t in gpt2] + short
    return list(dict.fromkeys(normalize_texts(texts, DEFAULT_RECIPE)))


def engine_for(model: str):
    from ovid.detect.engine import EngineConfig, get_engine
    return get_engine(EngineConfig(model=model, dtype=DTYPE, cache_dir=str(CACHE / "stats"), compile="always",
                                   pool_layers=POOL_LAYERS[model]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2-135m")
    ap.add_argument("--pairs", type=int, default=0)
    ap.add_argument("--gpt2-pairs", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=200)
    args = ap.parse_args()
    texts = all_texts(args.pairs, args.gpt2_pairs)
    for m in args.models.split(","):
        t0, n = time.perf_counter(), 0
        eng = engine_for(m)
        for a in range(0, len(texts), args.chunk):
            n += sum(len(s) for s in eng.token_stats(texts[a:a + args.chunk]))
            eng.memory.clear()
            print(f"{m}: {a + args.chunk}/{len(texts)} texts, {n} tokens, {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
