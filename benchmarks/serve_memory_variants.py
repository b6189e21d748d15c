"""Where `ovid serve`'s memory grows: one in-process server (uvicorn in a thread, the shipped
detector, --cache-mb 4) under 16 clients of distinct 30-word texts, RSS after every 250 requests,
with one part of the scoring path compiled at a time.

    python benchmarks/serve_memory_variants.py full     # blocks and statistics compiled (the default)
    python benchmarks/serve_memory_variants.py blocks   # decoder blocks compiled, statistics eager
    python benchmarks/serve_memory_variants.py tiles    # statistics compiled, decoder blocks eager
    python benchmarks/serve_memory_variants.py trim     # full, plus glibc malloc_trim(0) after each batch
    python benchmarks/serve_memory_variants.py eager    # nothing compiled
"""
import socket
import sys
import threading
import time

sys.path.insert(0, "benchmarks")
import uvicorn
from bench_serve import load, real_texts

from ovid.serve import ServeConfig, Service, create_app
from ovid.serve.service import rss_bytes

variant = sys.argv[1] if len(sys.argv) > 1 else "full"
words = [t.split() for t in real_texts()]
texts = list(dict.fromkeys(" ".join(w[s:s+30]) for s in range(0, 300, 30) for w in words if len(w) >= s + 30))[:1500]
svc = Service(ServeConfig(detectors=["ovid:default"], cache_mb=4, warm_up=False))
eng = svc.detectors["ovid:default"].engine()
if variant == "blocks":   # decoder blocks compiled, statistics eager
    eng.logits.compile()
elif variant == "tiles":  # statistics compiled, decoder blocks eager
    eng.compiled = True
elif variant in ("full", "trim"):
    eng.compile()
if variant == "trim":
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    real = svc._run
    def trimmed(group, texts):
        out = real(group, texts)
        libc.malloc_trim(0)
        return out
    svc._run = trimmed
svc.start()
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
server = uvicorn.Server(uvicorn.Config(create_app(svc), host="127.0.0.1", port=port, log_level="warning"))
th = threading.Thread(target=server.run, daemon=True); th.start()
while not server.started: time.sleep(0.1)
for i in range(0, len(texts), 250):
    r = load(f"http://127.0.0.1:{port}", texts[i:i+250], 16)
    print(variant, i + 250, f"rss {rss_bytes()/2**20:.0f}", f"{r['texts_per_s']:.1f}/s", flush=True)
server.should_exit = True
