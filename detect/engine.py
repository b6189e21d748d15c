"""The scoring engine: one forward pass of a causal LM (and optionally a reference LM) over a
batch of texts, returning every per-token statistic the detectors need.

- Each text is tokenized without special tokens and prefixed with the model's document token
  (GPT-2's <|endoftext|>, Gemma's <bos>), so its first token is scored too.
- A text longer than the window is scored in windows of `max_length` tokens: the first window
  scores all its tokens, each later one scores the next `stride` tokens with the preceding
  `max_length - 1 - stride` tokens as context (every window starts with the document token).
- Windows are sorted by length and packed into batches of at most `token_budget` padded tokens
  (fewer for large vocabularies, so the logits stay near 1 GB); padding is right-side and masked.
- Results are kept in memory per engine and optionally on disk (`cache_dir`, Parquet shards keyed
  by model, reference, dtype, window and text hash), so several detectors and reports share one
  pass.
"""
from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from ovid.errors import OvidError
from ovid.models import document_token_id, load_causal_lm

from .features import TokenStats
from .stats import STAT_NAMES, token_statistics
from .stats_cache import StatsCache

MAX_LOGIT_ELEMENTS = 250_000_000  # ~1 GB of fp32 logits per batch


@dataclass(frozen=True)
class EngineConfig:
    model: str = "smollm2-135m"  # scoring model (Binoculars' performer)
    reference_model: str | None = None  # sampling/observer model; None = the scoring model itself
    dtype: str = "float32"  # model weights' dtype; statistics are always computed in float32
    max_length: int | None = None  # window in tokens (incl. document token); None = min(model's, 1024)
    stride: int | None = None  # new tokens scored per later window; None = half the window
    token_budget: int = 4096  # padded tokens per forward batch
    cache_dir: str | None = None  # on-disk statistics cache; None = memory only

    def key(self, window: int, stride: int) -> str:
        d = asdict(self)
        for k in ("cache_dir", "token_budget"):  # do not change the statistics
            d.pop(k)
        d.update(max_length=window, stride=stride)
        return "|".join(f"{k}={v}" for k, v in sorted(d.items()))


@dataclass(frozen=True)
class Window:
    text: int  # index of the text
    start: int  # first text token in the window
    end: int  # one past the last text token
    score_from: int  # first scored text token


def plan_windows(n_tokens: int, text: int, window: int, stride: int) -> list[Window]:
    """Cover tokens [0, n) with windows of at most window-1 text tokens, scoring each token once."""
    cap = window - 1
    end = min(n_tokens, cap)
    out = [Window(text, 0, end, 0)]
    while end < n_tokens:
        new_end = min(n_tokens, end + stride)
        out.append(Window(text, max(0, new_end - cap), new_end, end))
        end = new_end
    return out


def pack_batches(windows: Sequence[Window], budget: int) -> list[list[Window]]:
    """Longest first; a batch holds windows while rows x longest row <= budget."""
    order = sorted(windows, key=lambda w: w.end - w.start, reverse=True)
    batches: list[list[Window]] = []
    for w in order:
        longest = (batches[-1][0].end - batches[-1][0].start + 1) if batches else 0
        if batches and (len(batches[-1]) + 1) * longest <= budget:
            batches[-1].append(w)
        else:
            batches.append([w])
    return batches


def text_key(config_key: str, text: str) -> str:
    return hashlib.sha256(f"{config_key}\n{text}".encode("utf-8")).hexdigest()


