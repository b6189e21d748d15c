"""The two schemes through transformers' own code: its logits processors mark text at generation
time, and the same objects recompute, for a text's tokens, which were green (KGW) or what the
g-values were (SynthID). The counting and the p-values are ovid's (stats.py): transformers'
WatermarkDetector counts repeated n-grams unless told not to and reports a normal-tail
p-value, and SynthID's shipped detector must be trained first.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .config import SYNTHID_HISTORY, SYNTHID_TABLE_SEED, SYNTHID_TABLE_SIZE, WatermarkConfig
from .stats import binomial_p_value, z_score


def synthid_processor_class():
    """transformers' SynthID processor, computing g-values only for the tokens the decoding left
    any probability (top-k: k of them, not the whole vocabulary) and indexing its sampling table
    directly; the same scores as transformers' own (tests/test_watermark.py), 10-1000x less work."""
    import torch
    from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

    class SynthIDProcessor(SynthIDTextWatermarkLogitsProcessor):
        def sample_g_values(self, ngram_keys: torch.LongTensor) -> torch.LongTensor:
            return self.sampling_table[ngram_keys % self.sampling_table.shape[0]]

        def update_scores(self, scores: torch.Tensor, g_values: torch.Tensor) -> torch.Tensor:
            probs = torch.softmax(scores, dim=1)
            layers = g_values.permute(2, 0, 1).to(probs.dtype)  # (depth, B, V), each layer contiguous
            for g in layers:
                probs = probs * (1 + g - (g * probs).sum(axis=1, keepdims=True))
            log_probs = torch.log(probs)
            return torch.where(torch.isfinite(log_probs), log_probs, torch.finfo(log_probs.dtype).min)

        def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
            self._check_input_ids_shape(input_ids)
            batch_size, vocab_size = scores.shape
            if self.state is None:
                self._init_state(batch_size)
            else:
                self.state.context = torch.concat((self.state.context, input_ids[:, -1:]), dim=1)[:, 1:]
            self.state.num_calls += 1
            if self.skip_first_ngram_calls and self.state.num_calls < self.ngram_len:
                return scores
            support = int(torch.isfinite(scores).sum(-1).max())
            if support < vocab_size:  # the k best of each row hold all of its mass
                values, columns = scores.topk(support, dim=-1)
            else:
                values = scores
                columns = torch.arange(vocab_size, device=scores.device).unsqueeze(0).expand(batch_size, -1)
            keys, context_hash = self._compute_keys(self.state.context, columns)
            marked = self.update_scores(values, self.sample_g_values(keys))
            if support < vocab_size:
                full = torch.full_like(scores, torch.finfo(marked.dtype).min)
                marked = full.scatter(1, columns, marked)
            context_hash = context_hash[:, None]
            repeated = (self.state.context_history == context_hash).any(dim=1, keepdim=True)
            self.state.context_history = torch.concat((context_hash, self.state.context_history), dim=1)[:, :-1]
            return torch.where(repeated, scores, marked)

    return SynthIDProcessor


def logits_processor(config: WatermarkConfig, vocab_size: int, device="cpu"):
    """A fresh transformers logits processor that marks text (a new one per `generate` call:
    SynthID's keeps the context of the rows it is marking)."""
    if config.scheme == "kgw":
        from transformers.generation.logits_process import WatermarkLogitsProcessor

        return WatermarkLogitsProcessor(vocab_size=vocab_size, device=device, greenlist_ratio=config.gamma,
                                        bias=config.delta, hashing_key=config.key,
                                        seeding_scheme=config.seeding_scheme, context_width=config.context_width)
    return synthid_processor_class()(ngram_len=config.ngram_len, keys=config.layer_keys,
                                               sampling_table_size=SYNTHID_TABLE_SIZE,
                                               sampling_table_seed=SYNTHID_TABLE_SEED,
                                               context_history_size=SYNTHID_HISTORY, device=device)


@dataclass(frozen=True)
class WatermarkTest:
    """The test of each text: `trials` scored units (unique KGW n-grams; SynthID g-values of
    unrepeated contexts, one per layer), `successes` among them (green tokens; g-values of 1),
    `null_rate` the chance of a success without the key."""
    trials: np.ndarray
    successes: np.ndarray
    null_rate: float

    @property
    def z(self) -> np.ndarray:
        return z_score(self.successes, self.trials, self.null_rate)

    @property
    def p_value(self) -> np.ndarray:
        return binomial_p_value(self.successes, self.trials, self.null_rate)

    @property
    def success_rate(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.trials > 0, self.successes / np.maximum(self.trials, 1), np.nan)


def kgw_test(token_lists: Sequence[Sequence[int]], config: WatermarkConfig, vocab_size: int) -> WatermarkTest:
    """Green tokens among each text's unique n-grams. Green lists are drawn once per distinct
    seeding context over all texts (a vocabulary permutation each: the slow part)."""
    import torch

    proc = logits_processor(config, vocab_size)
    selfhash = config.seeding_scheme == "selfhash"
    n = config.context_width + 1 - selfhash
    trials = np.zeros(len(token_lists), dtype=np.int64)
    by_context: dict[tuple, list[tuple[int, int]]] = defaultdict(list)  # context -> [(text, target)]
    for i, ids in enumerate(token_lists):
        grams = {tuple(ids[j:j + n]) for j in range(len(ids) - n + 1)}
        trials[i] = len(grams)
        for g in grams:
            by_context[g if selfhash else g[:-1]].append((i, g[-1]))
    successes = np.zeros(len(token_lists), dtype=np.int64)
    for context, hits in by_context.items():
        green = proc._get_greenlist_ids(torch.tensor(context, dtype=torch.long))
        targets = torch.tensor([t for _, t in hits], dtype=torch.long)
        # a direct comparison: torch.isin sorts the green list first, 30x slower for a few targets
        is_green = (targets.unsqueeze(1) == green.unsqueeze(0)).any(1).numpy()
        np.add.at(successes, [i for i, _ in hits], is_green.astype(np.int64))
    return WatermarkTest(trials, successes, proc.greenlist_size / vocab_size)


def synthid_test(token_lists: Sequence[Sequence[int]], config: WatermarkConfig) -> WatermarkTest:
    """SynthID's training-free mean score as a count: the g-values (0 or 1, one per layer) of
    every token whose n-1 preceding tokens were not seen before in the text."""
    import torch

    proc = logits_processor(config, vocab_size=0)
    depth = len(config.layer_keys)
    trials = np.zeros(len(token_lists), dtype=np.int64)
    successes = np.zeros(len(token_lists), dtype=np.int64)
    for i, ids in enumerate(token_lists):
        if len(ids) < config.ngram_len:
            continue
        x = torch.tensor([list(ids)], dtype=torch.long)
        g = proc.compute_g_values(x)[0]  # (positions, depth)
        fresh = proc.compute_context_repetition_mask(x)[0].bool()  # context not seen before
        trials[i] = int(fresh.sum()) * depth
        successes[i] = int(g[fresh].sum())
    return WatermarkTest(trials, successes, float(proc.sampling_table.double().mean()))


def watermark_test(token_lists: Sequence[Sequence[int]], config: WatermarkConfig, vocab_size: int) -> WatermarkTest:
    """The scheme's test for each token list (the text's tokens, no special tokens)."""
    if config.scheme == "kgw":
        return kgw_test(token_lists, config, vocab_size)
    return synthid_test(token_lists, config)
