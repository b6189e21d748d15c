"""`ovid serve` under load: throughput and latency with 1, 4, 16 and 64 concurrent clients, with
micro-batching on and off, beside the batch engine's rate on the same texts; then memory over a
long run of requests (the soak).

    python benchmarks/bench_serve.py                       # levels x modes x repeats, then the soak
    python benchmarks/bench_serve.py --parts levels --repeats 1 --per-level 32

Each client sends one real text per request (the Fast-DetectGPT human and machine texts, every
request a text the server has not seen, so no answer comes from its cache) and waits for the
answer before sending the next. Both servers (batching on, batching off) run side by side and
the levels alternate between them, so each ratio is measured in the same run. Writes
benchmarks/serve.csv, serve_soak.csv and serve.json.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psutil

from _machine import describe

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "fastdetectgpt"


def real_texts(words: int = 0) -> list[str]:
    """Every distinct human and machine text of the shared data, in a fixed shuffled order; with
    `words`, each text's last `words` words (its first ones would repeat: a machine text starts
    with its human article's prompt)."""
    seen = {}
    for path in sorted(DATA.glob("*.raw_data.json")):
        d = json.loads(path.read_text())
        for t in d["original"] + d["sampled"]:
            w = t.split()
            if not words or len(w) >= words:
                seen.setdefault(" ".join(w[-words:] if words else w), None)
    texts = list(seen)
    np.random.default_rng(0).shuffle(texts)
    return texts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`ovid serve` in a subprocess on a free loopback port."""

    def __init__(self, args: list[str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "w")
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "ovid"), "serve", "--port", str(self.port), *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        t0 = time.time()
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited; see {log}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() - t0 > 900:
                raise SystemExit("server did not start in 15 min")
            time.sleep(1)
        self.start_s = time.time() - t0

    def rss(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss

    def health(self) -> dict:
        return httpx.get(self.url + "/healthz", timeout=30).json()

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def load(url: str, texts: list[str], clients: int) -> dict:
    """`clients` threads, each sending one text per request until the texts run out."""
    feed = iter(texts)
    lock = threading.Lock()
    latencies, errors = [], []

    def client():
        with httpx.Client(timeout=600) as http:
            while True:
                with lock:
                    text = next(feed, None)
                if text is None:
                    return
                t = time.perf_counter()
                try:
                    r = http.post(url + "/v1/score", json={"texts": [text]})
                    ok = r.status_code == 200 and r.json()["results"][0]["error"] is None
                except httpx.HTTPError as e:
                    ok, r = False, e
                dt = time.perf_counter() - t
                with lock:
                    (latencies if ok else errors).append(dt if ok else str(r))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    lat = np.array(latencies) if latencies else np.array([np.nan])
    return {"requests": len(texts), "errors": len(errors), "seconds": wall, "texts_per_s": len(latencies) / wall,
            "p50_s": float(np.percentile(lat, 50)), "p99_s": float(np.percentile(lat, 99)),
            "first_error": errors[0] if errors else ""}


def batch_engine_rate(detector: str, texts: list[str]) -> dict:
    """The batch engine on the same texts in this process: texts/s and tokens/s."""
    from ovid.detect.persistence import resolve_detector

    det = resolve_detector(detector, {})
    engines = [det.engine(m) for m in (getattr(det, "models", None) or [det.model])]
    for e in engines:
        e.compile()
    det.decision_function(texts[:4])  # compile and warm
    for e in engines:
        e.memory.clear()
    t = time.perf_counter()
    det.decision_function(texts)
    dt = time.perf_counter() - t
    tokens = sum(len(s) for s in engines[0].token_stats(det.prepare(texts)))
    return {"texts_per_s": len(texts) / dt, "tokens_per_s": tokens / dt, "tokens": tokens, "texts": len(texts)}


def levels(args, texts: list[str], out: dict) -> None:
    label = f"last {args.words} words" if args.words else "whole texts"
    csv = HERE / (f"serve_words{args.words}.csv" if args.words else "serve.csv")
    out = out.setdefault("levels", {}).setdefault(label, {})
    out["command"] = "python benchmarks/bench_serve.py " + " ".join(sys.argv[1:])
    common = ["--detector", args.detector]
    on = Server(common, HERE / ".cache" / "serve-on.log")
    off = Server(common + ["--no-micro-batching"], HERE / ".cache" / "serve-off.log")
    out["start_s"] = {"batching_on": on.start_s, "batching_off": off.start_s}
    feed = iter(texts)
    rows = []
    try:
        for rep, clients in itertools.product(range(args.repeats), args.clients):
            n = max(args.per_level, clients * 2)
            for mode, server in (("on", on), ("off", off)):
                batch = list(itertools.islice(feed, n))
                if len(batch) < n:
                    raise SystemExit("ran out of distinct texts; lower --per-level or --repeats")
                r = load(server.url, batch, clients) | {"texts": label, "repeat": rep, "clients": clients, "batching": mode,
                                                         "server_rss_mb": server.rss() / 2**20}
                rows.append(r)
                print(f"rep {rep} clients {clients:3d} batching {mode:3s}: {r['texts_per_s']:.2f} texts/s, "
                      f"p50 {r['p50_s']:.2f} s, p99 {r['p99_s']:.2f} s, errors {r['errors']}", flush=True)
                pd.DataFrame(rows).to_csv(csv, index=False, float_format="%.4f")
        out["health_on"], out["health_off"] = on.health(), off.health()
    finally:
        on.stop()
        off.stop()
    df = pd.DataFrame(rows)
    med = df.groupby(["clients", "batching"])[["texts_per_s", "p50_s", "p99_s", "errors"]].median().unstack()
    ratios = {}
    for c in args.clients:
        per_rep = [df[(df.clients == c) & (df.batching == "on") & (df.repeat == r)].texts_per_s.iloc[0]
                   / df[(df.clients == c) & (df.batching == "off") & (df.repeat == r)].texts_per_s.iloc[0]
                   for r in range(args.repeats)]
        ratios[c] = {"median": statistics.median(per_rep), "runs": per_rep}
    out["ratio_on_over_off"] = ratios
    out["median"] = json.loads(med.to_json())
    print(med.to_string(float_format=lambda v: f"{v:.3f}"))
    print("throughput ratio, batching on / off:", {c: round(v["median"], 2) for c, v in ratios.items()})
    out["batch_engine"] = batch_engine_rate(args.detector, list(itertools.islice(feed, args.engine_texts)))
    print("batch engine:", out["batch_engine"])


def soak(args, texts: list[str], out: dict) -> None:
    """`--soak` requests of short distinct texts from `--soak-clients` clients; the server's RSS
    and cache after every `--soak-every` requests."""
    words = [t.split() for t in texts]
    short: dict[str, None] = {}
    for start in range(0, 1000, args.soak_words):  # successive windows of each text, until enough distinct ones
        short.update((" ".join(w[start:start + args.soak_words]), None) for w in words
                     if len(w) >= start + args.soak_words)
        if len(short) >= args.soak:
            break
    short = list(short)[:args.soak]
    if len(short) < args.soak:
        raise SystemExit(f"only {len(short)} distinct windows for the soak")
    server = Server(["--detector", args.detector, "--cache-mb", str(args.soak_cache_mb)], HERE / ".cache" / "serve-soak.log")
    rows = []
    try:
        done, t0 = 0, time.perf_counter()
        rows.append({"requests": 0, "rss_mb": server.rss() / 2**20, "seconds": 0.0,
                     **{f"cache_{k}": v for k, v in next(iter(server.health()["statistics_cache"].values())).items()}})
        while done < len(short):
            part = short[done:done + args.soak_every]
            r = load(server.url, part, args.soak_clients)
            done += len(part)
            cache = next(iter(server.health()["statistics_cache"].values()))
            rows.append({"requests": done, "rss_mb": server.rss() / 2**20, "seconds": time.perf_counter() - t0,
                         "errors": r["errors"], "texts_per_s": r["texts_per_s"], "p99_s": r["p99_s"],
                         **{f"cache_{k}": v for k, v in cache.items()}})
            print(f"soak {done}: rss {rows[-1]['rss_mb']:.0f} MiB, cache {cache['bytes'] / 2**20:.1f} MiB "
                  f"({cache['entries']} texts, {cache['evictions']} evicted), errors {r['errors']}", flush=True)
            pd.DataFrame(rows).to_csv(HERE / "serve_soak.csv", index=False, float_format="%.3f")
    finally:
        server.stop()
    rss = [r["rss_mb"] for r in rows[1:]]
    half = len(rss) // 2
    out["soak"] = {"command": "python benchmarks/bench_serve.py " + " ".join(sys.argv[1:]), "requests": done, "clients": args.soak_clients, "words_per_text": args.soak_words,
                   "cache_mb": args.soak_cache_mb, "errors": int(sum(r.get("errors", 0) for r in rows)),
                   "rss_mb_after_first_block": rss[0], "rss_mb_max_first_half": max(rss[:half]),
                   "rss_mb_max_second_half": max(rss[half:]), "rss_mb_last": rss[-1]}
    print("soak:", out["soak"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="ovid:default")
    ap.add_argument("--parts", default="levels,soak")
    ap.add_argument("--clients", default="1,4,16,64")
    ap.add_argument("--per-level", type=int, default=64, help="requests per level and mode (at least 2 x clients)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--engine-texts", type=int, default=128)
    ap.add_argument("--words", type=int, default=0, help="levels: send each text's last N words (0: whole texts)")
    ap.add_argument("--soak", type=int, default=10_000)
    ap.add_argument("--soak-words", type=int, default=30)
    ap.add_argument("--soak-clients", type=int, default=16)
    ap.add_argument("--soak-every", type=int, default=500)
    ap.add_argument("--soak-cache-mb", type=float, default=4.0)
    args = ap.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    (HERE / ".cache").mkdir(exist_ok=True)
    texts = real_texts(args.words)
    out = {"machine": describe(), "detector": args.detector, "command": "python benchmarks/bench_serve.py "
           + " ".join(sys.argv[1:]), "distinct_texts": len(texts)}
    path = HERE / "serve.json"
    if path.exists():  # keep the other part's results
        out = json.loads(path.read_text()) | out
    parts = args.parts.split(",")
    if "levels" in parts:
        levels(args, texts, out)
        path.write_text(json.dumps(out, indent=2) + "\n")
    if "soak" in parts:
        soak(args, real_texts()[::-1], out)
        path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
