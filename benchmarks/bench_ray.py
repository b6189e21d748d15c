"""ovid on Ray against the local engine on this machine: `ovid score` locally and with 1 and 2 Ray
workers (tokens/s end to end, as a user runs it: process start, Ray start, model loads), Ray Data's
own cost per batch, and the Bloom filter build rate (local processes, Ray tasks, a Ray Dataset).

    python benchmarks/bench_ray.py                      # 3 rounds, 200 real texts
    python benchmarks/bench_ray.py --rounds 1 --texts 40 --parts scoring

Each round runs the three scoring set-ups one after another, so every ratio compares runs of the
same round. Writes benchmarks/ray.csv (one row per run) and ray.json (medians, machine).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _machine import describe

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "fastdetectgpt"
OVID = [str(Path(sys.executable).parent / "ovid")]


def real_texts(n: int) -> list[dict]:
    """n distinct labelled texts, human and machine alternating, from every shared file."""
    rows, seen = [], set()
    for path in sorted(DATA.glob("*.raw_data.json")):
        d = json.loads(path.read_text())
        for h, m in zip(d["original"], d["sampled"]):
            for text, label in ((h, 0), (m, 1)):
                if text not in seen:
                    seen.add(text)
                    rows.append({"text": text, "label": label})
    rng = np.random.default_rng(0)
    return [rows[i] for i in rng.permutation(len(rows))[:n]]


def run(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return wall, said[-1] if said else ""


def scores(path: Path) -> np.ndarray:
    return np.asarray([json.loads(line)["score"] for line in path.open()])


def bench_scoring(work: Path, n_texts: int, rounds: int, detector: str, shard_bytes: int) -> tuple[list, dict]:
    from ovid.models import load_tokenizer

    corpus = work / "texts.jsonl"
    rows = real_texts(n_texts)
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tok = load_tokenizer("smollm2-135m")
    tokens = sum(len(tok(r["text"]).input_ids) for r in rows)
    setups = {"local": [],
              "ray-1": ["--engine", "ray", "--workers", "1", "--shard-bytes", str(shard_bytes)],
              "ray-2": ["--engine", "ray", "--workers", "2", "--shard-bytes", str(shard_bytes)]}
    out, runs = {}, []
    for r in range(rounds):
        for name, extra in setups.items():
            out[name] = work / f"{name}-{r}.jsonl"
            wall, line = run([*OVID, "score", str(corpus), "--detector", detector, "--out", str(out[name]),
                              "--no-progress", *extra])
            runs.append({"part": "scoring", "round": r, "setup": name, "texts": len(rows), "tokens": tokens,
                         "wall_s": round(wall, 2), "tokens_per_s": round(tokens / wall, 1), "line": line})
            print(runs[-1], flush=True)
    # how far Ray's scores are from local ones, beside how far two local runs that only batch
    # differently are (a smaller --token-budget packs other batches)
    budget = work / "local-budget.jsonl"
    run([*OVID, "score", str(corpus), "--detector", detector, "--out", str(budget), "--no-progress",
         "--token-budget", "1024"])
    local = scores(out["local"])
    extra = {"max_abs_diff_ray2_vs_local": float(np.abs(scores(out["ray-2"]) - local).max()),
             "max_abs_diff_local_token_budget_1024_vs_local": float(np.abs(scores(budget) - local).max())}
    return runs, extra


class NoOp:
    def __call__(self, batch):
        return batch


def bench_overhead(items: int = 400) -> dict:
    """Ray Data's cost per batch: a pool of two actors that do nothing, one row a batch."""
    import ray

    from ovid.ray_tasks import RaySettings, map_with_actors, start_ray

    settings = RaySettings(engine="ray", workers=2)
    start_ray(settings)
    ds = lambda: map_with_actors(ray.data.from_items([{"i": i} for i in range(items)],  # noqa: E731
                                                     override_num_blocks=items), NoOp, {}, settings, items)
    ds().take_all()  # actors and workers started once
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        ds().take_all()
        walls.append(time.perf_counter() - t)
    ray.shutdown()
    return {"batches": items, "overhead_ms_per_batch": round(1000 * statistics.median(walls) / items, 2),
            "walls_s": [round(w, 2) for w in walls]}


