"""The JSON bodies of the service, as typed models: FastAPI checks requests against them (a
mistake is a 422 naming the field) and documents them in /openapi.json (and at /docs with --docs)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] = Field(description="The texts to score (at most limits.max_texts, each at most "
                                   "limits.max_chars characters: GET /v1/detectors).",
                                   examples=[["The committee met on Tuesday to discuss..."]])
    detector: StrictStr | None = Field(None, description="A detector the server loaded (GET /v1/detectors); "
                                       "default: the first.")
    segments: StrictBool = Field(False, description="Also say which parts of each text a machine wrote: "
                                 "its spans, from the same forward pass.")


class TokensRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(description="One text to show token by token.")
    detector: StrictStr | None = Field(None, description="Whose scoring model ranks the tokens; default: the first.")


class Warning(BaseModel):
    code: Literal["too-short", "language", "tampering", "truncated", "uncalibrated", "segments"]
    message: str


class WatermarkResult(BaseModel):
    p_value: float | None = Field(description="Exact one-sided p-value of the watermark test; null: not tested.")
    z: float | None
    watermark: str | None = Field(description="tested, too-short or other-tokenizer.")
    tokens_scored: int | None
    alpha: float | None = Field(description="The level: a p-value below it means the watermark is there.")
    detected: bool = Field(description="p_value < alpha.")


class SpanResult(BaseModel):
    start: int = Field(description="First character of the span in the text as sent.")
    end: int = Field(description="One past its last character.")
    sentences: int
    tokens: int
    score: float = Field(description="The span's log-odds of being machine text, for as much machine as human text.")
    p_machine: float | None = Field(description="P(machine) of the span if a share `prior` of text is machine-written, "
                                    "so >= 0.5 exactly when the span is flagged; null for a span too short for a "
                                    "verdict.")
    prior: float | None = Field(description="The share of machine-written text p_machine is stated at: the one at "
                                "which the segment model's threshold is even odds. Null with p_machine.")
    verdict: Literal["machine", "human", "too short"] = Field(
        description="'machine' at the segment model's threshold; 'too short' for a span below the minimum "
                    "length, which gets no verdict of its own.")


class Segments(BaseModel):
    spans: list[SpanResult]
    target_fpr: float = Field(description="At most this share of human texts has any span flagged machine "
                              "(measured on held-out human texts: benchmarks/RESULTS.md).")
    min_sentences: int
    min_tokens: int
    note: str


class TextResult(BaseModel):
    score: float | None = Field(None, description="The detector's score; higher = more machine-like.")
    p_machine: float | None = Field(None, description="Probability that a model wrote the text, if a share `prior` "
                                    "of the texts checked were machine-written (it holds at that prior only).")
    prior: float | None = Field(None, description="The share of machine-written texts p_machine is stated at: the one "
                                "at which the threshold is even odds, so p_machine >= 0.5 exactly when the text is "
                                "flagged. For a share q instead, multiply p_machine's odds by the odds of q over the "
                                "odds of prior. Null (and p_machine null) where the calibration does not record its "
                                "mix of human and machine texts or its P(machine) does not rise with the score.")
    verdict: Literal["machine", "not-flagged"] | None = Field(
        None, description="The decision at the detector's saved threshold; null without one.")
    threshold: float | None = None
    target_fpr: float | None = Field(None, description="The share of human texts the threshold was set to flag.")
    human_percentile: float | None = Field(None, description="The share (0-100) of the human texts the detector was "
                                           "calibrated on that score below this text (from the saved histogram).")
    tokens_scored: int | None = None
    truncated: bool | None = None
    tampering: float | None = Field(None, description="Share of characters that were invisible or look-alike "
                                    "and were repaired (0 for ordinary text).")
    normalization_change: float | None = Field(None, description="Share of characters the detector's "
                                               "normalisation changed (case and digit folding included).")
    language: str | None = None
    warnings: list[Warning] = []
    watermark: WatermarkResult | None = None
    segments: Segments | None = Field(None, description="With \"segments\": true, the text's spans.")
    error: str | None = Field(None, description="Set when this text could not be scored; the others still are.")


class ScoreResponse(BaseModel):
    detector: str
    results: list[TextResult]


class TokenRow(BaseModel):
    text: str = Field(description="The token as the detector read it (normalised), with the space before the next.")
    original: str = Field(description="The same stretch of the text as sent: case, digits, look-alike and invisible "
                          "characters as typed.")
    rank: int = Field(description="The token's rank in the model's prediction (1 = its top guess).")
    prob: float
    bucket: int = Field(description="GLTR's colour: 0 top-10, 1 top-100, 2 top-1000, 3 beyond.")


class TokensResponse(BaseModel):
    detector: str
    model: str
    text: str = Field(description="The text as the detector read it (normalised, cut to --truncate-tokens).")
    original: str = Field(description="The text as sent, up to where the detector stopped reading: the tokens' "
                          "`original` joined.")
    truncated: bool
    tokens: list[TokenRow]


class ErrorResponse(BaseModel):
    error: str
    field: str | None = None
