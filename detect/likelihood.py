"""Mean log-likelihood per token under the scoring model."""
from . import features
from .lm_statistic import LMStatisticDetector
from .registry import register


@register("likelihood")
class Likelihood(LMStatisticDetector):
    statistic = staticmethod(features.likelihood)
