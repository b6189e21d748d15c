"""Watermark detection: the scheme's exact test (ovid.watermark) behind the detector API.

The score is the test's z (higher = more machine-like, as for every detector); each text also
gets the exact one-sided p-value, so no calibration is needed: a text is marked when p < alpha.
A text is only tested when it has `min_tokens` scored n-grams; shorter ones, and texts that a
corpus's metadata says came from another tokenizer, are flagged instead of given a p-value.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from ovid.errors import InputValueError, OvidError
from ovid.settings import SettingError
from ovid.watermark.config import TEST, WatermarkConfig

from .base import Detector, NotFittedError, check_texts
from .params import ENGINE
from .registry import register

WM = {f.name: f.default for f in dataclasses.fields(WatermarkConfig)}
TESTED, TOO_SHORT, OTHER_TOKENIZER = "tested", "too-short", "other-tokenizer"


@register("watermark")
class WatermarkDetector(Detector):
    def __init__(self, *, model: str = ENGINE.model, scheme: str = WM["scheme"], key: int | None = WM["key"],
                 gamma: float = WM["gamma"], delta: float = WM["delta"], context_width: int = WM["context_width"],
                 seeding_scheme: str = WM["seeding_scheme"], ngram_len: int = WM["ngram_len"],
                 depth: int = WM["depth"], synthid_keys: list[int] | None = WM["synthid_keys"],
                 alpha: float = TEST.alpha, min_tokens: int = TEST.min_tokens, normalize: str = "repair"):
        self.model = model
        self.scheme = scheme
        self.key = key
        self.gamma = gamma
        self.delta = delta
        self.context_width = context_width
        self.seeding_scheme = seeding_scheme
        self.ngram_len = ngram_len
        self.depth = depth
        self.synthid_keys = synthid_keys
        self.alpha = alpha  # the p-value below which a text counts as watermarked
        self.min_tokens = min_tokens  # fewer scored n-grams than this: flagged too short, not tested
        # "repair" undoes invisible characters and homoglyphs, which would otherwise change the
        # tokens; "fold" (lower case, digits) would change the tokens the mark lives in
        self.normalize = normalize

    def watermark_config(self) -> WatermarkConfig:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(WatermarkConfig)}
        try:
            return WatermarkConfig(**fields)
        except SettingError as e:
            raise InputValueError(f"{e.field} {e.problem}") from None

    def check_params(self) -> "WatermarkDetector":
        self.watermark_config()
        if not (isinstance(self.alpha, float | int) and 0 < self.alpha < 1):
            raise InputValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if isinstance(self.min_tokens, bool) or not isinstance(self.min_tokens, int) or self.min_tokens < 1:
            raise InputValueError(f"min_tokens must be an integer >= 1, got {self.min_tokens!r}")
        if not isinstance(self.model, str) or not self.model:
            raise InputValueError("model must name the model that generated the watermarked text")
        return super().check_params()

    # -- the test ---------------------------------------------------------------------------------
    def tokenize(self, texts: list[str]) -> list[list[int]]:
        from ovid.models import load_tokenizer

        tok = load_tokenizer(self.model)
        return [tok(t, add_special_tokens=False).input_ids for t in texts]

    def test(self, texts: Sequence[str]) -> list[dict]:
        """One dict per text: z, p_value (None when untested), watermark (tested or too-short),
        tokens_scored and success_rate (green share; SynthID: mean g-value)."""
        from ovid.models import model_vocab_size
        from ovid.watermark.schemes import watermark_test

        config = self.check_params().watermark_config()
        prepared = self.prepare(check_texts(texts))
        vocab = model_vocab_size(self.model) if config.scheme == "kgw" else 0
        result = watermark_test(self.tokenize(list(prepared)), config, vocab)
        per_token = 1 if config.scheme == "kgw" else len(config.layer_keys)  # SynthID: depth g-values a token
        rows = []
        for z, p, t, rate in zip(result.z, result.p_value, result.trials, result.success_rate):
            tested = t // per_token >= self.min_tokens
            rows.append({"z": float(z), "p_value": float(p) if tested else None,
                         "watermark": TESTED if tested else TOO_SHORT, "tokens_scored": int(t // per_token),
                         "success_rate": None if np.isnan(rate) else round(float(rate), 6)})
        return rows

    def score_with_details(self, texts: Sequence[str], ids=None, progress: bool = False):
        """(scores, one dict per text): what `ovid score` writes, the test's fields beside the score."""
        rows = self.test(texts)
        return np.array([r["z"] for r in rows], dtype=np.float64), rows

    def _score(self, texts: list[str], ids, progress: bool) -> np.ndarray:
        return self.score_with_details(texts)[0]

    def test_level(self) -> float:
        return self.alpha

    def stated_fpr(self) -> float:
        """Calibrated: the calibration's target; else the test's level, a provable FPR."""
        return super().stated_fpr() or self.alpha

    def decisions(self, scores, details: Sequence[dict] | None = None) -> list[bool | None]:
        """Calibrated: the threshold's decision; else p < alpha where the text was tested."""
        if self.calibration():
            return super().decisions(scores, details)
        details = details or [{}] * len(scores)
        return [None if d.get("p_value") is None else d["p_value"] < self.alpha for d in details]

    def models_used(self) -> list[str]:
        return [self.model]

    def p_values(self, texts: Sequence[str]) -> np.ndarray:
        """The exact p-value of each text (NaN where it was too short to test)."""
        return np.array([np.nan if r["p_value"] is None else r["p_value"] for r in self.test(texts)])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """1 where the test finds the watermark at level alpha (or, once calibrated, where the
        score reaches the calibrated threshold)."""
        try:
            return super().predict(texts)
        except NotFittedError:
            p = self.p_values(texts)
            return (np.nan_to_num(p, nan=1.0) < self.alpha).astype(int)

    # -- a corpus's own record of how it was made ---------------------------------------------------
    def source_status(self, source: str, meta: dict) -> str | None:
        """Check a corpus's metadata (ovid generate's .meta.json) against this detector: a
        different scheme, parameter, vocabulary or recorded key is an error; a corpus from a model
        with another tokenizer gets every text flagged (the test would be meaningless)."""
        from ovid.models import same_tokenizer

        mark = meta.get("watermark")
        if isinstance(mark, dict):
            mine = self.watermark_config()
            expected = mine.describe()
            for k, v in mark.items():
                if k in expected and expected[k] != v:
                    raise OvidError(f"{source} was watermarked with {k} {v!r}, but the detector has {k} "
                                    f"{expected[k]!r}; give the settings the corpus was made with")
            if "key" in mark and mark["key"] != mine.key:
                raise OvidError(f"{source} records its watermark key, and it is not the key given (--watermark-key)")
        generator = meta.get("model")
        if isinstance(generator, str) and not same_tokenizer(generator, self.model):
            return OTHER_TOKENIZER
        return None
