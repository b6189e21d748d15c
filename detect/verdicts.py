"""`ovid.check(texts)`: what a person asks of a text, answered per text: the verdict at the stated
false-positive rate, where the score falls among the human texts the detector was calibrated on,
P(machine) with the prior it is stated at, the score and threshold, the tokens scored, and the
reasons to weigh the verdict less (too short, another language, tampered, truncated). The
service's /v1/score answers with the same records (serve/service.py calls `check_with`).

`p_machine` is stated at `prior`, the share of machine-written texts at which the detector's
threshold is even odds (the maths are in detect/calibration.py), so it is at least 50% exactly when
the text is flagged; `ovid score`, the batch function and `Detector.p_machine` state it the same way.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from ovid.errors import OvidError
from ovid.normalize import normalize

from .base import Detector, PreparedTexts, check_texts
from .calibration import reported_p_machine
from .params import CheckSettings
from .text_checks import cut_to_tokens, guess_language, text_warnings

MACHINE, NOT_FLAGGED = "machine", "not-flagged"


@dataclass(frozen=True)
class TextWarning:
    code: str  # too-short, language, tampering, truncated, uncalibrated, segments
    message: str


@dataclass
class Check:
    """One text's answer. `verdict`: "machine" (flagged at `target_fpr`), "not-flagged", or None
    (the detector has no saved threshold, or the text could not be scored: `error`). `p_machine`
    holds only at `prior`, the share of machine-written texts at which the threshold is even odds
    (module docstring); both are None where the calibration does not say its mix of texts or its
    P(machine) does not rise with the score.
    `human_percentile`: the share (0-100) of the human calibration texts scoring below this one."""
    score: float | None = None
    p_machine: float | None = None
    prior: float | None = None
    verdict: str | None = None
    threshold: float | None = None
    target_fpr: float | None = None
    human_percentile: float | None = None
    tokens_scored: int | None = None
    truncated: bool = False
    tampering: float = 0.0
    normalization_change: float = 0.0
    language: str | None = None
    warnings: list[TextWarning] = field(default_factory=list)
    watermark: dict | None = None
    segments: dict | None = None  # asked for: the spans (detect/segments.py) and what they promise
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (the service's response for one text)."""
        if self.error is not None and self.score is None:
            return {"error": self.error}
        return asdict(self)


@dataclass
class Prepared:
    """One text on its way to a detector."""
    text: str  # as the detector reads it: normalised, cut to max_tokens
    change_ratio: float  # share of characters the detector's normalisation changed
    tokens: int | None  # tokens scored (None: the detector has no tokenizer of its own)
    truncated: bool
    offsets: list[tuple[int, int]] | None


