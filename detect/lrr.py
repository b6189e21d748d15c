"""Log-likelihood / log-rank ratio (DetectLLM, Su et al. 2023)."""
from . import features
from .lm_statistic import LMStatisticDetector
from .registry import register


@register("lrr")
class LRR(LMStatisticDetector):
    statistic = staticmethod(features.lrr)
