"""Sample one batch from a causal LM: left-padded prompts, KV cache, a seed per batch, and
ovid's sampler (generate/sampler.py) in place of transformers' slower one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from ovid.padding import pad_rows
from ovid.watermark.config import WatermarkConfig
from ovid.watermark.schemes import logits_processor

from .config import Decoding
from .sampler import sampling_kwargs


@dataclass(frozen=True)
class Sample:
    prompt_ids: list[int]
    new_ids: list[int]  # generated tokens, without the stop token
    ended: bool  # generation stopped on a stop (end-of-text) token


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), both (B, T), prompts aligned to the right edge."""
    return pad_rows(prompts, pad_id, side="left")


def split_at_stop(row: Sequence[int], stop_ids: set[int]) -> tuple[list[int], bool]:
    """Generated tokens up to the first stop token, and whether one was found."""
    for i, t in enumerate(row):
        if t in stop_ids:
            return list(row[:i]), True
    return list(row), False


@torch.inference_mode()
def sample_batch(model, prompts: Sequence[Sequence[int]], decoding: Decoding, max_tokens: int,
                 stop_ids: set[int], seed: int, watermark: WatermarkConfig | None = None) -> list[Sample]:
    """Sample continuations of `prompts` (token id lists), marked with `watermark` if given. The
    RNG is seeded from `seed` inside a forked RNG state, so a batch is reproducible on its own
    (what resumption relies on) and the caller's global RNG is untouched."""
    marker = None
    if watermark is not None:
        marker = logits_processor(watermark, model.config.get_text_config().vocab_size, model.device)
    pad_id = min(stop_ids)
    input_ids, mask = left_pad(prompts, pad_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = model.generate(input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device),
                             max_new_tokens=max_tokens, eos_token_id=sorted(stop_ids),
                             pad_token_id=pad_id, **sampling_kwargs(decoding, marker))
    new = out[:, input_ids.shape[1]:].tolist()
    samples = []
    for p, row in zip(prompts, new):
        ids, ended = split_at_stop(row, stop_ids)
        samples.append(Sample(list(p), ids, ended))
    return samples