def bench_bloom(work: Path, copies: int) -> list[dict]:
    """ovid bloom over every shared text (repeated `copies` times, each copy's texts numbered so
    its n-grams are new): local processes, Ray tasks, and bloom_from_dataset."""
    texts = [r["text"] for r in real_texts(10**9)]
    corpus = work / "bloom.jsonl"
    with corpus.open("w") as f:
        for c in range(copies):
            for t in texts:
                f.write(json.dumps({"text": f"copy {c} {t}"}) + "\n")
    size = corpus.stat().st_size
    out = []
    for name, extra in {"local-2-processes": ["--workers", "2"], "ray-2-tasks": ["--engine", "ray", "--workers", "2"]}.items():
        dest = work / f"{name}.bloom"
        wall, line = run([*OVID, "bloom", str(corpus), "--out", str(dest), "--no-progress", *extra])
        out.append({"part": "bloom", "setup": name, "bytes": size, "wall_s": round(wall, 2), "line": line})
        print(out[-1], flush=True)
    import ray

    from ovid.overlap.bloom import BloomFilter
    from ovid.overlap.ray_bloom import bloom_from_dataset
    from ovid.ray_tasks import RaySettings, start_ray

    t = time.perf_counter()
    start_ray(RaySettings(engine="ray", workers=2))
    built = bloom_from_dataset(ray.data.read_json(str(corpus)), workers=2)
    wall = time.perf_counter() - t
    ray.shutdown()
    same = bool(np.array_equal(built.bits, BloomFilter.load(work / "local-2-processes.bloom").bits))
    out.append({"part": "bloom", "setup": "ray-dataset-2-workers", "bytes": size, "wall_s": round(wall, 2),
                "line": f"{built.n_added:,} n-grams; bit-identical to the local build: {same}"})
    print(out[-1], flush=True)
    for row in out:
        row["ngrams"] = built.n_added
        row["ngrams_per_s"] = round(built.n_added / row["wall_s"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=200)
    ap.add_argument("--detector", default="ovid:default")
    ap.add_argument("--shard-bytes", type=int, default=20_000)
    ap.add_argument("--bloom-copies", type=int, default=4)
    ap.add_argument("--parts", default="scoring,overhead,bloom")
    args = ap.parse_args()
    parts = args.parts.split(",")
    result = {"machine": describe(), "command": "python benchmarks/bench_ray.py " + " ".join(sys.argv[1:])}
    rows = []
    with tempfile.TemporaryDirectory(prefix="ovid-bench-ray-") as tmp:
        work = Path(tmp)
        if "scoring" in parts:
            runs, extra = bench_scoring(work, args.texts, args.rounds, args.detector, args.shard_bytes)
            rows += runs
            by = {s: [r["tokens_per_s"] for r in runs if r["setup"] == s] for s in ("local", "ray-1", "ray-2")}
            ratio = {s: [round(a / b, 3) for a, b in zip(by[s], by["local"])] for s in ("ray-1", "ray-2")}
            result["scoring"] = {"tokens_per_s_median": {s: statistics.median(v) for s, v in by.items()},
                                 "ratio_to_local_per_round": ratio,
                                 "ratio_to_local_median": {s: statistics.median(v) for s, v in ratio.items()},
                                 **extra}
        if "overhead" in parts:
            result["overhead"] = bench_overhead()
        if "bloom" in parts:
            rows += bench_bloom(work, args.bloom_copies)
    import pandas as pd

    if rows:
        pd.DataFrame(rows).to_csv(HERE / "ray.csv", index=False)
    (HERE / "ray.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
