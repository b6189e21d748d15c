"""int8 weights for a causal LM's decoder body (`dtype="int8"`), behind a check against float32.

On a CPU with AVX2 only, bfloat16 matmuls are emulated (about 8x slower than float32), so
`dtype="auto"` runs float32 there. torch's dynamic quantization (fbgemm kernels: int8 weights,
each batch's activations quantized on the fly with one scale per tensor, int32 accumulation) runs
matmuls at 1.7x float32's rate on AVX2, and the decoder body at 2.6-3.1x on a CPU with VNNI
(benchmarks/RESULTS.md, bench_limits.py and bench_int8.py).

Only the decoder blocks' Linear layers are quantized; the output layer stays float32 (the
statistics read its weight in vocabulary tiles, detect/tiled_stats.py). Whether the quantized
body still gives the model's statistics is checked once per model version against float32 on a
bundled human text, and a model that fails is used in float32 with a note on stderr. The small
models ovid ships for fail: their activations carry outlier channels (a few channels many times
larger than the rest) that one scale per tensor cannot hold, so SmolLM2-135M's token log-probabilities stray by 1.73
nats and Gemma 3 270M's by 1.17, against 0.04 for bfloat16 (SmoothQuant-style rescaling: 1.24
and 0.83). That is why `auto` does not choose int8: on these models it would cost a check and
then run float32 anyway.
"""
from __future__ import annotations

import warnings

QUANTIZED_DTYPES = ("int8",)
# Largest mean absolute difference of the per-token log-probabilities (nats) between the int8
# and the float32 model on the probe text, and the smallest rank correlation of the tokens'
# log-probabilities: about 3x what bfloat16 strays by on the shipped scoring models (0.034-0.036
# nats, 0.9997; benchmarks/int8.json), the precision the bf16 fast path is held to.
MAX_MEAN_LOGPROB_DIFF = 0.1
MIN_LOGPROB_CORRELATION = 0.99


def is_quantized(dtype: str) -> bool:
    return dtype in QUANTIZED_DTYPES


def quantize_body(model):
    """`model` with its decoder body's Linear layers replaced, in place, by dynamically quantized
    int8 ones (the output layer untouched) and marked `ovid_dtype = "int8"`; returns it. A body
    without Linear layers (GPT-2's are Conv1D) is left as it is, unmarked."""
    import torch

    if not any(isinstance(m, torch.nn.Linear) for m in model.base_model.modules()):
        return model
    with warnings.catch_warnings():
        # torch 2.13 marks torch.ao.quantization deprecated in favour of torchao, whose CPU int8
        # path needs its own build; these fbgemm kernels ship inside torch.
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(model.base_model, {torch.nn.Linear}, dtype=torch.qint8,
                                               inplace=True)
    model.ovid_dtype = "int8"
    return model


def token_logprobs(model, ids) -> "object":
    """Per-token log-probabilities of `ids` (1, T) under `model`, float32 (T-1,)."""
    import torch

    with torch.inference_mode():
        logits = model(input_ids=ids, use_cache=False).logits[0, :-1].float()
        return torch.log_softmax(logits, -1).gather(-1, ids[0, 1:, None])[:, 0]


def agreement_of(reference, quantized) -> dict:
    """How closely the quantized model's token log-probabilities follow the reference's: mean
    absolute difference (nats) and Spearman rank correlation."""
    from scipy.stats import spearmanr

    return {"mean_abs_diff": float((reference - quantized).abs().mean()),
            "correlation": float(spearmanr(reference.numpy(), quantized.numpy()).statistic)}


def agrees_with(stats: dict) -> bool:
    return stats["mean_abs_diff"] <= MAX_MEAN_LOGPROB_DIFF and stats["correlation"] >= MIN_LOGPROB_CORRELATION
