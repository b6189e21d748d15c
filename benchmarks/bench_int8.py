"""Does int8 give a scoring model's statistics, and how much faster is it? In the same run.

    python benchmarks/bench_int8.py [--models smollm2-135m,gemma3-270m] [--rounds 3]

For each model, against float32 on the first PROBE_TEXTS bundled human texts (ovid/data, 256
tokens each): how far each variant's token log-probabilities stray (mean |d log p| in nats,
Spearman correlation; ovid/quantize.py's check), and the decoder body's tokens/s on a batch of
four 200-token texts, rounds interleaved, median ratio to float32 per round. Variants: bfloat16;
int8 as ovid's dtype="int8" (fbgemm dynamic, one activation scale per tensor); and the same
kernels after SmoothQuant-style rescaling (Xiao et al. 2022: per input channel s = a^alpha /
w^(1-alpha), activations divided by s and weights multiplied by it, `a` measured on four other
bundled texts), the usual remedy for outlier channels. Writes benchmarks/int8.json.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ovid.models import fresh_causal_lm, load_tokenizer  # noqa: E402
from ovid.quantize import agreement_of, agrees_with, quantize_body, token_logprobs  # noqa: E402

from _machine import describe  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "ovid" / "data" / "human_demo.jsonl"
PROBE_TEXTS = 4
ALPHA = 0.7  # the best of 0.5, 0.7 and 0.85 on SmolLM2 when this was written


class Smoothed(torch.nn.Module):
    """x / s through an int8 Linear whose weights were multiplied by s."""

    def __init__(self, lin: torch.nn.Linear, s: torch.Tensor):
        super().__init__()
        scaled = copy.deepcopy(lin)
        scaled.weight.data = lin.weight.data * s[None, :]
        self.register_buffer("inv", 1.0 / s)
        self.q = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(scaled), {torch.nn.Linear},
                                                        dtype=torch.qint8)[0]

    def forward(self, x):
        return self.q(x * self.inv)


def smoothquant(model, calibration: list[torch.Tensor]):
    amax: dict[str, torch.Tensor] = {}

    def hook(name):
        def record(_mod, inp, _out):
            a = inp[0].reshape(-1, inp[0].shape[-1]).abs().amax(0)
            amax[name] = torch.maximum(amax[name], a) if name in amax else a
        return record

    linears = {n: m for n, m in model.base_model.named_modules() if isinstance(m, torch.nn.Linear)}
    hooks = [m.register_forward_hook(hook(n)) for n, m in linears.items()]
    with torch.inference_mode():
        for ids in calibration:
            model(input_ids=ids)
    for h in hooks:
        h.remove()
    q = copy.deepcopy(model)
    for name, lin in linears.items():
        s = (amax[name].clamp(min=1e-5) ** ALPHA / lin.weight.abs().amax(0).clamp(min=1e-5) ** (1 - ALPHA))
        parent_name, _, child = name.rpartition(".")
        setattr(q.base_model.get_submodule(parent_name), child, Smoothed(lin, s.clamp(min=1e-5)))
    return q


def body_rate(model, batch: torch.Tensor) -> float:
    with torch.inference_mode():
        t = time.perf_counter()
        model.base_model(input_ids=batch, use_cache=False)
        return batch.numel() / (time.perf_counter() - t)


def measure(name: str, rounds: int) -> dict:
    texts = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]
    tok = load_tokenizer(name)
    ids = [torch.tensor([tok(t).input_ids[:256]]) for t in texts]
    probes, calibration = ids[:PROBE_TEXTS], ids[PROBE_TEXTS:2 * PROBE_TEXTS]
    batch = torch.tensor([x[0, :200].tolist() for x in ids if x.shape[1] >= 200][:4])
    fp32 = fresh_causal_lm(name, "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        variants = {"float32": fp32, "bfloat16": fresh_causal_lm(name, "bfloat16"),
                    "int8": quantize_body(fresh_causal_lm(name, "float32")),
                    f"int8 smoothquant alpha={ALPHA}": smoothquant(fp32, calibration)}
    reference = [token_logprobs(fp32, p) for p in probes]
    out = {}
    for label, model in variants.items():
        stats = [agreement_of(r, token_logprobs(model, p)) for r, p in zip(reference, probes)]
        out[label] = {"mean_abs_diff": statistics.mean(s["mean_abs_diff"] for s in stats),
                      "correlation": statistics.mean(s["correlation"] for s in stats)}
        out[label]["passes_check"] = agrees_with(out[label])
    rates = {label: [] for label in variants}
    for m in variants.values():
        body_rate(m, batch)  # warm-up
    for _ in range(rounds):
        for label, model in variants.items():
            rates[label].append(body_rate(model, batch))
    for label in variants:
        out[label]["tokens_per_s"] = statistics.median(rates[label])
        out[label]["ratio_to_float32"] = statistics.median(a / b for a, b in zip(rates[label], rates["float32"]))
        print(name, label, {k: round(v, 4) if isinstance(v, float) else v for k, v in out[label].items()}, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2-135m,gemma3-270m")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    result = {"machine": describe(), "command": "python benchmarks/bench_int8.py " + " ".join(sys.argv[1:]),
              "models": {m: measure(m, args.rounds) for m in args.models.split(",")}}
    (HERE / "int8.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
