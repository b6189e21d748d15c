"""The scoring engine: one forward pass of a causal LM (and optionally a reference LM) over a
batch of texts, returning every per-token statistic the detectors need.

- Each text is tokenized without special tokens and prefixed with the model's document token
  (GPT-2's <|endoftext|>, Gemma's <bos>), so its first token is scored too.
- A text longer than the window is scored in windows of `max_length` tokens: the first window
  scores all its tokens, each later one scores the next `stride` tokens with the preceding
  `max_length - 1 - stride` tokens as context (every window starts with the document token).
  The windows of long texts are batched with everything else.
- Windows are sorted by length and packed into batches of at most `token_budget` padded tokens;
  padding is right-side and masked. The output layer runs only at scored positions, in blocks
  (detect/forward.py), and the vocabulary-sized statistics are fused (detect/fused_stats.py).
- Results are kept in memory per engine (least recently used first out, bounded by bytes) and optionally on disk (`cache_dir`, Parquet shards keyed
  by model, reference, dtype, window and text hash), so several detectors and reports share one
  pass.
"""
from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from ovid.errors import OvidError
from ovid.hardware import balance_threads, resolve_dtype
from ovid.models import document_token_id, load_causal_lm
from ovid.padding import pad_rows

from .features import TokenStats
from .forward import ScoredLogits
from .fused_stats import fused_token_statistics
from .memory_cache import MemoryCache
from .params import EngineConfig
from .stats import STAT_NAMES
from .stats_cache import StatsCache
from .tiled_stats import tiled_token_statistics

COMPILE_MIN_TOKENS = 100_000  # measured break-even of the compile time: ~60k-150k tokens (49k vocabulary)
REFERENCE_VOCAB = 49_152
# The compiled statistics save time in proportion to the vocabulary, so a larger one breaks even
# sooner: Gemma 3 (262k) scores ~210 tokens/s eagerly and ~530 compiled (AMD EPYC, 2 cores), so
# a ~25 s compile pays for itself from ~9k tokens; the threshold scales to ~19k for it.
HEAD_BLOCK_ELEMENTS = 12_582_912  # logits per output-layer block (256 positions of a 49k vocabulary)


@dataclass(frozen=True)
class Window:
    text: int  # index of the text
    start: int  # first text token in the window
    end: int  # one past the last text token
    score_from: int  # first scored text token


