"""Next-token sampling for `generate`, cheaper than transformers' own on a CPU.

transformers samples with `torch.multinomial`, which on CPU draws one exponential random number
per vocabulary entry per row per step (the Gumbel trick): at batch 128 with a 49k vocabulary that
was 32% of all generation time (profile in benchmarks/RESULTS.md). `TokenSampler` does the same
draws from the same distributions with one uniform number per row:

- top-k: the k best logits (torch.topk), then inverse-CDF sampling among those k;
- top-p: the smallest prefix of the sorted distribution with mass >= p, then inverse CDF;
- pure / temperature: inverse CDF over the whole softmax (a float64 cumulative sum).

It runs as the last logits processor of a greedy `generate` call: it draws the token and returns
scores that are -inf everywhere else, so the greedy pick is the sampled token. Cache, padding and
stopping stay transformers'. The RNG is torch's global one (seeded per batch by the caller).

With a watermark the order is transformers' own: temperature and truncation first (`warp_logits`),
then the watermark's logits processor, then the draw from what it left.
"""
from __future__ import annotations

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from .config import Decoding


def inverse_cdf(probs: torch.Tensor) -> torch.Tensor:
    """One index per row of a (B, n) non-negative weight matrix, drawn proportionally."""
    cdf = probs.double().cumsum(-1)
    u = torch.rand(len(probs), 1, dtype=torch.float64, device=probs.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_max(probs.shape[-1] - 1)


def sample_tokens(logits: torch.Tensor, decoding: Decoding) -> torch.Tensor:
    """(B, V) logits -> (B,) token ids drawn under `decoding`."""
    z = logits.float() / decoding.effective_temperature
    if decoding.strategy == "top-k":
        vals, idx = z.topk(min(decoding.top_k, z.shape[-1]), dim=-1)
        return idx.gather(-1, inverse_cdf(torch.softmax(vals, -1))).squeeze(-1)
    if decoding.strategy == "top-p":
        vals, idx = z.sort(dim=-1, descending=True)
        probs = torch.softmax(vals, -1)
        before = probs.cumsum(-1) - probs  # mass of the strictly better tokens
        probs = probs.masked_fill(before >= decoding.top_p, 0.0)  # keeps the token that crosses p
        return idx.gather(-1, inverse_cdf(probs)).squeeze(-1)
    return inverse_cdf(torch.softmax(z, -1)).squeeze(-1)


def warp_logits(logits: torch.Tensor, decoding: Decoding) -> torch.Tensor:
    """(B, V) logits after temperature, with -inf outside the top-k or the top-p nucleus: the
    distribution `sample_tokens` draws from, as logits a watermark can still change."""
    z = logits.float() / decoding.effective_temperature
    if decoding.strategy == "top-k":
        kth = z.topk(min(decoding.top_k, z.shape[-1]), dim=-1).values[:, -1:]
        return z.masked_fill(z < kth, float("-inf"))
    if decoding.strategy == "top-p":
        vals, idx = z.sort(dim=-1, descending=True)
        probs = torch.softmax(vals, -1)
        drop = (probs.cumsum(-1) - probs) >= decoding.top_p
        return z.scatter(1, idx, vals.masked_fill(drop, float("-inf")))
    return z


class TokenSampler(LogitsProcessor):
    """Draws the next token; with `watermark` (a transformers logits processor), from the warped
    logits after the watermark has changed them."""

    def __init__(self, decoding: Decoding, watermark: LogitsProcessor | None = None):
        self.decoding = decoding
        self.watermark = watermark

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.watermark is None:
            token = sample_tokens(scores, self.decoding)
        else:
            marked = self.watermark(input_ids, warp_logits(scores, self.decoding))
            token = inverse_cdf(torch.softmax(marked.float(), -1)).squeeze(-1)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, token.unsqueeze(-1), 0.0)


def sampling_kwargs(decoding: Decoding, watermark: LogitsProcessor | None = None) -> dict:
    """Keyword arguments for `generate` that sample with `TokenSampler`."""
    return {"do_sample": False, "logits_processor": LogitsProcessorList([TokenSampler(decoding, watermark)]),
            "top_k": None, "top_p": None, "temperature": None}
