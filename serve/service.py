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
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovid.detect.base import PreparedTexts
from ovid.detect.calibration import apply_calibration
from ovid.detect.engine import EngineBacked
from ovid.detect.registry import make_detector
from ovid.detect.score_rows import resolve_detector, span_row
from ovid.errors import OvidError
from ovid.normalize import normalize
from ovid.version import __version__

from .batcher import MicroBatcher
from .config import ServeConfig
from .text_checks import cut_to_tokens, gltr_rows, guess_language, text_warnings, token_segments

CHARS_PER_TOKEN = 4  # the batcher's token estimate before a text is tokenized
WARM_UP_TEXT = ("In 2019 the laboratory released its language model in stages, watching at each step how "
                "often people and detectors could tell its samples from text written by a person. ")


@dataclass
class Prepared:
    """One text on its way to a detector."""
    text: str  # as the detector reads it: normalised, cut to max_tokens
    change_ratio: float  # share of characters the detector's normalisation changed
    tokens: int | None  # tokens scored (None: the detector has no tokenizer of its own)
    truncated: bool
    offsets: list[tuple[int, int]] | None


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
            marked = [n for n, d in self.detectors.items() if d.name == "watermark"]
            if marked:
                raise OvidError(f"--watermark adds a watermark test to other detectors; {marked[0]} is one "
                                "already: give its settings there, or serve another detector")
        self.batcher: MicroBatcher | None = None
        self.started = None

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> "Service":
        """Load every model, size its statistics cache and (warm_up) compile and run each path
        once; then start taking texts."""
        for det in self.detectors.values():
            for engine in self._engines(det):
                engine.memory.resize(int(self.config.cache_mb * 2**20))
                if self.config.warm_up:
                    engine.compile()
            if self.config.warm_up:  # two shapes, one text and a batch, so later ones rarely recompile
                for texts in ([WARM_UP_TEXT], [WARM_UP_TEXT * 3, WARM_UP_TEXT]):
                    failed = [r for r in self._run_score(det, [self._prepare(det, t) for t in texts], texts)
                              if isinstance(r, Exception)]
                    if failed:
                        raise OvidError(f"detector {det.name} could not score a test text: "
                                        f"{type(failed[0]).__name__}: {failed[0]}")
                for engine in self._engines(det):
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
        det = self.detectors[name]
        return det.model if isinstance(det, EngineBacked) else None

    # -- the worker's side ------------------------------------------------------------------------
    def _run(self, group: str, texts: list[str]) -> list[Any]:
        kind, name = group.split("\0", 1)
        det = self.detectors[name]
        if kind == "tokens":
            return [self._guard(self._token_view, det, t) for t in texts]
        prepared = [self._guard(self._prepare, det, t) for t in texts]
        ok = [i for i, p in enumerate(prepared) if not isinstance(p, Exception)]
        results: list[Any] = list(prepared)
        for i, r in zip(ok, self._run_score(det, [prepared[i] for i in ok], [texts[i] for i in ok])):
            results[i] = r if isinstance(r, Exception) else (r, prepared[i])
        out = [self._result(det, t, r) for t, r in zip(texts, results)]
        if kind == "score+segments":
            for t, r in zip(texts, out):
                if r.get("error") is None:
                    self._add_segments(det, t, r)
        return out

    def _add_segments(self, det, text: str, result: dict) -> None:
        """The text's spans, from the pass its score came from (the engine's cache holds it)."""
        try:
            seg = det.segment_model()
            (spans,) = det.segments([text], max_tokens=self.config.max_tokens)
        except Exception as e:  # the score stands; the spans could not be found
            result["warnings"].append({"code": "segments", "message": f"no spans: {error_line(e)}"})
            return
        result["segments"] = {
            "spans": [span_row(sp) for sp in spans], "target_fpr": seg.target_fpr,
            "min_sentences": seg.min_sentences, "min_tokens": seg.min_tokens,
            "note": f"A span is flagged machine when its score reaches the threshold set so that at most "
                    f"{seg.target_fpr:.0%} of human texts have any span flagged; a span shorter than "
                    f"{seg.min_sentences} sentences or {seg.min_tokens} tokens gets no verdict of its own."}

    @staticmethod
    def _guard(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one text's failure is that text's error, not the request's
            return e

    def _engines(self, det) -> list:
        return det.engines() if isinstance(det, EngineBacked) else []

    def _prepare(self, det, text: str) -> Prepared:
        prepared = det.prepare([text])
        norm, ratio = prepared[0], float(prepared.change_ratio[0])
        engines = self._engines(det)
        if not engines:
            return Prepared(norm, ratio, None, False, None)
        tokenizer = engines[0].tokenizer
        offsets = tokenizer(norm, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        cut, n, truncated = cut_to_tokens(norm, offsets, self.config.max_tokens)
        if truncated:  # a cut text can tokenize differently at its end: count what the engine will read
            offsets = tokenizer(cut, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
            n = len(offsets)
        return Prepared(cut, ratio, n, truncated, [tuple(o) for o in offsets])

    def _run_score(self, det, items: list[Prepared], raw: list[str]) -> list[Any]:
        """(score, details) per item, or its exception; the batch in one call when it can be."""
        def call(batch: list[Prepared], texts: list[str]):
            pt = PreparedTexts(p.text for p in batch)
            pt.change_ratio = np.array([p.change_ratio for p in batch])
            if hasattr(det, "score_with_details"):
                scores, details = det.score_with_details(pt)
            else:
                scores, details = det.score(pt), [None] * len(batch)
            marks = ([m | {"alpha": self.watermark.alpha} for m in self.watermark.test(texts)]
                     if self.watermark is not None else [None] * len(batch))
            return [(float(s), d or m) for s, d, m in zip(scores, details, marks)]

        def split(lo: int, hi: int) -> list[Any]:
            try:
                return call(items[lo:hi], raw[lo:hi])
            except Exception as e:  # halve until the failing text is alone; the others are still scored
                if hi - lo == 1:
                    return [e]
                mid = (lo + hi) // 2
                return split(lo, mid) + split(mid, hi)

        return split(0, len(items)) if items else []

    def _result(self, det, text: str, outcome) -> dict:
        if not isinstance(outcome, Exception):
            (score, mark), item = outcome
            outcome = self._guard(verdict, det, score, item, text, mark, self.config)
        if isinstance(outcome, Exception):
            return {"error": error_line(outcome)}
        return outcome

    def _token_view(self, det, text: str) -> dict:
        if not isinstance(det, EngineBacked):
            raise OvidError(f"{det.name} reads no language model's ranks")
        item = self._prepare(det, text)
        engine = self._engines(det)[0]
        stats = engine.token_stats([item.text])[0]
        segments = token_segments(item.text, item.offsets)
        if len(segments) != len(stats):
            raise OvidError("the tokenizer's offsets do not match the scored tokens")
        return {"model": det.model, "text": item.text, "truncated": item.truncated, "tokens": gltr_rows(segments, stats)}

    # -- what the service tells about itself ------------------------------------------------------
    def describe(self, name: str) -> dict:
        det = self.detectors[name]
        cal = getattr(det, "calibration_", None) or {}
        out = {"name": name, "detector": det.name, "default": name == self.default,
               "models": list(getattr(det, "models", None) or ([det.model] if hasattr(det, "model") else [])),
               "normalize": getattr(det, "normalize", "none"), "token_view": self.token_view_model(name) is not None,
               "segments": det.can_segment(),
               "threshold": cal.get("threshold"), "target_fpr": cal.get("target_fpr"),
               "fpr_by_domain": cal.get("fpr_by_domain"), "distributions": cal.get("distributions")}
        return out

    def health(self) -> dict:
        caches = {}
        for det in self.detectors.values():
            for engine in self._engines(det):
                caches[engine.config.model] = engine.memory.info().as_dict()
        alive = self.batcher is not None and self.batcher.alive()
        return {"status": "ok" if alive else ("stopped" if self.started else "starting"), "version": __version__,
                "uptime_s": round(time.time() - self.started, 1) if self.started else 0.0,
                "detectors": list(self.detectors), "rss_bytes": rss_bytes(), "statistics_cache": caches,
                "batching": {"enabled": self.config.micro_batching,
                             **(self.batcher.stats.as_dict() if self.batcher else {})}}


def verdict(det, score: float, item: Prepared, text: str, mark: dict | None, config: ServeConfig) -> dict:
    """One text's answer: score, P(machine), the decision at the saved threshold and the FPR it
    was set for, what was scored, and the warnings (pure: the detector is only read)."""
    cal = getattr(det, "calibration_", None)
    repaired = normalize(text, "repair")
    language, confidence = guess_language(repaired.text)
    tampering = round(repaired.change_ratio, 6)
    out = {"score": score, "p_machine": None, "verdict": None, "threshold": None, "target_fpr": None,
           "tokens_scored": item.tokens, "truncated": item.truncated, "tampering": tampering,
           "normalization_change": round(item.change_ratio, 6), "language": language,
           "warnings": text_warnings(tokens=item.tokens, short_tokens=config.short_tokens, language=language,
                                     confidence=confidence, expected_language=config.language,
                                     tampering=tampering, truncated=item.truncated, max_tokens=config.max_tokens,
                                     repaired=getattr(det, "normalize", "none") != "none"),
           "watermark": None, "error": None}
    if getattr(det, "name", "") == "watermark" and not cal:  # a test with a provable FPR: alpha
        out["target_fpr"] = det.alpha
        if mark and mark.get("p_value") is not None:
            out["verdict"] = "machine" if mark["p_value"] < det.alpha else "not-flagged"
    elif cal:
        out.update(p_machine=round(float(apply_calibration(cal["calibration"], np.array([score]))[0]), 6),
                   verdict="machine" if score >= cal["threshold"] else "not-flagged",
                   threshold=cal["threshold"], target_fpr=cal["target_fpr"])
    else:
        out["warnings"].append({"code": "uncalibrated", "message": "this detector has no saved threshold: the score "
                                "alone cannot say at what false-positive rate it would flag the text"})
    if mark is not None:
        alpha = det.alpha if getattr(det, "name", "") == "watermark" else mark.get("alpha")
        out["watermark"] = {**{k: mark.get(k) for k in ("p_value", "z", "watermark", "tokens_scored")}, "alpha": alpha,
                            "detected": mark.get("p_value") is not None and mark["p_value"] < alpha}
        if mark.get("watermark") == "too-short" and not any(w["code"] == "too-short" for w in out["warnings"]):
            out["warnings"].insert(0, {"code": "too-short", "message": f"only {mark.get('tokens_scored')} scored "
                                       "n-grams: too short for the watermark test"})
    return out


def error_line(e: Exception) -> str:
    """One line naming what went wrong with a text."""
    first = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {first}"[:500]


def rss_bytes() -> int:
    """This process's resident memory (Linux /proc; psutil elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import psutil

        return int(psutil.Process().memory_info().rss)