def default_stride(window: int) -> int:
    """New tokens per later window: all but an eighth of the window, which is kept as context.
    Half a window (the usual choice) scored each token of a long text twice over, at about half
    the engine's rate; an eighth (128 tokens of 1024) costs 14% and moves a 40k-token text's mean
    log-probability by 0.016 nats (benchmarks/RESULTS.md)."""
    return max(1, (window - 1) - window // 8)


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
        config = replace(config, dtype=resolve_dtype(config.dtype))  # the cache key names the real dtype
        self.model, self.tokenizer = load_causal_lm(config.model, config.dtype)
        if config.dtype == "int8" and getattr(self.model, "ovid_dtype", None) != "int8":
            config = replace(config, dtype="float32")  # the model failed its int8 check (ovid/models.py)
        self.config = config
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
        self.stride = config.stride or default_stride(self.window)
        self.budget = max(self.window, config.token_budget)
        self.compiled = False
        probe = self.tokenizer("A probe of the output layer.", add_special_tokens=False).input_ids
        self.logits = ScoredLogits(self.model, [self.doc_id] + probe)
        self.ref_logits = ScoredLogits(self.ref, [self.doc_id] + probe) if self.ref is not None else None
        vocab = max(m.config.vocab_size for m in (self.model, self.ref) if m is not None)
        self.head_block = max(1, HEAD_BLOCK_ELEMENTS // vocab)
        self.vocab = vocab
        self.pool_layers = self._check_pool_layers(config.pool_layers)
        self.config = config = replace(config, pool_layers=self.pool_layers)  # the key names the layers one way
        self.key = config.key(self.window, self.stride)
        self.memory = MemoryCache()  # bounded by bytes: see memory_cache.py
        self.disk = StatsCache(Path(config.cache_dir), self.key) if config.cache_dir else None

    def _check_pool_layers(self, layers: tuple[int, ...]) -> tuple[int, ...]:
        """The pooled layers as non-negative indices into the body's hidden states."""
        if not layers:
            return ()
        if not self.logits.tiled or self.ref is not None:
            raise OvidError(f"pooled hidden states need a scoring model whose logits are a plain linear map of "
                            f"its body's output and no reference model; {self.config.model} is not one")
        n = self.logits.layer_count()
        bad = [i for i in layers if not -n <= i < n]
        if bad:
            raise OvidError(f"pool_layers {bad} out of range for {self.config.model}: it has {n} hidden-state "
                            f"layers (0 = embeddings .. {n - 1})")
        return tuple(i % n for i in layers)

    def token_stats(self, texts: Sequence[str], ids: Sequence[str] | None = None,
                    progress: bool = False) -> list[TokenStats]:
        """Per-token statistics for each text (same order). An empty or whitespace-only text
        is an error naming its id (index when no ids are given)."""
        ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise OvidError(f"text {ids[i]!r} is empty or whitespace-only; it cannot be scored")
        keys = [text_key(self.key, t) for t in texts]
        found = self.memory.get_many(list(dict.fromkeys(keys)))
        if self.disk is not None:
            from_disk = self.disk.get([k for k in keys if k not in found])
            self.memory.put_many(from_disk)
            found.update(from_disk)
        todo = sorted({k: i for i, k in reversed(list(enumerate(keys))) if k not in found}.values())
        if todo:
            computed = self._compute([texts[i] for i in todo], progress)
            new = {keys[i]: s for i, s in zip(todo, computed)}
            found.update(new)
            self.memory.put_many(new)
            if self.disk is not None:
                self.disk.put(new)
        return [found[k] for k in keys]

    @torch.inference_mode()
    def _compute(self, texts: Sequence[str], progress: bool) -> list[TokenStats]:
        tokens = [self.tokenizer(t, add_special_tokens=False).input_ids for t in texts]
        plans = [plan_windows(len(tok), i, self.window, self.stride) for i, tok in enumerate(tokens)]
        windows = [w for plan in plans for w in plan]
        if self.config.compile == "always" or (self.config.compile == "auto"
                                               and sum(map(len, tokens)) >= self.compile_min_tokens):
            self.compile()
        parts: dict[Window, dict[str, np.ndarray]] = {}
        bar = tqdm(total=sum(len(t) for t in tokens), unit="tok", unit_scale=True, disable=not progress,
                   file=sys.stderr, desc=f"scoring {len(texts)} texts")
        for batch in pack_batches(windows, self.budget):
            balance_threads()
            rows = [[self.doc_id] + tokens[w.text][w.start:w.end] for w in batch]
            parts.update(zip(batch, self._forward(rows, [w.score_from - w.start for w in batch])))
            bar.update(sum(w.end - w.score_from for w in batch))
        bar.close()
        out = []
        for tok, plan in zip(tokens, plans):
            cat = {k: np.concatenate([parts[w][k] for w in plan]) for k in STAT_NAMES}
            if self.pool_layers:  # each window holds the sum over its scored tokens
                cat["pooled"] = sum(parts[w]["pooled_sum"] for w in plan) / max(1, len(cat["log_prob"]))
            out.append(TokenStats(token_ids=np.asarray(tok, dtype=np.int64), **cat))
        return out

    @property
    def compile_min_tokens(self) -> int:
        """Tokens in one call from which compile="auto" compiles (scaled by the vocabulary)."""
        return int(COMPILE_MIN_TOKENS * min(1.0, REFERENCE_VOCAB / self.vocab))

    def compile(self) -> None:
        """Compile the decoder blocks and the statistics from now on (see detect/forward.py)."""
        for source in (self.logits, self.ref_logits):
            if source is not None:
                source.compile()
        self.compiled = True

    def _forward(self, rows: list[list[int]], skip: list[int]) -> list[dict[str, np.ndarray]]:
        """Forward one right-padded batch; per row, the statistics of its scored tokens."""
        ids, mask = pad_rows(rows, 0)
        # position t predicts token t+1; row i scores positions skip[i] .. len(row)-2
        counts = [len(r) - 1 - k for r, k in zip(rows, skip)]
        pos_rows = torch.repeat_interleave(torch.arange(len(rows)), torch.tensor(counts))
        pos_cols = torch.cat([torch.arange(k, len(r) - 1) for r, k in zip(rows, skip)])
        dev = self.model.device
        targets = ids[pos_rows, pos_cols + 1].to(dev)
        ids, mask, pos_rows, pos_cols = ids.to(dev), mask.to(dev), pos_rows.to(dev), pos_cols.to(dev)
        pooled = None
        if self.pool_layers:
            hidden, layers = self.logits.hidden_and_layers_at(ids, mask, pos_rows, pos_cols, self.pool_layers)
            flat = tiled_token_statistics(hidden, self.logits.head.weight, targets, compiled=self.compiled)
            # per row, the sum of each layer's hidden states over its scored positions: (rows, L, H)
            pooled = torch.zeros((len(rows),) + layers.shape[1:], dtype=torch.float32, device=dev)
            pooled = pooled.index_add_(0, pos_rows, layers).cpu().numpy()
        elif self.logits.tiled and (self.ref is None or self.ref_logits.tiled):
            flat = tiled_token_statistics(
                self.logits.hidden_at(ids, mask, pos_rows, pos_cols), self.logits.head.weight, targets,
                None if self.ref is None else self.ref_logits.hidden_at(ids, mask, pos_rows, pos_cols),
                None if self.ref is None else self.ref_logits.head.weight, self.compiled)
        else:
            flat = self._blocked_statistics(ids, mask, pos_rows, pos_cols, targets)
        flat = {k: v.cpu().numpy().astype(np.float32) for k, v in flat.items()}
        bounds = np.cumsum([0] + counts)
        out = [{k: v[bounds[i]:bounds[i + 1]] for k, v in flat.items()} for i in range(len(rows))]
        for i, part in enumerate(out if pooled is not None else ()):
            part["pooled_sum"] = pooled[i]
        return out

    def _blocked_statistics(self, ids, mask, pos_rows, pos_cols, targets) -> dict[str, torch.Tensor]:
        """The statistics from logits blocks: for an output layer that is not a plain linear map
        (soft-capped or scaled logits, a bias)."""
        blocks = self.logits.blocks(ids, mask, pos_rows, pos_cols, self.head_block)
        ref_blocks = (self.ref_logits.blocks(ids, mask, pos_rows, pos_cols, self.head_block)
                      if self.ref is not None else None)
        parts, start = [], 0
        for z in blocks:
            zq = next(ref_blocks) if ref_blocks is not None else None
            if zq is not None and zq.shape[-1] != z.shape[-1]:  # padded vocabularies of one family
                v = min(z.shape[-1], zq.shape[-1])
                z, zq = z[..., :v], zq[..., :v]
            parts.append(fused_token_statistics(z, targets[start:start + len(z)], zq, self.compiled))
            start += len(z)
        return {k: torch.cat([p[k] for p in parts]) for k in STAT_NAMES}


class EngineBacked:
    """Mixin for detectors scored from the engine: their model, dtype, window, budget and cache
    settings name one shared engine."""
    reference_model: str | None = None

    def engine_config(self, model: str | None = None) -> EngineConfig:
        """The engine settings this detector names (checked: dtype, window, budget)."""
        return EngineConfig(model=model or self.model, reference_model=self.reference_model, dtype=self.dtype,
                            max_length=self.max_length, token_budget=self.token_budget, cache_dir=self.cache_dir,
                            pool_layers=tuple(self.pooled_layers()))

    def pooled_layers(self) -> Sequence[int]:
        """Hidden-state layers whose pooled vectors the engine also returns (none by default)."""
        return ()

    def models_used(self) -> list[str]:
        return [self.model]

    def token_view_model(self) -> str:
        return self.model

    def check_params(self):
        for m in self.models_used():
            self.engine_config(m)
        return super().check_params()

    def engine(self, model: str | None = None) -> "ScoringEngine":
        return get_engine(self.engine_config(model))

    def engines(self) -> list["ScoringEngine"]:
        """Every engine this detector scores with (an ensemble: one per model)."""
        return [self.engine(m) for m in self.models_used()]

    def token_stats(self, texts: Sequence[str], ids: Sequence[str] | None = None,
                    progress: bool = False) -> list[TokenStats]:
        return self.engine().token_stats(texts, ids, progress)

    def segments(self, texts: Sequence[str], ids: Sequence[str] | None = None, progress: bool = False,
                 max_tokens: int | None = None) -> list:
        """Which parts of each text a machine wrote, from one forward pass per text: per text, a
        list of Span (character offsets in the text as given, sentence and token counts, score,
        P(machine), verdict), by the segment model ovid ships for this detector's language model.
        With `max_tokens`, only the sentences within each text's first max_tokens tokens."""
        return [s.spans for s in self.segmentations(texts, ids, progress, max_tokens)]

    def segmentations(self, texts: Sequence[str], ids: Sequence[str] | None = None, progress: bool = False,
                      max_tokens: int | None = None) -> list:
        """`segments` with each sentence's character range and posterior P(machine) too
        (detect/segments.Segmentation): what a sentence-level measurement needs."""
        from .base import check_texts
        from .segments import segment_texts

        texts = check_texts(texts)
        seg = self.segment_model()
        engine = self.engine(self.models_used()[0])
        return segment_texts(engine, texts, seg, ids, progress, max_tokens)

    def segment_model(self):
        """The segment model ovid ships for this detector's (first) language model."""
        from . import segments

        return segments.shipped_model(self.models_used()[0])


def compile_for_job(det, tokens: int) -> None:
    """compile="auto" decides per call, by that call's tokens; a job scored in many small calls
    (Ray's units of work) decides once, by the tokens of the whole job."""
    if isinstance(det, EngineBacked):
        for engine in det.engines():
            if engine.config.compile == "auto" and tokens >= engine.compile_min_tokens:
                engine.compile()


def get_engine(config: EngineConfig) -> ScoringEngine:
    """One engine per configuration per process, so detectors share models and statistics."""
    return _shared_engine(replace(config, dtype=resolve_dtype(config.dtype)))


@functools.lru_cache(maxsize=8)
def _shared_engine(config: EngineConfig) -> ScoringEngine:
    return ScoringEngine(config)
