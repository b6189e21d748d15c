"""Per-token statistics from one forward pass: pure functions over logits.

Shapes: logits (B, T, V) predict targets (B, T) (already shifted: logits[:, t] scores
targets[:, t]). Every detector derives its score from these five numbers per token; nothing
runs a model twice.

- log_prob: log p(x_t | x_<t) under the scoring model
- rank: 1 + number of vocabulary entries with a strictly higher logit (1 = the top choice)
- entropy: -sum_v p(v) log p(v) of the scoring model's predictive distribution
- ref_mean: sum_v q(v) log p(v), q = the reference model's distribution (q = p with one model)
- ref_var: sum_v q(v) (log p(v))^2 - ref_mean^2
The last two are Fast-DetectGPT's analytic sampling moments (Bao et al. 2024, eq. 5); -ref_mean
is also Binoculars' cross-perplexity term (Hans et al. 2024), observer = reference,
performer = scoring model.
"""
from __future__ import annotations

import torch

STAT_NAMES = ("log_prob", "rank", "entropy", "ref_mean", "ref_var")


def token_log_probs(log_p: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) per position: (B, T, V), (B, T) -> (B, T)."""
    return log_p.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def token_ranks(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """1-based rank of the target among the vocabulary (ties count in the target's favour)."""
    target_logit = logits.gather(-1, targets.unsqueeze(-1))
    return (logits > target_logit).sum(-1) + 1


def entropy(log_p: torch.Tensor) -> torch.Tensor:
    """Entropy of each predictive distribution, in nats: (B, T, V) -> (B, T)."""
    return -(log_p.exp() * log_p).sum(-1)


def analytic_moments(log_p: torch.Tensor, log_q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of log p(x) for x ~ q, per position: (B, T, V) x2 -> (B, T), (B, T)."""
    q = log_q.exp()
    mean = (q * log_p).sum(-1)
    return mean, (q * (log_p - mean.unsqueeze(-1)).square()).sum(-1)  # centred: no cancellation


def token_statistics(logits: torch.Tensor, targets: torch.Tensor,
                     ref_logits: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """All five statistics, each (B, T), computed in float32 whatever the model's dtype."""
    logits = logits.float()
    log_p = torch.log_softmax(logits, dim=-1)
    log_q = log_p if ref_logits is None else torch.log_softmax(ref_logits.float(), dim=-1)
    mean, var = analytic_moments(log_p, log_q)
    return {"log_prob": token_log_probs(log_p, targets), "rank": token_ranks(logits, targets).float(),
            "entropy": entropy(log_p), "ref_mean": mean, "ref_var": var}
