"""Binoculars (Hans et al. 2024): log-perplexity under the performer (the scoring model) over the
observer/performer cross-perplexity (observer = reference model), negated so higher = machine.
The two models must share a tokenizer (gpt2 + gpt2-medium online). With one model the cross term
is the model's own entropy, and the score degenerates to -(mean -log p) / (mean entropy)."""
from . import features
from .lm_statistic import LMStatisticDetector
from .registry import register


@register("binoculars")
class Binoculars(LMStatisticDetector):
    statistic = staticmethod(features.binoculars)
