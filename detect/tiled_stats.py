"""The five token statistics straight from hidden states, the output layer applied in vocabulary
tiles: no logits block is ever held whole.

A 262k-token vocabulary (Gemma 3) makes the output layer the biggest cost of scoring: 168M
multiply-adds per token against ~100M for the whole transformer body. Applied to a few dozen
positions at a time (what keeps a (positions x 262k) float32 block in memory) the product
streams the 335 MB weight matrix once per block and runs at ~250 GFLOP/s on 2 cores; applied to
1,024 positions x 8,192 vocabulary rows at a time it runs at ~390 (benchmarks/RESULTS.md).
The statistics then have to be accumulated across tiles, as in an online softmax: per row a
running maximum m, and sums of e = exp(z - m) weighted by 1, d and d^2 with d = z - z_target
(shifting by the target logit keeps the second moment free of float32 cancellation). With a
reference model the same sums are kept under its distribution q. At the end:

    log Z = m + log S0        log p(target) = z_target - log Z
    entropy = -(E_p[d] + z_target - log Z)
    ref_mean = E_q[d] + z_target - log Z         ref_var = E_q[d^2] - E_q[d]^2

The rank counts tokens with a strictly higher logit than the target's (the target's own column
excluded, so a different summation order cannot count it against itself). The target logit is
a dot product rounded to the model's dtype, the value the tile holds. Agrees with
detect/stats.py to ~1e-4 (tests/test_fast_path.py).
"""
from __future__ import annotations

import functools
import sys

import torch

from .stats import STAT_NAMES

ROW_BLOCK = 1024
VOCAB_TILE = 8192  # 1,024 x 8,192 tiles: measured fastest of 48-1,024 rows x 4k-262k columns


def _accumulate(z, w, d_shift, m, s0, s1, s2):
    """Fold one tile into the running (max, sum e, sum e*d, sum e*d^2) of weights exp(w - m)."""
    w = w.float()
    mn = torch.maximum(m, w.amax(-1))
    e = torch.exp(w - mn.unsqueeze(-1))
    d = z - d_shift.unsqueeze(-1)
    a = torch.exp(m - mn)
    return mn, s0 * a + e.sum(-1), s1 * a + (e * d).sum(-1), s2 * a + (e * d * d).sum(-1)


def _tile(z, zq, zt, tloc, cnt, p_state, q_state):
    """One (rows x tile) block of logits z (and reference logits zq or None) folded into the
    running rank count and the p and q sums."""
    z = z.float()
    cols = torch.arange(z.shape[-1], device=z.device)
    cnt = cnt + ((z > zt.unsqueeze(-1)) & (cols != tloc.unsqueeze(-1))).sum(-1)
    p_state = _accumulate(z, z, zt, *p_state)
    if zq is not None:
        q_state = _accumulate(z, zq, zt, *q_state)
    return cnt, p_state, q_state


@functools.lru_cache(maxsize=1)
def _compiled_tile():
    return torch.compile(_tile, dynamic=True)


_compile_failed = False


def _fresh(n: int, device) -> tuple[torch.Tensor, ...]:
    zero = torch.zeros(n, device=device)
    return torch.full((n,), float("-inf"), device=device), zero, zero.clone(), zero.clone()


def _finish(zt, cnt, p_state, q_state):
    m, s0, s1, s2 = p_state
    log_z = m + torch.log(s0)
    ep = s1 / s0
    out = {"log_prob": zt - log_z, "rank": cnt.float() + 1, "entropy": -(ep + zt - log_z)}
    if q_state is None:
        out["ref_mean"], out["ref_var"] = -out["entropy"], s2 / s0 - ep * ep
    else:
        _, q0, q1, q2 = q_state
        eq = q1 / q0
        out["ref_mean"], out["ref_var"] = eq + zt - log_z, q2 / q0 - eq * eq
    out["ref_var"] = out["ref_var"].clamp_min(0)
    return out


def tiled_token_statistics(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                           ref_hidden: torch.Tensor | None = None, ref_weight: torch.Tensor | None = None,
                           compiled: bool = True) -> dict[str, torch.Tensor]:
    """hidden (N, H) and output-layer weight (V, H) of the scoring model, targets (N,); optionally
    the reference model's (N, H') and (V', H') -> five (N,) float32 tensors keyed as
    detect/stats.STAT_NAMES. Vocabularies of different padding are cut to the shorter."""
    global _compile_failed
    vocab = weight.shape[0] if ref_weight is None else min(weight.shape[0], ref_weight.shape[0])
    parts = []
    for a in range(0, len(hidden), ROW_BLOCK):
        h, t = hidden[a:a + ROW_BLOCK], targets[a:a + ROW_BLOCK]
        hq = None if ref_hidden is None else ref_hidden[a:a + ROW_BLOCK]
        zt = (h.float() * weight[t].float()).sum(-1).to(weight.dtype).float()
        cnt = torch.zeros(len(h), dtype=torch.int64, device=h.device)
        p_state = _fresh(len(h), h.device)
        q_state = None if hq is None else _fresh(len(h), h.device)
        for b in range(0, vocab, VOCAB_TILE):
            c = min(vocab, b + VOCAB_TILE)
            z = h @ weight[b:c].T
            zq = None if hq is None else hq @ ref_weight[b:c].T
            args = (z, zq, zt, t - b, cnt, p_state, q_state)
            if compiled and not _compile_failed:
                try:
                    cnt, p_state, q_state = _compiled_tile()(*args)
                    continue
                except Exception as e:  # no C++ compiler, unsupported backend
                    _compile_failed = True
                    print(f"ovid: torch.compile unavailable ({type(e).__name__}); statistics run "
                          f"eagerly (slower)", file=sys.stderr)
            cnt, p_state, q_state = _tile(*args)
        parts.append(_finish(zt, cnt, p_state, q_state))
    return {k: torch.cat([p[k] for p in parts]) for k in STAT_NAMES}
