"""The detection service without HTTP: detectors loaded once, every text's verdict and warnings,
the GLTR token view, and the micro-batcher in front of the models. serve/app.py puts it on the
web; tests and benchmarks can drive it directly.

All model work (normalisation, tokenizing, forward passes) runs on the batcher's one worker
thread: tokenizers and models are not shared between threads.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import Future
from typing import Any

from ovid.detect.persistence import resolve_detector
from ovid.detect.registry import make_detector
from ovid.detect.text_checks import gltr_rows, token_segments
from ovid.detect.verdicts import CheckSettings, check_with, guard, prepare_text
from ovid.errors import OvidError
from ovid.normalize import normalize_mapped
from ovid.version import __version__

from .batcher import MicroBatcher
from .config import ServeConfig

CHARS_PER_TOKEN = 4  # the batcher's token estimate before a text is tokenized
WARM_UP_TEXT = ("In 2019 the laboratory released its language model in stages, watching at each step how "
                "often people and detectors could tell its samples from text written by a person. ")


class Service:
    """Detectors by the names they were given, ready to score (see `start`)."""

    def __init__(self, config: ServeConfig):
        self.config = config
        self.detectors: dict[str, Any] = {}
        for name in dict.fromkeys(config.detectors):
            self.detectors[name] = resolve_detector(name, {})
        self.default = next(iter(self.detectors))
        self.watermark = None
        if config.watermark or config.watermark_model:
            if not (config.watermark and config.watermark_model):
                raise OvidError("--watermark-model and --watermark go together: the watermark test needs the "
                                "scheme, the key and the model that generated the text")
            self.watermark = make_detector("watermark", model=config.watermark_model, **config.watermark)
            marked = [n for n, d in self.detectors.items() if d.test_level() is not None]
            if marked:
                raise OvidError(f"--watermark adds a watermark test to other detectors; {marked[0]} is one "
                                "already: give its settings there, or serve another detector")
        self.check_settings = CheckSettings(max_tokens=config.max_tokens, short_tokens=config.short_tokens,
                                            language=config.language)
        self.batcher: MicroBatcher | None = None
        self.started = None

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> "Service":
        """Load every model, size its statistics cache and (warm_up) compile and run each path
        once; then start taking texts."""
        for det in self.detectors.values():
            for engine in det.engines():
                engine.memory.resize(int(self.config.cache_mb * 2**20))
                if self.config.warm_up:
                    engine.compile()
            if self.config.warm_up:  # two shapes, one text and a batch, so later ones rarely recompile
                for texts in ([WARM_UP_TEXT], [WARM_UP_TEXT * 3, WARM_UP_TEXT]):
                    failed = [c.error for c in check_with(det, texts, self.check_settings) if c.error is not None]
                    if failed:
                        raise OvidError(f"detector {det.name} could not score a test text: {failed[0]}")
                for engine in det.engines():
                    engine.memory.clear()
        if self.watermark is not None:
            self.watermark.test([WARM_UP_TEXT])
        c = self.config
        self.batcher = MicroBatcher(self._run, enabled=c.micro_batching, wait_s=c.batch_wait_ms / 1000,
                                    max_tokens=c.batch_tokens)
        self.started = time.time()
        return self

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
            self.batcher = None

    # -- requests (validated by the caller) -----------------------------------------------------------
    def submit_score(self, texts: list[str], detector: str | None = None, segments: bool = False) -> Future:
        """A future of one result dict per text (with `segments`, each text's spans too)."""
        name = detector or self.default
        return self._submit(f"{'score+segments' if segments else 'score'}\0{name}", texts)

    def submit_tokens(self, text: str, detector: str | None = None) -> Future:
        """A future of [the GLTR view of the text]."""
        name = detector or self.default
        return self._submit(f"tokens\0{name}", [text])

    def _submit(self, group: str, texts: list[str]) -> Future:
        if self.batcher is None:
            raise OvidError("the service has not started")
        tokens = sum(min(len(t) // CHARS_PER_TOKEN + 1, self.config.max_tokens) for t in texts)
        return self.batcher.submit(group, texts, tokens)

    def token_view_model(self, name: str) -> str | None:
        """The scoring model whose ranks /v1/tokens shows for detector `name` (None: it has none)."""
        return self.detectors[name].token_view_model()

    # -- the worker's side ------------------------------------------------------------------------
    def _run(self, group: str, texts: list[str]) -> list[Any]:
        kind, name = group.split("\0", 1)
        det = self.detectors[name]
        if kind == "tokens":
            return [guard(self._token_view, det, t) for t in texts]
        return [c.to_dict() for c in check_with(det, texts, self.check_settings, segments=kind == "score+segments",
                                                watermark=self.watermark)]

    def _token_view(self, det, text: str) -> dict:
        if det.token_view_model() is None:
            raise OvidError(f"{det.name} reads no language model's ranks")
        item = prepare_text(det, text, self.config.max_tokens)
        engine = det.engines()[0]
        stats = engine.token_stats([item.text])[0]
        segments = token_segments(item.text, item.offsets)
        if len(segments) != len(stats):
            raise OvidError("the tokenizer's offsets do not match the scored tokens")
        read, where = normalize_mapped(text, det.normalization())
        if not read.text.startswith(item.text):
            raise OvidError("the detector read the text otherwise than its normalisation recipe says")
        typed = where.original_pieces(text, [a for a, _ in item.offsets], len(item.text) if item.truncated else None)
        rows = [row | {"original": piece} for row, piece in zip(gltr_rows(segments, stats), typed)]
        return {"model": det.token_view_model(), "text": item.text, "original": "".join(typed),
                "truncated": item.truncated, "tokens": rows}

    # -- what the service tells about itself ------------------------------------------------------
    def describe(self, name: str) -> dict:
        det = self.detectors[name]
        cal = det.calibration() or {}
        out = {"name": name, "detector": det.name, "default": name == self.default, "models": det.models_used(),
               "normalize": det.normalization(), "token_view": self.token_view_model(name) is not None,
               "segments": det.can_segment(),
               "threshold": cal.get("threshold"), "target_fpr": cal.get("target_fpr"),
               "fpr_by_domain": cal.get("fpr_by_domain"), "distributions": cal.get("distributions")}
        return out

    def health(self) -> dict:
        caches = {}
        for det in self.detectors.values():
            for engine in det.engines():
                caches[engine.config.model] = engine.memory.info().as_dict()
        alive = self.batcher is not None and self.batcher.alive()
        return {"status": "ok" if alive else ("stopped" if self.started else "starting"), "version": __version__,
                "uptime_s": round(time.time() - self.started, 1) if self.started else 0.0,
                "detectors": list(self.detectors), "rss_bytes": rss_bytes(), "statistics_cache": caches,
                "batching": {"enabled": self.config.micro_batching,
                             **(self.batcher.stats.as_dict() if self.batcher else {})}}


def rss_bytes() -> int:
    """This process's resident memory (Linux /proc; psutil elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import psutil

        return int(psutil.Process().memory_info().rss)