def prepare_text(det: Detector, text: str, max_tokens: int) -> Prepared:
    """The text as `det` reads it, cut to its first `max_tokens` tokens."""
    prepared = det.prepare([text])
    norm, ratio = prepared[0], float(prepared.change_ratio[0])
    engines = det.engines()
    if not engines:
        return Prepared(norm, ratio, None, False, None)
    tokenizer = engines[0].tokenizer
    offsets = tokenizer(norm, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    cut, n, truncated = cut_to_tokens(norm, offsets, max_tokens)
    if truncated:  # a cut text can tokenize differently at its end: count what the engine will read
        offsets = tokenizer(cut, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        n = len(offsets)
    return Prepared(cut, ratio, n, truncated, [tuple(o) for o in offsets])


def score_prepared(det: Detector, items: list[Prepared], raw: list[str], watermark=None) -> list[Any]:
    """(score, details) per item, or its exception; the batch in one call when it can be, halved
    around a failing text so the others are still scored. `watermark`: a watermark detector that
    also tests every text."""
    def call(batch: list[Prepared], texts: list[str]):
        pt = PreparedTexts(p.text for p in batch)
        pt.change_ratio = np.array([p.change_ratio for p in batch])
        scores, details = det.score_with_details(pt)
        marks = ([m | {"alpha": watermark.alpha} for m in watermark.test(texts)]
                 if watermark is not None else [None] * len(batch))
        return [(float(s), d or m) for s, d, m in zip(scores, details, marks)]

    def split(lo: int, hi: int) -> list[Any]:
        try:
            return call(items[lo:hi], raw[lo:hi])
        except Exception as e:  # one text's failure is that text's error, not the batch's
            if hi - lo == 1:
                return [e]
            mid = (lo + hi) // 2
            return split(lo, mid) + split(mid, hi)

    return split(0, len(items)) if items else []


def human_percentile(distributions: dict | None, score: float) -> float | None:
    """The share (0-100) of the human calibration texts scoring below `score`, read off the human
    histogram saved with the calibration (linear within a bin; the histogram's end bins hold the
    few scores past its edges, so a score beyond an end bin that holds human texts is placed half a
    text inside, never above or below all of them). None without the histogram."""
    if not distributions or not sum(distributions["human"]):
        return None
    below = np.concatenate([[0], np.cumsum(distributions["human"])])
    human, edges = distributions["human"], distributions["edges"]
    share = 100 * np.interp(score, edges, below) / below[-1]
    half_text = 50 / below[-1]
    if score > edges[-1] and human[-1]:  # its end bin may hold human scores as high as this one
        share = 100 - half_text
    elif score < edges[0] and human[0]:
        share = half_text
    return round(float(share), 3)


def verdict(det: Detector, score: float, item: Prepared, text: str, mark: dict | None,
            settings: CheckSettings) -> Check:
    """One text's answer from its score (pure: the detector is only read)."""
    repaired = normalize(text, "repair")
    language, confidence = guess_language(repaired.text)
    tampering = round(repaired.change_ratio, 6)
    warnings = text_warnings(tokens=item.tokens, short_tokens=settings.short_tokens, language=language,
                             confidence=confidence, expected_language=settings.language, tampering=tampering,
                             truncated=item.truncated, max_tokens=settings.max_tokens, repaired=det.repairs())
    out = Check(score=score, tokens_scored=item.tokens, truncated=item.truncated, tampering=tampering,
                normalization_change=round(item.change_ratio, 6), language=language,
                warnings=[TextWarning(**w) for w in warnings])
    fpr = det.stated_fpr()
    if fpr is None:
        out.warnings.append(TextWarning("uncalibrated", "this detector has no saved threshold: the score alone cannot "
                                        "say at what false-positive rate it would flag the text"))
    else:
        out.target_fpr = fpr
        (flag,) = det.decisions([score], [mark or {}])
        if flag is not None:
            out.verdict = MACHINE if flag else NOT_FLAGGED
        cal = det.calibration()
        if cal:
            out.threshold = cal["threshold"]
            out.human_percentile = human_percentile(cal.get("distributions"), score)
            ((out.p_machine, out.prior),) = reported_p_machine(cal, [score], [flag])
    if mark is not None:
        alpha = mark.get("alpha", det.test_level())
        out.watermark = {**{k: mark.get(k) for k in ("p_value", "z", "watermark", "tokens_scored")}, "alpha": alpha,
                         "detected": mark.get("p_value") is not None and mark["p_value"] < alpha}
        if mark.get("watermark") == "too-short" and not any(w.code == "too-short" for w in out.warnings):
            out.warnings.insert(0, TextWarning("too-short", f"only {mark.get('tokens_scored')} scored n-grams: too "
                                               "short for the watermark test"))
    return out


def error_line(e: Exception) -> str:
    """One line naming what went wrong with a text."""
    first = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {first}"[:500]


def add_segments(det: Detector, text: str, result: Check, max_tokens: int) -> None:
    """The text's spans, from the pass its score came from (the engine's cache holds it)."""
    try:
        seg = det.segment_model()
        (spans,) = det.segments([text], max_tokens=max_tokens)
    except Exception as e:  # the score stands; the spans could not be found
        result.warnings.append(TextWarning("segments", f"no spans: {error_line(e)}"))
        return
    result.segments = {
        "spans": [sp.as_row() for sp in spans], "target_fpr": seg.target_fpr,
        "min_sentences": seg.min_sentences, "min_tokens": seg.min_tokens,
        "note": f"A span is flagged machine when its score reaches the threshold set so that at most "
                f"{seg.target_fpr:.0%} of human texts have any span flagged; a span shorter than "
                f"{seg.min_sentences} sentences or {seg.min_tokens} tokens gets no verdict of its own."}


def guard(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # one text's failure is that text's error, not the call's
        return e


def check_with(det: Detector, texts: list[str], settings: CheckSettings, segments: bool = False,
               watermark=None) -> list[Check]:
    """Each text's Check by a loaded detector (the service's worker calls this on each batch)."""
    prepared = [guard(prepare_text, det, t, settings.max_tokens) for t in texts]
    ok = [i for i, p in enumerate(prepared) if not isinstance(p, Exception)]
    outcomes: list[Any] = list(prepared)
    for i, r in zip(ok, score_prepared(det, [prepared[i] for i in ok], [texts[i] for i in ok], watermark)):
        outcomes[i] = r if isinstance(r, Exception) else guard(verdict, det, r[0], prepared[i], texts[i], r[1],
                                                                settings)
    out = [Check(error=error_line(r)) if isinstance(r, Exception) else r for r in outcomes]
    if segments:
        for t, r in zip(texts, out):
            if r.error is None:
                add_segments(det, t, r, settings.max_tokens)
    return out


@functools.lru_cache(maxsize=4)
def _loaded(name: str) -> Detector:
    from .persistence import resolve_detector

    return resolve_detector(name, {})


def check(texts: Sequence[str], detector: str | Detector = "ovid:default", *, segments: bool = False,
          **settings) -> list[Check]:
    """Each text's verdict at the detector's stated FPR, P(machine), score, threshold, tokens
    scored and warnings, as the service answers. `detector`: a registry name, a saved folder,
    ovid:default, or a fitted detector; `settings`: CheckSettings (max_tokens, short_tokens,
    language)."""
    texts = check_texts(texts)
    cfg = CheckSettings(**settings)
    if isinstance(detector, str):
        if not detector.strip():
            raise OvidError("detector is empty; give a registry name, a saved folder or ovid:default")
        detector = _loaded(detector)
    return check_with(detector, texts, cfg, segments=segments)
