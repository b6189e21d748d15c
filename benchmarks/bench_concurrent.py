"""Two `ovid score` jobs on one machine: combined throughput against one job alone, in the same run.

    python benchmarks/bench_concurrent.py --texts 40 --rounds 3

Each round: one job alone (wall t1), then two jobs started together on two different halves of
the texts, each with the default thread budget (the machine's cores shared among the ovid jobs
running: wall t2 until both end), then the same two jobs each fixed to every core (--threads =
cores, as before the budget: wall t_old). Combined throughput against one job's: 2 x t1 / t2
(1.0: the two together do twice the work in twice the time; the target is >= 0.8). Medians over
rounds; the last line is JSON. Texts: human XSum articles of ../shared/data/fastdetectgpt.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ovid.corpus import read_corpus  # noqa: E402
from ovid.hardware import cores, cpu_flags  # noqa: E402

from _machine import cpu_kind, describe  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fastdetectgpt" / "xsum_gpt2-xl.raw_data.json"


def job(ovid: str, src: Path, out: Path, extra: list[str]) -> subprocess.Popen:
    cmd = [ovid, "score", str(src), "--detector", "fast-detectgpt", "--model", "smollm2-135m", "--no-progress",
           "--out", str(out), "--overwrite", *extra]
    return subprocess.Popen(cmd, env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def run(procs: list[subprocess.Popen]) -> float:
    t0 = time.perf_counter()
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise SystemExit(err.decode()[-2000:])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=40, help="texts per job")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ovid = str(Path(sys.executable).with_name("ovid"))
    human = [r for r in read_corpus(DATA) if r.label == 0][:2 * args.texts]
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        halves = []
        for i in range(2):
            path = Path(tmp) / f"half{i}.jsonl"
            path.write_text("".join(json.dumps({"id": r.id, "text": r.text}) + "\n"
                                    for r in human[i * args.texts:(i + 1) * args.texts]))
            halves.append(path)
        outs = [Path(tmp) / f"s{i}.jsonl" for i in range(2)]
        for r in range(args.rounds):
            alone = run([job(ovid, halves[0], outs[0], [])])
            shared = run([job(ovid, h, o, []) for h, o in zip(halves, outs)])
            fixed = run([job(ovid, h, o, ["--threads", str(cores())]) for h, o in zip(halves, outs)])
            rounds.append({"alone_s": alone, "two_budget_s": shared, "two_all_cores_s": fixed,
                           "ratio_budget": 2 * alone / shared, "ratio_all_cores": 2 * alone / fixed})
            print(f"round {r + 1}: alone {alone:.1f} s; two with the budget {shared:.1f} s "
                  f"({rounds[-1]['ratio_budget']:.2f}); two on every core {fixed:.1f} s "
                  f"({rounds[-1]['ratio_all_cores']:.2f})", flush=True)
    flags = cpu_flags()
    result = {"machine": describe(), "flags": {f: f in flags for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16")},
              "texts_per_job": args.texts,
              **{k: round(statistics.median(x[k] for x in rounds), 3) for k in rounds[0]},
              "rounds": [{k: round(v, 3) for k, v in x.items()} for x in rounds],
              "command": "python benchmarks/bench_concurrent.py " + " ".join(sys.argv[1:])}
    out = Path(__file__).resolve().parent / f"concurrent_{cpu_kind()}.json"  # one file per CPU kind
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
