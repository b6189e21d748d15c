"""Fast-DetectGPT (Bao et al. 2024): analytic sampling discrepancy; --reference-model picks a separate sampling model."""
from . import features
from .lm_statistic import LMStatisticDetector
from .registry import register


@register("fast-detectgpt")
class FastDetectGPT(LMStatisticDetector):
    statistic = staticmethod(features.fast_detectgpt)
