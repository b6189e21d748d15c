"""Negative mean predictive entropy (GLTR's entropy statistic as a detector)."""
from . import features
from .lm_statistic import LMStatisticDetector
from .registry import register


@register("entropy")
class Entropy(LMStatisticDetector):
    statistic = staticmethod(features.entropy)