class ScoringEngine:
    """Token statistics for texts; see the module docstring. Use `get_engine` to share one."""

    def __init__(self, config: EngineConfig):
        self.config = config
        self.model, self.tokenizer = load_causal_lm(config.model, config.dtype)
        self.ref = None
        if config.reference_model and config.reference_model != config.model:
            self.ref, ref_tok = load_causal_lm(config.reference_model, config.dtype)
            probe = "Tokenizers must agree: 1,234 ünïcode words."
            if ref_tok(probe).input_ids != self.tokenizer(probe).input_ids:
                raise OvidError(f"reference model {config.reference_model} does not share the "
                                f"tokenizer of {config.model}; pick two models of one family")
        self.doc_id = document_token_id(config.model)
        model_max = getattr(self.model.config, "max_position_embeddings", None) or \
            getattr(self.model.config, "n_positions", 1024)
        self.window = config.max_length or min(model_max, 1024)
        if self.window < 3 or self.window > model_max:
            raise OvidError(f"max_length must be in [3, {model_max}] for {config.model}, got {self.window}")
        self.stride = config.stride or max(1, (self.window - 1) // 2)
        vocab = self.model.config.vocab_size
        self.budget = max(self.window, min(config.token_budget, MAX_LOGIT_ELEMENTS // vocab))
        self.key = config.key(self.window, self.stride)
        self.memory: dict[str, TokenStats] = {}
        self.disk = StatsCache(Path(config.cache_dir), self.key) if config.cache_dir else None

    def token_stats(self, texts: Sequence[str], ids: Sequence[str] | None = None,
                    progress: bool = False) -> list[TokenStats]:
        """Per-token statistics for each text (same order). An empty or whitespace-only text
        is an error naming its id (index when no ids are given)."""
        ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise OvidError(f"text {ids[i]!r} is empty or whitespace-only; it cannot be scored")
        keys = [text_key(self.key, t) for t in texts]
        if self.disk is not None:
            self.memory.update(self.disk.get([k for k in keys if k not in self.memory]))
        todo = sorted({k: i for i, k in reversed(list(enumerate(keys))) if k not in self.memory}.values())
        if todo:
            computed = self._compute([texts[i] for i in todo], progress)
            new = {keys[i]: s for i, s in zip(todo, computed)}
            self.memory.update(new)
            if self.disk is not None:
                self.disk.put(new)
        return [self.memory[k] for k in keys]

    @torch.inference_mode()
    def _compute(self, texts: Sequence[str], progress: bool) -> list[TokenStats]:
        tokens = [self.tokenizer(t, add_special_tokens=False).input_ids for t in texts]
        plans = [plan_windows(len(tok), i, self.window, self.stride) for i, tok in enumerate(tokens)]
        windows = [w for plan in plans for w in plan]
        parts: dict[Window, dict[str, np.ndarray]] = {}
        bar = tqdm(total=sum(len(t) for t in tokens), unit="tok", unit_scale=True, disable=not progress,
                   file=sys.stderr, desc=f"scoring {len(texts)} texts")
        for batch in pack_batches(windows, self.budget):
            rows = [[self.doc_id] + tokens[w.text][w.start:w.end] for w in batch]
            parts.update(zip(batch, self._forward(rows, [w.score_from - w.start for w in batch])))
            bar.update(sum(w.end - w.score_from for w in batch))
        bar.close()
        out = []
        for tok, plan in zip(tokens, plans):
            cat = {k: np.concatenate([parts[w][k] for w in plan]) for k in STAT_NAMES}
            out.append(TokenStats(token_ids=np.asarray(tok, dtype=np.int64), **cat))
        return out

    def _forward(self, rows: list[list[int]], skip: list[int]) -> list[dict[str, np.ndarray]]:
        """Forward one right-padded batch; per row, the statistics of its scored tokens."""
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        dev = self.model.device
        logits = self.model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits
        ref_logits = None
        if self.ref is not None:
            ref_logits = self.ref(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits
            v = min(logits.shape[-1], ref_logits.shape[-1])
            logits, ref_logits = logits[..., :v], ref_logits[..., :v]
        out = []
        for i, r in enumerate(rows):
            n = len(r) - 1  # positions 0..n-1 predict tokens 1..n
            s = slice(skip[i], n)
            stats = token_statistics(logits[i:i + 1, s], ids[i:i + 1, 1:][:, s].to(dev),
                                     None if ref_logits is None else ref_logits[i:i + 1, s])
            out.append({k: v[0].cpu().numpy().astype(np.float32) for k, v in stats.items()})
        return out


@functools.lru_cache(maxsize=8)
def get_engine(config: EngineConfig) -> ScoringEngine:
    """One engine per configuration per process, so detectors share models and statistics."""
    return ScoringEngine(config)
